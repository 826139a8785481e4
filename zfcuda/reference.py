"""Pure-PyTorch twins of every zfcuda op, same signatures, written for clarity rather than speed.

Tests compare the compiled kernels with these; none of them calls a zfcuda kernel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ._utils.geometry import IntPair, pair, pooled_size, switch_dtype


def _args(kernel_size, stride, padding, dilation):
    k = pair(kernel_size, "kernel_size")
    return k, (k if stride is None else pair(stride, "stride")), pair(padding, "padding"), pair(dilation, "dilation")


def _windows(x: Tensor, k, s, p, d, out_size, pad_value: float) -> Tensor:
    """Tensor[N, C, kH * kW, H_out, W_out]: every window's elements in row-major window order."""
    n, c, h, w = x.shape
    # Pad right/bottom far enough for the last (ceil_mode) window; pad left/top by `padding`.
    need_h = (out_size[0] - 1) * s[0] + d[0] * (k[0] - 1) + 1
    need_w = (out_size[1] - 1) * s[1] + d[1] * (k[1] - 1) + 1
    padded = F.pad(x, (p[1], max(0, need_w - w - p[1]), p[0], max(0, need_h - h - p[0])), value=pad_value)
    padded = padded[..., :need_h, :need_w]  # exactly the extent the out_size windows cover
    cols = F.unfold(padded, kernel_size=k, dilation=d, stride=s)  # (N, C * K, H_out * W_out)
    return cols.reshape(n, c, k[0] * k[1], *out_size)


def switches_to_indices(switches, input_size, kernel_size, stride=None, padding=0, dilation=1) -> Tensor:
    """Flat int64 index ``ih * W + iw`` of each switch (see zfcuda.switches_to_indices)."""
    k, s, p, d = _args(kernel_size, stride, padding, dilation)
    width = pair(input_size, "input_size")[1]
    out_h, out_w = switches.shape[-2:]
    kh, kw = switches.long() // k[1], switches.long() % k[1]
    ih = torch.arange(out_h, device=switches.device).view(-1, 1) * s[0] - p[0] + kh * d[0]
    iw = torch.arange(out_w, device=switches.device) * s[1] - p[1] + kw * d[1]
    return ih * width + iw


def max_pool2d_switches(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling with ATen's rule applied tap by tap: strictly greater wins, NaN always wins."""
    k, s, p, d = _args(kernel_size, stride, padding, dilation)
    x = input if input.dim() == 4 else input.unsqueeze(0)
    out_size = pooled_size(x.shape[-2:], k, s, p, d, ceil_mode)
    values = _windows(x.double(), k, s, p, d, out_size, float("-inf"))
    inside = _windows(torch.ones_like(x[:, :1], dtype=torch.double), k, s, p, d, out_size, 0.0) > 0
    best = torch.full_like(values[:, :, 0], float("-inf"))
    # The switch starts at the first tap inside the image, as ATen's index does.
    switch = inside.int().argmax(dim=2).expand_as(best).clone()
    for tap in range(k[0] * k[1]):
        value = values[:, :, tap]
        wins = inside[:, :, tap] & ((value > best) | value.isnan())
        best = torch.where(wins, value, best)
        switch = torch.where(wins, torch.full_like(switch, tap), switch)
    y, switch = best.to(input.dtype), switch.to(switch_dtype(k))
    return (y, switch) if input.dim() == 4 else (y[0], switch[0])


def unpool2d_switches(y, switches, input_size, kernel_size, stride=None, padding=0, dilation=1, validate=True):
    """Scatter-add of ``y`` at the switches' flat indices (accumulated in float64)."""
    size = pair(input_size, "input_size")
    indices = switches_to_indices(switches, size, kernel_size, stride, padding, dilation)
    flat = torch.zeros((*y.shape[:-2], size[0] * size[1]), dtype=torch.float64, device=y.device)
    flat.scatter_add_(-1, indices.flatten(-2), y.double().flatten(-2))
    return flat.view(*y.shape[:-2], *size).to(y.dtype)


def gather2d_switches(input, switches, kernel_size, stride=None, padding=0, dilation=1, validate=True):
    """``input`` read at the switches' flat indices."""
    indices = switches_to_indices(switches, input.shape[-2:], kernel_size, stride, padding, dilation)
    return input.flatten(-2).gather(-1, indices.flatten(-2)).view(switches.shape)


def occlusion_batch(image: Tensor, positions: Tensor, patch_size: IntPair, fill: float | Tensor = 0.0) -> Tensor:
    """One clone of ``image`` per position with the (clipped) patch assigned from ``fill``."""
    ph, pw = pair(patch_size, "patch_size")
    c, h, w = image.shape
    fill = torch.as_tensor(fill, dtype=image.dtype, device=image.device)
    fill = fill.view(c, 1, 1) if fill.dim() == 1 else fill
    fill = fill.expand(c, h, w)
    batch = []
    for top, left in positions.tolist():
        occluded = image.clone()
        rows = slice(max(top, 0), max(min(top + ph, h), 0))
        cols = slice(max(left, 0), max(min(left + pw, w), 0))
        occluded[:, rows, cols] = fill[:, rows, cols]
        batch.append(occluded)
    return torch.stack(batch) if batch else image.new_empty((0, c, h, w))


def patched_crops(base: Tensor, patches: Tensor, patch_origins: Tensor, crop_origins: Tensor, crop_size: IntPair, pad: float = 0.0) -> Tensor:
    """Pad the map, paste each patch into a copy, slice each crop: one position at a time."""
    height, width = pair(crop_size, "crop_size")
    crops = []
    for patch, (pt, pl), (ct, cl) in zip(patches, patch_origins.tolist(), crop_origins.tolist()):
        # A canvas that holds the map, the patch and the crop, whatever their positions.
        top, left = min(0, pt, ct), min(0, pl, cl)
        bottom = max(base.shape[1], pt + patch.shape[1], ct + height)
        right = max(base.shape[2], pl + patch.shape[2], cl + width)
        canvas = base.new_full((base.shape[0], bottom - top, right - left), pad)
        canvas[:, -top : -top + base.shape[1], -left : -left + base.shape[2]] = base
        canvas[:, pt - top : pt - top + patch.shape[1], pl - left : pl - left + patch.shape[2]] = patch
        crops.append(canvas[:, ct - top : ct - top + height, cl - left : cl - left + width])
    return torch.stack(crops) if crops else base.new_empty((0, base.shape[0], height, width))
