"""SwitchMaxPool2d as a drop-in for nn.MaxPool2d, and Unpool2d."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.helpers.inputs import integer_like, make_input
from zfcuda.nn import SwitchMaxPool2d, Unpool2d

POOLS = [dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2), dict(kernel_size=(3, 2), stride=(2, 1), ceil_mode=True)]


@pytest.mark.parametrize("kwargs", POOLS)
def test_drop_in_for_max_pool2d(kwargs, device):
    torch_pool, ours = nn.MaxPool2d(**kwargs), SwitchMaxPool2d(**kwargs)
    x = make_input((2, 4, 11, 12), torch.float32, device, "ties").requires_grad_(True)
    x_ref = x.detach().clone().requires_grad_(True)
    y, y_ref = ours(x), torch_pool(x_ref)
    assert torch.equal(y, y_ref)
    grad = integer_like(y)
    y.backward(grad)
    y_ref.backward(grad)
    assert torch.equal(x.grad, x_ref.grad)
    assert ours.switches.shape == y.shape and ours.input_size == (11, 12)


def test_return_indices_like_torch(device):
    x = make_input((2, 3, 9, 9), torch.float32, device)
    y, indices = SwitchMaxPool2d(3, 2, 1, return_indices=True)(x)
    y_ref, indices_ref = nn.MaxPool2d(3, 2, 1, return_indices=True)(x)
    assert torch.equal(y, y_ref) and torch.equal(indices, indices_ref)


def test_unpool_with_recorded_switches(device):
    pool = SwitchMaxPool2d(3, 2, 1)
    x = make_input((2, 3, 13, 13), torch.float32, device)
    y = pool(x)
    x_leaf = x.detach().requires_grad_(True)
    F.max_pool2d(x_leaf, 3, 2, 1).backward(y)
    assert torch.equal(pool.unpool(y), x_leaf.grad)
    assert torch.equal(Unpool2d.from_pool(pool)(y, pool.switches, (13, 13)), x_leaf.grad)


def test_from_max_pool_keeps_arguments():
    source = nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True)
    pool = SwitchMaxPool2d.from_max_pool(source)
    assert (pool.kernel_size, pool.stride, pool.padding, pool.dilation, pool.ceil_mode) == (3, 2, 1, 2, True)


def test_unpool_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="run a forward pass first"):
        SwitchMaxPool2d(2).unpool(torch.zeros(1, 1, 2, 2))


def test_recording_module_compiles_fullgraph(device):
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), SwitchMaxPool2d(3, 2, 1)).to(device)
    x = torch.randn(2, 3, 12, 12, device=device)
    expected = net(x)
    compiled = torch.compile(net, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(x), expected)
    assert net[2].switches is not None and net[2].switches.shape == expected.shape
