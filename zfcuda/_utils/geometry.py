"""Argument pairs and pooled sizes shared by the op wrappers, fake kernels and references."""

from __future__ import annotations

from collections.abc import Sequence

import torch

IntPair = int | Sequence[int]


def pair(value: IntPair, name: str) -> list[int]:
    """Normalises an int or a pair of ints to a list [height, width].

    Raises:
        TypeError: `value` is not an int or a sequence of two ints.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, int):
        return [value, value]
    if isinstance(value, torch.SymInt):
        return [value, value]
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    if len(items) != 2 or not all(isinstance(v, (int, torch.SymInt)) and not isinstance(v, bool) for v in items):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    return items


def pooled_length(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """Output length of one pooled dimension, exactly as nn.MaxPool2d computes it (0 when none fits)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if span < 0:
        return 0
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window must start inside the input or the left padding
    return out


def pooled_size(
    input_size: Sequence[int],
    kernel_size: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    ceil_mode: bool,
) -> tuple[int, int]:
    """(out_h, out_w) of pooling an (H, W) plane; entries are 0 when the kernel does not fit."""
    return tuple(
        pooled_length(input_size[i], kernel_size[i], stride[i], padding[i], dilation[i], ceil_mode) for i in range(2)
    )


def switch_dtype(kernel_size: Sequence[int]) -> torch.dtype:
    """uint8 when every window offset fits a byte (kH * kW <= 256), int32 otherwise."""
    return torch.uint8 if kernel_size[0] * kernel_size[1] <= 256 else torch.int32
