"""What an occlusion run returns: every occluder position's effect on the classifier, on the grid."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .grids import PositionGrid


@dataclass
class OcclusionResult:
    """What every occluder position did to the classifier, laid out on the position grid.

    Attributes:
        grid: the occluder positions (``grid.grid_shape`` = (rows, cols)).
        image_size: (H, W) of the image.
        target: the class whose probability ``prob`` holds.
        clean_probs (Tensor[K]): class probabilities of the unoccluded image.
        prob (Tensor[rows, cols]): p(target) with the occluder at each position.
        top_class (Tensor[rows, cols], int64): the most probable class at each position.
        top_prob (Tensor[rows, cols]): its probability.
        layer: the layer of ``feature_map`` (None when no layer was asked for).
        feature_map: the map of ``layer`` strongest for the unoccluded image.
        activation (Tensor[rows, cols]): that map's summed activation at each position.
        projection (Tensor[C, H, W]): that map's strongest unit projected to pixels (deconvnet).
        method: how the outputs were computed.
        computed (Tensor[rows, cols], bool): with drill-down, where values were computed rather
            than interpolated (None: everywhere).
    """

    grid: PositionGrid
    image_size: tuple[int, int]
    target: int
    clean_probs: Tensor
    prob: Tensor
    top_class: Tensor
    top_prob: Tensor
    layer: str | None = None
    feature_map: int | None = None
    activation: Tensor | None = None
    projection: Tensor | None = None
    method: str = "full"
    computed: Tensor | None = None

    @property
    def clean_prob(self) -> float:
        """p(target) for the unoccluded image."""
        return float(self.clean_probs[self.target])

    def to_attribution(self) -> Tensor:
        """Captum's per-pixel convention: for each pixel, the mean over the windows covering it of
        p(unoccluded) - p(occluded); 0 where no window covers it.

        Returns:
            Tensor[H, W] (float64).
        """
        height, width = self.image_size
        drop = (self.clean_prob - self.prob.double()).reshape(-1)
        total = torch.zeros(height, width, dtype=torch.float64)
        count = torch.zeros(height, width, dtype=torch.float64)
        ph, pw = self.grid.patch_size
        for (top, left), value in zip(self.grid.positions.tolist(), drop.tolist()):
            t, l, b, r = max(top, 0), max(left, 0), min(top + ph, height), min(left + pw, width)
            if t < b and l < r:
                total[t:b, l:r] += value
                count[t:b, l:r] += 1
        return torch.where(count > 0, total / count.clamp_min(1), total)
