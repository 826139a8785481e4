"""The graph engine's way down on receptive-field crops.

As on a chain (``deconvnet.crop``), a unit's signal is zero outside the box it can reach, so each
step below it works only on that box: a ``Crop`` holds, per selected unit, the values of one
equally sized window of a map and the window's origin in that map. Convolutions and pools move a
crop to the window their input reads (``stages.geometry.input_window``); point-wise steps, residual
additions and channel concatenations keep it; explicit zero padding shifts it. Where two branches
meet, their crops are joined into the box that holds both. A step that mixes positions (global
pooling, a linear layer, flattening) or a crop that has grown to half of its map switches that
branch to full maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import ops
from ..stages.geometry import input_window
from ..stages.graph import Step
from .crop import crop_windows, inside_mask, paste
from .transpose import conv_transpose


@dataclass
class Crop:
    """Per unit, a window of a map: ``values`` (Tensor[S, C, h, w]) at ``origin`` (Tensor[S, 2], int64)
    of a map of ``size`` (H, W); zero outside the window and outside the map."""

    values: Tensor
    origin: Tensor
    size: tuple[int, int]

    def full(self) -> Tensor:
        """The full maps, Tensor[S, C, H, W]."""
        return paste(self.values, self.origin, self.size)


Signal = Tensor | Crop

# Once a crop would cover this fraction of its map, full maps are cheaper: no masks, no pasting,
# and the dense transposed convolution on the whole map (measured on ResNet-18: crops that cover
# most of the map ran at half the speed of full maps).
FULL_FRACTION = 0.8


def full(signal: Signal) -> Tensor:
    return signal.full() if isinstance(signal, Crop) else signal


def added(a: Signal, b: Signal) -> Signal:
    """The sum of two signals at the same map: a crop holding both where their windows keep one offset, else full maps."""
    if isinstance(a, Crop) and isinstance(b, Crop):
        origin = torch.minimum(a.origin, b.origin)
        offsets_a, offsets_b = a.origin - origin, b.origin - origin
        if bool((offsets_a == offsets_a[:1]).all()) and bool((offsets_b == offsets_b[:1]).all()):
            (ya, xa), (yb, xb) = offsets_a[0].tolist(), offsets_b[0].tolist()
            h = max(ya + a.values.shape[2], yb + b.values.shape[2])
            w = max(xa + a.values.shape[3], xb + b.values.shape[3])
            if h * w < FULL_FRACTION * a.size[0] * a.size[1]:
                values = a.values.new_zeros((a.values.shape[0], a.values.shape[1], h, w))
                values[:, :, ya : ya + a.values.shape[2], xa : xa + a.values.shape[3]] += a.values
                values[:, :, yb : yb + b.values.shape[2], xb : xb + b.values.shape[3]] += b.values
                return Crop(values, origin, a.size)
    return full(a) + full(b)


def down_on_crop(engine, step: Step, i: int, crop: Crop, image_index: Tensor, records) -> list[tuple[int, Signal]] | None:
    """(producing step, signal) for each tensor input of ``step`` when the way down can stay on crops
    there; None where it cannot (the caller goes on with full maps)."""
    inputs, rule, kind = records.inputs[i], records.rule.get(i, {}), step.kind
    if not inputs:
        return None
    first, shape = inputs[0]
    in_size = tuple(shape[-2:]) if len(shape) == 4 else None
    if kind in ("conv", "maxpool"):
        return _windowed(engine, step, crop, rule, first, in_size, image_index)
    if kind == "batchnorm":
        return [(first, Crop(crop.values * rule["scale"].view(1, -1, 1, 1), crop.origin, crop.size))]
    if kind == "activation":
        values = F.leaky_relu(crop.values, step.slope) if step.slope else torch.relu(crop.values)
        if engine.rule == "guided":
            values = values * crop_windows(rule["positive"].to(values.dtype), image_index, crop.origin, tuple(values.shape[2:]))
        return [(first, Crop(values, crop.origin, crop.size))]
    if kind == "identity" or (kind == "reshape" and tuple(shape[1:]) == (crop.values.shape[1], *crop.size)):
        return [(first, crop)]
    if kind == "add" and all(tuple(s[1:]) == (crop.values.shape[1], *crop.size) for _, s in rule["operands"]):
        return [(source, crop) for source, _ in rule["operands"]]
    if kind == "cat" and rule["dim"] in (1, -3):
        parts = crop.values.split([s[1] for _, s in rule["operands"]], dim=1)
        return [(source, Crop(part, crop.origin, crop.size)) for (source, _), part in zip(rule["operands"], parts)]
    if isinstance(step.module, nn.ZeroPad2d) and min(step.module.padding) >= 0:
        left, _, top, _ = step.module.padding
        origin = crop.origin - crop.origin.new_tensor([top, left])
        return [(first, _masked(Crop(crop.values, origin, in_size)))]
    return None


def _windowed(engine, step: Step, crop: Crop, rule: dict, first: int, in_size: tuple[int, int], image_index: Tensor):
    """A convolution or max pool on a crop: the window of its input the crop's outputs read, or None
    once that window is as large as the input map."""
    geometry = engine.window_of(step)
    origin, window = input_window(crop.origin, crop.values.shape[2:], geometry)
    if window[0] * window[1] >= FULL_FRACTION * in_size[0] * in_size[1]:
        return None
    kernel, stride, _, dilation = geometry
    if step.kind == "conv":
        values = conv_transpose(crop.values, rule["weight"], stride, (0, 0), dilation, rule["groups"])
        return [(first, _masked(Crop(values, origin, in_size)))]
    # Switches never point into padding, so nothing lands outside the map.
    local = crop_windows(rule["switches"], image_index, crop.origin, tuple(crop.values.shape[2:]))
    values = ops.unpool2d_switches(crop.values.contiguous(), local, window, kernel, stride, 0, dilation, validate=False)
    return [(first, Crop(values, origin, in_size))]


def _masked(crop: Crop) -> Crop:
    """The crop with its positions outside the map (the padding) zeroed, as the full computation drops them."""
    h, w = crop.values.shape[2:]
    limit = crop.origin.new_tensor(crop.size)
    if bool((crop.origin < 0).any()) or bool((crop.origin + crop.origin.new_tensor([h, w]) > limit).any()):
        return Crop(crop.values * inside_mask(crop.origin, (h, w), crop.size, crop.values.dtype), crop.origin, crop.size)
    return crop
