"""Figures: every function that draws, and nothing that computes an analysis. Each takes a result
(a projection tensor, an ``OcclusionResult``, ``InvarianceResult`` or ``EvolutionResult``) and
writes or returns a picture.

- ``projections``: projections as the paper shows them, overlays, Fig. 2 top-9 grids;
- ``occlusion``: Fig. 7 panels and a heatmap overlay;
- ``invariance``: Fig. 5 curves;
- ``evolution``: Fig. 4 grids.
"""

from .evolution import evolution_grid
from .invariance import invariance_figure
from .occlusion import fig7, heatmap_overlay
from .projections import projection_overlay, projection_to_rgb, save_projection_figure, top9_grid

__all__ = [
    "evolution_grid",
    "fig7",
    "heatmap_overlay",
    "invariance_figure",
    "projection_overlay",
    "projection_to_rgb",
    "save_projection_figure",
    "top9_grid",
]


def __getattr__(name: str):
    # zfcuda 0.1's figures module also held preprocessing and pipelines; they moved (see _deprecated).
    from .._deprecated import moved_attribute

    return moved_attribute("figures", name)
