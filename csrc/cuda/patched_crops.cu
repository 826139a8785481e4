// The CUDA kernel of patched_crops: the shared per-element body, one GPU thread per element.
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "../dispatch.h"
#include "../kernels/patched_crops.h"
#include "../plans/patched_crops.h"
#include "for_each.cuh"

namespace zfcuda::cuda {
namespace {

at::Tensor patched_crops(const at::Tensor& base, const at::Tensor& patches, const at::Tensor& patch_origins,
                         const at::Tensor& crop_origins, at::IntArrayRef crop_size, double pad) {
  const c10::cuda::CUDAGuard guard(base.device());
  const auto plan = plan_patched_crops(base, patches, patch_origins, crop_origins, crop_size);
  const auto g = plan.geometry;
  ZF_DISPATCH_FLOATING(base.scalar_type(), "patched_crops", [&] {
    const scalar_t* bp = plan.base.const_data_ptr<scalar_t>();
    const scalar_t* pp = plan.patches.const_data_ptr<scalar_t>();
    const int64_t* po = plan.patch_origins.const_data_ptr<int64_t>();
    const int64_t* co = plan.crop_origins.const_data_ptr<int64_t>();
    const scalar_t pad_value = static_cast<scalar_t>(pad);
    scalar_t* out = plan.output.mutable_data_ptr<scalar_t>();
    for_each_element(plan.output_layout, [=] __device__(int64_t b, int64_t c, int64_t y, int64_t x, int64_t i) {
      out[i] = patched_crop_at(bp, pp, po, co, pad_value, b, c, y, x, g);
    });
  });
  return plan.output;
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CUDA, m) { m.impl("patched_crops", &patched_crops); }

}  // namespace zfcuda::cuda
