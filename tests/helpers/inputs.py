"""Devices, dtypes, layouts and input makers shared by the op tests."""

from __future__ import annotations

import pytest
import torch

CUDA = torch.cuda.is_available()
# "cpu-body" runs the CPU kernels through the per-element bodies that the CUDA kernels share,
# instead of the CPU fast paths, so a machine without a GPU still tests the GPU's arithmetic.
DEVICES = ["cpu", "cpu-body", pytest.param("cuda", marks=pytest.mark.skipif(not CUDA, reason="no GPU visible"))]
DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
LAYOUTS = ["contiguous", "channels_last", "strided"]


def with_layout(x: torch.Tensor, layout: str) -> torch.Tensor:
    """The same values as ``x`` (N, C, H, W) stored NCHW, channels_last, or as a strided view."""
    if layout == "contiguous":
        return x.contiguous()
    if layout == "channels_last":
        return x.contiguous(memory_format=torch.channels_last)
    if layout == "strided":  # every second element of a larger buffer, with H and W transposed in memory
        big = torch.empty((*x.shape[:2], x.shape[3], 2 * x.shape[2]), dtype=x.dtype, device=x.device)
        view = big.transpose(2, 3)[:, :, ::2]
        view.copy_(x)
        assert not view.is_contiguous() and not view.is_contiguous(memory_format=torch.channels_last)
        return view
    raise ValueError(layout)


def make_input(shape, dtype, device, kind: str = "random") -> torch.Tensor:
    """Random input with the hazards pooling must handle.

    kind: "random" (distinct values), "ties" (few distinct values and post-ReLU zeros),
    "special" (random with NaN, -inf and +inf sprinkled in).
    """
    x = torch.randn(shape, dtype=torch.float64, device=device)
    if kind == "ties":
        x = torch.relu(torch.round(x * 2))  # values in {0, 1, 2, ...}: many exact ties, many zeros
    elif kind == "special":
        u = torch.rand(shape, device=device)
        x[u < 0.05] = float("nan")
        x[(u >= 0.05) & (u < 0.15)] = float("-inf")
        x[(u >= 0.15) & (u < 0.18)] = float("inf")
    return x.to(dtype)


def integer_like(x: torch.Tensor) -> torch.Tensor:
    """Small random integers shaped like ``x``: sums of them are exact in every dtype."""
    return torch.randint(-8, 9, x.shape, device=x.device).to(x.dtype)
