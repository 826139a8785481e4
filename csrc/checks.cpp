// Generic argument checks: dtype, rank, device, int[2] arguments and shape strings for messages.
#include "checks.h"

#include <c10/util/Exception.h>

#include <sstream>

namespace zfcuda {

std::string shape_string(at::IntArrayRef sizes) {
  std::ostringstream s;
  s << "(";
  for (size_t i = 0; i < sizes.size(); ++i) s << (i ? ", " : "") << sizes[i];
  s << (sizes.size() == 1 ? ",)" : ")");
  return s.str();
}

void check_floating(const at::Tensor& t, const char* op, const char* name) {
  const auto dtype = t.scalar_type();
  TORCH_CHECK_TYPE(dtype == at::kHalf || dtype == at::kBFloat16 || dtype == at::kFloat || dtype == at::kDouble, op,
                   ": ", name, " must be float16, bfloat16, float32 or float64, got ", dtype);
}

void check_image_rank(const at::Tensor& t, const char* op, const char* name) {
  TORCH_CHECK_VALUE(t.dim() == 3 || t.dim() == 4, op, ": ", name,
                    " must be 3-D (C, H, W) or 4-D (N, C, H, W), got a ", t.dim(), "-D tensor of shape ",
                    shape_string(t.sizes()));
}

void check_same_device(const at::Tensor& a, const char* a_name, const at::Tensor& b, const char* b_name,
                       const char* op) {
  TORCH_CHECK_VALUE(a.device() == b.device(), op, ": ", a_name, " and ", b_name,
                    " must be on the same device, got ", a.device(), " and ", b.device());
}

void check_pair(at::IntArrayRef v, int64_t min_value, const char* op, const char* name) {
  TORCH_CHECK_VALUE(v.size() == 2, op, ": ", name, " must have 2 entries (height, width), got ", v.size());
  TORCH_CHECK_VALUE(v[0] >= min_value && v[1] >= min_value, op, ": ", name, " must be >= ", min_value,
                    " in both dimensions, got ", shape_string(v));
  // Bounded so that no index arithmetic below can overflow int64.
  constexpr int64_t limit = int64_t{1} << 31;
  TORCH_CHECK_VALUE(v[0] < limit && v[1] < limit, op, ": ", name, " must be < 2^31, got ", shape_string(v));
}

}  // namespace zfcuda
