"""ZF-Net (Zeiler & Fergus 2014, Fig. 3) with switch-recording pools, and the paper's filter renormalisation."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

from ..nn import SwitchMaxPool2d

# Local response normalisation across feature maps. The paper gives no parameters; we follow
# Krizhevsky et al. 2012 (AlexNet, section 3.3): n = 5, alpha = 1e-4, beta = 0.75, k = 2. PyTorch
# divides alpha by n, so alpha = 5 * 1e-4 here gives AlexNet's formula exactly.
LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K = 5, 5e-4, 0.75, 2.0

# (name, out channels at width 1.0, kernel, stride, padding) of the convolutions; the paddings give
# the paper's map sizes 224 -> 110 -> 55 -> 26 -> 13 -> 13 -> 13 -> 6.
CONVS = [
    ("conv1", 96, 7, 2, 1),
    ("conv2", 256, 5, 2, 0),
    ("conv3", 384, 3, 1, 1),
    ("conv4", 384, 3, 1, 1),
    ("conv5", 256, 3, 1, 1),
]
POOLS = {"conv1": ("pool1", 1), "conv2": ("pool2", 1), "conv5": ("pool5", 0)}  # 3x3 stride 2, padding
NORMS = {"pool1": "norm1", "pool2": "norm2"}
FC_WIDTH = 4096
INPUT_SIZE = 224


def _scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


class ZFNet(nn.Module):
    """ZF-Net as published: five convolutional layers, three fully connected, 224x224x3 input.

    conv1 96@7x7/2 -> ReLU -> pool1 3x3/2 -> norm1 -> conv2 256@5x5/2 -> ReLU -> pool2 3x3/2 -> norm2
    -> conv3 384@3x3 -> conv4 384@3x3 -> conv5 256@3x3 (each + ReLU) -> pool5 3x3/2 -> 6x6x256
    -> fc6 4096 -> fc7 4096 (ReLU + dropout 0.5 each) -> fc8 ``num_classes``.
    Map sizes: 110 (conv1), 55 (pool1), 26 (conv2), 13 (pool2 .. conv5), 6 (pool5). Pools are
    ``SwitchMaxPool2d``, so a forward pass leaves the switches the deconvnet needs.

    Args:
        num_classes: outputs of fc8.
        width: scales every layer's channel count (1.0 = the paper) for small data or slow machines.
        init: "paper" (weights N(0, 1e-2), biases 0, as section 3 of the paper) or "kaiming"
            (He normal for ReLU layers, biases 0), which trains faster from scratch.
        dropout: drop probability of fc6 and fc7 (the paper: 0.5).

    Layers are reachable by name: ``model.layer("conv3")``, and ``model.layer_names`` lists them in order.
    """

    def __init__(self, num_classes: int = 1000, width: float = 1.0, init: str = "paper", dropout: float = 0.5) -> None:
        super().__init__()
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
        if not width > 0:
            raise ValueError(f"width must be > 0, got {width!r}")
        self.num_classes, self.width = num_classes, float(width)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        channels = 3
        for index, (name, out, kernel, stride, padding) in enumerate(CONVS, start=1):
            out = _scaled(out, width)
            layers[name] = nn.Conv2d(channels, out, kernel, stride, padding)
            layers[f"relu{index}"] = nn.ReLU(inplace=False)
            if name in POOLS:
                pool_name, pool_padding = POOLS[name]
                layers[pool_name] = SwitchMaxPool2d(3, 2, pool_padding)
                if pool_name in NORMS:
                    layers[NORMS[pool_name]] = nn.LocalResponseNorm(LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K)
            channels = out
        self.conv_layers = nn.Sequential(layers)
        fc = _scaled(FC_WIDTH, width)
        self.classifier = nn.Sequential(
            OrderedDict(
                [
                    ("flatten", nn.Flatten()),
                    ("fc6", nn.Linear(channels * 6 * 6, fc)),
                    ("relu6", nn.ReLU(inplace=False)),
                    ("drop6", nn.Dropout(dropout)),
                    ("fc7", nn.Linear(fc, fc)),
                    ("relu7", nn.ReLU(inplace=False)),
                    ("drop7", nn.Dropout(dropout)),
                    ("fc8", nn.Linear(fc, num_classes)),
                ]
            )
        )
        self.reset_parameters(init)

    @property
    def layer_names(self) -> list[str]:
        """Every layer's name, input to output."""
        return [*self.conv_layers._modules, *self.classifier._modules]

    def layer(self, name: str) -> nn.Module:
        """The layer called ``name`` (``conv1`` ... ``fc8``, ``pool1``, ``norm1``, ``relu3`` ...)."""
        for part in (self.conv_layers, self.classifier):
            if name in part._modules:
                return part._modules[name]
        raise KeyError(f"ZFNet has no layer {name!r}; layers are {', '.join(self.layer_names)}")

    def reset_parameters(self, init: str = "paper") -> None:
        """Re-initialises every weight: "paper" (N(0, 1e-2), biases 0) or "kaiming" (He normal, biases 0)."""
        if init not in ("paper", "kaiming"):
            raise ValueError(f"init must be 'paper' or 'kaiming', got {init!r}")
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                if init == "paper":
                    nn.init.normal_(module.weight, std=1e-2)
                else:
                    nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def forward(self, x: Tensor) -> Tensor:
        """x (Tensor[N, 3, 224, 224]) -> logits (Tensor[N, num_classes])."""
        return self.classifier(self.conv_layers(x))

    def features(self, x: Tensor, upto: str = "conv5") -> OrderedDict[str, Tensor]:
        """Every layer's output from the input up to and including layer ``upto``.

        Args:
            x (Tensor[N, 3, 224, 224]): input images.
            upto: the last layer to run.

        Returns:
            An ordered dict name -> output (e.g. "conv1" -> Tensor[N, 96, 110, 110]).
        """
        self.layer(upto)  # raises a clear KeyError for an unknown name
        maps: OrderedDict[str, Tensor] = OrderedDict()
        for part in (self.conv_layers, self.classifier):
            for name, module in part.named_children():
                x = module(x)
                maps[name] = x
                if name == upto:
                    return maps
        return maps


@torch.no_grad()
def renormalize_filters(model: nn.Module, radius: float = 0.1) -> int:
    """Rescales every convolutional filter whose RMS exceeds ``radius`` back to RMS ``radius``.

    The paper (section 3) renormalises each filter of the convolutional layers this way after
    every update, and calls it crucial for layer 1, whose filters otherwise come to dominate.

    Args:
        model: any module; every ``nn.Conv2d`` in it is processed, one filter per output channel.
        radius: the largest RMS a filter may keep.

    Returns:
        How many filters were rescaled.
    """
    if not radius > 0:
        raise ValueError(f"radius must be > 0, got {radius!r}")
    rescaled = 0
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            weight = module.weight
            rms = weight.pow(2).mean(dim=tuple(range(1, weight.dim())), keepdim=True).sqrt()
            scale = torch.where(rms > radius, radius / rms, torch.ones_like(rms))
            weight.mul_(scale)
            rescaled += int((rms > radius).sum())
    return rescaled
