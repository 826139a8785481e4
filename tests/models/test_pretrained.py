"""The ZF-Net shipped inside the package loads on its own and carries what inference needs."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.shared_data import CIFAR
from zfcuda.models import ZFNet, pretrained

CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def test_shipped_model_loads_and_predicts():
    assert pretrained.SHIPPED.stat().st_size < 10 * 2**20
    net = pretrained.load()
    assert isinstance(net.model, ZFNet) and not net.model.training and net.model.width == 0.25
    assert net.classes == CIFAR10 and net.mean.shape == (3, 256, 256)
    assert 0.0 < net.mean.mean() < 1.0 and "mean image" in net.preprocessing
    assert net.metrics["crops"] == 10 and net.metrics["top1_error"] < 0.5  # recorded 10-crop test error
    with torch.no_grad():
        probs = net.model(torch.zeros(2, 3, 224, 224)).softmax(1)
    assert probs.shape == (2, 10) and torch.allclose(probs.sum(1), torch.ones(2))


@pytest.mark.skipif(not CIFAR.is_dir(), reason=f"CIFAR-10 folders not found at {CIFAR}")
def test_zfcuda_evaluate_reproduces_the_shipped_metadata(capsys):
    """The shipped model states its epochs and errors; `zfcuda evaluate` on the images they name gives them again
    (to float16 rounding of the weights: a few of the 1,000 images may flip)."""
    import json

    from zfcuda.app.cli import main

    net = pretrained.load()
    assert net.training["epochs_done"] == len(net.training["history"]) == net.training["history"][-1]["epoch"]
    metrics = net.metrics
    if str(metrics["test_images"]).startswith("first 100 per class"):
        crops, expected = metrics["crops"], metrics["top1_error"]
    else:  # the whole test set's 10 crops take minutes: check the last epoch's centre-crop validation on its first 1,000
        assert net.training["config"]["val_per_class"] == 100 and net.training["config"]["val_crops"] == 1
        crops, expected = 1, net.training["history"][-1]["val"]["top1_error"]
    assert main(["evaluate", str(CIFAR / "test"), "--crops", str(crops), "--per-class", "100"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["images"] == 1000 and abs(printed["top1_error"] - expected) <= 0.005
