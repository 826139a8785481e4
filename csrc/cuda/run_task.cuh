// The CUDA runner of the shared tasks (kernels/pool2d_tasks.h, occlusion and crop tasks): one
// thread per work index, int32 grid-stride, on the current stream.
#pragma once

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/detail/IntegerDivider.cuh>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <cstdint>

namespace zfcuda::cuda {

// ATen's invariant-integer divider: a multiply-high and a shift per division.
using Divider = at::cuda::detail::IntDivider<unsigned int>;

constexpr int kTaskThreads = 256;

template <typename Task>
__global__ void __launch_bounds__(kTaskThreads) task_kernel(const Task task, int32_t count) {
  const int32_t step = static_cast<int32_t>(blockDim.x * gridDim.x);
  for (int32_t i = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x); i < count; i += step) task(i);
}

// Tasks are cut so that count plus one grid stays below 2^31 (for_each_slice_chunk).
struct RunOnGpu {
  template <typename Task>
  void operator()(const Task& task, int64_t count) const {
    if (count <= 0) return;
    const int64_t max_blocks = static_cast<int64_t>(at::cuda::getCurrentDeviceProperties()->multiProcessorCount) * 32;
    const int blocks = static_cast<int>(std::min<int64_t>((count + kTaskThreads - 1) / kTaskThreads, max_blocks));
    task_kernel<<<blocks, kTaskThreads, 0, at::cuda::getCurrentCUDAStream()>>>(task, static_cast<int32_t>(count));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
};

}  // namespace zfcuda::cuda
