// The CUDA kernel of patched_crops: the shared strip task (kernels/batch_tasks.h) on the GPU.
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "../dispatch.h"
#include "../kernels/batch_launch.h"
#include "../plans/patched_crops.h"
#include "run_task.cuh"

namespace zfcuda::cuda {
namespace {

at::Tensor patched_crops(const at::Tensor& base, const at::Tensor& patches, const at::Tensor& patch_origins,
                         const at::Tensor& crop_origins, at::IntArrayRef crop_size, double pad) {
  const c10::cuda::CUDAGuard guard(base.device());
  auto plan = plan_patched_crops(base, patches, patch_origins, crop_origins, crop_size);
  if (plan.output.numel() == 0) return plan.output;
  ZF_DISPATCH_FLOATING(base.scalar_type(), "patched_crops", [&] {
    launch_patched_crops<Divider>(plan.base, plan.patches, plan.patch_origins, plan.crop_origins,
                                  static_cast<scalar_t>(pad), plan.output, plan.geometry, RunOnGpu{});
  });
  return plan.output;
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CUDA, m) { m.impl("patched_crops", &patched_crops); }

}  // namespace zfcuda::cuda
