// Pooling argument checks: pooling arguments -> Pool2dGeometry, and the rules switches must follow.
#include "pool2d_checks.h"

#include <c10/util/Exception.h>

#include "../checks.h"

namespace zfcuda {
namespace {

// Does every window along one dimension hold at least one input element? With dilation larger
// than the padding, a window starting in the padding can jump over the whole input.
bool every_window_reaches_input(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t pad,
                                int64_t dilation) {
  for (int64_t o = 0; o < out && o * stride < pad; ++o) {  // only windows starting in the padding
    const int64_t start = o * stride - pad;
    const int64_t first = (-start + dilation - 1) / dilation;  // first tap at or after 0
    if (first >= kernel || start + first * dilation >= in) return false;
  }
  return true;
}

}  // namespace

int64_t pooled_length(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  if (span < 0) return 0;
  int64_t out = (span + (ceil_mode ? stride - 1 : 0)) / stride + 1;
  // With ceil_mode the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

Pool2dGeometry pool_geometry(int64_t in_h, int64_t in_w, at::IntArrayRef kernel_size, at::IntArrayRef stride,
                             at::IntArrayRef padding, at::IntArrayRef dilation, bool ceil_mode, const char* op) {
  check_pair(kernel_size, 1, op, "kernel_size");
  check_pair(stride, 1, op, "stride");
  check_pair(padding, 0, op, "padding");
  check_pair(dilation, 1, op, "dilation");
  TORCH_CHECK_VALUE(padding[0] <= kernel_size[0] / 2 && padding[1] <= kernel_size[1] / 2, op,
                    ": padding must be at most half the kernel size, got padding ", shape_string(padding),
                    " for kernel_size ", shape_string(kernel_size));
  Pool2dGeometry g{};
  g.in_h = in_h;
  g.in_w = in_w;
  g.kernel_h = kernel_size[0];
  g.kernel_w = kernel_size[1];
  g.stride_h = stride[0];
  g.stride_w = stride[1];
  g.pad_h = padding[0];
  g.pad_w = padding[1];
  g.dilation_h = dilation[0];
  g.dilation_w = dilation[1];
  g.out_h = pooled_length(in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h, ceil_mode);
  g.out_w = pooled_length(in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w, ceil_mode);
  TORCH_CHECK_VALUE(g.out_h >= 1 && g.out_w >= 1, op, ": kernel_size ", shape_string(kernel_size),
                    " with dilation ", shape_string(dilation), " is larger than the padded input of size (",
                    in_h + 2 * g.pad_h, ", ", in_w + 2 * g.pad_w, ")");
  TORCH_CHECK_VALUE(g.window_size() <= (int64_t{1} << 24), op, ": a ", g.kernel_h, "x", g.kernel_w,
                    " window is too large: at most 2^24 elements, so that every window offset is exact");
  TORCH_CHECK_VALUE(
      every_window_reaches_input(in_h, g.out_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h) &&
          every_window_reaches_input(in_w, g.out_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w),
      op, ": with dilation ", shape_string(dilation), " and padding ", shape_string(padding),
      " some windows hold only padding and no input element; reduce the padding or the dilation");
  return g;
}

Pool2dGeometry matching_geometry(int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                                 at::IntArrayRef kernel_size, at::IntArrayRef stride, at::IntArrayRef padding,
                                 at::IntArrayRef dilation, const char* op, const char* input_name,
                                 const char* pooled_name) {
  auto g = pool_geometry(in_h, in_w, kernel_size, stride, padding, dilation, false, op);
  if (g.out_h == out_h && g.out_w == out_w) return g;
  const auto floor_h = g.out_h, floor_w = g.out_w;
  g = pool_geometry(in_h, in_w, kernel_size, stride, padding, dilation, true, op);
  TORCH_CHECK_VALUE(g.out_h == out_h && g.out_w == out_w, op, ": ", input_name, " (", in_h, ", ", in_w,
                    ") pools to (", floor_h, ", ", floor_w, ") (or (", g.out_h, ", ", g.out_w,
                    ") with ceil_mode) with these arguments, but ", pooled_name, " has spatial size (", out_h, ", ",
                    out_w, ")");
  return g;
}

at::ScalarType switch_dtype(const Pool2dGeometry& g) { return g.window_size() <= 256 ? at::kByte : at::kInt; }

void check_switch_dtype(const at::Tensor& switches, const Pool2dGeometry& g, const char* op) {
  const auto expected = switch_dtype(g);
  TORCH_CHECK_TYPE(switches.scalar_type() == expected, op, ": switches must be ",
                   expected == at::kByte ? "uint8" : "int32", " for a ", g.kernel_h, "x", g.kernel_w,
                   " window, got ", switches.scalar_type());
}

void check_switches(const at::Tensor& switches, const at::Tensor& pooled, const Pool2dGeometry& g, const char* op,
                    const char* pooled_name) {
  check_same_device(switches, "switches", pooled, pooled_name, op);
  check_switch_dtype(switches, g, op);
  TORCH_CHECK_VALUE(switches.sizes() == pooled.sizes(), op, ": switches must have the shape of ", pooled_name, " ",
                    shape_string(pooled.sizes()), ", got ", shape_string(switches.sizes()));
}

void fail_invalid_switches(const char* op, const Pool2dGeometry& g) {
  TORCH_CHECK_VALUE(false, op, ": switches hold offsets outside the ", g.kernel_h, "x", g.kernel_w,
                    " window or pointing into the padding; switches must come from max_pool2d_switches with the "
                    "same kernel_size, stride, padding and dilation");
}

}  // namespace zfcuda
