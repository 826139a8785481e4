"""The ZF-Net shipped inside the package loads on its own and carries what inference needs."""

from __future__ import annotations

import torch

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
