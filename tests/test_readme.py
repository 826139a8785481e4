"""Every Python block of the README runs as written, on small stand-ins for the variables it leaves
to the reader (``model``, ``images``, ...), so an import path or a signature that drifts fails here."""

from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from torch import nn

import zfcuda
from zfcuda.models import ZFNet, pretrained
from zfcuda.models.resnet_shaped import resnet18
from zfcuda.models.torchvision_shaped import alexnet

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def _tiny_named_cnn() -> nn.Sequential:
    """conv1 ... relu5 with a head, on 32x32 inputs: the layer names the README's occlusion call uses."""
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    channels = 3
    for i in range(1, 6):
        layers[f"conv{i}"], layers[f"relu{i}"] = nn.Conv2d(channels, 8, 3, padding=1), nn.ReLU()
        if i in (1, 2):
            layers[f"pool{i}"] = nn.MaxPool2d(2)
        channels = 8
    layers["flatten"], layers["fc"] = nn.Flatten(), nn.Linear(8 * 8 * 8, 10)
    return nn.Sequential(layers).eval()


def _snapshot(path: Path, epochs_done: int) -> None:
    """A training checkpoint as ``zfcuda train --snapshots`` writes it."""
    torch.manual_seed(epochs_done)
    model = ZFNet(2, width=0.125, init="kaiming")
    torch.save({"arch": {"name": "ZFNet", "num_classes": 2, "width": 0.125, "dropout": 0.5}, "model": model.state_dict(),
                "optimizer": torch.optim.SGD(model.parameters(), lr=0.01).state_dict(), "mean": torch.full((3, 256, 256), 0.5),
                "classes": ["a", "b"], "config": {}, "epochs_done": epochs_done, "history": []}, path)


def _namespace(block: str, tmp_path: Path, exported: Path) -> dict:
    """What the block uses but does not define, chosen by what the block does."""
    space: dict = {"torch": torch, "zfcuda": zfcuda, "Path": Path}
    small = ZFNet(2, width=0.125, init="kaiming").eval()
    if "zfcuda.occlusion(model, image" in block:
        space.update(model=_tiny_named_cnn(), image=torch.rand(3, 32, 32), images=torch.rand(2, 3, 32, 32))
    elif "deconv = zfcuda.DeconvNet(model)" in block:
        space.update(model=ZFNet(10, width=0.25).eval(), images=torch.rand(2, 3, 224, 224))
    elif "invariance(model, images" in block:
        space.update(model=small, images=torch.rand(2, 3, 224, 224))
    elif "correspondence(model, faces" in block:
        boxes = torch.tensor([[60, 50, 30, 30], [70, 60, 30, 30], [65, 55, 30, 30]])
        runs = tmp_path / "runs" / "x"
        runs.mkdir(parents=True)
        for epoch in (1, 2):
            _snapshot(runs / f"snapshot-epoch{epoch:03d}.pt", epoch)
        labels = torch.arange(2).repeat_interleave(32)
        space.update(model=small, faces=torch.rand(3, 3, 224, 224), boxes_le=boxes, boxes_re=boxes + 20, boxes_n=boxes + 40,
                     canonical_images=torch.randint(0, 256, (4, 3, 256, 256), dtype=torch.uint8), labels=labels,
                     images=torch.randint(0, 256, (len(labels), 3, 256, 256), dtype=torch.uint8), net=pretrained.load(exported))
    elif "from zfcuda.captum import" in block:
        space.update(model=resnet18(5, width=8).eval(), images=torch.rand(2, 3, 64, 64))
    elif "ZFNet(num_classes=1000" in block:
        space.update(images=torch.rand(1, 3, 224, 224), torchvision_alexnet=alexnet())
    return space


def test_the_readme_has_the_blocks_this_test_knows():
    assert len(BLOCKS) == 7, "a Python block was added to or removed from the README: teach _namespace about it"


@pytest.mark.parametrize("block", BLOCKS, ids=[b.splitlines()[0][:40] for b in BLOCKS])
def test_readme_block_runs(block, tmp_path, monkeypatch, exported):
    monkeypatch.chdir(tmp_path)  # blocks that write figures write them here
    torch.manual_seed(0)
    exec(compile(block, str(README), "exec"), _namespace(block, tmp_path, exported))
