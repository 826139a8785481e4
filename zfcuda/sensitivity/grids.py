"""Occluder position grids in the two conventions users meet.

- Paper (Zeiler & Fergus, Fig. 7): the occluder is centred on a regular grid of points
  covering the whole image, so border positions hang partly outside it (the patch is clipped).
- Captum (``captum.attr.Occlusion``): the first window's corner is at the origin, windows step
  by ``stride`` until one reaches the far border; the last may hang over it (it is clipped).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .._utils.geometry import IntPair, pair


@dataclass(frozen=True)
class PositionGrid:
    """Occluder corners laid out on a grid.

    Attributes:
        positions (Tensor[B, 2], int64): (top, left) of each patch, row-major over the grid.
        grid_shape: (rows, cols) with rows * cols == B.
        patch_size: (height, width) of the occluder.
        convention: "paper" or "captum".
    """

    positions: Tensor
    grid_shape: tuple[int, int]
    patch_size: tuple[int, int]
    convention: str

    def centers(self) -> Tensor:
        """Tensor[B, 2] of float64: the occluder centres (y, x) in pixel coordinates."""
        half = torch.tensor(self.patch_size, dtype=torch.float64) / 2 - 0.5
        return self.positions.double() + half


def _checked(image_size: IntPair, patch_size: IntPair, stride: IntPair) -> tuple[list[int], list[int], list[int]]:
    size, patch, step = pair(image_size, "image_size"), pair(patch_size, "patch_size"), pair(stride, "stride")
    for name, value in (("image_size", size), ("patch_size", patch), ("stride", step)):
        if min(value) < 1:
            raise ValueError(f"{name} must be >= 1 in both dimensions, got {tuple(value)}")
    return size, patch, step


def _grid(starts_h: Tensor, starts_w: Tensor) -> Tensor:
    top, left = torch.meshgrid(starts_h, starts_w, indexing="ij")
    return torch.stack([top.reshape(-1), left.reshape(-1)], dim=1)


def paper_grid(image_size: IntPair, patch_size: IntPair, stride: IntPair) -> PositionGrid:
    """Occluder centres on a regular grid over the image, the grid centred in the image.

    Along each dimension the centres are ``offset + i * stride`` for ``i < (size - 1) // stride + 1``,
    where ``offset`` splits the leftover pixels evenly; every pixel is within ``stride / 2`` of a centre.

    Args:
        image_size: (H, W) of the image.
        patch_size: (height, width) of the occluder.
        stride: grid step (rows, cols) in pixels.
    """
    size, patch, step = _checked(image_size, patch_size, stride)
    starts = []
    for dim in range(2):
        count = (size[dim] - 1) // step[dim] + 1
        offset = (size[dim] - 1 - (count - 1) * step[dim]) // 2
        centres = offset + torch.arange(count, dtype=torch.int64) * step[dim]
        starts.append(centres - (patch[dim] - 1) // 2)
    return PositionGrid(_grid(*starts), (len(starts[0]), len(starts[1])), tuple(patch), "paper")


def captum_grid(image_size: IntPair, patch_size: IntPair, stride: IntPair) -> PositionGrid:
    """Windows from the origin in steps of ``stride``, as ``captum.attr.Occlusion`` lays them out.

    Along each dimension there are ``ceil((size - patch) / stride) + 1`` windows, so the last one
    reaches (or hangs over, clipped) the far border; the patch must fit in the image.

    Args:
        image_size: (H, W) of the image.
        patch_size: (height, width) of the occluder; at most the image size.
        stride: step (rows, cols) in pixels.
    """
    size, patch, step = _checked(image_size, patch_size, stride)
    if patch[0] > size[0] or patch[1] > size[1]:
        raise ValueError(f"patch_size {tuple(patch)} must fit inside the image {tuple(size)} for the captum grid")
    starts = [torch.arange(-(-(size[d] - patch[d]) // step[d]) + 1, dtype=torch.int64) * step[d] for d in range(2)]
    return PositionGrid(_grid(*starts), (len(starts[0]), len(starts[1])), tuple(patch), "captum")
