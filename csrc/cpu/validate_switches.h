// CPU check that every switch points at an input element inside its window: the CUDA check's task.
#pragma once

#include "../kernels/pool2d_launch.h"
#include "run_task.h"

namespace zfcuda::cpu {

// `switches` is 4-D, stored as `layout` (the pooled tensor's shape and memory format).
template <typename switch_t>
bool switches_valid(const switch_t* switches, const Layout4d& layout, const Pool2dGeometry& g) {
  int invalid = 0;
  launch_gather2d<PlainDivider, float>(g, layout, nullptr, switches, nullptr, &invalid, RunOnCpu{});
  return __atomic_load_n(&invalid, __ATOMIC_RELAXED) == 0;
}

}  // namespace zfcuda::cpu
