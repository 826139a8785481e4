"""torchvision-shaped AlexNet and VGG16 (the same modules in the same order as torchvision's) with
random weights, for tests and benchmarks that must not depend on torchvision being installed: the
deconvnet and the occlusion engines read them exactly as they read torchvision's models."""

from __future__ import annotations

from torch import Tensor, nn

VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class TorchvisionShaped(nn.Module):
    """features -> avgpool -> flatten -> classifier, as torchvision's AlexNet and VGG."""

    def __init__(self, features: nn.Sequential, pooled: int, channels: int, classifier: list[nn.Module]) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((pooled, pooled))
        self.classifier = nn.Sequential(*classifier)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def alexnet(num_classes: int = 1000) -> nn.Module:
    features = nn.Sequential(
        nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
    )  # fmt: skip
    classifier = [
        nn.Dropout(0.5), nn.Linear(256 * 36, 4096), nn.ReLU(inplace=True),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, num_classes),
    ]  # fmt: skip
    return TorchvisionShaped(features, 6, 256, classifier)


def vgg16(num_classes: int = 1000) -> nn.Module:
    layers: list[nn.Module] = []
    channels = 3
    for v in VGG16:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, v, 3, padding=1), nn.ReLU(inplace=True)]
            channels = v
    classifier = [
        nn.Linear(512 * 49, 4096), nn.ReLU(True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(4096, num_classes),
    ]  # fmt: skip
    return TorchvisionShaped(nn.Sequential(*layers), 7, 512, classifier)
