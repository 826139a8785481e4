"""Give any CNN switch pooling without rewriting it."""

from __future__ import annotations

import copy

from torch import nn

from .nn import SwitchMaxPool2d


def convert(model: nn.Module, switches: bool = True) -> nn.Module:
    """A deep copy of ``model`` with every ``nn.MaxPool2d`` replaced by ``SwitchMaxPool2d``.

    Weights, buffers and every other module are copied unchanged, so the copy computes the same
    outputs bit for bit; the original model is left untouched.

    Args:
        model: any module (torchvision AlexNet or VGG, ZF-Net, a user's nn.Sequential, ...).
        switches: False converts the other way: every ``SwitchMaxPool2d`` becomes a plain
            ``nn.MaxPool2d`` (e.g. to hand a model to code that knows only torch's modules).

    Returns:
        The converted copy.
    """
    converted = copy.deepcopy(model)
    _replace_pools(converted, switches)
    return converted


def _replace_pools(module: nn.Module, switches: bool) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.MaxPool2d) and isinstance(child, SwitchMaxPool2d) != switches:
            make = SwitchMaxPool2d.from_max_pool if switches else _plain_pool
            setattr(module, name, make(child))
        else:
            _replace_pools(child, switches)


def _plain_pool(pool: nn.MaxPool2d) -> nn.MaxPool2d:
    return nn.MaxPool2d(pool.kernel_size, pool.stride, pool.padding, pool.dilation, pool.return_indices, pool.ceil_mode)
