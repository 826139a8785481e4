// The CUDA kernel of unpool2d_switches: the shared tasks (kernels/pool2d_tasks.h) on the GPU.
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "../dispatch.h"
#include "../kernels/pool2d_launch.h"
#include "../plans/pool2d.h"
#include "run_task.cuh"
#include "validate_switches.cuh"

namespace zfcuda::cuda {
namespace {

at::Tensor unpool2d_switches(const at::Tensor& y, const at::Tensor& switches, at::IntArrayRef input_size,
                             at::IntArrayRef kernel_size, at::IntArrayRef stride, at::IntArrayRef padding,
                             at::IntArrayRef dilation, bool validate) {
  const c10::cuda::CUDAGuard guard(y.device());
  const auto plan = plan_unpool2d(y, switches, input_size, kernel_size, stride, padding, dilation);
  if (plan.output.numel() == 0) return plan.unbatch(plan.output);
  const auto& g = plan.geometry;
  ZF_DISPATCH_SWITCH(plan.switches.scalar_type(), [&] {
    const switch_t* sw = static_cast<const switch_t*>(plan.switches.const_data_ptr());
    if (validate && plan.switches.numel() > 0 && !switches_valid(sw, plan.source_layout, g, y)) {
      fail_invalid_switches("unpool2d_switches", g);
    }
    ZF_DISPATCH_FLOATING(y.scalar_type(), "unpool2d_switches", [&] {
      launch_unpool2d<Divider>(g, plan.source_layout, plan.source.const_data_ptr<scalar_t>(), sw,
                               plan.output.mutable_data_ptr<scalar_t>(), RunOnGpu{});
    });
  });
  return plan.unbatch(plan.output);
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CUDA, m) { m.impl("unpool2d_switches", &unpool2d_switches); }

}  // namespace zfcuda::cuda
