// The plan of occlusion_batch: argument checks, the fill broadcast to the image, the output batch.
#include "occlusion_batch.h"

#include <c10/util/Exception.h>

#include "../checks.h"

namespace zfcuda {

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

}  // namespace zfcuda
