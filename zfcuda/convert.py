"""Give any CNN switch pooling without rewriting it."""

from __future__ import annotations

import copy

from torch import nn

from .nn import SwitchMaxPool2d


def convert(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` with every ``nn.MaxPool2d`` replaced by ``SwitchMaxPool2d``.

    Weights, buffers and every other module are copied unchanged, so the copy computes the same
    outputs bit for bit; the original model is left untouched.

    Args:
        model: any module (torchvision AlexNet or VGG, ZF-Net, a user's nn.Sequential, ...).

    Returns:
        The converted copy.
    """
    converted = copy.deepcopy(model)
    _replace_pools(converted)
    return converted


def _replace_pools(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.MaxPool2d) and not isinstance(child, SwitchMaxPool2d):
            setattr(module, name, SwitchMaxPool2d.from_max_pool(child))
        else:
            _replace_pools(child)
