"""Figures: deconvnet projections as the paper shows them, and Fig. 2-style top-9 grids."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from torch import Tensor

from ._mpl import pyplot, save_figure


def projection_to_rgb(projection: Tensor, percentile: float = 99.5) -> np.ndarray:
    """A projection (Tensor[3, H, W]) as uint8 HxWx3 for display: zero maps to grey, +-scale to
    white/black, each projection contrast-normalised on its own as in the paper.

    The scale is the ``percentile`` of the non-zero magnitudes rather than the maximum, so that
    a few extreme pixels do not wash the rest out to grey; larger values are clipped.
    """
    p = projection.detach().float().cpu().numpy()
    magnitudes = np.abs(p[p != 0])
    # numpy's percentile selects (O(n)) where torch.quantile sorts; both interpolate linearly.
    scale = max(float(np.percentile(magnitudes, percentile)), 1e-12) if magnitudes.size else 1.0
    pixels = np.clip(p * (0.5 / scale) + 0.5, 0, 1) * 255
    return np.rint(pixels).astype(np.uint8).transpose(1, 2, 0)


def projection_overlay(image: np.ndarray, projection: Tensor, strength: float = 0.85) -> np.ndarray:
    """A projection (Tensor[3, H, W]) over its image (HxWx3 uint8): where the projection is weak
    the image shows in faded grey, where it is strong its own colours show through.

    The weight of each pixel is its projection magnitude (summed over channels) relative to
    the largest, so the overlay shows both what the unit responds to and where it lies.
    """
    magnitude = projection.detach().float().cpu().abs().sum(0)
    weight = (magnitude / magnitude.max().clamp_min(1e-12)).sqrt().numpy()[..., None] * strength
    grey = image.astype(np.float32).mean(axis=2, keepdims=True) * 0.6 + 255 * 0.4 * 0.5
    blended = (1 - weight) * grey + weight * projection_to_rgb(projection).astype(np.float32)
    return blended.clip(0, 255).round().astype(np.uint8)


def save_projection_figure(image: np.ndarray, projections: Sequence[np.ndarray], titles: Sequence[str], path: str | Path,
                           overlays: Sequence[np.ndarray] | None = None) -> Path:
    """The input beside its projections, titled, as one PNG; with ``overlays``, a second row
    shows each projection over the image."""
    plt = pyplot()
    rows = [[image, *projections]] + ([[image, *overlays]] if overlays is not None else [])
    fig, axes = plt.subplots(len(rows), len(rows[0]), figsize=(2.6 * len(rows[0]), 2.9 * len(rows)), squeeze=False)
    for r, panels in enumerate(rows):
        suffix = "" if r == 0 else " over input"
        for ax, panel, title in zip(axes[r], panels, ["input", *[t + suffix for t in titles]]):
            ax.imshow(panel)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    return save_figure(fig, path)


def top9_grid(projections: Sequence[Sequence[np.ndarray]], patches: Sequence[Sequence[np.ndarray]], cell: int = 48,
              gap: int = 2, margin: int = 8) -> Image.Image:
    """Fig. 2 layout: one row per feature map, its 3x3 projections beside its 3x3 image patches.

    Args:
        projections, patches: per map, up to 9 HxWx3 uint8 crops (receptive-field sized).
        cell: side of each small square in pixels.
    """
    block = 3 * cell + 2 * gap
    width = 2 * block + 3 * margin
    height = len(projections) * (block + margin) + margin
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    for row, (maps, crops) in enumerate(zip(projections, patches)):
        top = margin + row * (block + margin)
        for side, items in enumerate((maps, crops)):
            left = margin + side * (block + margin)
            for j, item in enumerate(items[:9]):
                tile = Image.fromarray(item).resize((cell, cell), Image.BILINEAR)
                canvas.paste(tile, (left + (j % 3) * (cell + gap), top + (j // 3) * (cell + gap)))
    ImageDraw.Draw(canvas).line([(margin + block + margin // 2, 0), (margin + block + margin // 2, height)], fill=(200, 200, 200))
    return canvas
