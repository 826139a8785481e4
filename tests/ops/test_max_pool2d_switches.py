"""max_pool2d_switches against F.max_pool2d (bitwise) and the pure-PyTorch reference."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import zfcuda
from tests.helpers.inputs import DTYPES, LAYOUTS, make_input, with_layout
from tests.helpers.pool_cases import CASES, case_id, layout_of_case
from zfcuda import reference


def _expected(x, k, s, p, d, ceil):
    return F.max_pool2d(x, k, s, p, d, ceil_mode=ceil, return_indices=True)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("kind", ["random", "ties", "special"])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_matches_torch_max_pool2d(case, dtype, kind, layout, device):
    shape, k, s, p, d, ceil = case
    x = layout_of_case(make_input(shape, dtype, device, kind), layout)
    y, switches = zfcuda.max_pool2d_switches(x, k, s, p, d, ceil)
    y_ref, idx_ref = _expected(x, k, s, p, d, ceil)
    torch.testing.assert_close(y, y_ref, rtol=0, atol=0, equal_nan=True)
    assert switches.dtype == torch.uint8 and switches.shape == y.shape
    indices = zfcuda.switches_to_indices(switches, x.shape[-2:], k, s, p, d)
    if x.is_cuda and x.dim() == 4 and layout == "channels_last":
        # torch's CUDA channels_last kernel reports index 0 (outside the window) for a window whose
        # in-bounds values are all -inf (seen on an H200, torch 2.11); its NCHW kernel reports the
        # first in-bounds tap, as ours and torch's CPU kernels do. Compare with that one.
        idx_ref = _expected(x.contiguous(), k, s, p, d, ceil)[1]
    assert torch.equal(indices, idx_ref)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_any_strides_and_channels_last_kept(layout, dtype, device):
    x = with_layout(make_input((2, 5, 14, 13), dtype, device, "ties"), layout)
    y, switches = zfcuda.max_pool2d_switches(x, 3, 2, 1)
    y_ref, idx_ref = _expected(x.contiguous(), 3, 2, 1, 1, False)
    assert torch.equal(y, y_ref)
    assert torch.equal(zfcuda.switches_to_indices(switches, x.shape[-2:], 3, 2, 1), idx_ref)
    want = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    assert y.is_contiguous(memory_format=want) and switches.is_contiguous(memory_format=want)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("kind", ["random", "ties", "special"])
def test_matches_reference(case, kind, device):
    shape, k, s, p, d, ceil = case
    x = make_input(shape, torch.float32, device, kind)
    y, switches = zfcuda.max_pool2d_switches(x, k, s, p, d, ceil)
    y_ref, switches_ref = reference.max_pool2d_switches(x, k, s, p, d, ceil)
    torch.testing.assert_close(y, y_ref, rtol=0, atol=0, equal_nan=True)
    assert torch.equal(switches, switches_ref)


def test_all_nan_and_all_neg_inf_windows(device):
    x = torch.full((1, 1, 4, 4), float("-inf"), device=device)
    x[0, 0, 2:, 2:] = float("nan")
    y, switches = zfcuda.max_pool2d_switches(x, 2, 2)
    y_ref, idx_ref = _expected(x, 2, 2, 0, 1, False)
    torch.testing.assert_close(y, y_ref, rtol=0, atol=0, equal_nan=True)
    assert torch.equal(zfcuda.switches_to_indices(switches, (4, 4), 2, 2), idx_ref)


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_large_window_uses_int32_switches(layout, device):
    x = with_layout(make_input((2, 3, 20, 21), torch.float32, device), layout)
    y, switches = zfcuda.max_pool2d_switches(x, 17, 2, 8)
    y_ref, idx_ref = _expected(x, 17, 2, 8, 1, False)
    assert switches.dtype == torch.int32
    assert torch.equal(y, y_ref)
    assert torch.equal(zfcuda.switches_to_indices(switches, x.shape[-2:], 17, 2, 8), idx_ref)


def test_zf_net_shapes(device):
    # conv1 output of ZF-Net: 96 maps of 110x110 pooled 3x3/2 with padding 1 -> 55x55.
    x = make_input((2, 96, 110, 110), torch.float32, device)
    y, switches = zfcuda.max_pool2d_switches(x, 3, 2, 1)
    y_ref, idx_ref = _expected(x, 3, 2, 1, 1, False)
    assert y.shape == (2, 96, 55, 55)
    assert torch.equal(y, y_ref)
    assert torch.equal(zfcuda.switches_to_indices(switches, (110, 110), 3, 2, 1), idx_ref)


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_no_channels_gives_empty_outputs(layout, device):
    # torch's max_pool2d refuses C == 0; ours returns empty outputs, and unpooling them too.
    x = with_layout(torch.randn(2, 0, 8, 8, device=device), layout)
    y, switches = zfcuda.max_pool2d_switches(x, 3, 2, 1)
    assert y.shape == switches.shape == (2, 0, 4, 4)
    assert zfcuda.unpool2d_switches(y, switches, (8, 8), 3, 2, 1).shape == (2, 0, 8, 8)


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_float16_nan_payload_kept(layout, device):
    x = torch.randn(1, 2, 6, 6, dtype=torch.float16, device=device)
    x.view(torch.int16)[0, 0, 2, 3] = 0x7E01  # a NaN with a payload
    x = with_layout(x, layout)
    y, _ = zfcuda.max_pool2d_switches(x, 3, 2, 1)
    assert torch.equal(y.view(torch.int16), F.max_pool2d(x, 3, 2, 1).view(torch.int16))
