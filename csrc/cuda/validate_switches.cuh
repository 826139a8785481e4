// CUDA check that every switch points at an input element inside its window.
#pragma once

#include <ATen/ATen.h>

#include "../kernels/pool2d_geometry.h"
#include "for_each.cuh"

namespace zfcuda::cuda {

// A device flag any thread may set; reading it back synchronises with the stream, so callers
// that trust their switches (the autograd backward of our own pooling) skip validation.
struct InvalidFlag {
  at::Tensor flag;
  explicit InvalidFlag(const at::Tensor& like) : flag(at::zeros({1}, like.options().dtype(at::kInt))) {}
  int* data() { return flag.mutable_data_ptr<int>(); }
  bool raised() const { return flag.item<int>() != 0; }
};

// `switches` is 4-D, stored as `layout` (the pooled tensor's shape and memory format).
template <typename switch_t>
bool switches_valid(const switch_t* switches, const Layout4d& layout, const Pool2dGeometry& g,
                    const at::Tensor& like) {
  InvalidFlag invalid(like);
  int* flag = invalid.data();
  for_each_element(layout, [=] __device__(int64_t, int64_t, int64_t oh, int64_t ow, int64_t i) {
    int64_t ih = 0, iw = 0;
    if (!switch_target(switches[i], oh, ow, g, ih, iw)) *flag = 1;
  });
  return !invalid.raised();
}

}  // namespace zfcuda::cuda
