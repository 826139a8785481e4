"""Models: ZF-Net as published, and the paper's filter renormalisation."""

from .zfnet import ZFNet, renormalize_filters

__all__ = ["ZFNet", "renormalize_filters"]
