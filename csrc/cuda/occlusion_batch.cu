// The CUDA kernel of occlusion_batch: the shared per-element body, one GPU thread per element.
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "../dispatch.h"
#include "../kernels/occlusion_batch.h"
#include "../plans/occlusion_batch.h"
#include "for_each.cuh"

namespace zfcuda::cuda {
namespace {

at::Tensor occlusion_batch(const at::Tensor& image, const at::Tensor& positions, at::IntArrayRef patch_size,
                           const at::Tensor& fill) {
  const c10::cuda::CUDAGuard guard(image.device());
  const auto plan = plan_occlusion_batch(image, positions, patch_size, fill);
  const auto g = plan.geometry;
  ZF_DISPATCH_FLOATING(image.scalar_type(), "occlusion_batch", [&] {
    const scalar_t* img = plan.image.const_data_ptr<scalar_t>();
    const scalar_t* fp = plan.fill.const_data_ptr<scalar_t>();
    const int64_t* pos = plan.positions.const_data_ptr<int64_t>();
    scalar_t* out = plan.output.mutable_data_ptr<scalar_t>();
    for_each_element(plan.output_layout, [=] __device__(int64_t b, int64_t c, int64_t h, int64_t w, int64_t i) {
      out[i] = occlusion_at(img, fp, pos, b, c, h, w, g);
    });
  });
  return plan.output;
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CUDA, m) { m.impl("occlusion_batch", &occlusion_batch); }

}  // namespace zfcuda::cuda
