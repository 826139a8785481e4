// The CUDA kernel of max_pool2d_switches: the shared tasks (kernels/pool2d_tasks.h) on the GPU.
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <tuple>

#include "../dispatch.h"
#include "../kernels/pool2d_launch.h"
#include "../plans/pool2d.h"
#include "run_task.cuh"

namespace zfcuda::cuda {
namespace {

std::tuple<at::Tensor, at::Tensor> max_pool2d_switches(const at::Tensor& input, at::IntArrayRef kernel_size,
                                                       at::IntArrayRef stride, at::IntArrayRef padding,
                                                       at::IntArrayRef dilation, bool ceil_mode) {
  const c10::cuda::CUDAGuard guard(input.device());
  const auto plan = plan_max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode);
  if (plan.output.numel() > 0) {
    ZF_DISPATCH_FLOATING(input.scalar_type(), "max_pool2d_switches", [&] {
      ZF_DISPATCH_SWITCH(plan.switches.scalar_type(), [&] {
        launch_max_pool2d<Divider>(plan.geometry, plan.source_layout, plan.source.const_data_ptr<scalar_t>(),
                                   plan.output.mutable_data_ptr<scalar_t>(),
                                   static_cast<switch_t*>(plan.switches.mutable_data_ptr()), RunOnGpu{});
      });
    });
  }
  return {plan.unbatch(plan.output), plan.unbatch(plan.switches)};
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CUDA, m) { m.impl("max_pool2d_switches", &max_pool2d_switches); }

}  // namespace zfcuda::cuda
