"""The paper's data pipeline in torch + PIL: image folders, canonical 256x256 images, the per-pixel
mean image, random 224 crops with flips for training and the 10 crops for evaluation.

Images are scaled to [0, 1] before the mean is subtracted. torchvision is not used: it installs
only beside the CUDA build of torch here, not beside the CPU wheel (see the README).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".webp", ".gif", ".tif", ".tiff"}
CANONICAL_SIZE = 256  # short side resized to this, then centre-cropped square (the paper's preprocessing)
CROP_SIZE = 224


def canonical_image(image: Image.Image, size: int = CANONICAL_SIZE) -> Tensor:
    """Resizes the short side to ``size``, centre-crops a square: uint8 Tensor[3, size, size]."""
    image = image.convert("RGB")
    w, h = image.size
    scale = size / min(w, h)
    image = image.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BILINEAR)
    w, h = image.size
    left, top = (w - size) // 2, (h - size) // 2
    image = image.crop((left, top, left + size, top + size))
    return torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).view(size, size, 3).permute(2, 0, 1).contiguous()


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


def mean_image(dataset: ImageFolder, cache_dir: str | Path | None = None, batch_size: int = 256, workers: int = 0) -> Tensor:
    """The per-pixel mean of the canonical images, float32 Tensor[3, 256, 256] in [0, 1].

    Computed once (in float64) and cached under ``cache_dir`` keyed by the file list.
    """
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"mean-{dataset.fingerprint()}.pt"
        if cache.exists():
            return torch.load(cache)
    total = torch.zeros(3, CANONICAL_SIZE, CANONICAL_SIZE, dtype=torch.float64)
    count = 0
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers, collate_fn=collate_skipping)
    for images, _, _, _ in progress(loader, "mean image", leave=False):
        total += images.double().sum(0)
        count += images.shape[0]
    if count == 0:
        raise ValueError(f"no readable image in {dataset.root} to compute the mean image from")
    mean = (total / count / 255).float()
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save(mean, cache)
    return mean


def progress(iterable, description: str, show: bool = True, leave: bool = True, total: int | None = None):
    """A tqdm progress bar over ``iterable`` (hidden when ``show`` is False, e.g. on ranks other than 0);
    ``total`` gives its length when the iterable has none (a generator)."""
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=description, disable=not show, leave=leave, dynamic_ncols=True, total=total)


def crop_offsets(indices: Tensor, seed: int, epoch: int, size: int = CANONICAL_SIZE, crop: int = CROP_SIZE) -> Tensor:
    """Random (top, left, flip) per sample, a function of (seed, epoch, sample index) only.

    Tying the randomness to the sample rather than to a stream makes training identical however
    the data is sharded across processes. Returns int64 Tensor[B, 3].
    """
    # A fixed integer hash (splitmix64-style mixing in int64 arithmetic) of (seed, epoch, index).
    x = indices.long() * 0x9E3779B1 + (seed * 1_000_003 + epoch) * 0x85EBCA77
    x = (x ^ (x >> 15)) * 0x2C1B3C6D
    x = (x ^ (x >> 12)) * 0x297A2D39
    x = (x ^ (x >> 15)).abs()
    span = size - crop + 1
    return torch.stack([x % span, (x // span) % span, (x // (span * span)) % 2], dim=1)


def train_crops(images: Tensor, mean: Tensor, offsets: Tensor, crop: int = CROP_SIZE) -> Tensor:
    """Mean-subtracted random crops with horizontal flips: float32 Tensor[B, 3, crop, crop].

    Args:
        images (uint8 Tensor[B, 3, 256, 256]): canonical images.
        mean (Tensor[3, 256, 256]): the mean image in [0, 1].
        offsets (Tensor[B, 3]): (top, left, flip) per image, from ``crop_offsets``.
    """
    # Crop first, then convert into a preallocated batch: no full-size float temporaries.
    out = torch.empty(images.shape[0], 3, crop, crop, device=images.device)
    for i, (top, left, flip) in enumerate(offsets.tolist()):
        window = (slice(None), slice(top, top + crop), slice(left, left + crop))
        patch, patch_mean = images[i][window], mean[window]
        if flip:
            patch, patch_mean = patch.flip(-1), patch_mean.flip(-1)
        out[i].copy_(patch).div_(255).sub_(patch_mean)
    return out


def ten_crops(images: Tensor, mean: Tensor, crop: int = CROP_SIZE) -> Tensor:
    """The paper's test-time crops: 4 corners and the centre, each also flipped.

    Args:
        images (uint8 Tensor[B, 3, S, S]): canonical images.
        mean (Tensor[3, S, S]): the mean image in [0, 1].

    Returns:
        float32 Tensor[B, 10, 3, crop, crop]: corners (tl, tr, bl, br), centre, then their mirror images.
    """
    size = images.shape[-1]
    far, mid = size - crop, (size - crop) // 2
    corners = [(0, 0), (0, far), (far, 0), (far, far), (mid, mid)]
    crops = torch.stack(
        [images[:, :, t : t + crop, l : l + crop].float().div_(255).sub_(mean[:, t : t + crop, l : l + crop]) for t, l in corners],
        dim=1,
    )
    return torch.cat([crops, crops.flip(-1)], dim=1)
