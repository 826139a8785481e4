"""conv_transpose2d_skip_zeros (the deconvnet's CPU transposed convolution) against F.conv_transpose2d."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tests.helpers.inputs import LAYOUTS, with_layout
from zfcuda import ops


def _sparse(shape, density: float, dtype) -> torch.Tensor:
    x = torch.randn(shape, dtype=dtype)
    return x * (torch.rand(shape) < density)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    "channels, out_channels, kernel, stride, dilation, size",
    [(96, 3, 7, 2, 1, (9, 11)), (8, 5, (3, 5), (1, 2), 1, (6, 4)), (4, 6, 3, 1, (2, 3), (5, 7)), (3, 2, 1, 3, 1, (1, 1))],
)
@pytest.mark.parametrize("density", [0.0, 0.1, 1.0])
def test_equals_dense_transposed_convolution(channels, out_channels, kernel, stride, dilation, size, density, layout, dtype):
    x = with_layout(_sparse((3, channels, *size), density, dtype), layout)
    conv = torch.nn.Conv2d(out_channels, channels, kernel, stride, dilation=dilation).to(dtype)
    got = ops.conv_transpose2d_skip_zeros(x, conv.weight, stride, dilation)
    expected = F.conv_transpose2d(x, conv.weight, None, stride, 0, 0, 1, dilation)
    tolerance = {torch.float32: 1e-5, torch.float64: 1e-12}[dtype]
    torch.testing.assert_close(got, expected, rtol=tolerance, atol=tolerance)
    assert got.is_contiguous(memory_format=torch.channels_last)


def test_nan_and_inf_inputs_propagate_like_the_dense_sum():
    x = _sparse((1, 4, 5, 5), 0.3, torch.float64)
    x[0, 1, 2, 2], x[0, 2, 0, 4] = float("nan"), float("inf")
    weight = torch.randn(4, 2, 3, 3, dtype=torch.float64)
    got = ops.conv_transpose2d_skip_zeros(x, weight, 1, 1)
    expected = F.conv_transpose2d(x, weight)
    assert torch.equal(got.isnan(), expected.isnan())
    finite = expected.isfinite()
    torch.testing.assert_close(got[finite], expected[finite])


def test_empty_batch():
    got = ops.conv_transpose2d_skip_zeros(torch.zeros(0, 3, 4, 4), torch.randn(3, 2, 3, 3), 2, 1)
    assert got.shape == (0, 2, 9, 9)


def test_opcheck():
    x = _sparse((2, 5, 4, 6), 0.3, torch.float32)
    torch.library.opcheck(torch.ops.zfcuda.conv_transpose2d_skip_zeros.default, (x, torch.randn(5, 3, 3, 2), [2, 1], [1, 2]))


def test_bad_input():
    x, w = torch.randn(1, 4, 5, 5), torch.randn(4, 2, 3, 3)
    with pytest.raises(ValueError, match="input must be 4-D"):
        ops.conv_transpose2d_skip_zeros(x[0], w)
    with pytest.raises(ValueError, match="weight must be 4-D"):
        ops.conv_transpose2d_skip_zeros(x, w[0])
    with pytest.raises(TypeError, match="input must be float32 or float64"):
        ops.conv_transpose2d_skip_zeros(x.half(), w.half())
    with pytest.raises(TypeError, match="weight must have input's dtype"):
        ops.conv_transpose2d_skip_zeros(x, w.double())
    with pytest.raises(ValueError, match="weight.size\\(0\\) must equal input's channels 4"):
        ops.conv_transpose2d_skip_zeros(x, torch.randn(3, 2, 3, 3))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        ops.conv_transpose2d_skip_zeros(x, w, 0)
    with pytest.raises(ValueError, match="dilation must be >= 1"):
        ops.conv_transpose2d_skip_zeros(x, w, 1, (1, -1))
    with pytest.raises(ValueError, match="height and width >= 1"):
        ops.conv_transpose2d_skip_zeros(torch.randn(1, 4, 0, 5), w)
