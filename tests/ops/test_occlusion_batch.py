"""occlusion_batch against a naive clone-and-assign loop, and the position grids."""

from __future__ import annotations

import pytest
import torch

import zfcuda
from tests.helpers.inputs import DTYPES
from zfcuda import reference


def _positions(image_size, patch, count, device):
    # Corners from well outside the top-left to well outside the bottom-right: many clipped patches.
    h, w = image_size
    top = torch.randint(-patch[0] - 2, h + 2, (count,))
    left = torch.randint(-patch[1] - 2, w + 2, (count,))
    return torch.stack([top, left], 1).to(device)


def _fills(image):
    c = image.shape[0]
    return {
        "scalar": 0.5,
        "zero-dim": torch.tensor(-1.25, dtype=image.dtype, device=image.device),
        "per-channel": torch.randn(c, dtype=image.dtype, device=image.device),
        "image": torch.randn_like(image),
    }


@pytest.mark.parametrize("fill_kind", ["scalar", "zero-dim", "per-channel", "image"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("patch", [(5, 5), (3, 7), (1, 1), (40, 40)])
def test_matches_naive_loop(fill_kind, dtype, patch, device):
    image = torch.randn(3, 17, 23, dtype=dtype, device=device)
    positions = _positions(image.shape[1:], patch, 37, device)
    fill = _fills(image)[fill_kind]
    batch = zfcuda.occlusion_batch(image, positions, patch, fill)
    assert batch.shape == (37, 3, 17, 23) and batch.is_contiguous()
    assert torch.equal(batch, reference.occlusion_batch(image, positions, patch, fill))


@pytest.mark.parametrize("strided", ["image", "fill", "both"])
def test_non_contiguous_image_and_fill(strided, device):
    # Non-unit strides along W take the shared per-element body on the CPU (unit strides take row copies).
    image = torch.randn(20, 15, 4, device=device).permute(2, 0, 1)  # (C, H, W) view of an HWC buffer
    fill = torch.randn(4, 15, 20, device=device).transpose(1, 2)
    image = image if strided in ("image", "both") else image.contiguous()
    fill = fill if strided in ("fill", "both") else fill.contiguous()
    positions = _positions((20, 15), (6, 4), 25, device)
    batch = zfcuda.occlusion_batch(image, positions, (6, 4), fill)
    assert torch.equal(batch, reference.occlusion_batch(image.contiguous(), positions, (6, 4), fill.contiguous()))


def test_extreme_positions_never_overflow(device):
    image = torch.randn(3, 8, 8, device=device)
    extreme = 2**63 - 2
    positions = torch.tensor([[0, extreme], [-extreme, 0], [extreme, -extreme], [2, 3]], device=device)
    batch = zfcuda.occlusion_batch(image, positions, (2, 4), 0.0)
    assert torch.equal(batch[:3], image.expand(3, -1, -1, -1))
    assert torch.equal(batch[3], reference.occlusion_batch(image, positions[3:], (2, 4), 0.0)[0])


def test_empty_batch(device):
    image = torch.randn(3, 8, 8, device=device)
    batch = zfcuda.occlusion_batch(image, torch.empty(0, 2, dtype=torch.long, device=device), 3, 0.0)
    assert batch.shape == (0, 3, 8, 8)


def test_paper_grid_centres_cover_the_image():
    grid = zfcuda.paper_grid((224, 224), 32, 8)
    assert grid.grid_shape == (28, 28) and grid.positions.shape == (28 * 28, 2)
    centres = grid.centers()
    # Centred grid: the same margin on both sides (to a pixel), every pixel within stride/2 of a centre.
    first, last = centres[0], centres[-1]
    assert abs(first[0] - (223 - last[0])) <= 1 and abs(first[1] - (223 - last[1])) <= 1
    assert first[0] <= 4 and 223 - last[0] <= 4
    assert torch.all(centres[1:, 1].reshape(-1)[:27] - centres[:27, 1] == 8)


def test_paper_grid_odd_patch_is_centred_on_its_point():
    grid = zfcuda.paper_grid((10, 12), 3, (5, 4))
    tops = grid.positions[:, 0].unique()
    assert grid.grid_shape == (2, 3)
    assert torch.equal(grid.centers()[:, 0].unique(), (tops + 1).double())


def test_captum_grid_layout():
    # captum.attr.Occlusion: ceil((size - window) / stride) + 1 windows per dimension, from the
    # origin; the last may hang over the border (captum pads its mask negatively, i.e. clips it).
    grid = zfcuda.captum_grid((17, 23), (5, 4), (3, 6))
    assert grid.grid_shape == (5, 5)
    assert grid.positions[0].tolist() == [0, 0]
    assert grid.positions[-1].tolist() == [12, 24]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: zfcuda.captum_grid((8, 8), 9, 1), "patch_size"),
        (lambda: zfcuda.paper_grid((8, 8), 0, 1), "patch_size"),
        (lambda: zfcuda.paper_grid((8, 8), 3, (1, -2)), "stride"),
        (lambda: zfcuda.paper_grid((0, 8), 3, 1), "image_size"),
    ],
)
def test_grid_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
