"""Training ZF-Net with the paper's recipe (section 3): data-parallel under torchrun, resumable,
with the paper's filter renormalisation, and the 1- and 10-crop evaluation."""

from .trainer import CHECKPOINT, TrainConfig, Trainer, evaluate, train

__all__ = ["CHECKPOINT", "TrainConfig", "Trainer", "evaluate", "train"]
