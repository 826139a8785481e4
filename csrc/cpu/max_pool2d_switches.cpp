// The CPU kernel of max_pool2d_switches: its fast paths, or the tasks the CUDA kernel runs.
#include <torch/library.h>

#include <tuple>
#include <type_traits>
#include <vector>

#include "../dispatch.h"
#include "../kernels/pool2d_launch.h"
#include "../plans/pool2d.h"
#include "fast_paths.h"
#include "max_pool2d_rows.h"
#include "run_task.h"

namespace zfcuda::cpu {
namespace {

// NCHW: one plane at a time, in bands of output rows (see max_pool2d_rows.h).
template <typename scalar_t, typename switch_t>
void pool_planes_nchw(const scalar_t* x, scalar_t* y, switch_t* sw, const Layout4d& src, const Pool2dGeometry& g) {
  const PhaseGrid grid(g);
  const int64_t planes = src.n * src.c, plane_size = g.in_h * g.in_w, pooled_plane = g.out_h * g.out_w;
  at::parallel_for(0, planes, std::max<int64_t>(1, at::internal::GRAIN_SIZE / (pooled_plane * g.window_size())),
                   [&](int64_t begin, int64_t end) {
    PoolPlaneScratch<at::opmath_type<scalar_t>, switch_t> scratch(g, grid);
    for (int64_t p = begin; p < end; ++p) {
      max_pool2d_plane(x + p * plane_size, g, grid, scratch, y + p * pooled_plane, sw + p * pooled_plane);
    }
  });
}

// channels_last: one output pixel, all channels, at a time (see max_pool2d_rows.h).
template <typename scalar_t, typename switch_t>
void pool_pixels_nhwc(const scalar_t* x, scalar_t* y, switch_t* sw, const Layout4d& src, const Pool2dGeometry& g) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t C = src.c, pixels = src.n * g.out_h * g.out_w;
  at::parallel_for(0, pixels, std::max<int64_t>(1, at::internal::GRAIN_SIZE / (C * g.window_size())),
                   [&](int64_t begin, int64_t end) {
    PoolPixelScratch<acc_t> scratch(g, C, !std::is_same_v<acc_t, scalar_t>);
    for (int64_t p = begin; p < end; ++p) {
      const int64_t ow = p % g.out_w, oh = (p / g.out_w) % g.out_h, n = p / (g.out_w * g.out_h);
      max_pool2d_pixel_cl(x + n * g.in_h * g.in_w * C, oh, ow, C, g, scratch, y + p * C, sw + p * C);
    }
  });
}

std::tuple<at::Tensor, at::Tensor> max_pool2d_switches(const at::Tensor& input, at::IntArrayRef kernel_size,
                                                       at::IntArrayRef stride, at::IntArrayRef padding,
                                                       at::IntArrayRef dilation, bool ceil_mode) {
  const auto plan = plan_max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode);
  const auto& src = plan.source_layout;
  const auto g = plan.geometry;
  if (plan.output.numel() == 0) return {plan.unbatch(plan.output), plan.unbatch(plan.switches)};
  ZF_DISPATCH_FLOATING(input.scalar_type(), "max_pool2d_switches", [&] {
    ZF_DISPATCH_SWITCH(plan.switches.scalar_type(), [&] {
      const scalar_t* x = plan.source.const_data_ptr<scalar_t>();
      scalar_t* y = plan.output.mutable_data_ptr<scalar_t>();
      switch_t* sw = static_cast<switch_t*>(plan.switches.mutable_data_ptr());
      if (!fast_paths_enabled()) {  // the tasks the CUDA kernel runs
        launch_max_pool2d<PlainDivider>(g, src, x, y, sw, RunOnCpu{});
      } else if (src.channels_last) {
        pool_pixels_nhwc(x, y, sw, src, g);
      } else {
        pool_planes_nchw(x, y, sw, src, g);
      }
    });
  });
  return {plan.unbatch(plan.output), plan.unbatch(plan.switches)};
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CPU, m) { m.impl("max_pool2d_switches", &max_pool2d_switches); }

}  // namespace zfcuda::cpu
