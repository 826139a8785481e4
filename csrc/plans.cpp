#include "plans.h"

#include <c10/util/Exception.h>

#include "checks.h"

namespace zfcuda {
namespace {

at::MemoryFormat memory_format_of(const at::Tensor& t4) {
  return t4.suggest_memory_format() == at::MemoryFormat::ChannelsLast ? at::MemoryFormat::ChannelsLast
                                                                      : at::MemoryFormat::Contiguous;
}

Layout4d layout_of(const at::Tensor& t4, at::MemoryFormat format) {
  return Layout4d{t4.size(0), t4.size(1), t4.size(2), t4.size(3), format == at::MemoryFormat::ChannelsLast};
}

// Geometry for pooled plane (out_h, out_w) of an input plane (in_h, in_w): the pooled size must be
// what nn.MaxPool2d gives with ceil_mode False or True, since the switch ops do not take ceil_mode.
Pool2dGeometry matching_geometry(int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                                 at::IntArrayRef kernel_size, at::IntArrayRef stride, at::IntArrayRef padding,
                                 at::IntArrayRef dilation, const char* op, const char* input_name,
                                 const char* pooled_name) {
  auto g = pool_geometry(in_h, in_w, kernel_size, stride, padding, dilation, false, op);
  if (g.out_h == out_h && g.out_w == out_w) return g;
  const auto floor_h = g.out_h, floor_w = g.out_w;
  g = pool_geometry(in_h, in_w, kernel_size, stride, padding, dilation, true, op);
  TORCH_CHECK_VALUE(g.out_h == out_h && g.out_w == out_w, op, ": ", input_name, " (", in_h, ", ", in_w,
                    ") pools to (", floor_h, ", ", floor_w, ") (or (", g.out_h, ", ", g.out_w,
                    ") with ceil_mode) with these arguments, but ", pooled_name, " has spatial size (", out_h, ", ",
                    out_w, ")");
  return g;
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

void fail_invalid_switches(const char* op, const Pool2dGeometry& g) {
  TORCH_CHECK_VALUE(false, op, ": switches hold offsets outside the ", g.kernel_h, "x", g.kernel_w,
                    " window or pointing into the padding; switches must come from max_pool2d_switches with the "
                    "same kernel_size, stride, padding and dilation");
}

OcclusionPlan plan_occlusion_batch(const at::Tensor& image, const at::Tensor& positions, at::IntArrayRef patch_size,
                                   const at::Tensor& fill) {
  constexpr const char* op = "occlusion_batch";
  TORCH_CHECK_VALUE(image.dim() == 3, op, ": image must be 3-D (C, H, W), got a ", image.dim(),
                    "-D tensor of shape ", shape_string(image.sizes()));
  check_floating(image, op, "image");
  check_pair(patch_size, 1, op, "patch_size");
  check_same_device(positions, "positions", image, "image", op);
  check_same_device(fill, "fill", image, "image", op);
  TORCH_CHECK_TYPE(positions.scalar_type() == at::kLong, op, ": positions must be int64, got ",
                   positions.scalar_type());
  TORCH_CHECK_VALUE(positions.dim() == 2 && positions.size(1) == 2, op,
                    ": positions must have shape (B, 2) holding (top, left) corners, got ",
                    shape_string(positions.sizes()));
  TORCH_CHECK_TYPE(fill.scalar_type() == image.scalar_type(), op, ": fill must have the dtype of image (",
                   image.scalar_type(), "), got ", fill.scalar_type());
  const int64_t C = image.size(0), H = image.size(1), W = image.size(2);
  const bool fill_ok = fill.dim() == 0 || (fill.dim() == 1 && fill.size(0) == C) ||
                       (fill.dim() == 3 && fill.sizes() == image.sizes());
  TORCH_CHECK_VALUE(fill_ok, op, ": fill must be a scalar, per-channel (", C, ",) or a whole image ",
                    shape_string(image.sizes()), ", got shape ", shape_string(fill.sizes()));
  const auto fill3 = fill.dim() == 1 ? fill.view({C, 1, 1}).expand({C, H, W}) : fill.expand({C, H, W});

  OcclusionPlan plan{};
  plan.image = image;
  plan.positions = positions.contiguous();
  plan.fill = fill3;
  plan.output = at::empty({positions.size(0), C, H, W}, image.options().memory_format(at::MemoryFormat::Contiguous));
  auto& g = plan.geometry;
  g.channels = C;
  g.height = H;
  g.width = W;
  g.patch_h = patch_size[0];
  g.patch_w = patch_size[1];
  for (int d = 0; d < 3; ++d) {
    g.image_strides[d] = image.stride(d);
    g.fill_strides[d] = fill3.stride(d);
  }
  plan.output_layout = Layout4d{positions.size(0), C, H, W, false};
  return plan;
}

PatchedCropPlan plan_patched_crops(const at::Tensor& base, const at::Tensor& patches, const at::Tensor& patch_origins,
                                   const at::Tensor& crop_origins, at::IntArrayRef crop_size) {
  constexpr const char* op = "patched_crops";
  TORCH_CHECK_VALUE(base.dim() == 3, op, ": base must be 3-D (C, H, W), got shape ", shape_string(base.sizes()));
  TORCH_CHECK_VALUE(patches.dim() == 4, op, ": patches must be 4-D (B, C, h, w), got shape ",
                    shape_string(patches.sizes()));
  check_floating(base, op, "base");
  TORCH_CHECK_TYPE(patches.scalar_type() == base.scalar_type(), op, ": patches must have the dtype of base (",
                   base.scalar_type(), "), got ", patches.scalar_type());
  check_same_device(patches, "patches", base, "base", op);
  check_same_device(patch_origins, "patch_origins", base, "base", op);
  check_same_device(crop_origins, "crop_origins", base, "base", op);
  check_pair(crop_size, 1, op, "crop_size");
  const int64_t B = patches.size(0), C = base.size(0);
  TORCH_CHECK_VALUE(patches.size(1) == C, op, ": patches must have base's ", C, " channels, got shape ",
                    shape_string(patches.sizes()));
  for (const auto* t : {&patch_origins, &crop_origins}) {
    const char* name = t == &patch_origins ? "patch_origins" : "crop_origins";
    TORCH_CHECK_TYPE(t->scalar_type() == at::kLong, op, ": ", name, " must be int64, got ", t->scalar_type());
    TORCH_CHECK_VALUE(t->dim() == 2 && t->size(0) == B && t->size(1) == 2, op, ": ", name, " must have shape (", B,
                      ", 2) holding (top, left) per patch, got ", shape_string(t->sizes()));
  }
  PatchedCropPlan plan{};
  plan.base = base;
  plan.patches = patches;
  plan.patch_origins = patch_origins.contiguous();
  plan.crop_origins = crop_origins.contiguous();
  plan.output = at::empty({B, C, crop_size[0], crop_size[1]}, base.options().memory_format(at::MemoryFormat::Contiguous));
  auto& g = plan.geometry;
  g.channels = C;
  g.height = base.size(1);
  g.width = base.size(2);
  g.patch_h = patches.size(2);
  g.patch_w = patches.size(3);
  for (int d = 0; d < 3; ++d) g.base_strides[d] = base.stride(d);
  for (int d = 0; d < 4; ++d) g.patch_strides[d] = patches.stride(d);
  plan.output_layout = Layout4d{B, C, crop_size[0], crop_size[1], false};
  return plan;
}

}  // namespace zfcuda
