"""Feature evolution (Fig. 4) from training snapshots, and loading checkpoints for analysis."""

from __future__ import annotations

import pytest
import torch

from zfcuda import DeconvNet
from zfcuda.analysis.feature_evolution import feature_evolution
from zfcuda.data import model_input
from zfcuda.figures.evolution import evolution_grid
from zfcuda.models import ZFNet
from zfcuda.models.pretrained import export, load_checkpoint


def _snapshot(path, epoch: int, seed: int):
    torch.manual_seed(seed)
    model = ZFNet(3, width=0.1, init="kaiming")
    state = {"model": model.state_dict(), "optimizer": {}, "scheduler": {}, "epochs_done": epoch, "mean": torch.rand(3, 256, 256) * 0.2 + 0.4,
             "classes": ["a", "b", "c"], "config": {}, "history": [], "arch": {"name": "ZFNet", "num_classes": 3, "width": 0.1, "dropout": 0.5}}
    torch.save(state, path)
    return path


def test_each_cell_is_the_strongest_activation_projected(tmp_path):
    paths = [_snapshot(tmp_path / f"s{e}.pt", e, seed=e) for e in (4, 1, 2)]  # out of order on purpose
    images = (torch.rand(3, 3, 256, 256) * 255).byte()
    result = feature_evolution(paths, images, layer="conv3", count=2)
    assert result.epochs == [1, 2, 4] and result.layer == "conv3" and result.projections.shape == (3, 2, 3, 224, 224)
    for s, epoch in enumerate(result.epochs):
        net = load_checkpoint(tmp_path / f"s{epoch}.pt")
        deconv = DeconvNet(net.model)
        x = model_input(images, net.mean)
        activation, _ = deconv.forward(x, "conv3")
        for m, channel in enumerate(result.maps):
            strongest = activation[:, channel].flatten(1).amax(1)
            n = int(strongest.argmax())
            assert result.image_ids[s, m] == n and result.values[s, m] == pytest.approx(float(strongest[n]))
            expected = deconv.project(x[n : n + 1], "conv3", channel=channel)[0]
            torch.testing.assert_close(result.projections[s, m], expected)
    grid = evolution_grid(result, cell=40)
    assert grid.size == (3 * 42, 2 * 42)


def test_chosen_maps_and_bad_input(tmp_path):
    path = _snapshot(tmp_path / "s.pt", 1, seed=0)
    images = (torch.rand(2, 3, 256, 256) * 255).byte()
    assert feature_evolution([path], images, layer="conv1", maps=[3, 0]).maps == [3, 0]
    with pytest.raises(ValueError, match="snapshots is empty"):
        feature_evolution([], images)
    with pytest.raises(ValueError, match="maps must be channels of conv1"):
        feature_evolution([path], images, layer="conv1", maps=[10_000])
    with pytest.raises(ValueError, match="non-empty"):
        feature_evolution([path], images[:0])
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a zfcuda training checkpoint, snapshot or exported model"):
        load_checkpoint(tmp_path / "other.pt")


def test_an_export_stands_in_for_the_snapshot_of_its_epoch(tmp_path):
    """A model continued from an export has its earlier epochs only as that export (float16 weights)."""
    snapshot = _snapshot(tmp_path / "s3.pt", 3, seed=3)
    exported = export(snapshot, tmp_path / "export.pt", {"top1_error": 0.5})
    later = _snapshot(tmp_path / "s5.pt", 5, seed=5)
    net = load_checkpoint(exported)
    assert net.training["epochs_done"] == 3 and net.metrics == {"top1_error": 0.5}
    images = (torch.rand(2, 3, 256, 256) * 255).byte()
    from_export = feature_evolution([later, exported], images, layer="conv2", count=2)
    from_snapshot = feature_evolution([later, snapshot], images, layer="conv2", count=2)
    assert from_export.epochs == [3, 5] and from_export.maps == from_snapshot.maps
    torch.testing.assert_close(from_export.values, from_snapshot.values, rtol=2e-2, atol=2e-2)  # float16 weights
