"""Reading a CNN: the one place that turns a user's model into what the analyses walk.

Two views of the same model, both read here and nowhere else:

- ``model_stages``: the whole forward pass as a flat list of stages whose composition is the
  model (a residual block is one ``Residual`` stage), for the incremental occlusion engine.
- ``feature_chain``: the convolutional part as a named ``nn.Sequential``, for the deconvnet and
  the receptive-field arithmetic.

Supported: ZF-Net, torchvision-style CNNs (``features``, ``avgpool``, ``classifier``), any
``nn.Sequential``, and (for ``model_stages``) the EfficientNet family (see ``efficientnet``).
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from ..models import ZFNet
from .efficientnet import efficientnet_stages, is_efficientnet

# Layers that start a classifier head: a Sequential's feature chain stops before the first of them.
HEAD = (nn.Flatten, nn.Linear, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


class NotSplittable(TypeError, ValueError):
    """The model's forward cannot be split into stages, or its stages do not reproduce it: engines
    that need stages (incremental occlusion) cannot run it, and those that do not (full) can.

    A TypeError and a ValueError both, as the two errors it replaces were."""


def model_stages(model: nn.Module) -> list[nn.Module]:
    """The model as a list of stages whose composition is its forward pass.

    ZF-Net: its conv layers, then the classifier. torchvision-style (``features``, ``avgpool``,
    ``classifier``): the features, avgpool, flatten, classifier. EfficientNet (``_conv_stem``,
    ``_blocks``, ``_fc``): stem, each block's layers (``Residual`` where it has a shortcut), head.
    An ``nn.Sequential``: its children.

    Raises:
        TypeError: any other model (its forward cannot be split into stages safely).
    """
    if isinstance(model, ZFNet):
        return [*model.conv_layers, model.classifier]
    if all(isinstance(getattr(model, name, None), nn.Module) for name in ("features", "avgpool", "classifier")):
        return [*model.features, model.avgpool, nn.Flatten(1), model.classifier]
    if is_efficientnet(model):
        return efficientnet_stages(model)
    if isinstance(model, nn.Sequential):
        return list(model)
    raise NotSplittable(
        "incremental occlusion needs a ZFNet, a torchvision-style CNN (features, avgpool, classifier), an "
        f"EfficientNet or an nn.Sequential; got {type(model).__name__} (use method='full' for any other model)"
    )


def feature_chain(model: nn.Module) -> nn.Sequential:
    """The convolutional part of ``model`` as an ``nn.Sequential``: ZF-Net's ``conv_layers``, a
    torchvision-style ``features``, or a Sequential's children up to its head (the first
    Flatten, Linear or adaptive pool)."""
    if isinstance(model, ZFNet):
        return model.conv_layers
    features = getattr(model, "features", None)
    if isinstance(features, nn.Sequential):
        return features
    if isinstance(model, nn.Sequential):
        # A whole classifier as one Sequential: its convolutional part ends where the head begins.
        head = next((i for i, m in enumerate(model) if isinstance(m, HEAD)), len(model))
        return model if head == len(model) else nn.Sequential(OrderedDict(list(model.named_children())[:head]))
    raise TypeError(
        f"DeconvNet needs a ZFNet, a model whose `features` is an nn.Sequential (torchvision's AlexNet, VGG), "
        f"or an nn.Sequential; got {type(model).__name__}"
    )
