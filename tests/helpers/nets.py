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


class DenseLayer(nn.Module):
    """DenseNet's layer: bn -> relu -> 3x3 conv, concatenated to its input."""

    def __init__(self, channels: int, growth: int) -> None:
        super().__init__()
        self.norm, self.relu, self.conv = nn.BatchNorm2d(channels), nn.ReLU(inplace=True), nn.Conv2d(channels, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.conv(self.relu(self.norm(x)))], 1)


class DenseNetShaped(nn.Module):
    """A torchvision-DenseNet-shaped net: stem, two dense layers, a transition with average pooling, head."""

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        self.block = nn.Sequential(DenseLayer(8, 4), DenseLayer(12, 4))
        self.transition = nn.Sequential(nn.BatchNorm2d(16), nn.ReLU(inplace=True), nn.Conv2d(16, 8, 1, bias=False), nn.AvgPool2d(2))
        self.classifier = nn.Linear(8, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.transition(self.block(self.stem(x)))
        return self.classifier(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


class ActivationZoo(nn.Module):
    """MobileNet/EfficientNet-style blocks with every supported activation: ReLU6, SiLU, Hardswish,
    GELU, LeakyReLU, Hardtanh; depthwise convolutions, explicit ZeroPad2d, a dilated conv, residual adds."""

    def __init__(self, classes: int = 4) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, 8, 3, 2), nn.BatchNorm2d(8), nn.ReLU6(inplace=True))
        self.expand = nn.Sequential(nn.Conv2d(8, 16, 1), nn.BatchNorm2d(16), nn.SiLU())
        self.depthwise = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 2, dilation=2, groups=16), nn.BatchNorm2d(16), nn.Hardswish())
        self.project = nn.Sequential(nn.Conv2d(16, 8, 1), nn.BatchNorm2d(8))
        self.mix = nn.Sequential(nn.Conv2d(8, 8, 3, 2, 1, groups=2), nn.GELU(), nn.Conv2d(8, 8, 3, padding=1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(8, 8, 3, padding=1), nn.Hardtanh(0.0, 4.0))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = x + self.project(self.depthwise(self.expand(x)))
        return self.head(self.mix(x))


def random_batch_norm(model: nn.Module, seed: int = 0) -> nn.Module:
    """Gives every batch norm random running statistics and affine parameters (eval mode then differs
    from identity in every channel)."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            c = module.num_features
            module.running_mean.copy_(torch.rand(c, generator=generator) - 0.5)
            module.running_var.copy_(torch.rand(c, generator=generator) * 1.5 + 0.5)
            module.weight.data.copy_(torch.rand(c, generator=generator) + 0.5)
            module.bias.data.copy_(torch.rand(c, generator=generator) * 0.4 - 0.2)
    return model


def atlas_cnn() -> nn.Module:
    """A small max-pooling CNN for 48x48 inputs, built the same (seeded) every call: what a user's
    ``--model package.module:function`` returns in the atlas tests."""
    from collections import OrderedDict

    torch.manual_seed(0)
    return nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(3, 6, 3, padding=1), relu1=nn.ReLU(), pool1=nn.MaxPool2d(2),
        conv2=nn.Conv2d(6, 8, 3, padding=1), relu2=nn.ReLU(), pool2=nn.MaxPool2d(2),
        conv3=nn.Conv2d(8, 5, 3), relu3=nn.ReLU(),
        head=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(), fc=nn.Linear(5, 3),
    )).eval()
