// The CUDA kernel of gather2d_switches: the shared tasks (kernels/pool2d_tasks.h) on the GPU.
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "../dispatch.h"
#include "../kernels/pool2d_launch.h"
#include "../plans/pool2d.h"
#include "run_task.cuh"
#include "validate_switches.cuh"

namespace zfcuda::cuda {
namespace {

at::Tensor gather2d_switches(const at::Tensor& input, const at::Tensor& switches, at::IntArrayRef kernel_size,
                             at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation,
                             bool validate) {
  const c10::cuda::CUDAGuard guard(input.device());
  const auto plan = plan_gather2d(input, switches, kernel_size, stride, padding, dilation);
  if (plan.output.numel() == 0) return plan.unbatch(plan.output);
  // The flag is read back (a sync) only when asked to validate; our own backward trusts its switches.
  InvalidFlag invalid(input, validate);
  ZF_DISPATCH_FLOATING(input.scalar_type(), "gather2d_switches", [&] {
    ZF_DISPATCH_SWITCH(plan.switches.scalar_type(), [&] {
      launch_gather2d<Divider>(plan.geometry, plan.source_layout, plan.source.const_data_ptr<scalar_t>(),
                               static_cast<const switch_t*>(plan.switches.const_data_ptr()),
                               plan.output.mutable_data_ptr<scalar_t>(), invalid.data(), RunOnGpu{});
    });
  });
  if (invalid.raised()) fail_invalid_switches("gather2d_switches", plan.geometry);
  return plan.unbatch(plan.output);
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CUDA, m) { m.impl("gather2d_switches", &gather2d_switches); }

}  // namespace zfcuda::cuda
