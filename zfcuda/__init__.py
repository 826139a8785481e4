"""zfcuda: Zeiler & Fergus visualisation for PyTorch, on switch-pooling CPU/CUDA kernels.

Importing zfcuda loads the compiled extension, which registers the ``torch.ops.zfcuda``
operators; the functions below are their typed, autograd-aware wrappers. The subpackages, from
the bottom layer up (``docs/architecture.md``): ``ops``/``nn``/``reference``, ``data``,
``models``, ``stages``, ``deconvnet``, ``training``, ``sensitivity``, ``analysis``, ``figures``, ``app``.
"""

from . import _deprecated, models, nn, reference
from .deconvnet import DeconvNet
from .nn import convert
from .ops import (
    conv_transpose2d_skip_zeros,
    gather2d_switches,
    max_pool2d_switches,
    occlusion_batch,
    switches_to_indices,
    unpool2d_switches,
)
from .sensitivity import OcclusionResult, PositionGrid, captum_grid, occlusion, paper_grid

_deprecated.install()


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
