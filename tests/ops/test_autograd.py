"""gradcheck / gradgradcheck in float64, torch.library.opcheck, and torch.compile."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zfcuda
from zfcuda.nn import SwitchMaxPool2d

POOL = dict(kernel_size=[3, 3], stride=[2, 2], padding=[1, 1], dilation=[1, 1])


def _distinct(shape, device):
    # Well-separated distinct values: finite differences never flip an argmax.
    n = torch.tensor(shape).prod().item()
    return (torch.randperm(n, device=device).double() * 0.1).view(shape).requires_grad_(True)


def test_gradcheck_max_pool(device):
    x = _distinct((2, 3, 9, 8), device)
    fn = lambda t: zfcuda.max_pool2d_switches(t, 3, 2, 1)[0]  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x,), eps=1e-3)
    assert torch.autograd.gradgradcheck(fn, (x,), eps=1e-3)


def test_gradcheck_unpool_and_gather(device):
    x = _distinct((2, 3, 9, 8), device)
    _, switches = zfcuda.max_pool2d_switches(x.detach(), 3, 2, 1)
    y = torch.randn(2, 3, 5, 4, dtype=torch.float64, device=device, requires_grad=True)
    unpool = lambda t: zfcuda.unpool2d_switches(t, switches, (9, 8), 3, 2, 1)  # noqa: E731
    gather = lambda t: zfcuda.gather2d_switches(t, switches, 3, 2, 1)  # noqa: E731
    assert torch.autograd.gradcheck(unpool, (y,))
    assert torch.autograd.gradgradcheck(unpool, (y,))
    assert torch.autograd.gradcheck(gather, (x,))
    assert torch.autograd.gradgradcheck(gather, (x,))


@pytest.mark.parametrize("fill_shape", [(), (3,), (3, 7, 9)])
def test_gradcheck_occlusion_batch(fill_shape, device):
    image = torch.randn(3, 7, 9, dtype=torch.float64, device=device, requires_grad=True)
    fill = torch.randn(fill_shape, dtype=torch.float64, device=device, requires_grad=True)
    positions = torch.tensor([[-2, -1], [3, 4], [5, 7], [0, 0]], device=device)
    fn = lambda img, f: zfcuda.occlusion_batch(img, positions, (3, 4), f)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (image, fill))
    assert torch.autograd.gradgradcheck(fn, (image, fill))


def _opcheck_cases(device):
    x = torch.randn(2, 3, 9, 8, device=device)
    y, switches = torch.ops.zfcuda.max_pool2d_switches(x, **POOL, ceil_mode=False)
    x_cl = x.contiguous(memory_format=torch.channels_last)
    y_cl, switches_cl = torch.ops.zfcuda.max_pool2d_switches(x_cl, **POOL, ceil_mode=True)
    image = torch.randn(3, 7, 9, device=device, requires_grad=True)
    positions = torch.tensor([[-2, -1], [3, 4], [5, 7]], device=device)
    return [
        (torch.ops.zfcuda.max_pool2d_switches, (x.requires_grad_(True),), dict(**POOL, ceil_mode=False)),
        (torch.ops.zfcuda.max_pool2d_switches, (x_cl.requires_grad_(True),), dict(**POOL, ceil_mode=True)),
        (torch.ops.zfcuda.max_pool2d_switches, (x[0],), dict(**POOL, ceil_mode=False)),
        (torch.ops.zfcuda.unpool2d_switches, (y.detach().requires_grad_(True), switches, [9, 8]), POOL),
        (torch.ops.zfcuda.unpool2d_switches, (y_cl.detach().requires_grad_(True), switches_cl, [9, 8]), POOL),
        (torch.ops.zfcuda.gather2d_switches, (x.detach().requires_grad_(True), switches), POOL),
        (torch.ops.zfcuda.occlusion_batch, (image, positions, [3, 4], torch.tensor(0.5, device=device)), {}),
        (torch.ops.zfcuda.occlusion_batch, (image, positions, [3, 4], torch.randn(3, device=device, requires_grad=True)), {}),
    ]


def test_opcheck_every_op(device):
    checked = set()
    for op, args, kwargs in _opcheck_cases(device):
        torch.library.opcheck(op, args, kwargs)
        checked.add(op._qualified_op_name)
    assert checked == {f"zfcuda::{name}" for name in ("max_pool2d_switches", "unpool2d_switches", "gather2d_switches", "occlusion_batch")}


class _TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = SwitchMaxPool2d(3, 2, 1, return_switches=True, record_switches=False)
        self.head = nn.Linear(4 * 5 * 5, 2)

    def forward(self, x):
        y, switches = self.pool(torch.relu(self.conv(x)))
        back = zfcuda.unpool2d_switches(y, switches, x.shape[-2:], 3, 2, 1, validate=False)
        return self.head(y.flatten(1)), back


def test_torch_compile_fullgraph(device):
    net = _TinyNet().to(device)
    x = torch.randn(2, 3, 10, 10, device=device, requires_grad=True)
    eager_logits, eager_back = net(x)
    compiled = torch.compile(net, fullgraph=True, backend="aot_eager")
    logits, back = compiled(x)
    torch.testing.assert_close(logits, eager_logits)
    torch.testing.assert_close(back, eager_back)
    (logits.sum() + back.sum()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
