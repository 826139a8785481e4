"""Typed wrappers of the torch.ops.zfcuda operators, with fake kernels and autograd.

Shapes: pooled ops take 3-D (C, H, W) or 4-D (N, C, H, W) tensors of float16, bfloat16,
float32 or float64, with any strides; a channels_last input gives channels_last outputs.
The backward of each op is another zfcuda op: pooling <-> unpooling <-> gathering (registered in C++).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch._prims_common import suggest_memory_format

from . import _loader
from ._utils.geometry import IntPair, pair, pooled_size, switch_dtype

_C = _loader.load_extension()
_ops = torch.ops.zfcuda


def _direct(*tensors: Tensor) -> bool:
    """Whether to call the extension's direct binding, which enters the C++ dispatcher without
    torch.ops' Python layer (about 4 us a call, as much as a small kernel): everywhere except under
    torch.compile and with tensors that override ``__torch_function__``, which need torch.ops."""
    return not torch.compiler.is_compiling() and not torch.overrides.has_torch_function(tensors)


def _pool_args(
    kernel_size: IntPair, stride: IntPair | None, padding: IntPair, dilation: IntPair
) -> tuple[list[int], list[int], list[int], list[int]]:
    kernel = pair(kernel_size, "kernel_size")
    return (
        kernel,
        kernel if stride is None else pair(stride, "stride"),
        pair(padding, "padding"),
        pair(dilation, "dilation"),
    )


def max_pool2d_switches(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
) -> tuple[Tensor, Tensor]:
    """Max pooling that records each maximum's offset inside its window (the "switches").

    Same arguments and output as ``F.max_pool2d``; values are bitwise equal to it, NaN included.

    Args:
        input (Tensor[N, C, H, W] or Tensor[C, H, W]): floating-point input, any strides.
        kernel_size, stride, padding, dilation: as ``nn.MaxPool2d`` (stride defaults to kernel_size).
        ceil_mode: use ceil instead of floor for the output size.

    Returns:
        y (Tensor[N, C, H_out, W_out]): the pooled values.
        switches (Tensor[N, C, H_out, W_out]): ``kh * kW + kw`` of each maximum, uint8 when the
        window has at most 256 elements (int32 otherwise). Ties keep the first maximum in
        row-major window order; NaN wins (ATen's rule), so ``switches_to_indices`` reproduces
        ``F.max_pool2d(..., return_indices=True)`` exactly.
    """
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation)
    op = _C.max_pool2d_switches if _direct(input) else _ops.max_pool2d_switches
    return op(input, k, s, p, d, bool(ceil_mode))


def unpool2d_switches(
    y: Tensor,
    switches: Tensor,
    input_size: IntPair,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    validate: bool = True,
) -> Tensor:
    """Puts each pooled value back at its switch, summing where overlapping windows chose the same input.

    This is the exact adjoint of max pooling's selection (the gradient of ``F.max_pool2d``), computed
    as a deterministic gather: bitwise identical on every run and device.

    Args:
        y (Tensor[N, C, H_out, W_out] or Tensor[C, H_out, W_out]): values to place.
        switches (Tensor): from ``max_pool2d_switches``, the shape of ``y``.
        input_size: (H, W) of the pooled input; with the pooling arguments it must give ``y``'s size.
        validate: check that every switch points inside its window (on CUDA this synchronises).

    Returns:
        Tensor[N, C, H, W]: zero except at the switches.
    """
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation)
    op = _C.unpool2d_switches if _direct(y, switches) else _ops.unpool2d_switches
    return op(y, switches, pair(input_size, "input_size"), k, s, p, d, bool(validate))


def gather2d_switches(
    input: Tensor,
    switches: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    validate: bool = True,
) -> Tensor:
    """Pooling with given switches: reads ``input`` at each recorded position (backward of unpooling).

    Args:
        input (Tensor[N, C, H, W] or Tensor[C, H, W]): the tensor to read.
        switches (Tensor[N, C, H_out, W_out]): from ``max_pool2d_switches`` with the same geometry.
        validate: raise on switches that point outside their window (on CUDA this synchronises).

    Returns:
        Tensor[N, C, H_out, W_out]
    """
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation)
    op = _C.gather2d_switches if _direct(input, switches) else _ops.gather2d_switches
    return op(input, switches, k, s, p, d, bool(validate))


def occlusion_batch(image: Tensor, positions: Tensor, patch_size: IntPair, fill: float | Tensor = 0.0) -> Tensor:
    """Copies of ``image`` with a patch replaced by ``fill`` at each position, written in one pass.

    Args:
        image (Tensor[C, H, W]): the image, any strides.
        positions (Tensor[B, 2], int64): (top, left) of each patch; patches may lie partly outside.
        patch_size: (height, width) of the occluder.
        fill: a number, a per-channel Tensor[C], or a baseline image Tensor[C, H, W].

    Returns:
        Tensor[B, C, H, W]
    """
    if not isinstance(fill, Tensor):
        if not isinstance(fill, (int, float)) or isinstance(fill, bool):
            raise TypeError(f"occlusion_batch: fill must be a number or a tensor, got {type(fill).__name__}")
        fill = torch.tensor(fill, dtype=image.dtype, device=image.device)
    op = _C.occlusion_batch if _direct(image, positions, fill) else _ops.occlusion_batch
    return op(image, positions, pair(patch_size, "patch_size"), fill)


def patched_crops(
    base: Tensor, patches: Tensor, patch_origins: Tensor, crop_origins: Tensor, crop_size: IntPair, pad: float = 0.0
) -> Tensor:
    """Crops of one stored map, each with its own updated patch pasted in, in one pass.

    For each of B positions: the window of ``base`` at ``crop_origins[b]``, where patch b (placed
    at ``patch_origins[b]``) replaces the stored values it covers, and ``pad`` fills what lies
    outside the map (0 before a convolution, -inf before a max pool). This is the input the
    incremental occlusion engine needs to recompute a layer's changed region for a batch of
    occluder positions, without a Python loop or a full copy of the map per position.

    Args:
        base (Tensor[C, H, W]): the stored (unoccluded) activation map, any strides.
        patches (Tensor[B, C, h, w]): the updated values per position.
        patch_origins, crop_origins (Tensor[B, 2], int64): (top, left) in map coordinates.
        crop_size: (height, width) of every crop.

    Returns:
        Tensor[B, C, crop_h, crop_w]
    """
    op = _C.patched_crops if _direct(base, patches, patch_origins, crop_origins) else _ops.patched_crops
    return op(base, patches, patch_origins, crop_origins, pair(crop_size, "crop_size"), float(pad))


def conv_transpose2d_skip_zeros(input: Tensor, weight: Tensor, stride: IntPair = 1, dilation: IntPair = 1) -> Tensor:
    """``F.conv_transpose2d(input, weight, None, stride, padding=0, dilation=dilation)`` on the CPU,
    scattering only the non-zero elements of ``input``.

    Fast when most inputs are zero, as in the deconvnet (after unpooling and ReLU). The sum is the
    dense one's up to float rounding, except that zero inputs are skipped even where a weight is
    inf or NaN (the dense product would give NaN there). CPU only: on a GPU use the dense cuDNN one.

    Args:
        input (Tensor[N, C_in, H, W]): float32 or float64, any strides (channels_last is fastest).
        weight (Tensor[C_in, C_out, kH, kW]): the filters, as ``nn.Conv2d(C_out, C_in, ...).weight``.

    Returns:
        Tensor[N, C_out, (H - 1) * stride + dilation * (kH - 1) + 1, ...], channels_last in memory.
    """
    return _ops.conv_transpose2d_skip_zeros(input, weight, pair(stride, "stride"), pair(dilation, "dilation"))


def switches_to_indices(
    switches: Tensor,
    input_size: IntPair,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
) -> Tensor:
    """Flat int64 indices into each (H, W) plane, as ``F.max_pool2d(..., return_indices=True)`` gives.

    Args:
        switches (Tensor[..., H_out, W_out]): window offsets ``kh * kW + kw``.
        input_size: (H, W) of the pooled input.

    Returns:
        Tensor[..., H_out, W_out] of int64: ``ih * W + iw`` of each switch.
    """
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation)
    width = pair(input_size, "input_size")[1]
    out_h, out_w = switches.shape[-2:]
    offsets = switches.long()
    rows = torch.arange(out_h, device=switches.device).view(-1, 1) * s[0] - p[0] + (offsets // k[1]) * d[0]
    cols = torch.arange(out_w, device=switches.device) * s[1] - p[1] + (offsets % k[1]) * d[1]
    return rows * width + cols


def _empty_like_format(shape: Sequence[int], like: Tensor, dtype: torch.dtype) -> Tensor:
    # The kernels keep channels_last (as ATen's suggest_memory_format sees it) and write NCHW otherwise.
    fmt = suggest_memory_format(like) if like.dim() == 4 else torch.contiguous_format
    return torch.empty(tuple(shape), dtype=dtype, device=like.device, memory_format=fmt)


def _checked_pooled_size(input_size, k, s, p, d, ceil_mode, op: str) -> tuple[int, int]:
    out_h, out_w = pooled_size(input_size, k, s, p, d, ceil_mode)
    if out_h < 1 or out_w < 1:
        raise ValueError(f"{op}: kernel_size {tuple(k)} is larger than the padded input")
    return out_h, out_w


@torch.library.register_fake("zfcuda::max_pool2d_switches")
def _max_pool2d_switches_fake(input, kernel_size, stride, padding, dilation, ceil_mode):
    out = _checked_pooled_size(input.shape[-2:], kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d_switches")
    shape = (*input.shape[:-2], *out)
    return _empty_like_format(shape, input, input.dtype), _empty_like_format(shape, input, switch_dtype(kernel_size))


@torch.library.register_fake("zfcuda::unpool2d_switches")
def _unpool2d_switches_fake(y, switches, input_size, kernel_size, stride, padding, dilation, validate=True):
    return _empty_like_format((*y.shape[:-2], *input_size), y, y.dtype)


@torch.library.register_fake("zfcuda::gather2d_switches")
def _gather2d_switches_fake(input, switches, kernel_size, stride, padding, dilation, validate=True):
    return _empty_like_format(switches.shape, input, input.dtype)


@torch.library.register_fake("zfcuda::occlusion_batch")
def _occlusion_batch_fake(image, positions, patch_size, fill):
    return image.new_empty((positions.shape[0], *image.shape))


@torch.library.register_fake("zfcuda::patched_crops")
def _patched_crops_fake(base, patches, patch_origins, crop_origins, crop_size, pad):
    return base.new_empty((patches.shape[0], base.shape[0], *crop_size))


@torch.library.register_fake("zfcuda::conv_transpose2d_skip_zeros")
def _conv_transpose2d_skip_zeros_fake(input, weight, stride, dilation):
    size = [(input.shape[2 + d] - 1) * stride[d] + dilation[d] * (weight.shape[2 + d] - 1) + 1 for d in range(2)]
    shape = (input.shape[0], weight.shape[1], *size)
    return torch.empty(shape, dtype=input.dtype, device=input.device, memory_format=torch.channels_last)


def _setup_occlusion(ctx, inputs, output):
    image, positions, patch_size, fill = inputs
    ctx.save_for_backward(positions)
    ctx.patch_size = patch_size
    ctx.image_shape = image.shape
    ctx.fill_dim = fill.dim()


def _backward_occlusion(ctx, grad):
    (positions,) = ctx.saved_tensors
    _, height, width = ctx.image_shape
    # 1 where the image shows through, 0 under the patch: the same op builds the mask.
    ones = grad.new_ones((1, height, width))
    kept = _ops.occlusion_batch(ones, positions, ctx.patch_size, grad.new_zeros(()))
    grad_image = (grad * kept).sum(0) if ctx.needs_input_grad[0] else None
    grad_fill = None
    if ctx.needs_input_grad[3]:
        covered = grad * (1 - kept)
        reduce_dims = {0: (0, 1, 2, 3), 1: (0, 2, 3), 3: (0,)}[ctx.fill_dim]
        grad_fill = covered.sum(reduce_dims)
    return grad_image, None, None, grad_fill


# The pooled-plane ops' autograd is registered in C++ (csrc/autograd/pool2d_switches.cpp): a Python
# autograd kernel costs more per call than the small kernels themselves.
torch.library.register_autograd("zfcuda::occlusion_batch", _backward_occlusion, setup_context=_setup_occlusion)
