// The CPU kernel of occlusion_batch: block copies per row, or the strips the CUDA kernel runs.
#include <torch/library.h>

#include <algorithm>

#include "../dispatch.h"
#include "../kernels/batch_launch.h"
#include "../plans/occlusion_batch.h"
#include "fast_paths.h"
#include "run_task.h"

namespace zfcuda::cpu {
namespace {

// Rows whose image and fill are contiguous along W: each output row is at most three block
// copies (image | fill | image), so the batch is written at memory speed. The same values as
// occlusion_strip, which handles every other stride pattern (and the GPU).
template <typename scalar_t>
void occlusion_rows(const scalar_t* img, const scalar_t* fill, const int64_t* pos, scalar_t* out,
                    const OcclusionGeometry& g, int64_t batch) {
  const int64_t rows = batch * g.channels * g.height, W = g.width;
  at::parallel_for(0, rows, std::max<int64_t>(1, at::internal::GRAIN_SIZE / W), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t h = r % g.height, c = (r / g.height) % g.channels, b = r / (g.height * g.channels);
      const int64_t top = pos[2 * b], left = pos[2 * b + 1];
      const bool covered_row = top <= h && top > h - g.patch_h;  // no overflow for any position
      const int64_t l0 = covered_row ? std::clamp<int64_t>(left, 0, W) : W;
      const int64_t end = left > W - g.patch_w ? W : left + g.patch_w;  // left + patch_w, saturated at W
      const int64_t l1 = covered_row ? std::clamp<int64_t>(end, l0, W) : W;
      const scalar_t* img_row = img + c * g.image_strides[0] + h * g.image_strides[1];
      const scalar_t* fill_row = fill + c * g.fill_strides[0] + h * g.fill_strides[1];
      scalar_t* out_row = out + r * W;
      std::copy(img_row, img_row + l0, out_row);
      if (g.fill_strides[2] == 0) {
        std::fill(out_row + l0, out_row + l1, fill_row[0]);
      } else {
        std::copy(fill_row + l0, fill_row + l1, out_row + l0);
      }
      std::copy(img_row + l1, img_row + W, out_row + l1);
    }
  });
}

at::Tensor occlusion_batch(const at::Tensor& image, const at::Tensor& positions, at::IntArrayRef patch_size,
                           const at::Tensor& fill) {
  const auto plan = plan_occlusion_batch(image, positions, patch_size, fill);
  const auto g = plan.geometry;
  const bool rows_contiguous = fast_paths_enabled() && g.image_strides[2] == 1 &&
                               (g.fill_strides[2] == 0 || g.fill_strides[2] == 1);
  ZF_DISPATCH_FLOATING(image.scalar_type(), "occlusion_batch", [&] {
    const scalar_t* img = plan.image.const_data_ptr<scalar_t>();
    const scalar_t* fp = plan.fill.const_data_ptr<scalar_t>();
    const int64_t* pos = plan.positions.const_data_ptr<int64_t>();
    scalar_t* out = plan.output.mutable_data_ptr<scalar_t>();
    if (plan.output.numel() == 0) return;
    if (rows_contiguous) {
      occlusion_rows(img, fp, pos, out, g, positions.size(0));
    } else {  // the strips the CUDA kernel runs
      auto output = plan.output;
      launch_occlusion_batch<PlainDivider, scalar_t>(plan.image, plan.fill, plan.positions, output, g, RunOnCpu{});
    }
  });
  return plan.output;
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CPU, m) { m.impl("occlusion_batch", &occlusion_batch); }

}  // namespace zfcuda::cpu
