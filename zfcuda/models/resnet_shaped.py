"""torchvision-shaped ResNets (the same modules, names and forward as ``torchvision.models.resnet``)
with random weights, so the deconvnet and occlusion engines can be tested and benchmarked on
residual networks without torchvision (which does not install beside the CPU wheel of torch)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class _Block(nn.Module):
    """What both block kinds share: a shortcut (``downsample`` or identity) and one ``relu`` module,
    or ``F.relu`` in forward (the case captum's deconvolution gets wrong)."""

    def __init__(self, downsample: nn.Module | None, functional_relu: bool) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.functional_relu = functional_relu

    def _relu(self, x: Tensor) -> Tensor:
        return F.relu(x) if self.functional_relu else self.relu(x)

    def _shortcut(self, x: Tensor) -> Tensor:
        return x if self.downsample is None else self.downsample(x)


class BasicBlock(_Block):
    """Two 3x3 convolutions with batch norm and a shortcut; ``relu`` is called twice, as in torchvision."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 functional_relu: bool = False) -> None:
        super().__init__(downsample, functional_relu)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)

    def forward(self, x: Tensor) -> Tensor:
        identity = self._shortcut(x)
        out = self._relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self._relu(out)


class Bottleneck(_Block):
    """1x1 -> 3x3 (stride) -> 1x1 with expansion 4, as torchvision's ResNet-50."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 functional_relu: bool = False) -> None:
        super().__init__(downsample, functional_relu)
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)

    def forward(self, x: Tensor) -> Tensor:
        identity = self._shortcut(x)
        out = self._relu(self.bn1(self.conv1(x)))
        out = self._relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self._relu(out + identity)


class ResNet(nn.Module):
    """conv1 7x7/2 -> bn1 -> relu -> maxpool 3x3/2 -> layer1..4 -> avgpool -> fc, as torchvision."""

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], layers: list[int], num_classes: int = 1000,
                 width: int = 64, functional_relu: bool = False) -> None:
        super().__init__()
        self.inplanes, self.functional_relu = width, functional_relu
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._stage(block, width, layers[0], 1)
        self.layer2 = self._stage(block, width * 2, layers[1], 2)
        self.layer3 = self._stage(block, width * 4, layers[2], 2)
        self.layer4 = self._stage(block, width * 8, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)

    def _stage(self, block, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.functional_relu)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, functional_relu=self.functional_relu) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv1(x)
        x = self.bn1(x)
        x = F.relu(x) if self.functional_relu else self.relu(x)
        x = self.maxpool(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def resnet18(num_classes: int = 1000, width: int = 64, functional_relu: bool = False) -> ResNet:
    """ResNet-18 (BasicBlock x [2, 2, 2, 2]); ``width`` scales every stage (64 is torchvision's)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, width, functional_relu)


def resnet50(num_classes: int = 1000, width: int = 64, layers: list[int] | None = None, functional_relu: bool = False) -> ResNet:
    """ResNet-50 (Bottleneck x [3, 4, 6, 3]); ``layers`` gives a shorter stack of the same blocks."""
    return ResNet(Bottleneck, layers or [3, 4, 6, 3], num_classes, width, functional_relu)
