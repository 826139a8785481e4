"""Bad input: each a clear Python exception that names the argument, never a crash."""

from __future__ import annotations

import pytest
import torch

import zfcuda

X = torch.randn(2, 3, 8, 8)
Y, SW = zfcuda.max_pool2d_switches(X, 3, 2, 1)
IMAGE = torch.randn(3, 8, 8)
POS = torch.tensor([[0, 0], [4, 4]])

POOL_CASES = {
    "rank 2": (lambda: zfcuda.max_pool2d_switches(torch.randn(8, 8), 2), ValueError, "input must be 3-D"),
    "rank 5": (lambda: zfcuda.max_pool2d_switches(torch.randn(1, 1, 1, 8, 8), 2), ValueError, "5-D"),
    "int dtype": (lambda: zfcuda.max_pool2d_switches(X.long(), 2), TypeError, "input must be float16"),
    "bool dtype": (lambda: zfcuda.max_pool2d_switches(X > 0, 2), TypeError, "input must be float16"),
    "kernel 0": (lambda: zfcuda.max_pool2d_switches(X, 0), ValueError, "kernel_size must be >= 1"),
    "stride -1": (lambda: zfcuda.max_pool2d_switches(X, 2, -1), ValueError, "stride must be >= 1"),
    "padding -1": (lambda: zfcuda.max_pool2d_switches(X, 3, 1, -1), ValueError, "padding must be >= 0"),
    "padding > k/2": (lambda: zfcuda.max_pool2d_switches(X, 3, 1, 2), ValueError, "padding must be at most half"),
    "dilation 0": (lambda: zfcuda.max_pool2d_switches(X, 3, 1, 1, 0), ValueError, "dilation must be >= 1"),
    "kernel too big": (lambda: zfcuda.max_pool2d_switches(X, 9), ValueError, "larger than the padded input"),
    "dilated too big": (lambda: zfcuda.max_pool2d_switches(X, 3, 1, 0, 4), ValueError, "larger than the padded input"),
    "window of padding only": (lambda: zfcuda.max_pool2d_switches(torch.randn(1, 1, 4, 4), 2, 1, 1, 5), ValueError, "hold only padding"),
    "window too large": (lambda: zfcuda.max_pool2d_switches(torch.randn(1, 1, 1, 1), (8193, 8191), 1, (4096, 4095)), ValueError, "too large"),
    "dilation huge": (lambda: zfcuda.max_pool2d_switches(torch.randn(1, 1, 4, 5), (3, 1), 1, 0, (2**62, 1)), ValueError, "dilation must be < 2"),
    "kernel triple": (lambda: zfcuda.max_pool2d_switches(X, (2, 2, 2)), TypeError, "kernel_size must be an int or a pair"),
    "kernel float": (lambda: zfcuda.max_pool2d_switches(X, 2.5), TypeError, "kernel_size"),
}

UNPOOL_CASES = {
    "switch dtype": (lambda: zfcuda.unpool2d_switches(Y, SW.int(), (8, 8), 3, 2, 1), TypeError, "switches must be uint8"),
    "switch shape": (lambda: zfcuda.unpool2d_switches(Y, SW[:, :, :2], (8, 8), 3, 2, 1), ValueError, "switches must have the shape"),
    "switch out of window": (
        lambda: zfcuda.unpool2d_switches(Y, torch.full_like(SW, 9), (8, 8), 3, 2, 1),
        ValueError,
        "outside the 3x3 window",
    ),
    "switch into padding": (
        lambda: zfcuda.unpool2d_switches(Y, torch.zeros_like(SW), (8, 8), 3, 2, 1),  # offset 0 of window (0, 0) is padding
        ValueError,
        "pointing into the padding",
    ),
    "input_size mismatch": (lambda: zfcuda.unpool2d_switches(Y, SW, (12, 12), 3, 2, 1), ValueError, "input_size"),
    "input_size zero": (lambda: zfcuda.unpool2d_switches(Y, SW, (0, 8), 3, 2, 1), ValueError, "input_size must be >= 1"),
    "y int": (lambda: zfcuda.unpool2d_switches(Y.long(), SW, (8, 8), 3, 2, 1), TypeError, "y must be float16"),
    "y rank": (lambda: zfcuda.unpool2d_switches(Y[0, 0], SW[0, 0], (8, 8), 3, 2, 1), ValueError, "y must be 3-D"),
    "gather switch dtype": (lambda: zfcuda.gather2d_switches(X, SW.long(), 3, 2, 1), TypeError, "switches must be uint8"),
    "gather batch mismatch": (lambda: zfcuda.gather2d_switches(X[:1], SW, 3, 2, 1), ValueError, "leading dimensions"),
    "gather pooled mismatch": (lambda: zfcuda.gather2d_switches(X, SW, 3, 1), ValueError, "switches has spatial size"),
    "gather out of window": (
        lambda: zfcuda.gather2d_switches(X, torch.full_like(SW, 200), 3, 2, 1),
        ValueError,
        "outside the 3x3 window",
    ),
}

OCCLUSION_CASES = {
    "image rank": (lambda: zfcuda.occlusion_batch(IMAGE[None], POS, 3), ValueError, "image must be 3-D"),
    "image int": (lambda: zfcuda.occlusion_batch(IMAGE.long(), POS, 3), TypeError, "image must be float16"),
    "positions shape": (lambda: zfcuda.occlusion_batch(IMAGE, POS[:, :1], 3), ValueError, "positions must have shape"),
    "positions dtype": (lambda: zfcuda.occlusion_batch(IMAGE, POS.int(), 3), TypeError, "positions must be int64"),
    "patch 0": (lambda: zfcuda.occlusion_batch(IMAGE, POS, 0), ValueError, "patch_size must be >= 1"),
    "fill shape": (lambda: zfcuda.occlusion_batch(IMAGE, POS, 3, torch.zeros(4)), ValueError, "fill must be a scalar"),
    "fill dtype": (lambda: zfcuda.occlusion_batch(IMAGE, POS, 3, torch.zeros(3, dtype=torch.float64)), TypeError, "fill must have the dtype"),
    "huge patch": (lambda: zfcuda.occlusion_batch(IMAGE, POS, (2, 2**40)), ValueError, "patch_size must be < 2"),
    "fill type": (lambda: zfcuda.occlusion_batch(IMAGE, POS, 3, "grey"), TypeError, "fill must be a number"),
}


@pytest.mark.parametrize("name", list(POOL_CASES) + list(UNPOOL_CASES) + list(OCCLUSION_CASES))
def test_bad_input_raises_a_clear_error(name):
    call, error, message = {**POOL_CASES, **UNPOOL_CASES, **OCCLUSION_CASES}[name]
    with pytest.raises(error, match=message):
        call()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU visible")
def test_mixed_devices():
    with pytest.raises(ValueError, match="same device"):
        zfcuda.unpool2d_switches(Y.cuda(), SW, (8, 8), 3, 2, 1)
    with pytest.raises(ValueError, match="same device"):
        zfcuda.gather2d_switches(X.cuda(), SW, 3, 2, 1)
    with pytest.raises(ValueError, match="same device"):
        zfcuda.occlusion_batch(IMAGE.cuda(), POS, 3)
    with pytest.raises(ValueError, match="same device"):
        zfcuda.occlusion_batch(IMAGE.cuda(), POS.cuda(), 3, torch.zeros(3))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU visible")
def test_bad_switches_on_cuda():
    with pytest.raises(ValueError, match="outside the 3x3 window"):
        zfcuda.unpool2d_switches(Y.cuda(), torch.full_like(SW, 9).cuda(), (8, 8), 3, 2, 1)
    with pytest.raises(ValueError, match="outside the 3x3 window"):
        zfcuda.gather2d_switches(X.cuda(), torch.full_like(SW, 9).cuda(), 3, 2, 1)
