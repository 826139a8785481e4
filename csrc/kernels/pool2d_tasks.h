// The work of one thread of the pooled-plane ops, shared by the CUDA kernels and the CPU's
// per-element test mode: flat int32 index -> the element (or strip of elements) it computes.
//
// Each task covers one chunk of slices (for_each_slice_chunk): its pointers start at the chunk's
// first slice, so every offset inside is int32. A compiled-in window (FixedWindow) takes the strip
// bodies: NCHW threads own STRIP outputs along W, channels_last threads one channel of one pixel
// (or of S input pixels when unpooling), so a warp reads and writes consecutive channels. Any other
// window takes the per-element bodies.
#pragma once

#include <cstdint>

#include "gather2d_switches.h"
#include "index_decoder.h"
#include "max_pool2d_switches.h"
#include "unpool2d_switches.h"

namespace zfcuda {

// Outputs per NCHW thread: 8 values make two 16-byte stores (float32), 8 switches one 8-byte store,
// and 8 neighbouring 3x3/2 windows share their columns (51 reads, not 72).
constexpr int kPoolStrip = 8;

// Sets a flag any thread may raise (the CPU's threads too, hence the atomic store there).
ZF_HOST_DEVICE inline void raise_flag(int* flag) {
#ifdef __CUDA_ARCH__
  *flag = 1;
#else
  __atomic_store_n(flag, 1, __ATOMIC_RELAXED);
#endif
}

// How many columns one thread covers along W, and the decoder's width in those units.
template <typename Window, bool ChannelsLast>
constexpr int pool_columns_per_thread() {
  if constexpr (Window::fixed && !ChannelsLast) return kPoolStrip;
  return 1;
}
template <typename Window, bool ChannelsLast>
constexpr int unpool_columns_per_thread() {
  if constexpr (Window::fixed) return (ChannelsLast ? 1 : kPoolStrip) * Window::stride;
  return 1;
}
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Shapes of one launch chunk: sizes of the planes, channels, and the work items per slice.
struct Pool2dChunkShape {
  PlaneSizes<int32_t> sizes;
  int32_t channels;
};

template <typename scalar_t, typename switch_t, typename Window, bool ChannelsLast, typename Divider>
struct MaxPoolTask {
  static constexpr int columns = pool_columns_per_thread<Window, ChannelsLast>();
  const scalar_t* x;
  scalar_t* y;
  switch_t* switches;
  Pool2dChunkShape shape;
  Window win;
  IndexDecoder<ChannelsLast, Divider> decode;  // over (slice, oh, strip of `columns` ow, c)

  static int64_t work_per_slice(const Pool2dGeometry& g, int64_t channels) {
    return g.out_h * ceil_div(g.out_w, columns) * (ChannelsLast ? channels : 1);
  }

  ZF_HOST_DEVICE void operator()(int32_t i) const {
    const auto& s = shape.sizes;
    int32_t slice, oh, strip, c;
    decode(i, slice, oh, strip, c);
    const int32_t ow0 = strip * columns, C = ChannelsLast ? shape.channels : 1;
    const scalar_t* plane = x + slice * (s.in_h * s.in_w * C) + c;
    const int32_t out = slice * (s.out_h * s.out_w * C) + (oh * s.out_w + ow0) * C + c;
    if constexpr (Window::fixed) {
      max_pool2d_strip<columns>(plane, s.in_w * C, C, s, win, oh, ow0, y + out, switches + out, C);
    } else {
      max_pool2d_at(plane, s.in_w * C, C, s, win, oh, ow0, y + out, switches + out);
    }
  }
};

template <typename scalar_t, typename switch_t, typename Window, bool ChannelsLast, typename Divider>
struct UnpoolTask {
  static constexpr int columns = unpool_columns_per_thread<Window, ChannelsLast>();
  const scalar_t* y;
  const switch_t* switches;
  scalar_t* x;
  Pool2dChunkShape shape;
  Window win;
  IndexDecoder<ChannelsLast, Divider> decode;  // over (slice, ih, strip of `columns` iw, c)

  static int64_t work_per_slice(const Pool2dGeometry& g, int64_t channels) {
    return g.in_h * ceil_div(g.in_w, columns) * (ChannelsLast ? channels : 1);
  }

  ZF_HOST_DEVICE void operator()(int32_t i) const {
    const auto& s = shape.sizes;
    int32_t slice, ih, strip, c;
    decode(i, slice, ih, strip, c);
    const int32_t C = ChannelsLast ? shape.channels : 1;
    const int32_t pooled = slice * (s.out_h * s.out_w * C) + c;
    const int32_t out = slice * (s.in_h * s.in_w * C) + (ih * s.in_w + strip * columns) * C + c;
    if constexpr (Window::fixed) {
      unpool2d_strip<columns / Window::stride>(y + pooled, switches + pooled, s.out_w * C, C, s, win, ih, strip,
                                               x + out, C);
    } else {
      x[out] = unpool2d_at(y + pooled, switches + pooled, s.out_w * C, C, s, win, ih, strip);
    }
  }
};

// gather2d_switches, or with `x` null only the check that every switch is valid. Invalid switches
// raise *invalid.
template <typename scalar_t, typename switch_t, typename Window, bool ChannelsLast, typename Divider>
struct GatherTask {
  const scalar_t* x;
  const switch_t* switches;
  scalar_t* y;
  int* invalid;
  Pool2dChunkShape shape;
  Window win;
  IndexDecoder<ChannelsLast, Divider> decode;  // over (slice, oh, ow, c)

  static int64_t work_per_slice(const Pool2dGeometry& g, int64_t channels) {
    return g.out_h * g.out_w * (ChannelsLast ? channels : 1);
  }

  ZF_HOST_DEVICE void operator()(int32_t i) const {
    const auto& s = shape.sizes;
    int32_t slice, oh, ow, c;
    decode(i, slice, oh, ow, c);
    const int32_t C = ChannelsLast ? shape.channels : 1;
    bool ok = true;
    if (x == nullptr) {
      int32_t ih = 0, iw = 0;
      ok = switch_target_in(switches[i], oh, ow, s, win, ih, iw);
    } else {
      y[i] = gather2d_at(x + slice * (s.in_h * s.in_w * C) + c, s.in_w * C, C, s, win, switches[i], oh, ow, ok);
    }
    if (!ok) raise_flag(invalid);
  }
};

}  // namespace zfcuda
