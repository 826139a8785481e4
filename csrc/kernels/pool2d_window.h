// Pooling windows with their sizes known at compile time (the common ones) or at run time, and the
// 32-bit plane sizes the GPU kernels (and the CPU test mode that runs their bodies) index with.
//
// The per-element bodies are written once against a window type: FixedWindow<K, S, P> gives
// constants, so loops over taps unroll and divisions by the kernel or stride become multiplies
// and shifts; RuntimeWindow holds any geometry (dilation, rectangles) as 32-bit values.
#pragma once

#include <cstdint>

#include "pool2d_geometry.h"

namespace zfcuda {

// A K x K window, stride S, padding P, dilation 1: ZF-Net / AlexNet (3, 2, 0), VGG (2, 2, 0),
// ResNet (3, 2, 1), Inception-style (3, 1, 1).
template <int K, int S, int P>
struct FixedWindow {
  static constexpr bool fixed = true;
  static constexpr int kernel = K, stride = S, pad = P;
  ZF_HOST_DEVICE static constexpr int kernel_h() { return K; }
  ZF_HOST_DEVICE static constexpr int kernel_w() { return K; }
  ZF_HOST_DEVICE static constexpr int stride_h() { return S; }
  ZF_HOST_DEVICE static constexpr int stride_w() { return S; }
  ZF_HOST_DEVICE static constexpr int pad_h() { return P; }
  ZF_HOST_DEVICE static constexpr int pad_w() { return P; }
  ZF_HOST_DEVICE static constexpr int dilation_h() { return 1; }
  ZF_HOST_DEVICE static constexpr int dilation_w() { return 1; }
};

// Any window, in 32 bits (pool_geometry caps windows at 2^24 elements).
struct RuntimeWindow {
  static constexpr bool fixed = false;
  int32_t kh, kw, sh, sw, ph, pw, dh, dw;

  static RuntimeWindow of(const Pool2dGeometry& g) {
    return {static_cast<int32_t>(g.kernel_h), static_cast<int32_t>(g.kernel_w), static_cast<int32_t>(g.stride_h),
            static_cast<int32_t>(g.stride_w), static_cast<int32_t>(g.pad_h),    static_cast<int32_t>(g.pad_w),
            static_cast<int32_t>(g.dilation_h), static_cast<int32_t>(g.dilation_w)};
  }
  ZF_HOST_DEVICE int kernel_h() const { return kh; }
  ZF_HOST_DEVICE int kernel_w() const { return kw; }
  ZF_HOST_DEVICE int stride_h() const { return sh; }
  ZF_HOST_DEVICE int stride_w() const { return sw; }
  ZF_HOST_DEVICE int pad_h() const { return ph; }
  ZF_HOST_DEVICE int pad_w() const { return pw; }
  ZF_HOST_DEVICE int dilation_h() const { return dh; }
  ZF_HOST_DEVICE int dilation_w() const { return dw; }
};

// The input and pooled plane sizes, in the index type of the launch (int32: see for_each_slice_chunk).
template <typename index_t>
struct PlaneSizes {
  index_t in_h, in_w, out_h, out_w;

  static PlaneSizes of(const Pool2dGeometry& g) {
    return {static_cast<index_t>(g.in_h), static_cast<index_t>(g.in_w), static_cast<index_t>(g.out_h),
            static_cast<index_t>(g.out_w)};
  }
};

// Calls fn(FixedWindow<K, S, P>{}) when the geometry is one of the compiled-in windows and returns
// true; returns false (fn not called) for every other geometry, which then takes RuntimeWindow.
template <typename F>
bool with_fixed_window(const Pool2dGeometry& g, F&& fn) {
  const bool square = g.kernel_h == g.kernel_w && g.stride_h == g.stride_w && g.pad_h == g.pad_w &&
                      g.dilation_h == 1 && g.dilation_w == 1;
  if (!square) return false;
  const int64_t k = g.kernel_h, s = g.stride_h, p = g.pad_h;
  if (k == 2 && s == 2 && p == 0) return fn(FixedWindow<2, 2, 0>{}), true;
  if (k == 3 && s == 2 && p == 0) return fn(FixedWindow<3, 2, 0>{}), true;
  if (k == 3 && s == 2 && p == 1) return fn(FixedWindow<3, 2, 1>{}), true;
  if (k == 3 && s == 1 && p == 1) return fn(FixedWindow<3, 1, 1>{}), true;
  return false;
}

// Floor division for a possibly negative numerator, evaluated at compile time.
constexpr int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace zfcuda
