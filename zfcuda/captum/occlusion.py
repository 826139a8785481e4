"""captum's ``Occlusion``, with captum's constructor, ``attribute`` signature and result, computed by
zfcuda's occlusion engines: fused occluded batches, and by default the exact incremental engine,
which recomputes only what each window changes.

The attribution is captum's: for each input element, the mean over the windows covering it of
``forward(x)[target] - forward(x with the window set to the baseline)[target]``, on the raw outputs
of ``forward_func``; windows start at the origin and step by ``strides``, the last one in each
dimension hanging over the border (clipped), exactly as captum lays them out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ..sensitivity import occlusion
from ..stages import NotSplittable
from ._inputs import as_classes, checked_inputs, example_forward, forward_args, one_output_as_classes, targets_of

try:  # captum is an optional extra: pip install "zfcuda[captum]"
    from captum.attr import Occlusion as _CaptumOcclusion

    CAPTUM = True
except ImportError:
    _CaptumOcclusion = object
    CAPTUM = False

METHODS = ("auto", "incremental", "full", "approximate")


class Occlusion(_CaptumOcclusion):
    """captum's ``Occlusion(forward_func)``.

    Args:
        forward_func: the model or any callable from Tensor[B, C, H, W] (and the
            ``additional_forward_args``) to outputs Tensor[B, K] or Tensor[B].
    """

    def __init__(self, forward_func: Callable[[Tensor], Tensor]) -> None:
        if CAPTUM:
            super().__init__(forward_func)
        self.forward_func = forward_func

    def attribute(self, inputs: Tensor | tuple[Tensor], sliding_window_shapes: Sequence[int] | tuple[Sequence[int]],
                  strides: int | Sequence[int] | None = None, baselines: float | Tensor | None = None,
                  target: int | list[int] | Tensor | None = None, additional_forward_args=None, perturbations_per_eval: int = 1,
                  show_progress: bool = False, method: str = "auto") -> Tensor | tuple[Tensor]:
        """Occlusion attributions, float32 Tensor[N, C, H, W] as captum's (a 1-tuple when ``inputs`` was one).

        Args:
            inputs (Tensor[N, C, H, W]): the batch, or a tuple holding it.
            sliding_window_shapes: (C, h, w): the window spans all channels (a window over fewer
                channels raises NotImplementedError).
            strides: None (1), an int, or (c, h, w) / (h, w) steps.
            baselines: None (0), a number, or a tensor broadcastable to ``inputs`` (per channel, per
                example, or a full baseline image per example).
            target: an int, one per example (list or Tensor[N]), or None for a one-output model.
            additional_forward_args: further arguments of ``forward_func`` (one, or a tuple):
                tensors with one row per example (sliced with their example) or anything else
                (passed as is). With them the "full" engine runs.
            perturbations_per_eval: occluded images per forward pass (1: as many as fit the engine's
                memory budget; the result does not depend on it).
            show_progress: progress bars over the examples and the windows.
            method: zfcuda's engine: "auto" (the exact incremental engine where the model's forward
                can be split into stages, else "full"), "incremental", "full" or "approximate".
        """
        as_tuple = isinstance(inputs, tuple)
        images = checked_inputs(inputs)
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        window, step = _window(sliding_window_shapes, strides, images.shape[1])
        if not isinstance(perturbations_per_eval, int) or isinstance(perturbations_per_eval, bool) or perturbations_per_eval < 1:
            raise ValueError(f"perturbations_per_eval must be a positive int, got {perturbations_per_eval!r}")
        extra = forward_args(additional_forward_args, images.shape[0])
        if extra and method in ("incremental", "approximate"):
            raise ValueError(f"method {method!r} recomputes parts of the model's own layers and cannot pass "
                             "additional_forward_args; use method='auto' or 'full'")
        fills = _baselines(baselines, images)
        with torch.no_grad():
            raw = self.forward_func(images, *extra)
        targets = targets_of(target, as_classes(raw)).tolist()
        kwargs = dict(patch=window, stride=step, grid="captum", output="probs", show_progress=show_progress,
                      batch_size=perturbations_per_eval if perturbations_per_eval > 1 else "auto")
        if extra:  # each example with its own slice of the extra arguments, through the full engine
            results = [occlusion(example_forward(self.forward_func, extra, i), images[i], target=t, fill=f, method="full", **kwargs)
                       for i, (t, f) in enumerate(zip(targets, fills))]
        else:
            forward = one_output_as_classes(self.forward_func, raw)
            results = _run(forward, images, method, target=targets, fill=_stacked(fills), **kwargs)
        maps = [result.to_attribution() for result in results]
        # float32, as captum's (it divides by the window counts in float32 whatever the inputs' dtype).
        attributions = torch.stack(maps)[:, None].expand(images.shape).float().contiguous()
        return (attributions,) if as_tuple else attributions


def _run(forward, images: Tensor, method: str, **kwargs) -> list:
    """The batch through the engine; "auto" takes the incremental one where the model's forward can be split."""
    if method != "auto":
        return occlusion(forward, images, method=method, **kwargs)
    try:
        return occlusion(forward, images, method="incremental", **kwargs)
    except NotSplittable:
        return occlusion(forward, images, method="full", **kwargs)


def _stacked(fills: list) -> float | Tensor:
    """One number for the batch, or the per-example baselines as Tensor[N, C, H, W]."""
    return torch.stack(fills) if isinstance(fills[0], Tensor) else fills[0]


def _window(shapes, strides, channels: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The spatial window and step from captum's per-dimension ones."""
    if isinstance(shapes, tuple) and shapes and isinstance(shapes[0], tuple):
        if len(shapes) != 1:
            raise NotImplementedError("zfcuda.captum takes one input tensor, so one sliding window shape")
        shapes = shapes[0]
    shapes = tuple(shapes)
    if len(shapes) != 3 or not all(isinstance(v, int) and v >= 1 for v in shapes):
        raise ValueError(f"sliding_window_shapes must be (channels, height, width) of positive ints, got {shapes}")
    if shapes[0] != channels:
        raise NotImplementedError(f"windows over {shapes[0]} of the {channels} channels are not supported by zfcuda.captum "
                                  f"(its engines occlude all channels at once); use captum.attr.Occlusion for them")
    if strides is None:
        step = (1, 1)
    elif isinstance(strides, int):
        step = (strides, strides)
    else:
        strides = tuple(strides[0]) if isinstance(strides, tuple) and strides and isinstance(strides[0], tuple) else tuple(strides)
        if len(strides) not in (2, 3):
            raise ValueError(f"strides must be an int, (height, width) or (channels, height, width), got {strides}")
        step = strides[-2:]
    return shapes[1:], step


def _baselines(baselines, images: Tensor) -> list:
    """Each example's occluder fill: a number, or its baseline image Tensor[C, H, W]."""
    if baselines is None:
        baselines = 0.0
    if isinstance(baselines, tuple):
        if len(baselines) != 1:
            raise NotImplementedError("zfcuda.captum takes one input tensor, so one baseline")
        baselines = baselines[0]
    if isinstance(baselines, (int, float)) and not isinstance(baselines, bool):
        return [float(baselines)] * images.shape[0]
    value = torch.as_tensor(baselines, dtype=images.dtype, device=images.device)
    if value.dim() == 0:
        return [float(value)] * images.shape[0]
    try:
        full = torch.broadcast_to(value, images.shape)
    except RuntimeError:
        raise ValueError(f"baselines of shape {tuple(value.shape)} do not broadcast to the inputs' {tuple(images.shape)}") from None
    return list(full.contiguous().unbind(0))
