"""The atlas's scan, sprites and data against independent computations: forward hooks on the plain
model for the top activations and histograms, DeconvNet.project for the projections."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from tests.atlas.conftest import MODEL, SIZE, write_images
from tests.helpers.nets import atlas_cnn
from zfcuda.atlas import build
from zfcuda.atlas.images import AtlasImages
from zfcuda.atlas.models import UserModelView
from zfcuda.atlas.sprites import _cell
from zfcuda.deconvnet import DeconvNet
from zfcuda.figures.projections import projection_to_rgb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _data(site) -> dict:
    text = (site / "atlas-data.js").read_text()
    assert text.startswith("window.ATLAS = ") and text.rstrip().endswith(";")
    return json.loads(text[len("window.ATLAS = ") : text.rstrip().rindex(";")])


def _maps(data_dir, layer: str) -> tuple[torch.Tensor, list[str], UserModelView]:
    """Every readable image's output of ``layer`` by a forward hook on the plain model: Tensor[N, C, H, W]."""
    view = UserModelView(atlas_cnn(), "atlas_cnn", SIZE)
    images = AtlasImages(data_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unreadable file, reported by the build already
        items = [(images[i], images.name(i)) for i in range(len(images))]
    kept = [(item[0], name) for item, name in items if item is not None]
    x = view.canonical(torch.stack([image for image, _ in kept]))
    captured = []
    hook = dict(view.model.named_modules())[layer].register_forward_hook(lambda m, i, o: captured.append(o.clone()))
    with torch.no_grad():
        view.model(x)
    hook.remove()
    return captured[0], [name for _, name in kept], view


def test_top_activations_and_histograms_equal_a_plain_forward_pass(small_atlas):
    summary, data_dir = small_atlas
    site = _data(summary.index.parent)
    assert summary.images == 12 and summary.unreadable == 1 and site["images"] == 12 and site["unreadable"] == 1
    assert summary.units == 8 + 5 and [layer["name"] for layer in site["layers"]] == ["conv2", "relu3"]
    for layer in site["layers"]:
        maps, names, _ = _maps(data_dir, layer["name"])
        per_image = maps.flatten(2).amax(2)  # (N, C): each image's strongest activation of each map
        assert layer["shape"] == list(maps.shape[1:])
        for c, unit in enumerate(layer["units"]):
            order = per_image[:, c].argsort(descending=True, stable=True)[:3]
            np.testing.assert_allclose(unit["v"], per_image[order, c].numpy(), rtol=1e-3)  # 4 significant digits
            assert [site["files"][f] for f in unit["f"]] == [names[i] for i in order.tolist()]
            for value, f, (y, x) in zip(unit["v"], unit["f"], unit["p"]):  # the winners, recomputed at their positions
                assert maps[names.index(site["files"][f]), c, y, x].item() == pytest.approx(value, rel=1e-3)
            positive = per_image[:, c][per_image[:, c] > 0].double().numpy()
            expected, _ = np.histogram(positive, bins=len(unit["h"]), range=(0, unit["t"]))
            assert unit["h"] == expected.tolist() and unit["s"] == 12 - len(positive)
            assert unit["dead"] == (len(positive) == 0)


def test_sprites_hold_the_patches_and_projections_deconvnet_gives(small_atlas):
    summary, data_dir = small_atlas
    site = _data(summary.index.parent)
    layer = site["layers"][0]
    maps, names, view = _maps(data_dir, layer["name"])
    deconv = DeconvNet(view.model)
    checked = 0
    files = AtlasImages(data_dir).files
    for c in (0, 3, 7):
        unit = layer["units"][c]
        sprite = np.asarray(Image.open(summary.index.parent / "sprites" / layer["dir"] / f"{c}.jpg").convert("RGB")).astype(int)
        expected = {"patch": [], "projection": []}
        for f, (y, x) in zip(unit["f"], unit["p"]):
            image = view.canonical(AtlasImages(data_dir)[files.index(data_dir / site["files"][f])][0][None])
            top, left, bottom, right = box = deconv.receptive_field(layer["name"], y, x, image.shape[-2:])
            projection = deconv.project(image, layer["name"], channel=c, position=(y, x))[0]
            expected["projection"].append(np.asarray(_cell(projection_to_rgb(projection[:, top:bottom, left:right]), 24)).astype(int))
            expected["patch"].append(np.asarray(_cell(view.display(image[0], box), 24)).astype(int))
        for row, kind in enumerate(("patch", "projection")):
            for slot in range(len(unit["f"])):
                cell = sprite[row * 24 : row * 24 + 24, slot * 24 : slot * 24 + 24]
                errors = [np.abs(cell - other).mean() for other in expected[kind]]
                # JPEG blurs these noisy 24-px cells, yet each stays nearest to the picture it should hold.
                assert errors[slot] < 10 and errors[slot] == min(errors), (c, kind, slot, errors)
                checked += 1
    assert checked == 18


def test_rank_sum_orders_by_the_whole_map(tmp_path):
    data = write_images(tmp_path / "data", per_class=3)
    summary = build(data, tmp_path / "site", model=MODEL, layers=["relu2"], k=4, rank="sum", input_size=SIZE, cell=16,
                    show_progress=False)
    site = _data(summary.index.parent)
    maps, names, _ = _maps(data, "relu2")
    sums = maps.flatten(2).sum(2)
    for c, unit in enumerate(site["layers"][0]["units"]):
        order = sums[:, c].argsort(descending=True, stable=True)[:4]
        np.testing.assert_allclose(unit["v"], sums[order, c].numpy(), rtol=1e-3)
        assert [site["files"][f] for f in unit["f"]] == [names[i] for i in order.tolist()]
    assert site["rank"] == "sum" and site["rule"] == "deconvnet"  # the model has max pooling


def test_fewer_images_than_k_leave_cells_empty_and_resume_redraws_only_what_is_missing(tmp_path):
    data = write_images(tmp_path / "data", per_class=1, classes=("a", "b"))
    site_dir = tmp_path / "site"
    summary = build(data, site_dir, model=MODEL, layers=["conv1"], k=5, input_size=SIZE, cell=16, show_progress=False)
    unit = _data(site_dir)["layers"][0]["units"][0]
    assert len(unit["v"]) == 2
    sprite = np.asarray(Image.open(site_dir / "sprites" / "l0" / "0.jpg"))
    assert sprite.shape == (32, 80, 3) and np.abs(sprite[:, 40:].astype(int) - 238).max() < 8  # three empty cells
    kept = site_dir / "sprites" / "l0" / "1.jpg"
    stamp = kept.stat().st_mtime_ns
    (site_dir / "sprites" / "l0" / "2.jpg").unlink()
    again = build(data, site_dir, model=MODEL, layers=["conv1"], k=5, input_size=SIZE, cell=16, show_progress=False, resume=True)
    assert (site_dir / "sprites" / "l0" / "2.jpg").exists() and kept.stat().st_mtime_ns == stamp
    assert again.units == summary.units


@pytest.mark.parametrize("case, error, message", [
    ("empty", ValueError, "holds no images"),
    ("missing", FileNotFoundError, "does not exist"),
    ("layer", ValueError, "unknown layer 'conv9'"),
    ("torchscript", ValueError, "is a TorchScript file"),
    ("state dict", ValueError, "holds a OrderedDict object, not a model"),
    ("function", ValueError, "has no function 'nothing'"),
    ("k", ValueError, "k must be a positive int"),
    ("rank", ValueError, "rank must be one of"),
])
def test_bad_input_fails_before_any_scanning(tmp_path, monkeypatch, case, error, message):
    import zfcuda.atlas.pipeline as atlas_build

    monkeypatch.setattr(atlas_build, "scan_data_set", lambda *a, **k: pytest.fail("scanned before the check"))
    data = write_images(tmp_path / "data", per_class=1)
    kwargs = dict(model=MODEL, layers=["conv2"], input_size=SIZE, show_progress=False)
    if case == "empty":
        (tmp_path / "empty" / "cat").mkdir(parents=True)
        data = tmp_path / "empty"
    elif case == "missing":
        data = tmp_path / "nowhere"
    elif case == "layer":
        kwargs["layers"] = ["conv2", "conv9"]
    elif case == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated, yet users have such files
            torch.jit.script(atlas_cnn()).save(str(tmp_path / "scripted.pt"))
        kwargs["model"] = str(tmp_path / "scripted.pt")
    elif case == "state dict":
        torch.save(atlas_cnn().state_dict(), tmp_path / "weights.pt")
        kwargs["model"] = str(tmp_path / "weights.pt")
    elif case == "function":
        kwargs["model"] = "tests.helpers.nets:nothing"
    elif case == "k":
        kwargs["k"] = 0
    elif case == "rank":
        kwargs["rank"] = "mean"
    with pytest.raises(error, match=message):
        build(data, tmp_path / "site", **kwargs)


def test_a_model_the_deconvnet_cannot_invert_is_refused_before_scanning(tmp_path, monkeypatch):
    import zfcuda.atlas.pipeline as atlas_build

    monkeypatch.setattr(atlas_build, "scan_data_set", lambda *a, **k: pytest.fail("scanned before the check"))
    data = write_images(tmp_path / "data", per_class=1)
    torch.save(Sorting(), tmp_path / "sorting.pt")
    with pytest.raises(ValueError, match="cannot"):
        build(data, tmp_path / "site", model=str(tmp_path / "sorting.pt"), layers=["conv"], input_size=SIZE, show_progress=False)


class Sorting(torch.nn.Module):
    """A net whose forward sorts its maps: no deconvnet rule inverts that."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x):
        x = torch.sort(self.conv(x), dim=-1).values
        return self.fc(x.mean((2, 3)))


def test_saved_whole_model_and_torchrun_with_two_processes_equal_one(tmp_path):
    data = write_images(tmp_path / "data", per_class=3)
    torch.save(atlas_cnn(), tmp_path / "model.pt")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ROOT}
    sites = {}
    for procs in (1, 2):
        out = tmp_path / f"site{procs}"
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}", "-m", "zfcuda", "atlas",
                   str(data), "--model", str(tmp_path / "model.pt"), "--layers", "conv2", "relu3", "--k", "4", "--batch-size", "2",
                   "--input-size", str(SIZE), "--cell", "16", "--device", "cpu", "--out", str(out)]
        run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-4000:]
        assert "open file://" in run.stdout
        sites[procs] = _data(out)
    assert sites[1]["layers"] == sites[2]["layers"] and sites[1]["files"] == sites[2]["files"]
