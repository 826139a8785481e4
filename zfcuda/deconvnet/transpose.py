"""The deconvnet's filtering step, shared by both engines: a convolution's transpose with its own
filters and no bias, back to the size of the convolution's input.

Signals that come out of an unpooling and a rectification are mostly zero (about one value in ten
on ZF-Net); on the CPU those go through ``conv_transpose2d_skip_zeros``, which scatters only the
non-zeros (1.5-3x faster than oneDNN's dense transposed convolution), and the dense one runs on
channels_last tensors (1.3-1.5x faster on these shapes). On a GPU, cuDNN's dense one is used.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import ops

# Below this fraction of non-zero inputs, scattering the non-zeros beats the dense transposed
# convolution on the CPU (measured on ZF-Net's conv1 and conv2 crops).
SPARSE_DENSITY = 0.2


def conv_transpose(x: Tensor, weight: Tensor, stride: Sequence[int], padding: Sequence[int], dilation: Sequence[int],
                   groups: int, size: Sequence[int] | None = None) -> Tensor:
    """The transpose of ``F.conv2d(·, weight, None, stride, padding, dilation, groups)`` applied to ``x``.

    Args:
        x (Tensor[S, C_out, h, w]): the signal at the convolution's output.
        weight (Tensor[C_out, C_in / groups, kH, kW]): the convolution's filters.
        size: (H, W) of the convolution's input; the rows and columns its last windows read are
            kept (``output_padding``) where the stride does not divide it evenly. None: the plain
            transpose, ((h - 1) * stride - 2 * padding + dilation * (kH - 1) + 1, ...).

    Returns:
        Tensor[S, C_in, H, W].
    """
    kernel = weight.shape[-2:]
    full = [(x.shape[2 + d] - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1 for d in range(2)]
    size = [full[d] - 2 * padding[d] for d in range(2)] if size is None else list(size)
    extra = [size[d] - (full[d] - 2 * padding[d]) for d in range(2)]
    if x.is_cpu and x.dtype in (torch.float32, torch.float64) and groups == 1 and min(extra) >= 0:
        sample = x[: max(1, x.shape[0] // 8)]  # the density of a few rows decides for the chunk
        if torch.count_nonzero(sample).item() < SPARSE_DENSITY * sample.numel():
            scattered = ops.conv_transpose2d_skip_zeros(x, weight, stride, dilation)
            if any(extra):  # the rows past the last window: zero, as output_padding gives them
                scattered = F.pad(scattered, (0, extra[1], 0, extra[0]))
            return scattered[:, :, padding[0] : padding[0] + size[0], padding[1] : padding[1] + size[1]]
    x = x.contiguous(memory_format=torch.channels_last) if x.is_cpu else x
    return F.conv_transpose2d(x, weight, None, stride, padding, extra, groups, dilation)
