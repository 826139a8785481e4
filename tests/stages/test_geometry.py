"""The shared receptive-field arithmetic against brute force: which inputs an output reads, and which
outputs a changed input reaches, through convolutions of every stride, padding and dilation."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zfcuda.stages.geometry import changed_outputs, input_window, window_geometry

GEOMETRIES = [((3, 3), (2, 2), (1, 1), (1, 1)), ((7, 5), (2, 3), (3, 0), (1, 2)), ((1, 1), (3, 1), (0, 0), (1, 1)),
              ((5, 3), (1, 1), (0, 2), (2, 1))]


def _dense(geometry, d: int) -> bool:
    """Whether every row of a window's span is read (no dilation holes, no stride gaps between windows)."""
    kernel, stride, _, dilation = geometry
    return dilation[d] == 1 and stride[d] <= kernel[d]


def _check(found: list[int], span: range, limit: int, exact: bool) -> None:
    """The rows found are the span's rows inside the map where ``exact``; else a subset of them."""
    inside = [r for r in span if 0 <= r < limit]
    if exact:
        assert found == inside
    else:
        assert set(found) <= set(inside), (found, inside)


def _conv(geometry) -> nn.Conv2d:
    kernel, stride, padding, dilation = geometry
    conv = nn.Conv2d(1, 1, kernel, stride, padding, dilation, bias=False)
    nn.init.constant_(conv.weight, 1.0)
    return conv.double()


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_window_geometry_reads_the_module(geometry):
    assert window_geometry(_conv(geometry)) == tuple(list(g) for g in geometry)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_input_window_is_what_an_output_window_reads(geometry):
    conv, size = _conv(geometry), (17, 19)
    x = torch.zeros(1, 1, *size, dtype=torch.float64, requires_grad=True)
    out = conv(x)
    for origin, window in [((0, 0), (1, 1)), ((1, 2), (2, 3)), ((out.shape[2] - 1, out.shape[3] - 1), (1, 1))]:
        x.grad = None
        out[0, 0, origin[0] : origin[0] + window[0], origin[1] : origin[1] + window[1]].sum().backward(retain_graph=True)
        rows, cols = x.grad[0, 0].abs().sum(1).nonzero()[:, 0], x.grad[0, 0].abs().sum(0).nonzero()[:, 0]
        start, extent = input_window(origin, window, window_geometry(conv))
        # Within the map, the read rows are the window's (the rest of it lies in the padding).
        _check(rows.tolist(), range(start[0], start[0] + extent[0]), size[0], _dense(geometry, 0))
        _check(cols.tolist(), range(start[1], start[1] + extent[1]), size[1], _dense(geometry, 1))
        assert rows.numel() and cols.numel()
        for d, found in enumerate((rows.tolist(), cols.tolist())):  # both ends are read where they lie in the map
            ends = {start[d], start[d] + extent[d] - 1} & set(range(size[d]))
            assert ends <= set(found)
        batched, same = input_window(torch.tensor([origin, origin]), window, window_geometry(conv))
        assert batched.tolist() == [list(start)] * 2 and same == extent


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_changed_outputs_is_the_projective_field(geometry):
    conv, size = _conv(geometry), (15, 16)
    clean = conv(torch.zeros(1, 1, *size, dtype=torch.float64))
    ones = torch.ones(1, 1, *size, dtype=torch.float64, requires_grad=True)
    conv(ones).sum().backward()
    read = [set(ones.grad[0, 0].sum(1 - d).nonzero()[:, 0].tolist()) for d in range(2)]  # rows (cols) any output reads
    for (top, left), (h, w) in itertools.product([(0, 0), (4, 7), (size[0] - 2, size[1] - 1)], [(1, 1), (2, 3)]):
        x = torch.zeros(1, 1, *size, dtype=torch.float64)
        x[..., top : top + h, left : left + w] = 1.0
        changed = (conv(x) != clean)[0, 0]
        first, last = changed_outputs(torch.tensor([[top, left]]), (h, w), window_geometry(conv))
        first = first.clamp_min(0)[0]
        last = torch.minimum(last[0], torch.tensor(changed.shape) - 1)
        rows, cols = changed.any(1).nonzero()[:, 0], changed.any(0).nonzero()[:, 0]
        # Tight where every row is read and the change touches read rows and columns; a superset otherwise
        # (a change that no window reads changes nothing, and the engine recomputes one output).
        seen = all(read[d] & set(range(start, start + extent)) for d, (start, extent) in enumerate(((top, h), (left, w))))
        for d, found in enumerate((rows, cols)):
            _check(found.tolist(), range(int(first[d]), int(last[d]) + 1), changed.shape[d], _dense(geometry, d) and seen)


def test_pools_share_the_arithmetic():
    pool = nn.MaxPool2d(3, 2, 1)
    assert input_window((4, 5), (2, 2), window_geometry(pool)) == ((7, 9), (5, 5))
    assert F.max_pool2d(torch.zeros(1, 1, 9, 9), 3, 2, 1).shape[-1] == 5
