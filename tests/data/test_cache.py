"""The decoded-folder cache: equal to the PIL path, keyed by the folder's contents, honest about bad files."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, SequentialSampler

from tests.helpers.shared_data import CIFAR
from zfcuda.data import ImageFolder, collate_skipping
from zfcuda.data.cache import CachedBatches, cached_images, canonical_batch, content_key


def _folder(root, per_class=5, size=32, corrupt=0):
    rng = np.random.default_rng(1)
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(root / name / f"{i}.jpg", quality=90)
    for i in range(corrupt):
        (root / "dog" / f"broken{i}.jpg").write_bytes(b"not a jpeg")
    return root


def _pil_batches(folder, batch_size):
    loader = DataLoader(folder, batch_size, sampler=SequentialSampler(folder), collate_fn=collate_skipping)
    return list(loader)


@pytest.mark.parametrize("size", [32, 45])
def test_cached_batches_equal_the_pil_path(tmp_path, size):
    folder = ImageFolder(_folder(tmp_path / "data", size=size))
    cache = cached_images(folder, tmp_path / "cache")
    assert cache.images.shape == (10, 3, size, size) and cache.readable.all()
    ours = list(CachedBatches(cache, SequentialSampler(folder), 4, drop_last=False))
    for (a, la, ia, sa), (b, lb, ib, sb) in zip(ours, _pil_batches(folder, 4), strict=True):
        assert torch.equal(a, b) and torch.equal(la, lb) and torch.equal(ia, ib) and sa == sb == 0


@pytest.mark.skipif(not CIFAR.is_dir(), reason=f"CIFAR-10 folders not found at {CIFAR}")
def test_cifar_images_equal_the_pil_path(tmp_path):
    folder = ImageFolder(CIFAR / "test", per_class=20)
    cache = cached_images(folder, tmp_path)
    assert cache.images.shape[-1] == 32  # CIFAR's native size: nothing lost
    expected = torch.stack([folder[i][0] for i in range(len(folder))])
    assert torch.equal(canonical_batch(cache.images), expected)


def test_drop_last_and_sampler_order(tmp_path):
    folder = ImageFolder(_folder(tmp_path / "data"))
    cache = cached_images(folder, tmp_path / "cache")
    order = [7, 2, 9, 0, 5, 1, 3]
    batches = CachedBatches(cache, order, 3, drop_last=True)
    assert len(batches) == 2
    assert torch.cat([b[2] for b in batches]).tolist() == order[:6]
    assert len(CachedBatches(cache, order, 3, drop_last=False)) == 3


def test_cache_is_reused_then_rebuilt_when_the_folder_changes(tmp_path):
    root = _folder(tmp_path / "data")
    cache_dir = tmp_path / "cache"
    first = cached_images(ImageFolder(root), cache_dir)
    files = list(cache_dir.glob("images-*.pt"))
    assert len(files) == 1 and first.key in files[0].name
    stamp = files[0].stat().st_mtime_ns
    again = cached_images(ImageFolder(root), cache_dir)
    assert again.key == first.key and files[0].stat().st_mtime_ns == stamp  # read, not rewritten
    # Rewriting one file (same name) changes its size or mtime, hence the key.
    changed = root / "cat" / "0.jpg"
    Image.fromarray(np.zeros((32, 32, 3), dtype=np.uint8)).save(changed)
    os.utime(changed, ns=(stamp + 10**9, stamp + 10**9))
    rebuilt = cached_images(ImageFolder(root), cache_dir)
    assert rebuilt.key != first.key and (rebuilt.images[0] < 8).all()
    assert len(list(cache_dir.glob("images-*.pt"))) == 2
    # Another decode size is another cache too.
    assert content_key(ImageFolder(root), 16) != rebuilt.key


def test_unreadable_files_are_reported_kept_out_and_counted(tmp_path):
    folder = ImageFolder(_folder(tmp_path / "data", corrupt=2))
    with pytest.warns(UserWarning, match=r"2 unreadable image\(s\).*broken0.jpg"):
        cache = cached_images(folder, tmp_path / "cache")
    assert (~cache.readable).sum() == 2 and all("broken" in p for p in cache.unreadable)
    batches = list(CachedBatches(cache, SequentialSampler(folder), 12, drop_last=False))
    assert sum(b[3] for b in batches) == 2 and sum(b[0].shape[0] for b in batches) == 10
    reloaded = cached_images(folder, tmp_path / "cache")  # from the file: still marked
    assert reloaded.unreadable == cache.unreadable


def test_bad_size(tmp_path):
    with pytest.raises(ValueError, match="size must be in"):
        cached_images(ImageFolder(_folder(tmp_path / "data")), tmp_path / "cache", size=0)
