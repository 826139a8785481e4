"""The deconv and top9 commands end to end on a small exported model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from zfcuda.app.cli import main
from zfcuda.figures import projections as viz


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
    image = str(tmp_path / "data" / "a" / "0.png")
    assert main(["deconv", image, "--layer", "3", "--maps", "3", "--out", str(out), "--model", str(exported), "--no-overlay"]) == 0
    figure = Image.open(out)
    assert figure.size[0] > 3 * figure.size[1]  # input and three projections side by side
    assert main(["deconv", image, "--layer", "3", "--maps", "3", "--out", str(out), "--model", str(exported)]) == 0
    with_overlays = Image.open(out)
    assert with_overlays.size[0] == figure.size[0] and with_overlays.size[1] > 1.8 * figure.size[1]  # a second row


def test_projection_overlay_shows_the_image_where_the_projection_is_zero():
    image = np.full((6, 6, 3), 200, dtype=np.uint8)
    image[:, :, 0] = 40
    projection = torch.zeros(3, 6, 6)
    projection[:, 2, 3] = torch.tensor([1.0, -1.0, 0.5])
    overlay = viz.projection_overlay(image, projection)
    assert overlay.shape == image.shape and overlay.dtype == np.uint8
    grey = image.astype(float).mean(2) * 0.6 + 51
    assert np.allclose(overlay[0, 0], grey[0, 0], atol=1)  # faded grey image, colours gone
    strong = viz.projection_to_rgb(projection)[2, 3].astype(float)
    assert np.allclose(overlay[2, 3], 0.85 * strong + 0.15 * grey[2, 3], atol=1)


def test_top9_command_writes_one_grid_per_layer(tmp_path, exported):
    data = _photos(tmp_path / "data", count=12)
    assert main(["top9", str(data), "--layers", "2", "conv5", "--maps", "3", "--out", str(tmp_path / "grids"), "--model", str(exported)]) == 0
    for name in ("conv2", "conv5"):
        grid = Image.open(tmp_path / "grids" / f"top9_{name}.png")
        assert grid.size[1] > grid.size[0]  # three rows of 3x3 pairs
        assert np.asarray(grid).std() > 10  # not blank


def _grids(folder):
    return {name: np.asarray(Image.open(folder / f"top9_{name}.png")) for name in ("conv2", "conv5")}


def test_top9_command_under_torchrun_and_resumed_equals_one_process(tmp_path, exported):
    import subprocess
    import sys

    data = _photos(tmp_path / "data", count=12)
    common = ["--layers", "2", "5", "--maps", "3", "--model", str(exported), "--batch-size", "2", "--device", "cpu"]
    assert main(["top9", str(data), "--out", str(tmp_path / "one"), *common]) == 0
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "zfcuda", "top9", str(data), "--out", str(tmp_path / "two"), *common]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    one, two = _grids(tmp_path / "one"), _grids(tmp_path / "two")
    assert all(np.array_equal(one[name], two[name]) for name in one)
    # A finished scan's checkpoint resumes to the same figures without rescanning.
    checkpoint = tmp_path / "scan.pt"
    assert main(["top9", str(data), "--out", str(tmp_path / "first"), "--checkpoint", str(checkpoint), *common]) == 0
    assert main(["top9", str(data), "--out", str(tmp_path / "resumed"), "--checkpoint", str(checkpoint), "--resume", *common]) == 0
    resumed = _grids(tmp_path / "resumed")
    assert all(np.array_equal(one[name], resumed[name]) for name in one)
    changed = ["--batch-size" if arg == "--batch-size" else ("3" if prev == "--batch-size" else arg) for prev, arg in zip([""] + common, common)]
    with pytest.raises(ValueError, match="resume with the same --batch-size"):
        main(["top9", str(data), "--out", str(tmp_path / "bad"), "--checkpoint", str(checkpoint), "--resume", *changed])


def test_projection_display_normalisation():
    p = torch.zeros(3, 4, 4)
    p[0, 1, 1], p[1, 2, 2] = 2.0, -1.0
    rgb = viz.projection_to_rgb(p, percentile=100)
    assert rgb[0, 0].tolist() == [128, 128, 128] and rgb[1, 1, 0] == 255 and rgb[2, 2, 1] == 64
    # With the default percentile a single outlier is clipped instead of greying out the rest.
    q = torch.linspace(-1, 1, 300).view(3, 10, 10)
    q[0, 0, 0] = 100.0
    rgb = viz.projection_to_rgb(q)
    assert rgb[0, 0, 0] == 255 and rgb[9, 9, 2] > 250 and rgb[0, 1, 0] < 5
