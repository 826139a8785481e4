"""The ZF-Net shipped inside the package, and the export that makes such a file from a training checkpoint.

An exported file holds float16 weights, the mean image, the class names, the architecture and the
preprocessing it needs, so it works on a fresh machine with no data at hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from ..data.preprocess import CANONICAL_SIZE, CROP_SIZE
from .zfnet import ZFNet

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SHIPPED = WEIGHTS_DIR / "zfnet_cifar10_w025.pt"
PREPROCESSING = (
    f"RGB; resize the short side to {CANONICAL_SIZE} (bilinear) and centre-crop {CANONICAL_SIZE}x{CANONICAL_SIZE}; "
    f"scale to [0, 1]; subtract the mean image; crop {CROP_SIZE}x{CROP_SIZE} (centre, or the 10 crops)"
)


@dataclass(frozen=True)
class Pretrained:
    """A loaded model and what it needs: classes, mean image (Tensor[3, 256, 256] in [0, 1]), notes."""

    model: ZFNet
    classes: list[str]
    mean: Tensor
    preprocessing: str
    metrics: dict
    training: dict


def export(checkpoint: str | Path, out: str | Path, metrics: dict | None = None) -> Path:
    """Writes the inference part of a training checkpoint as float16 (optimiser state dropped).

    Args:
        checkpoint: a file written by the trainer (``checkpoint.pt``).
        out: where to write.
        metrics: evaluation results to record beside the weights (e.g. 10-crop top-1 error).
    """
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    record = {
        "format": "zfcuda-pretrained-1",
        "arch": state["arch"],
        "model": {k: v.half() if v.is_floating_point() else v for k, v in state["model"].items()},
        "mean": state["mean"].half(),
        "classes": state["classes"],
        "preprocessing": PREPROCESSING,
        "metrics": metrics or {},
        "training": {"config": state["config"], "epochs_done": state["epochs_done"], "history": state["history"]},
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(record, out)
    return out


def load(path: str | Path | None = None, device: str | torch.device = "cpu") -> Pretrained:
    """Loads an exported ZF-Net (default: the one shipped in the package) in float32, eval mode."""
    path = Path(path) if path is not None else SHIPPED
    if not path.exists():
        raise FileNotFoundError(f"no pretrained ZF-Net at {path}")
    record = torch.load(path, map_location="cpu", weights_only=False)
    if record.get("format") != "zfcuda-pretrained-1":
        raise ValueError(f"{path} is not an exported zfcuda model (export a training checkpoint with zfcuda.pretrained.export)")
    return Pretrained(_model(record, device), record["classes"], record["mean"].float(), record["preprocessing"],
                      record["metrics"], record["training"])


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> Pretrained:
    """Loads a training checkpoint or snapshot (``zfcuda train --snapshots``), or an exported model,
    for analysis, in eval mode; ``training["epochs_done"]`` tells its epoch.

    An export stands in for a snapshot of its epoch: a model continued with ``--init-from`` has
    its earlier epochs only as the export it started from.

    Raises:
        FileNotFoundError / ValueError: no such file, or not a file the trainer or the export wrote.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    state = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(state, dict) and state.get("format") == "zfcuda-pretrained-1":
        return load(path, device)
    if not isinstance(state, dict) or state.get("arch", {}).get("name") != "ZFNet" or "optimizer" not in state:
        raise ValueError(f"{path} is not a zfcuda training checkpoint, snapshot or exported model")
    training = {"config": state["config"], "epochs_done": state["epochs_done"], "history": state["history"]}
    return Pretrained(_model(state, device), state["classes"], state["mean"].float(), PREPROCESSING, {}, training)


def _model(state: dict, device) -> ZFNet:
    """The ZF-Net described by a checkpoint's or export's ``arch``, with its weights in float32."""
    arch = state["arch"]
    model = ZFNet(arch["num_classes"], arch["width"], dropout=arch.get("dropout", 0.5))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state["model"].items()})
    return model.to(device).eval()
