"""The models the commands and the demo show, each with what a figure needs around it: how a photo
or a data set's canonical image becomes the model's input, how an input patch becomes pixels
again, its class names, and the layers worth showing by default."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from ..data import centre_mean, image_to_rgb, model_input, photo_input
from ..models import pretrained
from ..models.efficientnet_lite import INPUT_SIZE, efficientnet_lite0, efficientnet_lite_display, efficientnet_lite_input, imagenet_classes

EFFICIENTNET = "efficientnet-lite0"
Box = tuple[int, int, int, int]


class ViewedModel(ABC):
    """A model and its preprocessing, for figures.

    Attributes:
        name: how figures and pages call it.
        model: the network, in eval mode.
        classes: class names by index (None: indices).
        layers: the layers a figure shows by default (Fig. 2 depths).
    """

    name: str
    model: nn.Module
    classes: list[str] | None
    layers: tuple[str, ...]

    @abstractmethod
    def photo(self, image: Image.Image) -> Tensor:
        """A photo as the model's input, Tensor[3, H, W]."""

    @abstractmethod
    def canonical(self, images: Tensor) -> Tensor:
        """A data set's canonical images (uint8 Tensor[N, 3, 256, 256], ``data.ImageFolder``) as inputs Tensor[N, 3, H, W]."""

    @abstractmethod
    def display(self, x: Tensor, box: Box | None = None) -> np.ndarray:
        """The part ``box`` = (top, left, bottom, right) of an input (Tensor[3, H, W]; all of it when None) as HxWx3 uint8."""

    @abstractmethod
    def to(self, device: torch.device | str) -> ViewedModel:
        """This view with the model (and what preprocessing holds) on ``device``."""


class ZFNetView(ViewedModel):
    """An exported ZF-Net (the shipped one by default): the paper's preprocessing with its mean image."""

    def __init__(self, net: pretrained.Pretrained, name: str = "ZF-Net") -> None:
        self.net, self.name, self.model, self.classes = net, name, net.model, net.classes
        self.layers = ("conv2", "conv3", "conv4", "conv5")

    def photo(self, image: Image.Image) -> Tensor:
        return photo_input(image, self.net.mean)[0]

    def canonical(self, images: Tensor) -> Tensor:
        return model_input(images.to(self.net.mean.device), self.net.mean)

    def display(self, x: Tensor, box: Box | None = None) -> np.ndarray:
        top, left, bottom, right = box or (0, 0, *x.shape[-2:])
        return image_to_rgb(x[:, top:bottom, left:right], centre_mean(self.net.mean)[:, top:bottom, left:right])

    def to(self, device: torch.device | str) -> ZFNetView:
        net = pretrained.Pretrained(self.net.model.to(device), self.net.classes, self.net.mean.to(device), self.net.preprocessing,
                                    self.net.metrics, self.net.training)
        return ZFNetView(net, self.name)


class EfficientNetView(ViewedModel):
    """EfficientNet-Lite0 with its ImageNet weights: the whole image resized to 224x224, scaled to [-1, 1].

    Its default layers are four depths: the end of the 24-channel stage (56x56 maps), of the
    40-channel stage (28x28), of the 112-channel stage (14x14) and the last block (7x7).
    """

    def __init__(self, model: nn.Module | None = None) -> None:
        self.name, self.model, self.classes = "EfficientNet-Lite0", model if model is not None else efficientnet_lite0(), imagenet_classes()
        self.layers = ("_blocks.2", "_blocks.4", "_blocks.10", "_blocks.15")

    def photo(self, image: Image.Image) -> Tensor:
        return efficientnet_lite_input(image)

    def canonical(self, images: Tensor) -> Tensor:
        x = F.interpolate(images.float() / 255, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True, align_corners=False)
        return (x.clamp(0, 1) - 0.5) / 0.5

    def display(self, x: Tensor, box: Box | None = None) -> np.ndarray:
        top, left, bottom, right = box or (0, 0, *x.shape[-2:])
        return efficientnet_lite_display(x[:, top:bottom, left:right])

    def to(self, device: torch.device | str) -> EfficientNetView:
        return EfficientNetView(self.model.to(device))


def load_view(model: str | Path | None = None) -> ViewedModel:
    """The model a command names: None (the shipped ZF-Net), "efficientnet-lite0", or an exported ZF-Net file.

    Raises:
        FileNotFoundError / ValueError: no such file, or not an exported ZF-Net.
        ImportError: EfficientNet-Lite0's packages are not installed (the message says which).
    """
    if model is None:
        return ZFNetView(pretrained.load())
    if str(model) == EFFICIENTNET:
        return EfficientNetView()
    return ZFNetView(pretrained.load(model), Path(model).stem)
