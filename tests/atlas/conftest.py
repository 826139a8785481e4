"""A small atlas built once for the tests that read it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

MODEL = "tests.helpers.nets:atlas_cnn"
SIZE = 48


def write_images(root, per_class=4, classes=("cat", "dog", "sea"), corrupt=0, seed=0):
    """Photos-like random images (smooth blobs) in class folders, some of them unreadable."""
    rng = np.random.default_rng(seed)
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
            Image.fromarray(small).resize((40 + 3 * i, 36), Image.BICUBIC).save(root / name / f"{i}.png")
    for i in range(corrupt):
        (root / classes[0] / f"broken{i}.jpg").write_bytes(b"not an image")
    return root


@pytest.fixture(scope="session")
def small_atlas(tmp_path_factory):
    from zfcuda.atlas import build

    root = tmp_path_factory.mktemp("atlas")
    data = write_images(root / "data", corrupt=1)
    with pytest.warns(UserWarning, match="skipping unreadable image"):
        summary = build(data, root / "site", model=MODEL, layers=["conv2", "relu3"], k=3, batch_size=5, input_size=SIZE,
                        cell=24, show_progress=False)
    return summary, data
