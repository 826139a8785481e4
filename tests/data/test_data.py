"""The paper's preprocessing: image folders, canonical images, mean image, crops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from zfcuda.data import (
    ImageFolder,
    canonical_image,
    collate_skipping,
    crop_offsets,
    mean_image,
    ten_crops,
    train_crops,
)


def _folder(tmp_path, classes=("cat", "dog"), per_class=3, size=(40, 30), corrupt=0):
    rng = np.random.default_rng(0)
    for name in classes:
        (tmp_path / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.png")
    for i in range(corrupt):
        (tmp_path / classes[0] / f"broken{i}.jpg").write_bytes(b"not an image")
    return tmp_path


def test_canonical_image_resizes_short_side_and_centre_crops():
    wide = Image.fromarray(np.zeros((100, 300, 3), dtype=np.uint8))
    assert canonical_image(wide).shape == (3, 256, 256)
    tiny = Image.fromarray(np.full((32, 32, 3), 7, dtype=np.uint8))  # CIFAR-size: resized up
    out = canonical_image(tiny)
    assert out.dtype == torch.uint8 and out.shape == (3, 256, 256) and (out == 7).all()


def test_image_folder_layout_and_labels(tmp_path):
    data = ImageFolder(_folder(tmp_path))
    assert data.classes == ["cat", "dog"] and len(data) == 6
    image, label, index = data[4]
    assert image.shape == (3, 256, 256) and label == 1 and index == 4


def test_unreadable_images_are_skipped_and_counted(tmp_path):
    data = ImageFolder(_folder(tmp_path, corrupt=2))
    with pytest.warns(UserWarning, match="skipping unreadable image"):
        items = [data[i] for i in range(len(data))]
    images, labels, indices, skipped = collate_skipping(items)
    assert skipped == 2 and images.shape[0] == 6 and len(labels) == len(indices) == 6


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda p: ImageFolder(p / "missing"), FileNotFoundError, "does not exist"),
        (lambda p: ImageFolder(p), ValueError, "no class folders"),
        (lambda p: (p / "cat").mkdir() or ImageFolder(p), ValueError, "holds no images"),
        (lambda p: ImageFolder(_folder(p), classes=["cat", "cow"]), ValueError, "cow"),
    ],
)
def test_bad_folders(tmp_path, make, error, message):
    with pytest.raises(error, match=message):
        make(tmp_path)


def test_mean_image_against_numpy_and_cached(tmp_path):
    data = ImageFolder(_folder(tmp_path / "data"))
    mean = mean_image(data, cache_dir=tmp_path / "cache", batch_size=4)
    stack = np.stack([data[i][0].numpy() for i in range(len(data))]).astype(np.float64)
    np.testing.assert_allclose(mean.numpy(), stack.mean(0) / 255, rtol=1e-6)
    cached = list((tmp_path / "cache").glob("mean-*.pt"))
    assert len(cached) == 1 and torch.equal(mean_image(data, cache_dir=tmp_path / "cache"), mean)


def test_crop_offsets_depend_only_on_seed_epoch_and_index():
    indices = torch.arange(1000)
    offsets = crop_offsets(indices, seed=3, epoch=2)
    assert offsets.shape == (1000, 3)
    assert (offsets[:, :2] >= 0).all() and (offsets[:, :2] <= 32).all() and set(offsets[:, 2].tolist()) == {0, 1}
    assert torch.equal(crop_offsets(indices[500:], 3, 2), offsets[500:])  # any sharding gives the same crops
    assert not torch.equal(crop_offsets(indices, 3, 3), offsets)
    # Roughly uniform over the 33 positions.
    assert len(offsets[:, 0].unique()) == 33


def test_train_crops_and_ten_crops_against_direct_slicing():
    images = torch.randint(0, 256, (2, 3, 256, 256), dtype=torch.uint8)
    mean = torch.rand(3, 256, 256)
    centred = images.float() / 255 - mean
    offsets = torch.tensor([[5, 7, 0], [32, 0, 1]])
    crops = train_crops(images, mean, offsets)
    assert torch.equal(crops[0], centred[0, :, 5:229, 7:231])
    assert torch.equal(crops[1], centred[1, :, 32:256, 0:224].flip(-1))
    tens = ten_crops(images, mean)
    assert tens.shape == (2, 10, 3, 224, 224)
    expected = [centred[:, :, t : t + 224, l : l + 224] for t, l in [(0, 0), (0, 32), (32, 0), (32, 32), (16, 16)]]
    for i, crop in enumerate(expected):
        assert torch.equal(tens[:, i], crop) and torch.equal(tens[:, i + 5], crop.flip(-1))
