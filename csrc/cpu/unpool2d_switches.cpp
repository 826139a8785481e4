// The CPU kernel of unpool2d_switches: its fast paths, or the tasks the CUDA kernel runs.
#include <torch/library.h>

#include <atomic>
#include <type_traits>
#include <vector>

#include "../dispatch.h"
#include "../kernels/pool2d_launch.h"
#include "../plans/pool2d.h"
#include "fast_paths.h"
#include "run_task.h"
#include "unpool2d_rows.h"
#include "validate_switches.h"

namespace zfcuda::cpu {
namespace {

// NCHW: one plane at a time. Returns how many switches landed.
template <typename scalar_t, typename switch_t>
int64_t unpool_planes_nchw(const scalar_t* y, const switch_t* sw, scalar_t* x, const Layout4d& src,
                           const Pool2dGeometry& g) {
  using acc_t = at::opmath_type<scalar_t>;
  const SwitchTable table(g);
  const int64_t planes = src.n * src.c, pooled_plane = g.out_h * g.out_w, plane_size = g.in_h * g.in_w;
  std::atomic<int64_t> landed{0};
  at::parallel_for(0, planes, std::max<int64_t>(1, at::internal::GRAIN_SIZE / plane_size), [&](int64_t begin, int64_t end) {
    std::vector<acc_t> scratch(std::is_same_v<acc_t, scalar_t> ? 0 : plane_size);
    int64_t count = 0;
    for (int64_t p = begin; p < end; ++p) {
      count += unpool2d_plane(y + p * pooled_plane, sw + p * pooled_plane, g, table, scratch.data(), x + p * plane_size);
    }
    landed += count;
  });
  return landed.load();
}

// channels_last: one input row of pixels, all channels, at a time. Returns how many switches landed.
template <typename scalar_t, typename switch_t>
int64_t unpool_rows_nhwc(const scalar_t* y, const switch_t* sw, scalar_t* x, const Layout4d& src,
                         const Pool2dGeometry& g) {
  using acc_t = at::opmath_type<scalar_t>;
  const Covers rows(g.in_h, g.out_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h);
  const Covers cols(g.in_w, g.out_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w);
  const int64_t C = src.c, row_size = g.in_w * C, pooled_image = g.out_h * g.out_w * C;
  const int64_t image_rows = src.n * g.in_h;
  std::atomic<int64_t> landed{0};
  at::parallel_for(0, image_rows, std::max<int64_t>(1, at::internal::GRAIN_SIZE / row_size), [&](int64_t begin, int64_t end) {
    PixelTerms terms(rows, cols);
    UnpoolRowScratch<acc_t> scratch(g, C, terms, std::is_same_v<acc_t, scalar_t>);
    int64_t count = 0;
    for (int64_t r = begin; r < end; ++r) {
      const int64_t n = r / g.in_h;
      count += unpool2d_row_cl(y + n * pooled_image, sw + n * pooled_image, r % g.in_h, C, g, rows, cols, terms,
                               scratch, x + r * row_size);
    }
    landed += count;
  });
  return landed.load();
}

at::Tensor unpool2d_switches(const at::Tensor& y, const at::Tensor& switches, at::IntArrayRef input_size,
                             at::IntArrayRef kernel_size, at::IntArrayRef stride, at::IntArrayRef padding,
                             at::IntArrayRef dilation, bool validate) {
  const auto plan = plan_unpool2d(y, switches, input_size, kernel_size, stride, padding, dilation);
  const auto& src = plan.source_layout;
  const auto g = plan.geometry;
  if (plan.output.numel() == 0) return plan.unbatch(plan.output);
  ZF_DISPATCH_SWITCH(plan.switches.scalar_type(), [&] {
    const switch_t* sw = static_cast<const switch_t*>(plan.switches.const_data_ptr());
    ZF_DISPATCH_FLOATING(y.scalar_type(), "unpool2d_switches", [&] {
      const scalar_t* yp = plan.source.const_data_ptr<scalar_t>();
      scalar_t* x = plan.output.mutable_data_ptr<scalar_t>();
      if (!fast_paths_enabled()) {  // the tasks the CUDA kernel runs, after the same check
        if (validate && !switches_valid(sw, src, g)) fail_invalid_switches("unpool2d_switches", g);
        launch_unpool2d<PlainDivider>(g, src, yp, sw, x, RunOnCpu{});
        return;
      }
      // Fast paths (see unpool2d_rows.h), validated for free by counting the switches that land.
      const int64_t landed = src.channels_last ? unpool_rows_nhwc(yp, sw, x, src, g) : unpool_planes_nchw(yp, sw, x, src, g);
      if (validate && landed != plan.switches.numel()) fail_invalid_switches("unpool2d_switches", g);
    });
  });
  return plan.unbatch(plan.output);
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CPU, m) { m.impl("unpool2d_switches", &unpool2d_switches); }

}  // namespace zfcuda::cpu
