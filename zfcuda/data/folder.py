"""Image folders as the paper's canonical images: ``root/<class>/<image>`` data sets, a collate that
skips unreadable files, and the per-pixel mean image (cached by the folder's file list).

torchvision is not used: it installs only beside the CUDA build of torch here, not beside the CPU
wheel (see the README).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from .._utils.progress import progress
from .preprocess import CANONICAL_SIZE, canonical_image

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".webp", ".gif", ".tif", ".tiff"}


class ImageFolder(Dataset):
    """``root/<class>/<image>`` as (canonical uint8 Tensor[3, 256, 256], class index) pairs.

    An unreadable image yields None (with a warning) so that a loader using ``collate_skipping``
    drops it and counts it instead of crashing mid-epoch.

    Args:
        root: the folder of class folders.
        classes: class names to use, in label order (default: every subfolder, sorted).
        per_class: keep only the first ``per_class`` images of each class (for quick runs).
    """

    def __init__(self, root: str | Path, classes: Sequence[str] | None = None, per_class: int | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"data folder {self.root} does not exist (expected {self.root}/<class>/<image>)")
        found = sorted(d.name for d in self.root.iterdir() if d.is_dir())
        self.classes = list(classes) if classes is not None else found
        missing = [c for c in self.classes if c not in found]
        if not self.classes or missing:
            raise ValueError(
                f"data folder {self.root} has no class folder{'s' if not missing else ' ' + ', '.join(missing)} "
                f"(expected {self.root}/<class>/<image>)"
            )
        self.samples: list[tuple[Path, int]] = []
        for label, name in enumerate(self.classes):
            files = sorted(p for p in (self.root / name).iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
            self.samples += [(p, label) for p in files[:per_class]]
        if not self.samples:
            raise ValueError(f"data folder {self.root} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))})")

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Tensor, int, int] | None:
        path, label = self.samples[index]
        try:
            with Image.open(path) as image:
                return canonical_image(image), label, index
        except (OSError, UnidentifiedImageError, ValueError) as error:
            warnings.warn(f"skipping unreadable image {path}: {error}", stacklevel=2)
            return None

    def fingerprint(self) -> str:
        """A short hash of the file list, to key caches of things computed over this set."""
        digest = hashlib.sha1()
        for path, label in self.samples:
            digest.update(f"{path}\0{label}\n".encode())
        return digest.hexdigest()[:16]


def collate_skipping(batch: list) -> tuple[Tensor, Tensor, Tensor, int]:
    """Stacks the readable samples: (images uint8[B, 3, 256, 256], labels[B], indices[B], skipped count)."""
    kept = [item for item in batch if item is not None]
    if not kept:
        empty = torch.empty(0, 3, CANONICAL_SIZE, CANONICAL_SIZE, dtype=torch.uint8)
        return empty, torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long), len(batch)
    images, labels, indices = zip(*kept)
    return torch.stack(images), torch.tensor(labels), torch.tensor(indices), len(batch) - len(kept)


def mean_of_batches(batches: Iterable[Tensor], source: str | Path) -> Tensor:
    """The per-pixel mean of canonical uint8 images given in batches (Tensor[B, 3, 256, 256] each),
    summed in float64: float32 Tensor[3, 256, 256] in [0, 1].

    Raises:
        ValueError: no image at all (``source`` names where they were to come from).
    """
    total = torch.zeros(3, CANONICAL_SIZE, CANONICAL_SIZE, dtype=torch.float64)
    count = 0
    for images in batches:
        total += images.double().sum(0)
        count += images.shape[0]
    if count == 0:
        raise ValueError(f"no readable image in {source} to compute the mean image from")
    return (total / count / 255).float()


def mean_image(dataset: ImageFolder, cache_dir: str | Path | None = None, batch_size: int = 256, workers: int = 0) -> Tensor:
    """The per-pixel mean of the canonical images, float32 Tensor[3, 256, 256] in [0, 1].

    Computed once (in float64) and cached under ``cache_dir`` keyed by the file list.
    """
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"mean-{dataset.fingerprint()}.pt"
        if cache.exists():
            return torch.load(cache)
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers, collate_fn=collate_skipping)
    mean = mean_of_batches((images for images, _, _, _ in progress(loader, "mean image", leave=False)), dataset.root)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save(mean, cache)
    return mean
