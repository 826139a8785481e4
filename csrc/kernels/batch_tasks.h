// The work of one thread of the batch-writing ops (occlusion_batch, patched_crops), shared by the
// CUDA kernels and the CPU's per-element test mode: a strip of kBatchStrip outputs along W of one
// row (b, c, h) of a (B, C, H, W) contiguous output, written with vector stores where aligned.
//
// Launches are cut into chunks of whole images (for_each_slice_chunk) so every output offset is
// int32; the source image (or stored map) must itself have fewer than 2^31 elements.
#pragma once

#include <cstdint>

#include "index_decoder.h"
#include "occlusion_batch.h"
#include "patched_crops.h"
#include "strip_store.h"

namespace zfcuda {

// Outputs per thread of the batch ops: two 16-byte stores of float32.
constexpr int kBatchStrip = 8;

// The (b, c, h, strip) of a work index: decode gives (b * C + c, h, strip), channels splits b and c.
template <typename Divider>
struct BatchRowDecoder {
  IndexDecoder<false, Divider> rows;
  Divider channels;

  BatchRowDecoder() = default;
  BatchRowDecoder(int64_t C, int64_t H, int64_t W) : rows(H, (W + kBatchStrip - 1) / kBatchStrip, 1), channels(C) {}
  static int64_t work_per_image(int64_t C, int64_t H, int64_t W) { return C * H * ((W + kBatchStrip - 1) / kBatchStrip); }

  ZF_HOST_DEVICE void operator()(int32_t i, int32_t& b, int32_t& c, int32_t& h, int32_t& strip, int32_t& row) const {
    int32_t slice, unused;
    rows(i, slice, h, strip, unused);
    const auto by_c = channels.divmod(static_cast<uint32_t>(slice));
    b = static_cast<int32_t>(by_c.div);
    c = static_cast<int32_t>(by_c.mod);
    row = slice * rows.h.divisor + h;  // row of the output, (b * C + c) * H + h
  }
};

template <typename scalar_t, typename Divider>
struct OcclusionTask {
  const scalar_t* image;
  const scalar_t* fill;       // broadcast to the image's shape (strides 0 where broadcast)
  const int64_t* positions;   // this chunk's (top, left) rows
  scalar_t* out;              // this chunk's first image
  OcclusionStrides geometry;
  BatchRowDecoder<Divider> decode;

  ZF_HOST_DEVICE void operator()(int32_t i) const {
    int32_t b, c, h, strip, row;
    decode(i, b, c, h, strip, row);
    scalar_t values[kBatchStrip];
    const int32_t w0 = strip * kBatchStrip;
    occlusion_strip<kBatchStrip>(image, fill, positions[2 * b], positions[2 * b + 1], c, h, w0, geometry, values);
    const int32_t left = geometry.width - w0;
    store_strip<kBatchStrip>(out + row * geometry.width + w0, values, left < kBatchStrip ? left : kBatchStrip);
  }
};

template <typename scalar_t, typename Divider>
struct PatchedCropTask {
  const scalar_t* base;
  const scalar_t* patches;          // this chunk's first patch
  const int64_t* patch_origins;     // this chunk's rows
  const int64_t* crop_origins;
  scalar_t pad;
  scalar_t* out;                    // this chunk's first crop
  PatchedCropStrides geometry;
  BatchRowDecoder<Divider> decode;

  ZF_HOST_DEVICE void operator()(int32_t i) const {
    int32_t b, c, y, strip, row;
    decode(i, b, c, y, strip, row);
    scalar_t values[kBatchStrip];
    const int32_t x0 = strip * kBatchStrip;
    patched_crop_strip<kBatchStrip>(base, patches + b * geometry.patch_strides[0], patch_origins + 2 * b,
                                    crop_origins + 2 * b, pad, c, y, x0, geometry, values);
    const int32_t left = geometry.crop_w - x0;
    store_strip<kBatchStrip>(out + row * geometry.crop_w + x0, values, left < kBatchStrip ? left : kBatchStrip);
  }
};

}  // namespace zfcuda
