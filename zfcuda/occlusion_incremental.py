"""Exact incremental occlusion inference (the idea of Krypton, Nakandala et al., SIGMOD 2019).

An occluder changes only the pixels under it; through a convolution or pool with kernel k,
stride s, padding p and dilation d, changed input rows [a, b) can change only output rows
[ceil((a + p - d(k - 1)) / s), floor((b - 1 + p) / s)] (the projective field). So the clean
image is run once, every layer's output is kept, and for each occluder position only that
region of each layer is recomputed: its input is a crop of the stored clean map with the
previous layer's updated region pasted in (the fused ``patched_crops`` op), for all positions of
a chunk at once. Point-wise layers (ReLU, cross-channel LRN, dropout in eval) act on the region
itself. Once the region covers most of a map, or at the first layer that mixes all positions
(Linear, global pooling, flatten), the regions are pasted into full maps and the rest of the
network runs as usual.

With ``tau`` < 1 (``method="approximate"``) each region is capped at a fraction tau of its
map (centred on the changed area); changes outside the cap are dropped, which is Krypton's
projective-field thresholding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import ops
from .geometry import window_geometry
from .models import ZFNet

POINTWISE = (nn.ReLU, nn.LocalResponseNorm, nn.Dropout, nn.Identity)
WINDOWED = (nn.Conv2d, nn.MaxPool2d)


def model_stages(model: nn.Module) -> list[nn.Module]:
    """The model as a flat list of stages whose composition is its forward pass.

    ZF-Net: its conv layers, then the classifier. torchvision-style (``features``, ``avgpool``,
    ``classifier``): the features, avgpool, flatten, classifier. An ``nn.Sequential``: its children.

    Raises:
        TypeError: any other model (its forward cannot be split into stages safely).
    """
    if isinstance(model, ZFNet):
        return [*model.conv_layers, model.classifier]
    if all(isinstance(getattr(model, name, None), nn.Module) for name in ("features", "avgpool", "classifier")):
        return [*model.features, model.avgpool, nn.Flatten(1), model.classifier]
    if isinstance(model, nn.Sequential):
        return list(model)
    raise TypeError(
        "incremental occlusion needs a ZFNet, a torchvision-style CNN (features, avgpool, classifier) or an "
        f"nn.Sequential; got {type(model).__name__} (use method='full' for any other model)"
    )


class _Region:
    """The changed part of one layer's output for each position: values (Tensor[B, C, h, w])
    whose top-left corner lies at ``origin`` (Tensor[B, 2], int64) in the layer's map."""

    def __init__(self, values: Tensor, origin: Tensor) -> None:
        self.values, self.origin = values, origin

    def paste_into(self, clean: Tensor) -> Tensor:
        """Full maps Tensor[B, C, H, W]: the clean map (Tensor[C, H, W]) with each region pasted in."""
        corner = torch.zeros_like(self.origin)
        return ops.patched_crops(clean, self.values, self.origin, corner, clean.shape[-2:])


class IncrementalOcclusion:
    """Recomputes only what each occluder position changes, from a stored clean forward pass.

    Args:
        model: a model ``model_stages`` accepts, in eval mode.
        image (Tensor[C, H, W]): the model's input.
        patch_size: (height, width) of the occluder.
        fill: Tensor[] / Tensor[C] / Tensor[C, H, W], the occluder's values.
        tau: cap on each region as a fraction of its map (1.0: exact).
        full_fraction: switch to full maps once a region covers this fraction of its map.
        watch: (stage index, channel) whose summed activation is also returned per position.
        expected (Tensor[1, K]): ``model(image[None])`` when the caller has it already.

    Raises:
        ValueError: the stages do not reproduce ``model(image)`` (a forward with extra steps).
    """

    def __init__(self, model: nn.Module, image: Tensor, patch_size: tuple[int, int], fill: Tensor, tau: float = 1.0,
                 full_fraction: float = 0.6, watch: tuple[int, int] | None = None, expected: Tensor | None = None) -> None:
        if not 0 < tau <= 1:
            raise ValueError(f"tau must be in (0, 1], got {tau}")
        self.stages = model_stages(model)
        self.image, self.patch_size, self.tau, self.full_fraction, self.watch = image, tuple(patch_size), tau, full_fraction, watch
        fill = fill.to(image)
        self.fill = fill.expand_as(image) if fill.dim() == 3 else fill.view(-1, 1, 1).expand_as(image)
        with torch.no_grad():
            x, self.clean = image[None], []
            for stage in self.stages:
                x = stage(x)
                self.clean.append(x[0].clone())  # a following in-place ReLU would overwrite x
            expected = model(image[None]) if expected is None else expected
        if x.shape != expected.shape or not torch.allclose(x, expected, rtol=1e-4, atol=1e-5):
            raise ValueError("the model's stages do not reproduce its forward pass; use method='full' for this model")
        self.watched_sum = float(self.clean[watch[0]][watch[1]].sum()) if watch else None

    def bytes_per_position(self) -> int:
        """Memory one position costs at most: its share of the full maps after a switch to them."""
        sizes = sorted((t.numel() * t.element_size() for t in self.clean), reverse=True)
        return 2 * (self.image.numel() * self.image.element_size() + sum(sizes[:2]))

    @torch.no_grad()
    def __call__(self, positions: Tensor) -> tuple[Tensor, Tensor | None]:
        """Outputs for occluders at ``positions`` (Tensor[B, 2] of (top, left)).

        Returns:
            The model's outputs Tensor[B, K], and the watched map's summed activation Tensor[B] (or None).
        """
        region = self._occluded_input(positions)
        x, watched = None, None
        for index, stage in enumerate(self.stages):
            source = self.image if index == 0 else self.clean[index - 1]
            if region is None:
                x = stage(x)
            else:
                advanced = self._advance(stage, index, source, region)
                if advanced is None:  # from here on, full maps
                    x, region = stage(region.paste_into(source)), None
                else:
                    region = advanced
            if self.watch and index == self.watch[0]:
                watched = self._watched(index, region, x)
        if region is not None:
            x = region.paste_into(self.clean[-1])
        return x, watched

    def _occluded_input(self, positions: Tensor) -> _Region:
        """The occluded pixels (the patch clipped to the image) as a region of the input."""
        _, height, width = self.image.shape
        ph, pw = self.patch_size
        size = (min(ph, height), min(pw, width))
        limit = torch.tensor([height - size[0], width - size[1]], device=positions.device)
        origin = torch.minimum(positions.clamp_min(0), limit)
        # The fill under each patch: windows of the fill image, read through a zero-padded view.
        padded = F.pad(self.fill, (pw, pw, ph, ph)).unfold(1, ph, 1).unfold(2, pw, 1)  # (C, H + ph + 1, W + pw + 1, ph, pw)
        top = (positions[:, 0] + ph).clamp(0, padded.shape[1] - 1)
        left = (positions[:, 1] + pw).clamp(0, padded.shape[2] - 1)
        patches = padded[:, top, left].transpose(0, 1)  # (B, C, ph, pw)
        return _Region(ops.patched_crops(self.image, patches.contiguous(), positions, origin, size), origin)

    def _advance(self, stage: nn.Module, index: int, source: Tensor, region: _Region) -> _Region | None:
        """The region of this stage's output, or None when the rest must run on full maps."""
        if isinstance(stage, POINTWISE):
            return _Region(stage(region.values), region.origin)
        if not isinstance(stage, WINDOWED) or not _zero_padded(stage):
            return None
        kernel, stride, padding, dilation = window_geometry(stage)
        out_size = self.clean[index].shape[-2:]
        reach = [dilation[d] * (kernel[d] - 1) for d in range(2)]
        first = torch.stack([-torch.div(-(region.origin[:, d] + padding[d] - reach[d]), stride[d], rounding_mode="floor") for d in range(2)], 1)
        last = torch.stack([torch.div(region.origin[:, d] + region.values.shape[2 + d] - 1 + padding[d], stride[d], rounding_mode="floor") for d in range(2)], 1)
        first = first.clamp_min(0)
        last = torch.minimum(last, torch.tensor(out_size, device=last.device) - 1)
        # At least 1: a change no output reads (stride > kernel, rows dropped by flooring) still
        # recomputes one (unchanged) output, which keeps every shape valid.
        size = [max(1, int((last[:, d] - first[:, d]).max()) + 1) for d in range(2)]
        if self.tau < 1:
            caps = [max(1, math.ceil(self.tau * out_size[d])) for d in range(2)]
            if any(size[d] > caps[d] for d in range(2)):
                centre = (first + last) // 2
                first = torch.stack([centre[:, d] - (min(size[d], caps[d]) - 1) // 2 for d in range(2)], 1)
                size = [min(size[d], caps[d]) for d in range(2)]
        elif size[0] * size[1] >= self.full_fraction * out_size[0] * out_size[1]:
            return None
        limit = torch.tensor([out_size[0] - size[0], out_size[1] - size[1]], device=first.device)
        origin = torch.minimum(first.clamp_min(0), limit)
        crop_origin = origin * torch.tensor(stride, device=origin.device) - torch.tensor(padding, device=origin.device)
        crop_size = [(size[d] - 1) * stride[d] + reach[d] + 1 for d in range(2)]
        pad = 0.0 if isinstance(stage, nn.Conv2d) else float("-inf")
        crop = ops.patched_crops(source, region.values, region.origin, crop_origin, crop_size, pad)
        if isinstance(stage, nn.Conv2d):
            values = F.conv2d(crop, stage.weight, stage.bias, stride, 0, dilation, stage.groups)
        else:
            values = F.max_pool2d(crop, kernel, stride, 0, dilation)
        return _Region(values, origin)

    def _watched(self, index: int, region: _Region | None, x: Tensor | None) -> Tensor:
        channel = self.watch[1]
        if region is None:
            return x[:, channel].flatten(1).sum(1)
        # The clean sum, with each region's clean values replaced by its new ones.
        clean = self.clean[index][channel]
        h, w = region.values.shape[-2:]
        windows = clean.unfold(0, h, 1).unfold(1, w, 1)  # (H - h + 1, W - w + 1, h, w)
        replaced = windows[region.origin[:, 0], region.origin[:, 1]].flatten(1).sum(1)
        return self.watched_sum - replaced + region.values[:, channel].flatten(1).sum(1)


def _zero_padded(stage: nn.Module) -> bool:
    """Whether the stage pads with zeros (convolutions) or -inf (pools) by an integer amount;
    other padding ("same", reflect, ...) runs on full maps."""
    if isinstance(stage, nn.Conv2d):
        return stage.padding_mode == "zeros" and not isinstance(stage.padding, str)
    return True
