// The CPU kernel of gather2d_switches: the shared per-element body over every output element.
#include <torch/library.h>

#include <atomic>

#include "../dispatch.h"
#include "../kernels/gather2d_switches.h"
#include "../plans/pool2d.h"
#include "for_each.h"

namespace zfcuda::cpu {
namespace {

at::Tensor gather2d_switches(const at::Tensor& input, const at::Tensor& switches, at::IntArrayRef kernel_size,
                             at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation,
                             bool validate) {
  const auto plan = plan_gather2d(input, switches, kernel_size, stride, padding, dilation);
  const auto& src = plan.source_layout;
  const auto g = plan.geometry;
  std::atomic<bool> valid{true};
  ZF_DISPATCH_FLOATING(input.scalar_type(), "gather2d_switches", [&] {
    ZF_DISPATCH_SWITCH(plan.switches.scalar_type(), [&] {
      const scalar_t* x = plan.source.const_data_ptr<scalar_t>();
      const switch_t* sw = static_cast<const switch_t*>(plan.switches.const_data_ptr());
      scalar_t* y = plan.output.mutable_data_ptr<scalar_t>();
      for_each_element(plan.output_layout, [&](int64_t n, int64_t c, int64_t oh, int64_t ow, int64_t i) {
        bool ok = true;
        y[i] = gather2d_at(x + src.plane_offset(n, c), src.row_stride(), src.col_stride(), sw[i], oh, ow, g, ok);
        if (!ok) valid.store(false, std::memory_order_relaxed);
      });
    });
  });
  if (validate && !valid.load()) fail_invalid_switches("gather2d_switches", g);
  return plan.unbatch(plan.output);
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CPU, m) { m.impl("gather2d_switches", &gather2d_switches); }

}  // namespace zfcuda::cpu
