"""Transfer protocol (Tables 4-5): split logic, the softmax on fixed features, the from-scratch baseline."""

from __future__ import annotations

import pytest
import torch

from zfcuda.analysis.transfer import TransferResult, fc7_features, from_scratch, softmax_on_features, transfer_splits
from zfcuda.models import ZFNet


def test_splits_are_disjoint_cover_everything_and_reproduce():
    labels = torch.tensor([0] * 7 + [1] * 9 + [2] * 6)
    splits = transfer_splits(labels, per_class=3, splits=5, seed=4)
    assert len(splits) == 5
    for train, test in splits:
        assert set(train.tolist()).isdisjoint(test.tolist())
        assert sorted(train.tolist() + test.tolist()) == list(range(len(labels)))
        assert torch.bincount(labels[train]).tolist() == [3, 3, 3]
    again = transfer_splits(labels, per_class=3, splits=5, seed=4)
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(splits, again))
    assert len({tuple(train.tolist()) for train, _ in splits}) > 1  # the splits differ


@pytest.mark.parametrize("per_class, message", [(6, "class 2 has 6 images"), (0, "must be >= 1")])
def test_bad_per_class(per_class, message):
    with pytest.raises(ValueError, match=message):
        transfer_splits(torch.tensor([0] * 7 + [1] * 9 + [2] * 6), per_class=per_class)


def test_softmax_on_separable_features_is_perfect_and_on_noise_near_chance():
    torch.manual_seed(0)
    labels = torch.arange(3).repeat_interleave(40)
    separable = torch.randn(120, 16) + 6 * torch.nn.functional.one_hot(labels, 16)
    splits = transfer_splits(labels, per_class=10, splits=3)
    assert softmax_on_features(separable, labels, splits).tolist() == [1.0, 1.0, 1.0]
    noise = softmax_on_features(torch.randn(120, 16), labels, splits)
    assert noise.mean() < 0.6
    result = TransferResult(10, torch.tensor([0.5, 0.7]), "fixed features + softmax")
    assert result.mean == pytest.approx(0.6) and result.std == pytest.approx(0.1414, abs=1e-4)


def test_fc7_features_are_the_relu7_output_of_centre_crops():
    torch.manual_seed(0)
    model = ZFNet(4, width=0.05, init="kaiming").eval()
    images, mean = (torch.rand(3, 3, 256, 256) * 255).byte(), torch.rand(3, 256, 256)
    features = fc7_features(model, images, mean, batch_size=2)
    centre = images[:, :, 16:240, 16:240].float() / 255 - mean[:, 16:240, 16:240]
    torch.testing.assert_close(features, model.features(centre, upto="relu7")["relu7"].detach())


def test_from_scratch_runs_on_each_split():
    torch.manual_seed(0)
    images = (torch.rand(8, 3, 256, 256) * 255).byte()
    labels = torch.tensor([0, 1] * 4)
    splits = transfer_splits(labels, per_class=2, splits=2)
    accuracies = from_scratch(images, labels, splits, torch.full((3, 256, 256), 0.5), width=0.05, epochs=1, batch_size=4)
    assert accuracies.shape == (2,) and ((accuracies >= 0) & (accuracies <= 1)).all()
