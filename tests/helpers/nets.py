"""Small networks the tests build the same way in several places."""

from __future__ import annotations

import torch
from torch import nn


def small_chain() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1), nn.Conv2d(6, 5, 3), nn.ReLU(), nn.MaxPool2d(2)
    ).eval()  # fmt: skip


def small_classifier(classes: int = 5) -> nn.Module:
    """A float64 CNN with pooling, an adaptive pool and a linear head, in eval mode."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 6, 5, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
        nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, classes),
    ).double().eval()  # fmt: skip
