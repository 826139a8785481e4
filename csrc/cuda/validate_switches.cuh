// CUDA check that every switch points at an input element inside its window.
#pragma once

#include <ATen/ATen.h>

#include "../kernels/pool2d_launch.h"
#include "run_task.cuh"

namespace zfcuda::cuda {

// A device flag any thread may set. Reading it back synchronises with the stream, so callers that
// trust their switches (the autograd backward of our own pooling) pass checked = false: then no flag
// is allocated, the kernels get a scratch word to write to, and raised() is false without a sync.
struct InvalidFlag {
  at::Tensor flag;
  bool checked;
  InvalidFlag(const at::Tensor& like, bool checked_ = true)
      : flag(checked_ ? at::zeros({1}, like.options().dtype(at::kInt)) : at::empty({1}, like.options().dtype(at::kInt))),
        checked(checked_) {}
  int* data() { return flag.mutable_data_ptr<int>(); }
  bool raised() const { return checked && flag.item<int>() != 0; }
};

// `switches` is 4-D, stored as `layout` (the pooled tensor's shape and memory format).
template <typename switch_t>
bool switches_valid(const switch_t* switches, const Layout4d& layout, const Pool2dGeometry& g, const at::Tensor& like) {
  InvalidFlag invalid(like);
  launch_gather2d<Divider, float>(g, layout, nullptr, switches, nullptr, invalid.data(), RunOnGpu{});
  return !invalid.raised();
}

}  // namespace zfcuda::cuda
