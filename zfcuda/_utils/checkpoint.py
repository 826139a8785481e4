"""Crash-safe checkpoint writing shared by training and the top-9 scan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


def save_atomically(state: Any, path: str | Path) -> None:
    """Write ``state`` with ``torch.save`` so that ``path`` holds either the old or the new file.

    The temporary file sits beside ``path`` and keeps its whole name (``scan.rank0`` ->
    ``scan.rank0.tmp``): replacing only the suffix would give every rank of a torchrun job the
    same temporary file, and one rank's rename would pull it from under another.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)
