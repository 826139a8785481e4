"""The deconv and top9 commands end to end on a small exported model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from zfcuda import pretrained, viz
from zfcuda.cli import main
from zfcuda.models import ZFNet


@pytest.fixture
def exported(tmp_path):
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


def _photos(root, count=6):
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(count // 2):
            Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(root / name / f"{i}.png")
    return root


def test_deconv_command_writes_a_figure(tmp_path, exported):
    _photos(tmp_path / "data")
    out = tmp_path / "fig.png"
    assert main(["deconv", str(tmp_path / "data" / "a" / "0.png"), "--layer", "3", "--maps", "3", "--out", str(out), "--model", str(exported)]) == 0
    figure = Image.open(out)
    assert figure.size[0] > 3 * figure.size[1]  # input and three projections side by side


def test_top9_command_writes_one_grid_per_layer(tmp_path, exported):
    data = _photos(tmp_path / "data", count=12)
    assert main(["top9", str(data), "--layers", "2", "conv5", "--maps", "3", "--out", str(tmp_path / "grids"), "--model", str(exported)]) == 0
    for name in ("conv2", "conv5"):
        grid = Image.open(tmp_path / "grids" / f"top9_{name}.png")
        assert grid.size[1] > grid.size[0]  # three rows of 3x3 pairs
        assert np.asarray(grid).std() > 10  # not blank


def test_projection_display_normalisation():
    p = torch.zeros(3, 4, 4)
    p[0, 1, 1], p[1, 2, 2] = 2.0, -1.0
    rgb = viz.projection_to_rgb(p)
    assert rgb[0, 0].tolist() == [128, 128, 128] and rgb[1, 1, 0] == 255 and rgb[2, 2, 1] == 64
