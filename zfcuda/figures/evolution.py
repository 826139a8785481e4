"""Fig. 4's layout: how each followed feature map's strongest projection changes over training."""

from __future__ import annotations

import numpy as np
from PIL import Image
from torch import Tensor

from ..analysis.feature_evolution import EvolutionResult
from .projections import projection_to_rgb


def evolution_grid(result: EvolutionResult, cell: int = 96) -> Image.Image:
    """Fig. 4's layout: a row per map, a column per epoch, each projection cropped to where it is
    non-zero (its receptive field) and scaled to ``cell`` pixels."""
    rows, cols = len(result.maps), len(result.epochs)
    canvas = Image.new("RGB", (cols * (cell + 2), rows * (cell + 2)), (255, 255, 255))
    for s in range(cols):
        for m in range(rows):
            projection = result.projections[s, m]
            tile = Image.fromarray(_cropped(projection_to_rgb(projection), projection)).resize((cell, cell), Image.BILINEAR)
            canvas.paste(tile, (s * (cell + 2), m * (cell + 2)))
    return canvas


def _cropped(rgb: np.ndarray, projection: Tensor) -> np.ndarray:
    """The square around the projection's non-zero pixels (the whole image when it is all zero)."""
    nonzero = projection.abs().sum(0).nonzero()
    if len(nonzero) == 0:
        return rgb
    (top, left), (bottom, right) = nonzero.min(0).values.tolist(), nonzero.max(0).values.tolist()
    side = max(bottom - top, right - left) + 1
    top = min(max(0, (top + bottom - side) // 2), rgb.shape[0] - side) if side <= rgb.shape[0] else 0
    left = min(max(0, (left + right - side) // 2), rgb.shape[1] - side) if side <= rgb.shape[1] else 0
    return rgb[top : top + side, left : left + side]
