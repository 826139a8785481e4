// The CPU kernel of gather2d_switches: the tasks the CUDA kernel runs, over every output element.
#include <torch/library.h>

#include "../dispatch.h"
#include "../kernels/pool2d_launch.h"
#include "../plans/pool2d.h"
#include "run_task.h"

namespace zfcuda::cpu {
namespace {

at::Tensor gather2d_switches(const at::Tensor& input, const at::Tensor& switches, at::IntArrayRef kernel_size,
                             at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation,
                             bool validate) {
  const auto plan = plan_gather2d(input, switches, kernel_size, stride, padding, dilation);
  if (plan.output.numel() == 0) return plan.unbatch(plan.output);
  int invalid = 0;
  ZF_DISPATCH_FLOATING(input.scalar_type(), "gather2d_switches", [&] {
    ZF_DISPATCH_SWITCH(plan.switches.scalar_type(), [&] {
      launch_gather2d<PlainDivider>(plan.geometry, plan.source_layout, plan.source.const_data_ptr<scalar_t>(),
                                    static_cast<const switch_t*>(plan.switches.const_data_ptr()),
                                    plan.output.mutable_data_ptr<scalar_t>(), &invalid, RunOnCpu{});
    });
  });
  if (validate && __atomic_load_n(&invalid, __ATOMIC_RELAXED) != 0) fail_invalid_switches("gather2d_switches", plan.geometry);
  return plan.unbatch(plan.output);
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CPU, m) { m.impl("gather2d_switches", &gather2d_switches); }

}  // namespace zfcuda::cpu
