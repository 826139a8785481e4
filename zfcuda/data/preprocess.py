"""The paper's preprocessing in torch + PIL: canonical 256x256 images, random 224 crops with flips
for training, the 10 crops for evaluation, the centre crop a figure shows, and the way back from a
model input to a displayable picture.

Images are scaled to [0, 1] before the mean image is subtracted.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import Tensor

CANONICAL_SIZE = 256  # short side resized to this, then centre-cropped square (the paper's preprocessing)
CROP_SIZE = 224
CENTRE = (CANONICAL_SIZE - CROP_SIZE) // 2  # offset of the centre crop in the canonical image


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


def model_input(canonical: Tensor, mean: Tensor) -> Tensor:
    """The centre 224 crop of canonical uint8 images (Tensor[N, 3, 256, 256]), mean subtracted."""
    return ten_crops(canonical, mean)[:, 4]


def centre_mean(mean: Tensor) -> Tensor:
    """The part of the mean image (Tensor[3, 256, 256]) under the centre crop."""
    return mean[:, CENTRE : CENTRE + CROP_SIZE, CENTRE : CENTRE + CROP_SIZE]


def photo_input(image: Image.Image, mean: Tensor) -> tuple[Tensor, np.ndarray]:
    """A photo as ZF-Net's input (Tensor[3, 224, 224]: the canonical image's centre crop minus the
    mean image) and the same crop as HxWx3 uint8 for figures."""
    x = model_input(canonical_image(image)[None], mean)[0]
    return x, image_to_rgb(x, centre_mean(mean))


def image_to_rgb(image: Tensor, mean: Tensor | None = None) -> np.ndarray:
    """A model input (Tensor[3, H, W], mean-subtracted when ``mean`` is given) as uint8 HxWx3."""
    x = image.detach().float().cpu()
    if mean is not None:
        x = x + mean.float().cpu()
    return (x.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
