// The CUDA kernel of max_pool2d_switches: the shared per-element body, one GPU thread per element.
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <tuple>

#include "../dispatch.h"
#include "../kernels/max_pool2d_switches.h"
#include "../plans/pool2d.h"
#include "for_each.cuh"

namespace zfcuda::cuda {
namespace {

std::tuple<at::Tensor, at::Tensor> max_pool2d_switches(const at::Tensor& input, at::IntArrayRef kernel_size,
                                                       at::IntArrayRef stride, at::IntArrayRef padding,
                                                       at::IntArrayRef dilation, bool ceil_mode) {
  const c10::cuda::CUDAGuard guard(input.device());
  const auto plan = plan_max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode);
  const auto src = plan.source_layout;
  const auto g = plan.geometry;
  ZF_DISPATCH_FLOATING(input.scalar_type(), "max_pool2d_switches", [&] {
    ZF_DISPATCH_SWITCH(plan.switches.scalar_type(), [&] {
      const scalar_t* x = plan.source.const_data_ptr<scalar_t>();
      scalar_t* y = plan.output.mutable_data_ptr<scalar_t>();
      switch_t* sw = static_cast<switch_t*>(plan.switches.mutable_data_ptr());
      for_each_element(plan.output_layout, [=] __device__(int64_t n, int64_t c, int64_t oh, int64_t ow, int64_t i) {
        max_pool2d_at(x + src.plane_offset(n, c), src.row_stride(), src.col_stride(), oh, ow, g, y + i, sw + i);
      });
    });
  });
  return {plan.unbatch(plan.output), plan.unbatch(plan.switches)};
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CUDA, m) { m.impl("max_pool2d_switches", &max_pool2d_switches); }

}  // namespace zfcuda::cuda
