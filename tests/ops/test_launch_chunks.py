"""Launches cut into int32 chunks: every op gives the same result when each chunk holds one plane.

Real chunks only start past 2^31 elements, too large for a test, so the limit is lowered through
``zfcuda._C._set_max_chunk_elements``; the pointer offsets of every chunk after the first are then
exercised on small tensors (on the CPU, in the mode that runs the GPU's tasks).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from zfcuda import _C, ops

# (kernel, stride, padding): compiled-in windows (strips) and a runtime one.
WINDOWS = [(3, 2, 0), (3, 2, 1), (2, 3, 1)]


def _unchunked_and_one_plane_chunks(fn: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    whole = fn()
    _C._set_max_chunk_elements(1)  # every chunk holds a single plane (or image)
    try:
        return whole, fn()
    finally:
        _C._set_max_chunk_elements(0)


@pytest.fixture
def task_device(device):
    if device == "cpu" and _C._cpu_fast_paths():
        pytest.skip("the CPU fast paths do not cut chunks; the cpu-body device runs the tasks")
    return device


@pytest.mark.parametrize("window", WINDOWS, ids=str)
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_pooling_ops_in_one_plane_chunks(task_device, window, layout):
    k, s, p = window
    x = torch.randn(3, 4, 13, 11, device=task_device)
    if layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    y, switches = ops.max_pool2d_switches(x, k, s, p)
    runs = [
        lambda: torch.cat([t.float().flatten() for t in ops.max_pool2d_switches(x, k, s, p)]),
        lambda: ops.unpool2d_switches(y, switches, x.shape[-2:], k, s, p),
        lambda: ops.gather2d_switches(x, switches, k, s, p),
    ]
    for run in runs:
        whole, chunked = _unchunked_and_one_plane_chunks(run)
        assert torch.equal(whole, chunked)


def test_batch_ops_in_one_image_chunks(task_device):
    image = torch.randn(3, 10, 13, device=task_device)
    positions = torch.randint(-3, 12, (6, 2), device=task_device)
    fill = torch.randn(3, device=task_device)
    patches = torch.randn(6, 3, 3, 4, device=task_device)
    crop_origins = torch.randint(-4, 10, (6, 2), device=task_device)
    for run in (
        lambda: ops.occlusion_batch(image.transpose(1, 2).contiguous().transpose(1, 2), positions, (4, 5), fill),
        lambda: ops.patched_crops(image, patches, positions, crop_origins, (5, 9), 0.0),
    ):
        whole, chunked = _unchunked_and_one_plane_chunks(run)
        assert torch.equal(whole, chunked)
