// The plans of the pooled-plane ops: max pooling, unpooling and gathering with switches.
#include "pool2d.h"

#include <c10/util/Exception.h>

#include "../checks.h"

namespace zfcuda {
namespace {

at::MemoryFormat memory_format_of(const at::Tensor& t4) {
  return t4.suggest_memory_format() == at::MemoryFormat::ChannelsLast ? at::MemoryFormat::ChannelsLast
                                                                      : at::MemoryFormat::Contiguous;
}

Layout4d layout_of(const at::Tensor& t4, at::MemoryFormat format) {
  return Layout4d{t4.size(0), t4.size(1), t4.size(2), t4.size(3), format == at::MemoryFormat::ChannelsLast};
}

Pool2dPlan make_plan(at::Tensor source4, at::Tensor switches4, at::Tensor output4, at::MemoryFormat format,
                     const Pool2dGeometry& g, bool batched) {
  Pool2dPlan plan{};
  plan.source_layout = layout_of(source4, format);
  plan.output_layout = layout_of(output4, format);
  plan.source = std::move(source4);
  plan.switches = std::move(switches4);
  plan.output = std::move(output4);
  plan.geometry = g;
  plan.batched = batched;
  return plan;
}

}  // namespace

Pool2dPlan plan_max_pool2d(const at::Tensor& input, at::IntArrayRef kernel_size, at::IntArrayRef stride,
                           at::IntArrayRef padding, at::IntArrayRef dilation, bool ceil_mode) {
  constexpr const char* op = "max_pool2d_switches";
  check_image_rank(input, op, "input");
  check_floating(input, op, "input");
  const bool batched = input.dim() == 4;
  const auto x4 = batched ? input : input.unsqueeze(0);
  const auto g = pool_geometry(x4.size(2), x4.size(3), kernel_size, stride, padding, dilation, ceil_mode, op);
  const auto format = memory_format_of(x4);
  auto output = at::empty({x4.size(0), x4.size(1), g.out_h, g.out_w}, x4.options().memory_format(format));
  auto switches = at::empty_like(output, output.options().dtype(switch_dtype(g)));
  return make_plan(x4.contiguous(format), std::move(switches), std::move(output), format, g, batched);
}

Pool2dPlan plan_unpool2d(const at::Tensor& y, const at::Tensor& switches, at::IntArrayRef input_size,
                         at::IntArrayRef kernel_size, at::IntArrayRef stride, at::IntArrayRef padding,
                         at::IntArrayRef dilation) {
  constexpr const char* op = "unpool2d_switches";
  check_image_rank(y, op, "y");
  check_floating(y, op, "y");
  check_pair(input_size, 1, op, "input_size");
  const bool batched = y.dim() == 4;
  const auto y4 = batched ? y : y.unsqueeze(0);
  const auto g = matching_geometry(input_size[0], input_size[1], y4.size(2), y4.size(3), kernel_size, stride,
                                   padding, dilation, op, "input_size", "y");
  check_switches(switches, y, g, op, "y");
  const auto format = memory_format_of(y4);
  auto output = at::empty({y4.size(0), y4.size(1), g.in_h, g.in_w}, y4.options().memory_format(format));
  return make_plan(y4.contiguous(format), (batched ? switches : switches.unsqueeze(0)).contiguous(format),
                   std::move(output), format, g, batched);
}

Pool2dPlan plan_gather2d(const at::Tensor& input, const at::Tensor& switches, at::IntArrayRef kernel_size,
                         at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  constexpr const char* op = "gather2d_switches";
  check_image_rank(input, op, "input");
  check_floating(input, op, "input");
  check_same_device(switches, "switches", input, "input", op);
  TORCH_CHECK_VALUE(switches.dim() == input.dim() && switches.size(0) == input.size(0) &&
                        (input.dim() == 3 || switches.size(1) == input.size(1)),
                    op, ": switches ", shape_string(switches.sizes()), " must have the leading dimensions of input ",
                    shape_string(input.sizes()));
  const bool batched = input.dim() == 4;
  const auto x4 = batched ? input : input.unsqueeze(0);
  const auto s4 = batched ? switches : switches.unsqueeze(0);
  const auto g = matching_geometry(x4.size(2), x4.size(3), s4.size(2), s4.size(3), kernel_size, stride, padding,
                                   dilation, op, "input", "switches");
  check_switch_dtype(switches, g, op);
  const auto format = memory_format_of(x4);
  auto output = at::empty(s4.sizes(), x4.options().memory_format(format));
  return make_plan(x4.contiguous(format), s4.contiguous(format), std::move(output), format, g, batched);
}

}  // namespace zfcuda
