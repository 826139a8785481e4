"""Fig. 5-style invariance curves: feature distance at each layer and p(true class) vs the amount."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..analysis.invariance import UNITS, InvarianceResult
from ._mpl import pyplot, save_figure


def invariance_figure(results: Sequence[InvarianceResult], path: str | Path, image_names: Sequence[str] | None = None) -> Path:
    """One row per transformation; a column per compared layer (Euclidean feature distance) and a
    last column with p(true class); one curve per image.

    Args:
        results: from ``invariance``, one per transformation (same images and layers in each).
        path: PNG to write.
        image_names: a legend label per image.
    """
    if not results:
        raise ValueError("results is empty: give at least one InvarianceResult")
    plt = pyplot()
    layers = list(results[0].distances)
    columns = len(layers) + 1
    fig, axes = plt.subplots(len(results), columns, figsize=(3.4 * columns, 2.7 * len(results)), squeeze=False)
    for row, result in zip(axes, results):
        amounts = result.amounts.numpy()
        panels = [(result.distances[name], f"{name}: feature distance") for name in layers] + [(result.prob, "p(true class)")]
        for ax, (values, title) in zip(row, panels):
            for i, curve in enumerate(values.numpy()):
                ax.plot(amounts, curve, marker=".", linewidth=1, label=image_names[i] if image_names else None)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel(UNITS[result.transform], fontsize=8)
            ax.tick_params(labelsize=7)
        row[-1].set_ylim(0, 1)
    if image_names:
        axes[0, -1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return save_figure(fig, path)
