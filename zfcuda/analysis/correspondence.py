"""Correspondence analysis (Zeiler & Fergus 2014, section 4.3 and Table 1).

Does the network tie an object part to the same features across images? For each image i the
same part (say the left eye) is occluded, giving the feature difference eps_i = x_i - x~_i at a
layer. If the part is encoded consistently, the signs of eps_i agree across images: the paper
measures Delta = sum over pairs i != j of the Hamming distance between sign(eps_i) and
sign(eps_j), lower meaning more consistent, against randomly placed occluders of the same size.

We report, as the paper's table does, the Hamming distance as a fraction of the feature length,
its mean over the pairs and the standard deviation over the pairs (each unordered pair once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .._utils.hooks import layer_outputs

RANDOM = "random"


@dataclass
class CorrespondenceResult:
    """Delta per part and layer.

    Attributes:
        delta: part -> layer -> (mean, std) of the pairwise normalised Hamming distances.
        layers: the layers compared.
        boxes: part -> Tensor[N, 4] of (top, left, height, width) actually occluded (random included).
    """

    delta: dict[str, dict[str, tuple[float, float]]]
    layers: tuple[str, ...]
    boxes: dict[str, Tensor]

    def table(self) -> str:
        """The result as a Markdown table, a row per part, a column per layer."""
        lines = ["| occluded | " + " | ".join(f"Delta {layer}" for layer in self.layers) + " |",
                 "|---|" + "---|" * len(self.layers)]
        for part, per_layer in self.delta.items():
            cells = " | ".join(f"{per_layer[layer][0]:.4f} ± {per_layer[layer][1]:.4f}" for layer in self.layers)
            lines.append(f"| {part} | {cells} |")
        return "\n".join(lines)


def sign_disagreement(differences: Tensor, rtol: float = 1e-6) -> tuple[float, float]:
    """Mean and standard deviation over the pairs i < j of the fraction of entries where
    sign(differences[i]) != sign(differences[j]) (the distance is symmetric, so the mean over
    ordered pairs i != j is the same).

    Args:
        differences (Tensor[N, D]): one feature difference vector per image, N >= 2.
        rtol: changes smaller than this fraction of the vector's largest change count as 0 (sign 0):
            rounding noise where the occluder cannot reach must not look like a sign.
    """
    if differences.dim() != 2 or differences.shape[0] < 2:
        raise ValueError(f"need feature differences of at least 2 images as Tensor[N, D], got shape {tuple(differences.shape)}")
    scale = differences.abs().amax(1, keepdim=True)
    signs = torch.where(differences.abs() <= rtol * scale, 0, torch.sign(differences)).to(torch.int8)
    n = signs.shape[0]
    first, second = torch.triu_indices(n, n, offset=1)
    pairs = (signs[first] != signs[second]).double().mean(1)
    return float(pairs.mean()), float(pairs.std()) if len(pairs) > 1 else 0.0


def random_boxes(sizes: Tensor, image_size: tuple[int, int], seed: int) -> Tensor:
    """Boxes (top, left, height, width) of the given sizes (Tensor[N, 2]) at uniform random places
    inside the image, reproducible from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    height, width = image_size
    top = (torch.rand(len(sizes), generator=generator) * (height - sizes[:, 0] + 1)).long()
    left = (torch.rand(len(sizes), generator=generator) * (width - sizes[:, 1] + 1)).long()
    return torch.stack([top, left, sizes[:, 0], sizes[:, 1]], 1)


@torch.no_grad()
def correspondence(model: nn.Module, images: Tensor, regions: Mapping[str, Tensor | Sequence[Sequence[int]]],
                   layers: Sequence[str] = ("conv5", "fc7"), fill: float | str = "mean", random_control: bool = True,
                   seed: int = 0) -> CorrespondenceResult:
    """Delta of the paper's Table 1 for each occluded part (and for random occluders).

    Args:
        model: the network (eval mode is used for the run).
        images (Tensor[N, C, H, W]): model inputs, N >= 2, the same object class in similar poses.
        regions: part name -> the box to occlude in each image, Tensor[N, 4] of (top, left, height, width).
        layers: module names whose outputs are compared (a unique suffix is enough).
        fill: the occluder: a number, or "mean" (each image's mean colour, the paper's grey square).
        random_control: also occlude a randomly placed box the size of the first part's, per image.
        seed: for the random boxes.

    Returns:
        A ``CorrespondenceResult``.

    Raises:
        ValueError: fewer than two images, no regions, a box of the wrong shape, empty or outside the image.
    """
    if not isinstance(images, Tensor) or images.dim() != 4:
        raise ValueError("images must be a Tensor[N, C, H, W]")
    if images.shape[0] < 2:
        raise ValueError(f"correspondence needs at least 2 images, got {images.shape[0]}")
    if not regions:
        raise ValueError("regions is empty: give at least one part, e.g. {'left eye': boxes}")
    if isinstance(fill, str) and fill != "mean":
        raise ValueError(f"fill must be a number or 'mean', got {fill!r}")
    size = tuple(images.shape[-2:])
    boxes = {part: _checked_boxes(part, value, images.shape[0], size) for part, value in regions.items()}
    if random_control:
        if RANDOM in boxes:
            raise ValueError(f"'{RANDOM}' is the control's name; call the part something else")
        boxes[RANDOM] = random_boxes(next(iter(boxes.values()))[:, 2:], size, seed)
    parameter = next(model.parameters(), None)
    images = images.to(parameter.device) if parameter is not None else images  # the model's device
    with layer_outputs(model, layers) as captured:
        model(images)
        clean = dict(captured)
        delta = {}
        for part, part_boxes in boxes.items():
            model(_occluded(images, part_boxes, fill))
            delta[part] = {name: sign_disagreement(clean[name].double() - captured[name].double()) for name in layers}
    return CorrespondenceResult(delta, tuple(layers), boxes)


def _checked_boxes(part: str, value, count: int, size: tuple[int, int]) -> Tensor:
    boxes = torch.as_tensor(value, dtype=torch.long)
    if boxes.shape != (count, 4):
        raise ValueError(f"regions[{part!r}] must be Tensor[{count}, 4] of (top, left, height, width), got shape {tuple(boxes.shape)}")
    top, left, height, width = boxes.unbind(1)
    bad = (height < 1) | (width < 1) | (top < 0) | (left < 0) | (top + height > size[0]) | (left + width > size[1])
    if bad.any():
        i = int(bad.nonzero()[0])
        raise ValueError(f"regions[{part!r}][{i}] = {boxes[i].tolist()} is empty or outside the {size[0]}x{size[1]} image")
    return boxes


def _occluded(images: Tensor, boxes: Tensor, fill: float | str) -> Tensor:
    """The images with each one's box filled (its mean colour for "mean")."""
    out = images.clone()
    for i, (top, left, height, width) in enumerate(boxes.tolist()):
        value = images[i].mean(dim=(1, 2))[:, None, None] if fill == "mean" else torch.tensor(float(fill)).to(images)
        out[i, :, top : top + height, left : left + width] = value
    return out
