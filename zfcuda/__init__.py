"""zfcuda: Zeiler & Fergus visualisation for PyTorch, on switch-pooling CPU/CUDA kernels.

Importing zfcuda loads the compiled extension, which registers the ``torch.ops.zfcuda``
operators; the functions below are their typed, autograd-aware wrappers.
"""

from . import models, nn, reference
from .convert import convert
from .deconv import DeconvNet
from .grids import PositionGrid, captum_grid, paper_grid
from .occlusion import OcclusionResult, occlusion
from .ops import (
    conv_transpose2d_skip_zeros,
    gather2d_switches,
    max_pool2d_switches,
    occlusion_batch,
    switches_to_indices,
    unpool2d_switches,
)


def build_info() -> dict:
    """What the compiled extension holds: torch version built against, CUDA yes/no, CUDA architectures."""
    from . import _C

    return dict(_C.build_info())


__all__ = [
    "PositionGrid",
    "build_info",
    "captum_grid",
    "conv_transpose2d_skip_zeros",
    "convert",
    "DeconvNet",
    "gather2d_switches",
    "max_pool2d_switches",
    "models",
    "nn",
    "occlusion",
    "occlusion_batch",
    "OcclusionResult",
    "paper_grid",
    "reference",
    "switches_to_indices",
    "unpool2d_switches",
]
