// The CPU runner of the shared tasks (kernels/pool2d_tasks.h): a parallel loop over the work indices,
// the same indices, bodies and int32 arithmetic as the CUDA launch.
#pragma once

#include <ATen/Parallel.h>

#include <cstdint>

namespace zfcuda::cpu {

struct RunOnCpu {
  template <typename Task>
  void operator()(const Task& task, int64_t count) const {
    at::parallel_for(0, count, 2048, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) task(static_cast<int32_t>(i));
    });
  }
};

}  // namespace zfcuda::cpu
