"""Figures: deconvnet projections as the paper shows them, and Fig. 2-style top-9 grids."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import Tensor


def projection_to_rgb(projection: Tensor) -> np.ndarray:
    """A projection (Tensor[3, H, W]) as uint8 HxWx3 for display: zero maps to grey, the largest
    magnitude to black or white (each projection contrast-normalised on its own, as in the paper)."""
    p = projection.detach().float().cpu()
    scale = p.abs().max().clamp_min(1e-12)
    return ((p / scale * 0.5 + 0.5).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()


def image_to_rgb(image: Tensor, mean: Tensor | None = None) -> np.ndarray:
    """A model input (Tensor[3, H, W], mean-subtracted when ``mean`` is given) as uint8 HxWx3."""
    x = image.detach().float().cpu()
    if mean is not None:
        x = x + mean.float().cpu()
    return (x.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()


def save_projection_figure(image: np.ndarray, projections: Sequence[np.ndarray], titles: Sequence[str], path: str | Path) -> Path:
    """The input beside its projections, titled, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [image, *projections]
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 2.9))
    for ax, panel, title in zip(np.atleast_1d(axes), panels, ["input", *titles]):
        ax.imshow(panel)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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
