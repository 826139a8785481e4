// CPU check that every switch points at an input element inside its window.
#pragma once

#include <atomic>

#include "../kernels/pool2d_geometry.h"
#include "for_each.h"

namespace zfcuda::cpu {

// `switches` is 4-D, stored as `layout` (the pooled tensor's shape and memory format).
template <typename switch_t>
bool switches_valid(const switch_t* switches, const Layout4d& layout, const Pool2dGeometry& g) {
  std::atomic<bool> valid{true};
  for_each_element(layout, [&](int64_t, int64_t, int64_t oh, int64_t ow, int64_t i) {
    int64_t ih = 0, iw = 0;
    if (!switch_target(switches[i], oh, ow, g, ih, iw)) valid.store(false, std::memory_order_relaxed);
  });
  return valid.load();
}

}  // namespace zfcuda::cpu
