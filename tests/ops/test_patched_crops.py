"""patched_crops (the incremental occlusion engine's input builder) against its reference."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.inputs import DTYPES
from zfcuda import ops, reference


def _case(device, dtype, batch=5, channels=3, size=(9, 11), patch=(3, 4), crop=(5, 6)):
    base = torch.randn(channels, *size, device=device).to(dtype)
    patches = torch.randn(batch, channels, *patch, device=device).to(dtype)
    # Patches and crops anywhere: inside, over the border, wholly outside.
    patch_origins = torch.randint(-4, 12, (batch, 2), device=device)
    crop_origins = torch.randint(-6, 12, (batch, 2), device=device)
    return base, patches, patch_origins, crop_origins, crop


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pad", [0.0, float("-inf")])
def test_matches_reference(device, dtype, pad):
    for _ in range(4):
        base, patches, patch_origins, crop_origins, crop = _case(device, dtype)
        got = ops.patched_crops(base, patches, patch_origins, crop_origins, crop, pad)
        expected = reference.patched_crops(base, patches, patch_origins, crop_origins, crop, pad)
        assert torch.equal(got, expected)


def test_strided_inputs_and_empty_batch(device):
    base, patches, patch_origins, crop_origins, crop = _case(device, torch.float32)
    wide = torch.randn(3, 9, 22, device=device)[:, :, ::2]  # non-contiguous base
    got = ops.patched_crops(wide, patches.transpose(2, 3).contiguous().transpose(2, 3), patch_origins, crop_origins, crop)
    assert torch.equal(got, reference.patched_crops(wide, patches, patch_origins, crop_origins, crop))
    empty = ops.patched_crops(base, patches[:0], patch_origins[:0], crop_origins[:0], crop)
    assert empty.shape == (0, 3, *crop)


def test_opcheck(device):
    base, patches, patch_origins, crop_origins, crop = _case(device, torch.float32)
    torch.library.opcheck(torch.ops.zfcuda.patched_crops.default, (base, patches, patch_origins, crop_origins, list(crop), 0.0))


def test_bad_input():
    base, patches, patch_origins, crop_origins, crop = _case("cpu", torch.float32)
    with pytest.raises(ValueError, match="base must be 3-D"):
        ops.patched_crops(base[0], patches, patch_origins, crop_origins, crop)
    with pytest.raises(ValueError, match="patches must be 4-D"):
        ops.patched_crops(base, patches[0], patch_origins, crop_origins, crop)
    with pytest.raises(TypeError, match="patches must have the dtype of base"):
        ops.patched_crops(base, patches.double(), patch_origins, crop_origins, crop)
    with pytest.raises(ValueError, match="patches must have base's 3 channels"):
        ops.patched_crops(base, patches[:, :2], patch_origins, crop_origins, crop)
    with pytest.raises(TypeError, match="crop_origins must be int64"):
        ops.patched_crops(base, patches, patch_origins, crop_origins.int(), crop)
    with pytest.raises(ValueError, match="patch_origins must have shape \\(5, 2\\)"):
        ops.patched_crops(base, patches, patch_origins[:3], crop_origins, crop)
    with pytest.raises(ValueError, match="crop_size must be >= 1"):
        ops.patched_crops(base, patches, patch_origins, crop_origins, (0, 3))
