"""Feature invariance (Zeiler & Fergus 2014, section 4.4 and Fig. 5).

Each image is translated, scaled or rotated by a range of amounts; for each amount we record the
Euclidean distance between the features of the original and of the transformed image at chosen
layers (the paper: layer 1 and layer 7), and the probability of the image's true class.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._utils.hooks import layer_outputs
from .._utils.progress import progress

TRANSFORMS = ("translate", "scale", "rotate")
DEFAULT_AMOUNTS = {
    "translate": [float(a) for a in range(-60, 61, 10)],  # vertical shift in pixels
    "scale": [1.0 + 0.1 * i for i in range(9)],  # zoom about the centre, 1.0 to 1.8
    "rotate": [float(a) for a in range(0, 361, 15)],  # degrees, anticlockwise
}
UNITS = {"translate": "vertical translation (pixels)", "scale": "scale factor", "rotate": "rotation (degrees)"}


@dataclass
class InvarianceResult:
    """Feature distances and class probabilities under one kind of transformation.

    Attributes:
        transform: "translate", "scale" or "rotate".
        amounts (Tensor[A]): the amounts applied (pixels, factor or degrees).
        distances: layer name -> Tensor[N, A], ||f(x) - f(T(x))|| for each image and amount.
        prob (Tensor[N, A]): p(true class) of each transformed image.
        labels (Tensor[N]): the true classes (default: the prediction for the untransformed image).
    """

    transform: str
    amounts: Tensor
    distances: dict[str, Tensor]
    prob: Tensor
    labels: Tensor


def transform_images(images: Tensor, transform: str, amount: float) -> Tensor:
    """Translates (vertically, by ``amount`` pixels, positive = down), scales (by ``amount`` about the
    centre) or rotates (by ``amount`` degrees anticlockwise about the centre) a batch Tensor[N, C, H, W];
    uncovered pixels become 0 (the mean colour for mean-subtracted inputs); bilinear resampling."""
    n, _, height, width = images.shape
    theta = torch.zeros(2, 3, dtype=torch.float64)
    if transform == "translate":
        theta[0, 0] = theta[1, 1] = 1.0
        theta[1, 2] = -2.0 * amount / height  # output row y reads input row y - amount
    elif transform == "scale":
        if amount <= 0:
            raise ValueError(f"scale amounts must be > 0, got {amount}")
        theta[0, 0] = theta[1, 1] = 1.0 / amount
    elif transform == "rotate":
        angle = math.radians(amount)
        # In normalised coordinates; the aspect ratio keeps the rotation rigid on non-square images.
        theta[0, 0], theta[0, 1] = math.cos(angle), -math.sin(angle) * height / width
        theta[1, 0], theta[1, 1] = math.sin(angle) * width / height, math.cos(angle)
    else:
        raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}")
    grid = F.affine_grid(theta.to(images)[None].expand(n, 2, 3), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@torch.no_grad()
def invariance(model: nn.Module, images: Tensor, transform: str = "translate", amounts: Sequence[float] | None = None,
               layers: Sequence[str] = ("conv1", "fc7"), labels: Tensor | Sequence[int] | None = None,
               show_progress: bool = True) -> InvarianceResult:
    """Feature distances and p(true class) as the images are transformed by growing amounts.

    Args:
        model: a classifier returning logits Tensor[B, K]; put in eval mode for the run.
        images (Tensor[N, C, H, W]): model inputs (already normalised).
        transform: "translate", "scale" or "rotate".
        amounts: the amounts (default: the paper's ranges, see ``DEFAULT_AMOUNTS``).
        layers: module names (``model.named_modules()``; a unique suffix such as "conv1" is enough)
            whose outputs are compared.
        labels: true class of each image (default: the untransformed prediction).
        show_progress: progress bar over the images.

    Returns:
        An ``InvarianceResult``.

    Raises:
        ValueError: empty image batch, unknown transform or layer, labels of the wrong length.
    """
    if not isinstance(images, Tensor) or images.dim() != 4:
        raise ValueError(f"images must be a Tensor[N, C, H, W], got {tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__}")
    if images.shape[0] == 0:
        raise ValueError("images is empty: give at least one image")
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}")
    amounts = list(DEFAULT_AMOUNTS[transform] if amounts is None else amounts)
    if not amounts:
        raise ValueError("amounts is empty")
    with layer_outputs(model, layers) as captured:
        clean_logits = model(images)
        clean = dict(captured)
        labels = clean_logits.argmax(1) if labels is None else torch.as_tensor(labels, device=images.device)
        if labels.shape != (images.shape[0],):
            raise ValueError(f"labels must have one class per image ({images.shape[0]}), got shape {tuple(labels.shape)}")
        distances = {name: torch.empty(images.shape[0], len(amounts), dtype=torch.float64) for name in layers}
        prob = torch.empty(images.shape[0], len(amounts), dtype=torch.float64)
        for i in progress(range(images.shape[0]), f"invariance ({transform})", show=show_progress):
            batch = torch.cat([transform_images(images[i : i + 1], transform, a) for a in amounts])
            probs = torch.softmax(model(batch).double(), 1)
            prob[i] = probs[:, labels[i]].cpu()
            for name in layers:
                distances[name][i] = (captured[name].double() - clean[name][i].double()).norm(dim=1).cpu()
    return InvarianceResult(transform, torch.tensor(amounts, dtype=torch.float64), distances, prob, labels.cpu())

