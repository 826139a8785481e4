"""Small networks the tests build the same way in several places."""

from __future__ import annotations

import torch
from torch import nn


def small_chain() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1), nn.Conv2d(6, 5, 3), nn.ReLU(), nn.MaxPool2d(2)
    ).eval()  # fmt: skip
