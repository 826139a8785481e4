"""Stage types that make a model's forward pass explicit where its modules alone do not."""

from __future__ import annotations

from torch import Tensor, nn


class Pointwise(nn.Module):
    """Marks a module the adapter knows to act on each position alone (e.g. a package's own Swish)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        return self.module(x)


class Residual(nn.Module):
    """``body(x) + x``: an identity shortcut around a chain of stages."""

    def __init__(self, body: nn.Sequential) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + x
