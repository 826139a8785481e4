"""The EfficientNet family of ``efficientnet_pytorch`` / ``efficientnet-lite-pytorch`` read as stages:
TF "same" padding made explicit, depthwise convolutions, batch norm, the package's own Swish, and
residual blocks with the package's exact shortcut rule."""

from __future__ import annotations

from torch import nn

from .blocks import Pointwise, Residual


def is_efficientnet(model: nn.Module) -> bool:
    """Whether ``model`` has the attributes of the EfficientNet packages' model class."""
    return all(hasattr(model, name) for name in ("_conv_stem", "_bn0", "_blocks", "_conv_head", "_bn1", "_fc"))


def efficientnet_stages(model: nn.Module) -> list[nn.Module]:
    """EfficientNet's ``forward`` (stem, MBConv blocks, head, pooling, dropout, fc) as stages."""
    act = _activation(model._swish)
    stages = [*_same_padded(model._conv_stem), model._bn0, act]
    for block in model._blocks:
        if getattr(block, "has_se", False):
            stages.append(block)  # squeeze-and-excitation pools globally: full maps from here
            continue
        block_act = _activation(block._swish)
        body = []
        if block._block_args.expand_ratio != 1:
            body += [*_same_padded(block._expand_conv), block._bn0, block_act]
        body += [*_same_padded(block._depthwise_conv), block._bn1, block_act, *_same_padded(block._project_conv), block._bn2]
        args = block._block_args
        # Exactly the package's test: a stride given as the list [1] is not == 1, so no shortcut there.
        shortcut = block.id_skip and args.stride == 1 and args.input_filters == args.output_filters
        stages += [Residual(nn.Sequential(*body))] if shortcut else body
    stages += [*_same_padded(model._conv_head), model._bn1, act]
    if getattr(model._global_params, "local_pooling", False):
        raise TypeError("EfficientNet with local_pooling is not supported by incremental occlusion; use method='full'")
    return [*stages, model._avg_pooling, nn.Flatten(1), model._dropout, model._fc]


def _activation(module: nn.Module) -> nn.Module:
    """The model's activation as it is (ReLU6, or the packages' own Swish, marked point-wise so that
    the engine rounds exactly as the model does)."""
    return module if isinstance(module, (nn.ReLU6, nn.ReLU, nn.SiLU)) else Pointwise(module)


def _same_padded(conv: nn.Conv2d) -> list[nn.Module]:
    """A conv with TF "same" padding (a ``static_padding`` module applied first) as an explicit
    ``nn.ZeroPad2d`` and a conv with no padding that shares its weights."""
    pad = getattr(conv, "static_padding", None)
    if pad is None:
        if type(conv).__name__ == "Conv2dDynamicSamePadding":
            raise TypeError("EfficientNet built without an image size (dynamic 'same' padding) is not supported by "
                            "incremental occlusion; build it with image_size or use method='full'")
        return [conv]
    plain = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                      conv.dilation, conv.groups, bias=conv.bias is not None, device="meta")
    plain.weight, plain.bias = conv.weight, conv.bias
    return [pad, plain] if isinstance(pad, nn.ZeroPad2d) else [plain]
