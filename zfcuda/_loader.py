"""Loads the compiled extension, refusing a torch other than the one it was built against."""

from __future__ import annotations

import importlib
from types import ModuleType

REBUILD_HINT = (
    "Rebuild zfcuda against the installed torch, without build isolation (which compiles against a "
    "different torch than the one that runs it):\n"
    "    pip install --no-build-isolation --force-reinstall --no-deps ."
)


def check_torch_version(built: str, running: str) -> None:
    """Raises ImportError when the compiled extension cannot work with the running torch.

    Args:
        built: torch.__version__ of the torch the extension was compiled against.
        running: torch.__version__ of the torch imported now.
    """
    if built != running:
        raise ImportError(
            f"zfcuda was compiled against torch {built}, but torch {running} is installed; "
            f"a C++ extension only loads under the torch it was built with.\n{REBUILD_HINT}"
        )


def load_extension() -> ModuleType:
    """Imports zfcuda._C, which registers the torch.ops.zfcuda operators.

    Returns:
        The pybind11 module (it holds build_info()).

    Raises:
        ImportError: the extension is missing, or built for another torch; the message says how to rebuild.
    """
    import torch

    try:
        from . import _build_config
    except ImportError as error:
        raise ImportError(
            "zfcuda's compiled extension is missing: it looks like zfcuda is imported from a source "
            f"checkout that was never built.\n{REBUILD_HINT}"
        ) from error
    check_torch_version(_build_config.TORCH_VERSION, torch.__version__)
    try:
        return importlib.import_module("zfcuda._C")
    except ImportError as error:
        raise ImportError(f"zfcuda's compiled extension failed to load ({error}).\n{REBUILD_HINT}") from error
