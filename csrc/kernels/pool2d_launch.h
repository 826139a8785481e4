// Host side of the pooled-plane tasks, shared by the CUDA launches and the CPU's per-element test
// mode: pick the window (compiled in or not) and the layout, cut the tensor into int32 chunks and
// hand each chunk's task to `run(task, count)` (a kernel launch, or a CPU parallel loop).
#pragma once

#include <algorithm>
#include <type_traits>

#include "layout.h"
#include "pool2d_tasks.h"

namespace zfcuda {

// Calls fn(window, std::bool_constant<channels_last>{}). Compiled-in windows have at most 9 taps,
// so their switches are always uint8: int32 switches need only the runtime window.
template <typename switch_t, typename F>
void with_window_and_layout(const Pool2dGeometry& g, bool channels_last, F&& fn) {
  auto by_layout = [&](auto window) {
    if (channels_last) {
      fn(window, std::true_type{});
    } else {
      fn(window, std::false_type{});
    }
  };
  if constexpr (sizeof(switch_t) == 1) {
    if (with_fixed_window(g, by_layout)) return;
  }
  by_layout(RuntimeWindow::of(g));
}

// One chunk of slices: the element offsets of its first slice, the shape the task sees, and the
// number of slices. `layout` is the pooled or the input tensor's (they share N, C and format).
struct SliceChunk {
  int64_t in_offset, out_offset, slices;
};

template <typename Task, bool ChannelsLast, typename F>
void for_each_task_chunk(const Pool2dGeometry& g, const Layout4d& layout, const char* op, F&& fn) {
  const int64_t C = layout.c, per_channel = ChannelsLast ? C : 1;
  const int64_t slices = ChannelsLast ? layout.n : layout.n * layout.c;
  const int64_t in_slice = g.in_h * g.in_w * per_channel, out_slice = g.out_h * g.out_w * per_channel;
  const int64_t work = Task::work_per_slice(g, C);
  for_each_slice_chunk(slices, std::max({in_slice, out_slice, work}), op, [&](int64_t first, int64_t count) {
    fn(SliceChunk{first * in_slice, first * out_slice, count}, count * work);
  });
}

inline Pool2dChunkShape chunk_shape(const Pool2dGeometry& g, const Layout4d& layout) {
  return {PlaneSizes<int32_t>::of(g), static_cast<int32_t>(layout.c)};
}

// max_pool2d_switches: x (input layout) -> y, switches (pooled layout).
template <typename Divider, typename scalar_t, typename switch_t, typename Run>
void launch_max_pool2d(const Pool2dGeometry& g, const Layout4d& layout, const scalar_t* x, scalar_t* y,
                       switch_t* switches, Run&& run) {
  with_window_and_layout<switch_t>(g, layout.channels_last, [&](auto window, auto channels_last) {
    constexpr bool CL = decltype(channels_last)::value;
    using Task = MaxPoolTask<scalar_t, switch_t, decltype(window), CL, Divider>;
    for_each_task_chunk<Task, CL>(g, layout, "max_pool2d_switches", [&](SliceChunk chunk, int64_t work) {
      const IndexDecoder<CL, Divider> decode(g.out_h, ceil_div(g.out_w, Task::columns), layout.c);
      run(Task{x + chunk.in_offset, y + chunk.out_offset, switches + chunk.out_offset, chunk_shape(g, layout),
               window, decode},
          work);
    });
  });
}

// unpool2d_switches: y, switches (pooled layout) -> x (input layout).
template <typename Divider, typename scalar_t, typename switch_t, typename Run>
void launch_unpool2d(const Pool2dGeometry& g, const Layout4d& layout, const scalar_t* y, const switch_t* switches,
                     scalar_t* x, Run&& run) {
  with_window_and_layout<switch_t>(g, layout.channels_last, [&](auto window, auto channels_last) {
    constexpr bool CL = decltype(channels_last)::value;
    using Task = UnpoolTask<scalar_t, switch_t, decltype(window), CL, Divider>;
    for_each_task_chunk<Task, CL>(g, layout, "unpool2d_switches", [&](SliceChunk chunk, int64_t work) {
      const IndexDecoder<CL, Divider> decode(g.in_h, ceil_div(g.in_w, Task::columns), layout.c);
      run(Task{y + chunk.out_offset, switches + chunk.out_offset, x + chunk.in_offset, chunk_shape(g, layout),
               window, decode},
          work);
    });
  });
}

// gather2d_switches: x (input layout) read at switches (pooled layout) -> y; with x null, only
// checks the switches. Invalid switches raise *invalid.
template <typename Divider, typename scalar_t, typename switch_t, typename Run>
void launch_gather2d(const Pool2dGeometry& g, const Layout4d& layout, const scalar_t* x, const switch_t* switches,
                     scalar_t* y, int* invalid, Run&& run) {
  with_window_and_layout<switch_t>(g, layout.channels_last, [&](auto window, auto channels_last) {
    constexpr bool CL = decltype(channels_last)::value;
    using Task = GatherTask<scalar_t, switch_t, decltype(window), CL, Divider>;
    for_each_task_chunk<Task, CL>(g, layout, "gather2d_switches", [&](SliceChunk chunk, int64_t work) {
      const IndexDecoder<CL, Divider> decode(g.out_h, g.out_w, layout.c);
      run(Task{x == nullptr ? nullptr : x + chunk.in_offset, switches + chunk.out_offset,
               y == nullptr ? nullptr : y + chunk.out_offset, invalid, chunk_shape(g, layout), window, decode},
          work);
    });
  });
}

}  // namespace zfcuda
