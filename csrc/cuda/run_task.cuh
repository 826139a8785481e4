// The CUDA runner of the shared tasks (kernels/pool2d_tasks.h, occlusion and crop tasks): one
// thread per work index, on the current stream.
#pragma once

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/detail/IntegerDivider.cuh>
#include <c10/cuda/CUDAException.h>

#include <cstdint>

namespace zfcuda::cuda {

// ATen's invariant-integer divider: a multiply-high and a shift per division.
using Divider = at::cuda::detail::IntDivider<unsigned int>;

constexpr int kTaskThreads = 256;

// One thread per work index, no grid-stride loop: a chunk holds under 2^31 indices, so its grid
// (under 2^23 blocks) always fits, and no loop state stays live across the task.
template <typename Task>
__global__ void __launch_bounds__(kTaskThreads) task_kernel(const Task task, int32_t count) {
  const int32_t i = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < count) task(i);
}

struct RunOnGpu {
  template <typename Task>
  void operator()(const Task& task, int64_t count) const {
    if (count <= 0) return;
    const auto blocks = static_cast<unsigned int>((count + kTaskThreads - 1) / kTaskThreads);
    task_kernel<<<blocks, kTaskThreads, 0, at::cuda::getCurrentCUDAStream()>>>(task, static_cast<int32_t>(count));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
};

}  // namespace zfcuda::cuda
