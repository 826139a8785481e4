"""Drop-in modules built on the switch ops, and ``convert``, which gives any CNN switch pooling without rewriting it."""

from __future__ import annotations

import copy

from torch import Tensor, nn

from . import ops
from ._utils.geometry import IntPair, pair


class SwitchMaxPool2d(nn.MaxPool2d):
    """``nn.MaxPool2d`` that records its switches (1 byte per output for windows up to 16x16).

    Same arguments, outputs and gradients as ``nn.MaxPool2d``; a model converted to it computes
    bit-for-bit the same. After each forward ``switches`` (Tensor[N, C, H_out, W_out], uint8 or
    int32) and ``input_size`` (H, W) hold what the deconvnet needs to unpool.

    Args:
        kernel_size, stride, padding, dilation, return_indices, ceil_mode: as ``nn.MaxPool2d``.
        return_switches: forward returns ``(y, switches)`` instead of ``y``.
        record_switches: keep the last forward's switches on the module (default True).
    """

    def __init__(
        self,
        kernel_size: IntPair,
        stride: IntPair | None = None,
        padding: IntPair = 0,
        dilation: IntPair = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
        return_switches: bool = False,
        record_switches: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding, dilation, return_indices, ceil_mode)
        if return_indices and return_switches:
            raise ValueError("SwitchMaxPool2d: return_indices and return_switches cannot both be set")
        self.return_switches = return_switches
        self.record_switches = record_switches
        self.switches: Tensor | None = None
        self.input_size: tuple[int, int] | None = None

    @classmethod
    def from_max_pool(cls, pool: nn.MaxPool2d, **kwargs) -> SwitchMaxPool2d:
        """The switch-recording twin of an existing ``nn.MaxPool2d``."""
        return cls(pool.kernel_size, pool.stride, pool.padding, pool.dilation, pool.return_indices, pool.ceil_mode, **kwargs)

    def geometry(self) -> dict:
        """kernel_size, stride, padding and dilation as (height, width) pairs, for the switch ops."""
        kernel = pair(self.kernel_size, "kernel_size")
        stride = kernel if self.stride is None else pair(self.stride, "stride")
        return {
            "kernel_size": kernel,
            "stride": stride,
            "padding": pair(self.padding, "padding"),
            "dilation": pair(self.dilation, "dilation"),
        }

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """input (Tensor[N, C, H, W] or Tensor[C, H, W]) -> y (and the switches or indices when asked)."""
        g = self.geometry()
        y, switches = ops.max_pool2d_switches(input, ceil_mode=self.ceil_mode, **g)
        if self.record_switches:
            self.switches = switches
            self.input_size = (input.shape[-2], input.shape[-1])
        if self.return_indices:
            return y, ops.switches_to_indices(switches, input.shape[-2:], **g)
        if self.return_switches:
            return y, switches
        return y

    def unpool(self, y: Tensor, switches: Tensor | None = None) -> Tensor:
        """Unpools ``y`` (shaped like this pool's last output) with the recorded switches.

        Raises:
            RuntimeError: no forward has recorded switches yet.
        """
        if switches is None:
            if self.switches is None:
                raise RuntimeError("SwitchMaxPool2d.unpool: no switches recorded; run a forward pass first")
            switches = self.switches
        return ops.unpool2d_switches(y, switches, self.input_size, **self.geometry())


class Unpool2d(nn.Module):
    """Places pooled values back at their switches, summing where windows overlap.

    The exact adjoint of ``SwitchMaxPool2d`` (its gradient), deterministic on every device;
    unlike ``nn.MaxUnpool2d`` it is correct for overlapping windows (ZF-Net's 3x3, stride 2).

    Args:
        kernel_size, stride, padding, dilation: the geometry of the pooling being undone.
    """

    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0, dilation: IntPair = 1):
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, "stride")
        self.padding = pair(padding, "padding")
        self.dilation = pair(dilation, "dilation")

    @classmethod
    def from_pool(cls, pool: nn.MaxPool2d) -> Unpool2d:
        """The unpooling that undoes ``pool``."""
        return cls(pool.kernel_size, pool.stride, pool.padding, pool.dilation)

    def forward(self, y: Tensor, switches: Tensor, input_size: IntPair) -> Tensor:
        """y, switches (Tensor[N, C, H_out, W_out]), input_size (H, W) -> Tensor[N, C, H, W]."""
        return ops.unpool2d_switches(y, switches, input_size, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, dilation={self.dilation}"


def convert(model: nn.Module, switches: bool = True) -> nn.Module:
    """A deep copy of ``model`` with every ``nn.MaxPool2d`` replaced by ``SwitchMaxPool2d``.

    Weights, buffers and every other module are copied unchanged, so the copy computes the same
    outputs bit for bit; the original model is left untouched.

    Args:
        model: any module (torchvision AlexNet or VGG, ZF-Net, a user's nn.Sequential, ...).
        switches: False converts the other way: every ``SwitchMaxPool2d`` becomes a plain
            ``nn.MaxPool2d`` (e.g. to hand a model to code that knows only torch's modules).

    Returns:
        The converted copy.
    """
    converted = copy.deepcopy(model)
    _replace_pools(converted, switches)
    return converted


def _replace_pools(module: nn.Module, switches: bool) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.MaxPool2d) and isinstance(child, SwitchMaxPool2d) != switches:
            make = SwitchMaxPool2d.from_max_pool if switches else _plain_pool
            setattr(module, name, make(child))
        else:
            _replace_pools(child, switches)


def _plain_pool(pool: nn.MaxPool2d) -> nn.MaxPool2d:
    return nn.MaxPool2d(pool.kernel_size, pool.stride, pool.padding, pool.dilation, pool.return_indices, pool.ceil_mode)
