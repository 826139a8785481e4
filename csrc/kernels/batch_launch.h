// Host side of the batch-writing tasks (kernels/batch_tasks.h), shared by the CUDA launches and the
// CPU's per-element test mode: check that the sources index in 32 bits, cut the batch into int32
// chunks of whole images and hand each chunk's task to `run(task, count)`.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <limits>

#include "batch_tasks.h"

namespace zfcuda {

// The largest element offset of `t` (its last element's, for non-negative strides).
inline void check_offsets_fit_int32(const at::Tensor& t, int64_t skip_dims, const char* op, const char* name) {
  int64_t last = 0;
  for (int64_t d = skip_dims; d < t.dim(); ++d) last += (t.size(d) - 1) * std::max<int64_t>(t.stride(d), 0);
  TORCH_CHECK_VALUE(last < std::numeric_limits<int32_t>::max(), op, ": ", name, " is too large (",
                    t.numel(), " elements); at most 2^31 are supported per ", skip_dims ? "item" : "tensor");
}

template <typename Divider, typename scalar_t, typename Run>
void launch_occlusion_batch(const at::Tensor& image, const at::Tensor& fill, const at::Tensor& positions,
                            at::Tensor& output, const OcclusionGeometry& g, Run&& run) {
  constexpr const char* op = "occlusion_batch";
  check_offsets_fit_int32(image, 0, op, "image");
  check_offsets_fit_int32(fill, 0, op, "fill");
  const int64_t B = positions.size(0), per_image = g.channels * g.height * g.width;
  const int64_t work = BatchRowDecoder<Divider>::work_per_image(g.channels, g.height, g.width);
  const BatchRowDecoder<Divider> decode(g.channels, g.height, g.width);
  const scalar_t* img = image.const_data_ptr<scalar_t>();
  const scalar_t* fp = fill.const_data_ptr<scalar_t>();
  const int64_t* pos = positions.const_data_ptr<int64_t>();
  scalar_t* out = output.mutable_data_ptr<scalar_t>();
  for_each_slice_chunk(B, std::max(per_image, work), op, [&](int64_t first, int64_t count) {
    run(OcclusionTask<scalar_t, Divider>{img, fp, pos + 2 * first, out + first * per_image, OcclusionStrides::of(g),
                                         decode},
        count * work);
  });
}

template <typename Divider, typename scalar_t, typename Run>
void launch_patched_crops(const at::Tensor& base, const at::Tensor& patches, const at::Tensor& patch_origins,
                          const at::Tensor& crop_origins, scalar_t pad, at::Tensor& output,
                          const PatchedCropGeometry& g, Run&& run) {
  constexpr const char* op = "patched_crops";
  check_offsets_fit_int32(base, 0, op, "base");
  check_offsets_fit_int32(patches, 1, op, "patches");
  const int64_t B = output.size(0), C = output.size(1), H = output.size(2), W = output.size(3);
  const int64_t per_image = C * H * W, work = BatchRowDecoder<Divider>::work_per_image(C, H, W);
  const BatchRowDecoder<Divider> decode(C, H, W);
  const scalar_t* bp = base.const_data_ptr<scalar_t>();
  const scalar_t* pp = patches.const_data_ptr<scalar_t>();
  const int64_t* po = patch_origins.const_data_ptr<int64_t>();
  const int64_t* co = crop_origins.const_data_ptr<int64_t>();
  scalar_t* out = output.mutable_data_ptr<scalar_t>();
  for_each_slice_chunk(B, std::max(per_image, work), op, [&](int64_t first, int64_t count) {
    run(PatchedCropTask<scalar_t, Divider>{bp, pp + first * g.patch_strides[0], po + 2 * first, co + 2 * first, pad,
                                           out + first * per_image, PatchedCropStrides::of(g, W), decode},
        count * work);
  });
}

}  // namespace zfcuda
