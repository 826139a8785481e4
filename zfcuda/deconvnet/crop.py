"""The deconvnet's downward pass on receptive-field crops.

A unit's projection is zero outside its receptive field, so at every layer of the way down only
the box the unit can reach needs computing. Going through a convolution or pool with kernel k,
stride s, padding p and dilation d, output rows [a, a + h) become input rows
[a * s - p, a * s - p + (h - 1) * s + d * (k - 1) + 1): the same size for every unit, so all
selected units go down together as one batch of equally sized crops, each with its own origin.

Within a crop, the transposed convolution runs without padding, and unpooling runs with
padding 0: switches name a position inside their window, so they stay valid when the window is
moved into crop coordinates. Crop positions outside the layer's map (the padding) are zeroed, as
the full computation drops them. Once a crop would be as large as the map, the crops are pasted
into full maps and the rest of the way down is the ordinary full computation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import ops
from ..nn import SwitchMaxPool2d
from ..stages.geometry import input_window, window_geometry
from .transpose import conv_transpose


def crop_down(
    layers: list[tuple[str, nn.Module]], records: list, last: int, top: Tensor, top_size: tuple[int, int],
    image_index: Tensor, origin: Tensor,
) -> tuple[Tensor, int]:
    """Takes crops from the output of layer ``last`` down as far as they stay smaller than the maps.

    Args:
        layers: the DeconvNet's (name, module) chain.
        records: per layer (input size, switches or None), from ``DeconvNet.forward``.
        last: index of the layer whose output ``top`` is cropped from.
        top (Tensor[S, C, h, w]): the signal on each unit's crop of that output.
        top_size: (H, W) of that output's map.
        image_index (Tensor[S], int64): the forward image each crop belongs to (for its switches).
        origin (Tensor[S, 2], int64): (y, x) of each crop's top-left corner in that output's map.

    Returns:
        The signal at the output of layer ``stop - 1`` as full maps (Tensor[S, C', H', W']), and
        ``stop``, the index of the first layer still to go down through in full (0: none left;
        the tensor is then the projection in pixel space).
    """
    x, out_size = top, tuple(top_size)
    for i in range(last, -1, -1):
        module = layers[i][1]
        size, switches = records[i]
        if isinstance(module, (nn.Conv2d, SwitchMaxPool2d)):
            kernel, stride, padding, dilation = geometry = window_geometry(module)
            origin_in, crop = input_window(origin, x.shape[2:], geometry)
            if crop[0] >= size[0] and crop[1] >= size[1]:
                return paste(x, origin, out_size), i + 1
            if isinstance(module, SwitchMaxPool2d):
                # Switches never point into padding, so nothing lands outside the map: no mask needed.
                local = crop_windows(switches, image_index, origin, x.shape[2:])
                x = ops.unpool2d_switches(x, local, crop, kernel, stride, 0, dilation, validate=False)
            else:
                x = conv_transpose(x, module.weight, stride, (0, 0), dilation, module.groups)
                if bool((origin_in < 0).any()) or bool((origin_in + torch.tensor(crop, device=origin.device) > torch.tensor(size, device=origin.device)).any()):
                    x.mul_(inside_mask(origin_in, crop, size, x.dtype))
            origin = origin_in
        elif isinstance(module, nn.ReLU):
            x = x.relu_()
        out_size = tuple(size)
    return paste(x, origin, tuple(records[0][0])), 0


def inside_mask(origin: Tensor, crop: tuple[int, int], size: tuple[int, int], dtype: torch.dtype) -> Tensor:
    """Tensor[S, 1, h, w] mask: 1 where a crop position lies inside the [0, H) x [0, W) map."""
    ys = origin[:, 0, None] + torch.arange(crop[0], device=origin.device)
    xs = origin[:, 1, None] + torch.arange(crop[1], device=origin.device)
    rows = (ys >= 0) & (ys < size[0])
    cols = (xs >= 0) & (xs < size[1])
    return (rows[:, None, :, None] & cols[:, None, None, :]).to(dtype)


def crop_windows(maps: Tensor, image_index: Tensor, origin: Tensor, crop: tuple[int, int]) -> Tensor:
    """Each crop's window of its image's maps (Tensor[N, C, H, W]: switches, masks), Tensor[S, C, h, w];
    positions outside the map (where the signal is zero) get 0."""
    h, w = crop
    # Every h x w window of the zero-padded maps, as a view; then one gather of S windows.
    windows = F.pad(maps, (w, w, h, h)).unfold(2, h, 1).unfold(3, w, 1)  # (N, C, H + h + 1, W + w + 1, h, w)
    # A crop wholly in the padding (whose signal is zero) reads the nearest window instead.
    rows = (origin[:, 0] + h).clamp(0, windows.shape[2] - 1)
    cols = (origin[:, 1] + w).clamp(0, windows.shape[3] - 1)
    return windows[image_index, :, rows, cols]


def paste(crops: Tensor, origin: Tensor, size: tuple[int, int]) -> Tensor:
    """Puts crops (Tensor[S, C, h, w], zero outside the map) into zero maps Tensor[S, C, H, W] at ``origin``."""
    s, c, h, w = crops.shape
    maps = crops.new_zeros((s, c, *size))
    for i, (y, x) in enumerate(origin.tolist()):  # one slice copy per crop: cheaper than an index_put
        top, left, bottom, right = max(y, 0), max(x, 0), min(y + h, size[0]), min(x + w, size[1])
        if bottom <= top or right <= left:  # a crop wholly in the padding: nothing to paste
            continue
        maps[i, :, top:bottom, left:right] = crops[i, :, top - y : bottom - y, left - x : right - x]
    return maps
