"""One image per unit: its top-k receptive-field patches in the first row, their deconvnet projections
in the second, each in a square cell (the patch scaled to fit, centred on grey)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

FORMATS = {"jpeg": ("jpg", {"quality": 85, "optimize": True}), "webp": ("webp", {"quality": 80, "method": 4})}
EMPTY = (238, 238, 238)  # a cell with no image (fewer images scanned than k)


def _cell(picture: np.ndarray | None, size: int) -> Image.Image:
    cell = Image.new("RGB", (size, size), EMPTY)
    if picture is None or picture.size == 0:
        return cell
    image = Image.fromarray(picture)
    scale = size / max(image.size)
    resized = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                           Image.BICUBIC if scale > 1 else Image.LANCZOS)
    cell.paste(resized, ((size - resized.width) // 2, (size - resized.height) // 2))
    return cell


def unit_sprite(patches: list[np.ndarray | None], projections: list[np.ndarray | None], k: int, cell: int) -> Image.Image:
    """Patches (row 1) over projections (row 2), k cells of ``cell`` x ``cell`` px each: an image of (k * cell) x (2 * cell)."""
    sprite = Image.new("RGB", (k * cell, 2 * cell), EMPTY)
    for row, pictures in enumerate((patches, projections)):
        for column in range(k):
            picture = pictures[column] if column < len(pictures) else None
            sprite.paste(_cell(picture, cell), (column * cell, row * cell))
    return sprite


def save_sprite(sprite: Image.Image, path: Path, image_format: str = "jpeg") -> Path:
    """Writes the sprite as JPEG or WebP (a PNG of photos is about 10x larger); returns the path written."""
    if image_format not in FORMATS:
        raise ValueError(f"image_format must be one of {', '.join(FORMATS)}, got {image_format!r}")
    suffix, options = FORMATS[image_format]
    path = path.with_suffix(f".{suffix}")
    path.parent.mkdir(parents=True, exist_ok=True)
    sprite.save(path, format=image_format.upper(), **options)
    return path
