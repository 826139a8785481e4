#include <torch/library.h>

#include <atomic>
#include <type_traits>
#include <vector>

#include "../dispatch.h"
#include "../kernels/unpool2d_switches.h"
#include "../plans.h"
#include "for_each.h"
#include "pool_rows.h"
#include "validate_switches.h"

namespace zfcuda::cpu {
namespace {

at::Tensor unpool2d_switches(const at::Tensor& y, const at::Tensor& switches, at::IntArrayRef input_size,
                             at::IntArrayRef kernel_size, at::IntArrayRef stride, at::IntArrayRef padding,
                             at::IntArrayRef dilation, bool validate) {
  const auto plan = plan_unpool2d(y, switches, input_size, kernel_size, stride, padding, dilation);
  const auto& src = plan.source_layout;
  const auto g = plan.geometry;
  ZF_DISPATCH_SWITCH(plan.switches.scalar_type(), [&] {
    const switch_t* sw = static_cast<const switch_t*>(plan.switches.const_data_ptr());
    if (src.channels_last && validate && !switches_valid(sw, src, g)) fail_invalid_switches("unpool2d_switches", g);
    ZF_DISPATCH_FLOATING(y.scalar_type(), "unpool2d_switches", [&] {
      const scalar_t* yp = plan.source.const_data_ptr<scalar_t>();
      scalar_t* x = plan.output.mutable_data_ptr<scalar_t>();
      if (src.channels_last) {
        for_each_element(plan.output_layout, [&](int64_t n, int64_t c, int64_t ih, int64_t iw, int64_t i) {
          const int64_t plane = src.plane_offset(n, c);
          x[i] = unpool2d_at(yp + plane, sw + plane, src.row_stride(), src.col_stride(), ih, iw, g);
        });
        return;
      }
      // NCHW: one plane at a time (see pool_rows.h), validated for free by counting landed switches.
      const SwitchTable table(g);
      const int64_t planes = src.n * src.c, pooled_plane = g.out_h * g.out_w, plane_size = g.in_h * g.in_w;
      std::atomic<int64_t> landed{0};
      at::parallel_for(0, planes, std::max<int64_t>(1, at::internal::GRAIN_SIZE / plane_size), [&](int64_t begin, int64_t end) {
        std::vector<at::opmath_type<scalar_t>> acc(std::is_same_v<at::opmath_type<scalar_t>, scalar_t> ? 0 : plane_size);
        int64_t count = 0;
        for (int64_t p = begin; p < end; ++p) {
          count += unpool2d_plane(yp + p * pooled_plane, sw + p * pooled_plane, g, table, acc.data(), x + p * plane_size);
        }
        landed += count;
      });
      if (validate && landed.load() != plan.switches.numel()) fail_invalid_switches("unpool2d_switches", g);
    });
  });
  return plan.unbatch(plan.output);
}

}  // namespace

TORCH_LIBRARY_IMPL(zfcuda, CPU, m) { m.impl("unpool2d_switches", &unpool2d_switches); }

}  // namespace zfcuda::cpu
