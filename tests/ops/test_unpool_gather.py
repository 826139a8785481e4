"""unpool2d_switches and gather2d_switches against autograd, F.max_unpool2d and the reference."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import zfcuda
from tests.helpers.inputs import DTYPES, LAYOUTS, integer_like, make_input, with_layout
from tests.helpers.pool_cases import CASES, case_id, layout_of_case
from zfcuda import reference


def _pool(x, k, s, p, d, ceil):
    y, switches = zfcuda.max_pool2d_switches(x, k, s, p, d, ceil)
    return y, switches


def _torch_pool_gradient(x, grad_y, k, s, p, d, ceil):
    x = x.detach().requires_grad_(True)
    F.max_pool2d(x, k, s, p, d, ceil_mode=ceil).backward(grad_y)
    return x.grad


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("kind", ["random", "ties"])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_unpool_equals_max_pool_gradient(case, dtype, kind, layout, device):
    shape, k, s, p, d, ceil = case
    x = layout_of_case(make_input(shape, dtype, device, kind), layout)
    y, switches = _pool(x, k, s, p, d, ceil)
    grad_y = integer_like(y)  # integer sums are exact, so any summation order gives the same bits
    unpooled = zfcuda.unpool2d_switches(grad_y, switches, x.shape[-2:], k, s, p, d)
    assert torch.equal(unpooled, _torch_pool_gradient(x, grad_y, k, s, p, d, ceil))
    assert torch.equal(unpooled, reference.unpool2d_switches(grad_y, switches, x.shape[-2:], k, s, p, d))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("k, s, p", [(3, 1, 1), (3, 2, 1), (5, 2, 2)])
def test_unpool_sums_in_torchs_order(dtype, layout, k, s, p, device):
    # Random (non-integer) gradients: equal bit for bit only if the terms are added in torch's order.
    x = layout_of_case(make_input((2, 3, 15, 14), dtype, device, "ties"), layout)
    y, switches = _pool(x, k, s, p, 1, False)
    grad_y = torch.randn_like(y)
    unpooled = zfcuda.unpool2d_switches(grad_y, switches, x.shape[-2:], k, s, p)
    assert torch.equal(unpooled, _torch_pool_gradient(x, grad_y, k, s, p, 1, False))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_unpool_overlap_sums_random_values(dtype, device):
    x = make_input((2, 4, 27, 27), dtype, device, "ties")
    y, switches = _pool(x, 3, 2, 1, 1, False)
    grad_y = torch.randn_like(y)
    unpooled = zfcuda.unpool2d_switches(grad_y, switches, x.shape[-2:], 3, 2, 1)
    expected = reference.unpool2d_switches(grad_y, switches, x.shape[-2:], 3, 2, 1)
    torch.testing.assert_close(unpooled, expected)
    # Overlapping windows did choose shared positions, so sums really happened.
    indices = zfcuda.switches_to_indices(switches, x.shape[-2:], 3, 2, 1).flatten(-2)
    assert (indices.sort(-1).values.diff(dim=-1) == 0).any()


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_unpool_equals_max_unpool2d_without_overlap(dtype, device):
    x = make_input((2, 3, 12, 10), dtype, device)
    y, switches = _pool(x, 2, 2, 0, 1, False)
    _, indices = F.max_pool2d(x, 2, 2, return_indices=True)
    expected = F.max_unpool2d(y, indices, 2, 2, output_size=x.shape[-2:])
    assert torch.equal(zfcuda.unpool2d_switches(y, switches, x.shape[-2:], 2, 2), expected)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32], ids=str)
def test_unpool_is_bitwise_reproducible_in_every_layout(dtype, device):
    x = make_input((4, 16, 55, 55), dtype, device, "ties")
    y, switches = _pool(x, 3, 2, 1, 1, False)
    grad_y = torch.randn_like(y)
    first = zfcuda.unpool2d_switches(grad_y, switches, x.shape[-2:], 3, 2, 1)
    for _ in range(3):
        assert torch.equal(zfcuda.unpool2d_switches(grad_y, switches, x.shape[-2:], 3, 2, 1), first)
    # The NCHW row path and the per-element body (channels_last) add the same terms in the same order.
    grad_cl = grad_y.contiguous(memory_format=torch.channels_last)
    switches_cl = switches.contiguous(memory_format=torch.channels_last)
    assert torch.equal(zfcuda.unpool2d_switches(grad_cl, switches_cl, x.shape[-2:], 3, 2, 1), first)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_unpool_any_strides(layout, device):
    x = make_input((2, 5, 14, 13), torch.float32, device, "ties")
    y, switches = _pool(x, 3, 2, 1, 1, False)
    grad_y = with_layout(integer_like(y), layout)
    unpooled = zfcuda.unpool2d_switches(grad_y, switches, x.shape[-2:], 3, 2, 1)
    assert torch.equal(unpooled, _torch_pool_gradient(x, grad_y, 3, 2, 1, 1, False))
    want = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    assert unpooled.is_contiguous(memory_format=want)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_gather_reads_the_switches(case, dtype, device):
    shape, k, s, p, d, ceil = case
    x = make_input(shape, dtype, device)
    y, switches = _pool(x, k, s, p, d, ceil)
    assert torch.equal(zfcuda.gather2d_switches(x, switches, k, s, p, d), y)  # gathering the input re-pools it
    other = make_input(shape, dtype, device)
    assert torch.equal(
        zfcuda.gather2d_switches(other, switches, k, s, p, d),
        reference.gather2d_switches(other, switches, k, s, p, d),
    )


@pytest.mark.parametrize("layout", LAYOUTS)
def test_gather_any_strides(layout, device):
    x = make_input((2, 5, 14, 13), torch.float32, device)
    y, switches = _pool(x, 3, 2, 1, 1, False)
    gathered = zfcuda.gather2d_switches(with_layout(x, layout), switches, 3, 2, 1)
    assert torch.equal(gathered, y)
    want = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    assert gathered.is_contiguous(memory_format=want)


def test_int32_switches_round_trip(device):
    x = make_input((1, 2, 20, 20), torch.float64, device)
    y, switches = _pool(x, 17, 1, 8, 1, False)
    grad_y = integer_like(y)
    unpooled = zfcuda.unpool2d_switches(grad_y, switches, (20, 20), 17, 1, 8)
    assert torch.equal(unpooled, _torch_pool_gradient(x, grad_y, 17, 1, 8, 1, False))
    assert torch.equal(zfcuda.gather2d_switches(x, switches, 17, 1, 8), y)
