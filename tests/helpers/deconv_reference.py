"""A slow, obviously correct deconvnet: the model itself, run by autograd, with every activation module
swapped for one whose backward applies the deconvnet's rule to the signal (and LRN passing it
unchanged); every other layer's backward is autograd's own, which for convolutions, batch norm in
eval, pooling, additions and concatenations is the transpose the deconvnet uses. One unit per call."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

RECTIFIED = (nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.SiLU, nn.Hardswish, nn.GELU)


class _Rule(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, module: nn.Module, slope: float, guided: bool) -> Tensor:
        ctx.slope, ctx.positive = slope, (x > 0) if guided else None
        with torch.no_grad():
            return module(x.clone())

    @staticmethod
    def backward(ctx, grad: Tensor):
        rectified = F.leaky_relu(grad, ctx.slope) if ctx.slope else torch.relu(grad)
        return (rectified if ctx.positive is None else rectified * ctx.positive), None, None, None


class _PassThrough(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, module: nn.Module) -> Tensor:
        with torch.no_grad():
            return module(x.clone())

    @staticmethod
    def backward(ctx, grad: Tensor):
        return grad, None


class _RuleModule(nn.Module):
    def __init__(self, module: nn.Module, slope: float = 0.0, pass_through: bool = False, guided: bool = False) -> None:
        super().__init__()
        self.module, self.slope, self.pass_through, self.guided = module, slope, pass_through, guided

    def forward(self, x: Tensor) -> Tensor:
        return _PassThrough.apply(x, self.module) if self.pass_through else _Rule.apply(x, self.module, self.slope, self.guided)


def rule_model(model: nn.Module, guided: bool = False) -> nn.Module:
    """A deep copy of ``model`` with its activation (and LRN) modules swapped for rule modules
    (``guided``: which also keep only where the activation's input was positive)."""
    twin = copy.deepcopy(model)
    for parent in list(twin.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.LeakyReLU):
                setattr(parent, name, _RuleModule(child, child.negative_slope, guided=guided))
            elif isinstance(child, RECTIFIED) or type(child).__name__ in ("Swish", "MemoryEfficientSwish"):
                setattr(parent, name, _RuleModule(child, guided=guided))
            elif isinstance(child, nn.LocalResponseNorm):
                setattr(parent, name, _RuleModule(child, pass_through=True))
    return twin


def slow_projection(model: nn.Module, image: Tensor, layer: str, unit: tuple[int, ...], value: str = "one",
                    guided: bool = False) -> Tensor:
    """The projection of one unit (channel, y, x) or (unit,) of module ``layer``'s output for one image
    (Tensor[C, H, W]), by autograd through ``rule_model(model, guided)``."""
    twin = rule_model(model, guided).eval()
    captured = {}
    handle = dict(twin.named_modules())[layer].register_forward_hook(lambda m, i, o: captured.__setitem__("out", o))
    x = image[None].clone().requires_grad_(True)
    try:
        twin(x)
    finally:
        handle.remove()
    out = captured["out"][0]
    selected = out[unit]
    scale = selected.detach() if value == "activation" else 1.0
    (grad,) = torch.autograd.grad(selected * scale, x)
    return grad[0]
