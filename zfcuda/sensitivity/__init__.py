"""Occlusion sensitivity (Zeiler & Fergus 2014, section 4.2, Fig. 7): the engine that slides the
occluder (``engine``), its result (``result``), the occluder grids (``grids``), the exact
incremental engine (``incremental``) and adaptive drill-down (``drill``).

Named ``sensitivity`` rather than ``occlusion`` so that ``zfcuda.occlusion`` stays the function.
"""

from .drill import drill_down
from .engine import METHODS, occlusion
from .grids import PositionGrid, captum_grid, paper_grid
from .incremental import IncrementalOcclusion
from .result import OcclusionResult

__all__ = [
    "METHODS",
    "IncrementalOcclusion",
    "OcclusionResult",
    "PositionGrid",
    "captum_grid",
    "drill_down",
    "occlusion",
    "paper_grid",
]
