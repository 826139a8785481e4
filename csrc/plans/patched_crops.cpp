// The plan of patched_crops: argument checks, contiguous origins, the output crops.
#include "patched_crops.h"

#include <c10/util/Exception.h>

#include "../checks.h"

namespace zfcuda {

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
