"""The project's real data (``../shared/data``, see its README) where this checkout sits beside it.

Tests that use it fall back to seeded random images elsewhere (a clean clone in CI has no data).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CIFAR = SHARED_DATA / "cifar10"


def real_images(count: int = 40) -> torch.Tensor:
    """CIFAR-10 test photos (32x32) when the data is here, else seeded random images."""
    files = sorted((CIFAR / "test" / "cat").glob("*.jpg"))[: count // 2] + sorted((CIFAR / "test" / "ship").glob("*.jpg"))[: count // 2]
    if len(files) < count:
        return torch.rand(count, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    arrays = [np.asarray(Image.open(f).convert("RGB"), dtype=np.float32) / 255 for f in files]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
