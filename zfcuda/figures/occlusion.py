"""Fig. 7-style occlusion figures and a heatmap overlay."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..sensitivity import OcclusionResult
from ._mpl import pyplot, save_figure
from .projections import projection_to_rgb


def _extent(result: OcclusionResult) -> tuple[float, float, float, float]:
    """imshow extent that puts each grid cell over its occluder centre, in image pixels."""
    centres = result.grid.centers().view(*result.grid.grid_shape, 2)
    rows, cols = result.grid.grid_shape
    step_y = float(centres[1, 0, 0] - centres[0, 0, 0]) if rows > 1 else float(result.image_size[0])
    step_x = float(centres[0, 1, 1] - centres[0, 0, 1]) if cols > 1 else float(result.image_size[1])
    top, left = float(centres[0, 0, 0]) - step_y / 2, float(centres[0, 0, 1]) - step_x / 2
    return left, left + cols * step_x, top + rows * step_y, top


def _name(index: int, class_names: Sequence[str] | None) -> str:
    return class_names[index] if class_names is not None and index < len(class_names) else f"class {index}"


def fig7(image: np.ndarray, result: OcclusionResult, path: str | Path, class_names: Sequence[str] | None = None) -> Path:
    """The paper's Fig. 7 panels for one image, as one PNG.

    (a) the image with the occluder drawn at the grid's middle position, (b) the summed
    activation of the layer's strongest map per occluder position and (c) that map's projection
    (when the result has a layer), (d) p(true class) per position, (e) the most probable class
    per position, with a legend of the classes that appear.

    Args:
        image: the input as HxWx3 uint8 (for display).
        result: from ``zfcuda.occlusion``.
        class_names: names of the classifier's classes, for titles and the legend.
    """
    plt = pyplot()
    panels = 3 + 2 * (result.activation is not None)
    fig, axes = plt.subplots(1, panels, figsize=(3.2 * panels, 3.6))
    extent = _extent(result)
    axes = list(axes)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])

    ax = axes.pop(0)
    ax.imshow(image)
    rows, cols = result.grid.grid_shape
    middle = result.grid.positions[(rows // 2) * cols + cols // 2].tolist()
    ph, pw = result.grid.patch_size
    ax.add_patch(plt.Rectangle((middle[1] - 0.5, middle[0] - 0.5), pw, ph, facecolor=(0.5, 0.5, 0.5), edgecolor="k"))
    ax.set_title(f"(a) input, {_name(result.target, class_names)}\np = {result.clean_prob:.2f}", fontsize=9)

    if result.activation is not None:
        ax = axes.pop(0)
        shown = ax.imshow(result.activation.numpy(), cmap="viridis", extent=extent)
        fig.colorbar(shown, ax=ax, fraction=0.046)
        ax.set_title(f"(b) {result.layer} map {result.feature_map},\nsummed activation", fontsize=9)
        ax = axes.pop(0)
        ax.imshow(projection_to_rgb(result.projection))
        ax.set_title(f"(c) projection of {result.layer}\nmap {result.feature_map}", fontsize=9)

    ax = axes.pop(0)
    # The map's own range (the colour bar gives the values): a robust classifier's changes are small.
    shown = ax.imshow(result.prob.numpy(), cmap="jet", extent=extent)
    fig.colorbar(shown, ax=ax, fraction=0.046)
    ax.set_title(f"(d) p({_name(result.target, class_names)})", fontsize=9)

    ax = axes.pop(0)
    classes, codes = np.unique(result.top_class.numpy(), return_inverse=True)
    colours = plt.get_cmap("tab20", max(len(classes), 1))
    ax.imshow(codes.reshape(result.top_class.shape), cmap=colours, vmin=-0.5, vmax=len(classes) - 0.5, extent=extent,
              interpolation="nearest")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours(i)) for i in range(len(classes))]
    ax.legend(handles, [_name(int(c), class_names) for c in classes], fontsize=7, loc="upper left",
              bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_title("(e) most probable class", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def heatmap_overlay(image: np.ndarray, result: OcclusionResult, path: str | Path, alpha: float = 0.5) -> Path:
    """The image under a heatmap of the probability drop per pixel (``result.to_attribution()``)."""
    plt = pyplot()
    drop = result.to_attribution().numpy()
    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    ax.imshow(image)
    limit = max(abs(drop).max(), 1e-6)
    shown = ax.imshow(drop, cmap="RdBu_r", vmin=-limit, vmax=limit, alpha=alpha)
    fig.colorbar(shown, ax=ax, fraction=0.046, label="drop in p(target)")
    ax.set_axis_off()
    fig.tight_layout()
    return save_figure(fig, path)
