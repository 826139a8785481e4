"""Fixtures shared by the tests: the device (with the CPU running the GPU's per-element bodies), the seed,
and a small exported ZF-Net. Plain helpers live in ``tests/helpers``."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.inputs import DEVICES


@pytest.fixture(params=DEVICES)
def device(request):
    if request.param != "cpu-body":
        yield request.param
        return
    from zfcuda import _C

    _C._set_cpu_fast_paths(False)
    try:
        yield "cpu"
    finally:
        _C._set_cpu_fast_paths(True)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def exported(tmp_path):
    """A small ZF-Net (2 classes "a" and "b", random weights) exported like the shipped model."""
    from zfcuda.models import ZFNet, pretrained

    torch.manual_seed(0)
    model = ZFNet(2, width=0.125, init="kaiming")
    checkpoint = {
        "arch": {"name": "ZFNet", "num_classes": 2, "width": 0.125, "dropout": 0.5},
        "model": model.state_dict(),
        "mean": torch.full((3, 256, 256), 0.5),
        "classes": ["a", "b"],
        "config": {},
        "epochs_done": 0,
        "history": [],
    }
    torch.save(checkpoint, tmp_path / "checkpoint.pt")
    return pretrained.export(tmp_path / "checkpoint.pt", tmp_path / "model.pt")
