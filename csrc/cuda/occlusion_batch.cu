// The CUDA kernel of occlusion_batch: the shared strip task (kernels/batch_tasks.h) on the GPU.
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "../dispatch.h"
#include "../kernels/batch_launch.h"
#include "../plans/occlusion_batch.h"
#include "run_task.cuh"

namespace zfcuda::cuda {
namespace {

at::Tensor occlusion_batch(const at::Tensor& image, const at::Tensor& positions, at::IntArrayRef patch_size,
                           const at::Tensor& fill) {
  const c10::cuda::CUDAGuard guard(image.device());
  auto plan = plan_occlusion_batch(image, positions, patch_size, fill);
  if (plan.output.numel() == 0) return plan.output;
  ZF_DISPATCH_FLOATING(image.scalar_type(), "occlusion_batch", [&] {
    launch_occlusion_batch<Divider, scalar_t>(plan.image, plan.fill, plan.positions, plan.output, plan.geometry,
                                              RunOnGpu{});
  });
  return plan.output;
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CUDA, m) { m.impl("occlusion_batch", &occlusion_batch); }

}  // namespace zfcuda::cuda
