// The CUDA kernel of unpool2d_switches: the shared per-element body, one GPU thread per element.
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "../dispatch.h"
#include "../kernels/unpool2d_switches.h"
#include "../plans/pool2d.h"
#include "for_each.cuh"
#include "validate_switches.cuh"

namespace zfcuda::cuda {
namespace {

at::Tensor unpool2d_switches(const at::Tensor& y, const at::Tensor& switches, at::IntArrayRef input_size,
                             at::IntArrayRef kernel_size, at::IntArrayRef stride, at::IntArrayRef padding,
                             at::IntArrayRef dilation, bool validate) {
  const c10::cuda::CUDAGuard guard(y.device());
  const auto plan = plan_unpool2d(y, switches, input_size, kernel_size, stride, padding, dilation);
  const auto src = plan.source_layout;
  const auto g = plan.geometry;
  ZF_DISPATCH_SWITCH(plan.switches.scalar_type(), [&] {
    const switch_t* sw = static_cast<const switch_t*>(plan.switches.const_data_ptr());
    if (validate && plan.switches.numel() > 0 && !switches_valid(sw, src, g, y)) {
      fail_invalid_switches("unpool2d_switches", g);
    }
    ZF_DISPATCH_FLOATING(y.scalar_type(), "unpool2d_switches", [&] {
      const scalar_t* yp = plan.source.const_data_ptr<scalar_t>();
      scalar_t* x = plan.output.mutable_data_ptr<scalar_t>();
      for_each_element(plan.output_layout, [=] __device__(int64_t n, int64_t c, int64_t ih, int64_t iw, int64_t i) {
        const int64_t plane = src.plane_offset(n, c);
        x[i] = unpool2d_at(yp + plane, sw + plane, src.row_stride(), src.col_stride(), ih, iw, g);
      });
    });
  });
  return plan.unbatch(plan.output);
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CUDA, m) { m.impl("unpool2d_switches", &unpool2d_switches); }

}  // namespace zfcuda::cuda
