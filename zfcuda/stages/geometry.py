"""Where a windowed stage (a convolution or pool) reads and writes: the receptive-field arithmetic
that the deconvnet's crops and receptive fields and the incremental occlusion engine share.

Through a stage with kernel k, stride s, padding p and dilation d, output rows [a, a + h) read
input rows [a * s - p, a * s - p + (h - 1) * s + d * (k - 1) + 1) (``input_window``), and
changed input rows [a, b) can change only output rows
[ceil((a + p - d * (k - 1)) / s), floor((b - 1 + p) / s)] (``changed_outputs``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .._utils.geometry import pair

__all__ = ["changed_outputs", "input_window", "window_geometry"]

Geometry = tuple[Sequence[int], Sequence[int], Sequence[int], Sequence[int]]


def window_geometry(layer) -> tuple[list[int], list[int], list[int], list[int]]:
    """(kernel, stride, padding, dilation) of a windowed layer (``nn.Conv2d`` or ``nn.MaxPool2d``
    and its subclasses), each as [height, width]; integer padding only."""
    names = ("kernel_size", "stride", "padding", "dilation")
    return tuple(pair(getattr(layer, name), name) for name in names)


def input_window(origin: Tensor | Sequence[int], size: Sequence[int], geometry: Geometry) -> tuple[Tensor | tuple[int, int], tuple[int, int]]:
    """The input window that an output window of a windowed stage reads.

    Args:
        origin: (y, x) of the output window's top-left corner: a pair of ints, or Tensor[S, 2]
            (int64) for S windows of the same size.
        size: (h, w) of the output window.
        geometry: (kernel, stride, padding, dilation) of the stage, from ``window_geometry``.

    Returns:
        The input window's origin (same kind as ``origin``; it may lie in the padding, < 0) and
        its (h, w).
    """
    kernel, stride, padding, dilation = geometry
    if isinstance(origin, Tensor):
        origin_in = origin * origin.new_tensor(stride) - origin.new_tensor(padding)
    else:
        origin_in = tuple(origin[d] * stride[d] - padding[d] for d in range(2))
    return origin_in, tuple((size[d] - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1 for d in range(2))


def changed_outputs(origin: Tensor, size: Sequence[int], geometry: Geometry) -> tuple[Tensor, Tensor]:
    """The output rows and columns a change can reach (its projective field), before clipping to the map.

    Args:
        origin (Tensor[S, 2], int64): top-left corners of the changed input windows.
        size: (h, w) of the changed windows.
        geometry: (kernel, stride, padding, dilation) of the stage.

    Returns:
        The first and last (inclusive) output positions, Tensor[S, 2] each.
    """
    kernel, stride, padding, dilation = geometry
    reach = [dilation[d] * (kernel[d] - 1) for d in range(2)]
    first = torch.stack([-torch.div(-(origin[:, d] + padding[d] - reach[d]), stride[d], rounding_mode="floor") for d in range(2)], 1)
    last = torch.stack([torch.div(origin[:, d] + size[d] - 1 + padding[d], stride[d], rounding_mode="floor") for d in range(2)], 1)
    return first, last
