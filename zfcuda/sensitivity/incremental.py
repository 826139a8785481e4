"""Exact incremental occlusion inference (the idea of Krypton, Nakandala et al., SIGMOD 2019).

An occluder changes only the pixels under it; through a convolution or pool with kernel k,
stride s, padding p and dilation d, changed input rows [a, b) can change only output rows
[ceil((a + p - d(k - 1)) / s), floor((b - 1 + p) / s)] (the projective field). So the clean
image is run once, every layer's output is kept, and for each occluder position only that
region of each layer is recomputed: its input is a crop of the stored clean map with the
previous layer's updated region pasted in (the fused ``patched_crops`` op), for all positions of
a chunk at once. Point-wise layers (activations, cross-channel LRN, batch norm and dropout in
eval) act on the region itself; an explicit zero padding shifts it; a residual block runs its
body on the region and adds the shortcut read at the body's region. Once the region covers most of a map, or at the first layer that mixes all positions
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

from .. import ops
from ..nn import SwitchMaxPool2d
from ..stages import NotSplittable, Pointwise, Residual, model_stages
from ..stages.geometry import changed_outputs, input_window, window_geometry

# Point-wise in eval mode (batch norm with running statistics is an affine map per channel then).
POINTWISE = (nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.SiLU, nn.Hardswish, nn.Sigmoid, nn.GELU, nn.LeakyReLU, nn.ELU,
             nn.LocalResponseNorm, nn.Dropout, nn.Identity, nn.BatchNorm2d, Pointwise)
WINDOWED = (nn.Conv2d, nn.MaxPool2d, SwitchMaxPool2d)


def _stock(stage: nn.Module, classes: tuple[type, ...]) -> bool:
    """Whether ``stage`` is one of ``classes`` and runs that class's own forward: a subclass with
    its own forward (e.g. a conv that pads itself first) may compute something else."""
    return any(isinstance(stage, cls) and type(stage).forward is cls.forward for cls in classes)


def _pointwise(stage: nn.Module) -> bool:
    if isinstance(stage, nn.BatchNorm2d):  # batch statistics (training, or no running stats) mix positions
        return _stock(stage, (nn.BatchNorm2d,)) and not stage.training and stage.running_mean is not None
    return _stock(stage, POINTWISE)


class _Chain:
    """Stages with their clean input and outputs (Tensor[C, H, W] each); a residual stage keeps
    its body's chain in ``bodies``."""

    def __init__(self, stages: list[nn.Module], x: Tensor) -> None:
        self.stages, self.input, self.outputs, self.bodies = stages, x[0].clone(), [], {}
        for index, stage in enumerate(stages):
            if isinstance(stage, Residual):
                body = _Chain(list(stage.body), x.clone())
                self.bodies[index] = body
                x = body.outputs[-1][None] + x
            else:
                x = stage(x)
            self.outputs.append(x[0].clone())  # a following in-place ReLU would overwrite x
        self.output = x

    def source(self, index: int) -> Tensor:
        """The clean input of stage ``index``."""
        return self.input if index == 0 else self.outputs[index - 1]

    def maps(self) -> list[Tensor]:
        """Every clean map, nested bodies included."""
        return [*self.outputs, *(m for body in self.bodies.values() for m in body.maps())]


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
        NotSplittable: the model cannot be read as stages, or they do not reproduce ``model(image)``
            (a forward with extra steps).
    """

    def __init__(self, model: nn.Module, image: Tensor, patch_size: tuple[int, int], fill: Tensor, tau: float = 1.0,
                 full_fraction: float = 0.6, watch: tuple[int, int] | None = None, expected: Tensor | None = None) -> None:
        if not 0 < tau <= 1:
            raise ValueError(f"tau must be in (0, 1], got {tau}")
        self.image, self.patch_size, self.tau, self.full_fraction, self.watch = image, tuple(patch_size), tau, full_fraction, watch
        fill = fill.to(image)
        self.fill = fill.expand_as(image) if fill.dim() == 3 else fill.view(-1, 1, 1).expand_as(image)
        with torch.no_grad():
            self.chain = _Chain(model_stages(model), image[None])
            expected = model(image[None]) if expected is None else expected
        x = self.chain.output
        # The same ops in the same order: equal up to a few roundings of the dtype.
        rtol = max(1e-4, 8 * torch.finfo(x.dtype).eps) if x.is_floating_point() else 0
        if x.shape != expected.shape or not torch.allclose(x, expected, rtol=rtol, atol=rtol / 10):
            raise NotSplittable("the model's stages do not reproduce its forward pass; use method='full' for this model")
        self.watched_sum = float(self.chain.outputs[watch[0]][watch[1]].sum()) if watch else None

    def bytes_per_position(self) -> int:
        """Memory one position costs at most: its share of the full maps after a switch to them."""
        sizes = sorted((t.numel() * t.element_size() for t in self.chain.maps()), reverse=True)
        return 2 * (self.image.numel() * self.image.element_size() + sum(sizes[:2]))

    @torch.no_grad()
    def __call__(self, positions: Tensor) -> tuple[Tensor, Tensor | None]:
        """Outputs for occluders at ``positions`` (Tensor[B, 2] of (top, left)).

        Returns:
            The model's outputs Tensor[B, K], and the watched map's summed activation Tensor[B] (or None).
        """
        watched = []
        state = self._run(self.chain, self._occluded_input(positions), watched if self.watch else None)
        out = state.paste_into(self.chain.outputs[-1]) if isinstance(state, _Region) else state
        return out, (watched[0] if watched else None)

    def _run(self, chain: _Chain, state: _Region | Tensor, watched: list | None = None) -> _Region | Tensor:
        """Pushes a changed region (or full maps, Tensor[B, C, H, W]) through a chain of stages."""
        for index, stage in enumerate(chain.stages):
            if isinstance(state, Tensor):
                state = stage(state)
            else:
                state = self._advance(chain, index, state)
            if watched is not None and index == self.watch[0]:
                watched.append(self._watched(index, state))
        return state

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

    def _advance(self, chain: _Chain, index: int, region: _Region) -> _Region | Tensor:
        """The changed region of stage ``index``'s output, or its full output maps once a region
        would cover most of the map or the stage mixes all positions."""
        stage, source = chain.stages[index], chain.source(index)
        if _pointwise(stage):
            return _Region(stage(region.values), region.origin)
        if isinstance(stage, Residual):
            return self._residual(chain.bodies[index], source, region)
        if _stock(stage, (nn.ZeroPad2d,)) and min(stage.padding) >= 0:
            left, _, top, _ = stage.padding
            return _Region(region.values, region.origin + torch.tensor([top, left], device=region.origin.device))
        if not _stock(stage, WINDOWED) or not _zero_padded(stage):
            return stage(region.paste_into(source))
        kernel, stride, padding, dilation = geometry = window_geometry(stage)
        out_size = chain.outputs[index].shape[-2:]
        first, last = changed_outputs(region.origin, region.values.shape[2:], geometry)
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
            return stage(region.paste_into(source))
        limit = torch.tensor([out_size[0] - size[0], out_size[1] - size[1]], device=first.device)
        origin = torch.minimum(first.clamp_min(0), limit)
        crop_origin, crop_size = input_window(origin, size, geometry)
        pad = 0.0 if isinstance(stage, nn.Conv2d) else float("-inf")
        crop = ops.patched_crops(source, region.values, region.origin, crop_origin, crop_size, pad)
        if isinstance(stage, nn.Conv2d):
            values = F.conv2d(crop, stage.weight, stage.bias, stride, 0, dilation, stage.groups)
        else:
            values = F.max_pool2d(crop, kernel, stride, 0, dilation)
        return _Region(values, origin)

    def _residual(self, body: _Chain, source: Tensor, region: _Region) -> _Region | Tensor:
        """``body(x) + x`` for a changed region of x: the body's changed region plus x read at the
        same place (the shortcut's change must lie inside the body's region; else full maps)."""
        changed = self._run(body, _Region(region.values.clone(), region.origin))  # an in-place body must not touch x
        if isinstance(changed, Tensor):
            return changed + region.paste_into(source)
        size = changed.values.shape[-2:]
        inside = ((region.origin >= changed.origin) & (region.origin + torch.tensor(region.values.shape[-2:], device=region.origin.device)
                                                       <= changed.origin + torch.tensor(size, device=changed.origin.device))).all()
        if self.tau == 1 and not inside:
            return changed.paste_into(body.outputs[-1]) + region.paste_into(source)
        # Approximate mode: the part of the shortcut's change outside the capped region is dropped.
        shortcut = ops.patched_crops(source, region.values, region.origin, changed.origin, size, 0.0)
        return _Region(changed.values + shortcut, changed.origin)

    def _watched(self, index: int, state: _Region | Tensor) -> Tensor:
        channel = self.watch[1]
        if isinstance(state, Tensor):
            return state[:, channel].flatten(1).sum(1)
        region = state
        # The clean sum, with each region's clean values replaced by its new ones.
        clean = self.chain.outputs[index][channel]
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
