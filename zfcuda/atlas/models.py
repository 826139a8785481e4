"""What ``--model`` can name for an atlas: the shipped ZF-Net, EfficientNet-Lite0, an exported ZF-Net,
a whole model saved with ``torch.save(model)``, or ``package.module:function`` returning one; each
as a ``ViewedModel`` (its preprocessing and the way from an input back to pixels)."""

from __future__ import annotations

import importlib
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from ..app.viewed_models import EFFICIENTNET, Box, ViewedModel, load_view

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class UserModelView(ViewedModel):
    """A user's model: images resized to ``size`` x ``size``, scaled to [0, 1], normalised by ``mean`` and ``std``
    (torchvision's ImageNet convention by default)."""

    def __init__(self, model: nn.Module, name: str, size: int = 224, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                 classes: list[str] | None = None, layers: tuple[str, ...] | None = None) -> None:
        self.model, self.name, self.size, self.classes = model.eval(), name, size, classes
        self.layers = layers if layers is not None else map_layers(self.model, size)[-4:]
        self.mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)

    def photo(self, image: Image.Image) -> Tensor:
        x = torch.from_numpy(np.asarray(image.convert("RGB").resize((self.size, self.size), Image.BILINEAR))).permute(2, 0, 1)
        return self.canonical(x[None])[0]

    def canonical(self, images: Tensor) -> Tensor:
        x = F.interpolate(images.float() / 255, size=(self.size, self.size), mode="bilinear", antialias=True, align_corners=False)
        return (x.clamp(0, 1) - self.mean.to(x.device)) / self.std.to(x.device)

    def display(self, x: Tensor, box: Box | None = None) -> np.ndarray:
        top, left, bottom, right = box or (0, 0, *x.shape[-2:])
        rgb = x[:, top:bottom, left:right].detach().float().cpu() * self.std + self.mean
        return (rgb.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()

    def to(self, device: torch.device | str) -> UserModelView:
        view = UserModelView(self.model.to(device), self.name, self.size, classes=self.classes, layers=self.layers)
        view.mean, view.std = self.mean, self.std
        return view


def map_layers(model: nn.Module, size: int) -> tuple[str, ...]:
    """The model's top-level parts whose outputs are feature maps (Tensor[N, C, H, W] with H x W > 1), in
    forward order; the parts of a child instead when the top level has fewer than four (a ``features``
    Sequential)."""
    found: list[tuple[str, ...]] = []
    for parent_name, parent in (("", model), *model.named_children()):
        order: list[str] = []

        def record(module, inputs, output, name):
            if isinstance(output, Tensor) and output.dim() == 4 and output.shape[-1] * output.shape[-2] > 1:
                order.append(f"{parent_name}.{name}" if parent_name else name)

        hooks = [child.register_forward_hook(lambda m, i, o, name=name: record(m, i, o, name)) for name, child in parent.named_children()]
        try:
            with torch.no_grad():
                model(torch.zeros(1, 3, size, size, device=next(model.parameters()).device))
        finally:
            for hook in hooks:
                hook.remove()
        found.append(tuple(dict.fromkeys(order)))
        if len(found[-1]) >= 4:
            return found[-1]
    return max(found, key=len)


def atlas_view(model: str | None, size: int = 224, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> ViewedModel:
    """The model ``--model`` names (None: the shipped ZF-Net); ``size``, ``mean`` and ``std`` are a user
    model's preprocessing.

    Raises:
        ValueError: a TorchScript file (the deconvnet reads a model's Python code with torch.fx,
            which a TorchScript module no longer has), or a file or function that is not a model.
        FileNotFoundError / ImportError: no such file or module.
    """
    if model is None or model == EFFICIENTNET:
        return load_view(model)
    if ":" in model and not Path(model).exists():
        return _from_function(model, size, mean, std)
    path = Path(model)
    if not path.is_file():
        raise FileNotFoundError(f"--model {model}: no such file (expected efficientnet-lite0, a saved model, or package.module:function)")
    if _is_torchscript(path):
        raise ValueError(f"--model {path} is a TorchScript file: the deconvnet reads a model's Python forward with torch.fx, "
                         "which a TorchScript module no longer has; save the model with torch.save(model) or pass "
                         "package.module:function that builds it")
    record = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(record, dict) and record.get("format") == "zfcuda-pretrained-1":
        return load_view(path)
    if not isinstance(record, nn.Module):
        raise ValueError(f"--model {path} holds a {type(record).__name__} object, not a model: save the whole model with torch.save(model) "
                         "(a state_dict needs its class: pass package.module:function that builds and loads it)")
    return UserModelView(record, path.stem, size, mean, std)


def _from_function(spec: str, size: int, mean, std) -> UserModelView:
    module_name, _, function_name = spec.partition(":")
    function = getattr(importlib.import_module(module_name), function_name, None)
    if not callable(function):
        raise ValueError(f"--model {spec}: {module_name} has no function {function_name!r}")
    model = function()
    if not isinstance(model, nn.Module):
        raise ValueError(f"--model {spec} returned a {type(model).__name__}, not an nn.Module")
    return UserModelView(model, function_name, size, mean, std)


def _is_torchscript(path: Path) -> bool:
    """TorchScript archives hold code/ and constants.pkl; torch.save files do not."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("constants.pkl") or "/code/" in name for name in archive.namelist())
