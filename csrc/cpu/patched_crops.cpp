// The CPU kernel of patched_crops: the strips the CUDA kernel runs, over every output row.
#include <torch/library.h>

#include "../dispatch.h"
#include "../kernels/batch_launch.h"
#include "../plans/patched_crops.h"
#include "run_task.h"

namespace zfcuda::cpu {
namespace {

at::Tensor patched_crops(const at::Tensor& base, const at::Tensor& patches, const at::Tensor& patch_origins,
                         const at::Tensor& crop_origins, at::IntArrayRef crop_size, double pad) {
  const auto plan = plan_patched_crops(base, patches, patch_origins, crop_origins, crop_size);
  if (plan.output.numel() == 0) return plan.output;
  auto output = plan.output;
  ZF_DISPATCH_FLOATING(base.scalar_type(), "patched_crops", [&] {
    launch_patched_crops<PlainDivider>(plan.base, plan.patches, plan.patch_origins, plan.crop_origins,
                                       static_cast<scalar_t>(pad), output, plan.geometry, RunOnCpu{});
  });
  return plan.output;
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CPU, m) { m.impl("patched_crops", &patched_crops); }

}  // namespace zfcuda::cpu
