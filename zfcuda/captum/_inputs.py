"""What every ``zfcuda.captum`` class accepts of captum's inputs and targets, and the clear errors for the rest."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def refuse_forward_args(additional_forward_args, who: str) -> None:
    """The deconvnet traces ``forward(inputs)`` alone: extra arguments are refused, not dropped."""
    if additional_forward_args is not None:
        raise NotImplementedError(f"zfcuda.captum.{who} traces forward(inputs) only: additional_forward_args are not "
                                  "supported; use captum.attr for models that need them")


def forward_args(additional_forward_args, n: int) -> tuple:
    """captum's ``additional_forward_args`` as a tuple, checked: tensors must be scalars or hold one
    row per example (Tensor[N, ...]), the two kinds captum's batching keeps aligned with the inputs."""
    if additional_forward_args is None:
        return ()
    extra = additional_forward_args if isinstance(additional_forward_args, tuple) else (additional_forward_args,)
    for k, arg in enumerate(extra):
        if isinstance(arg, Tensor) and arg.dim() > 0 and arg.shape[0] != n:
            raise NotImplementedError(f"additional_forward_args[{k}] has shape {tuple(arg.shape)}: zfcuda.captum takes tensors "
                                      f"with one row per example ({n}) or scalars; use captum.attr for others")
    return extra


def example_forward(forward_func: Callable, extra: tuple, i: int) -> Callable[[Tensor], Tensor]:
    """``forward_func`` for example ``i`` alone: its rows of the per-example arguments, repeated for
    every occluded copy in a batch; outputs as Tensor[B, K]."""

    def forward(x: Tensor) -> Tensor:
        args = [a[i : i + 1].expand(x.shape[0], *a.shape[1:]) if isinstance(a, Tensor) and a.dim() > 0 else a for a in extra]
        return as_classes(forward_func(x, *args))

    return forward


def one_output_as_classes(forward_func: Callable, outputs: Tensor) -> Callable:
    """``forward_func`` itself when it returns Tensor[B, K] (so engines can read a model's layers), else
    a wrapper that makes its Tensor[B] outputs one class."""
    if outputs.dim() == 2:
        return forward_func
    return lambda x: as_classes(forward_func(x))


def as_classes(outputs: Tensor) -> Tensor:
    """A forward's outputs as Tensor[B, K]: one output per example (Tensor[B]) is K = 1."""
    if isinstance(outputs, Tensor) and outputs.dim() == 1:
        return outputs[:, None]
    if not isinstance(outputs, Tensor) or outputs.dim() != 2:
        got = tuple(outputs.shape) if isinstance(outputs, Tensor) else type(outputs).__name__
        raise ValueError(f"forward_func must return Tensor[N, K] or Tensor[N], got {got}")
    return outputs


def checked_inputs(inputs) -> Tensor:
    """The one image batch (Tensor[N, C, H, W]) these classes take; a clear error for what they do not."""
    if isinstance(inputs, tuple):
        if len(inputs) != 1:
            raise NotImplementedError("zfcuda.captum takes one input tensor, not a tuple of several")
        inputs = inputs[0]
    if not isinstance(inputs, Tensor) or inputs.dim() != 4:
        raise ValueError(f"inputs must be a Tensor[N, C, H, W], got {getattr(inputs, 'shape', type(inputs).__name__)}")
    return inputs


def targets_of(target, output: Tensor) -> Tensor:
    """One class index per example, Tensor[N] (int64)."""
    n, classes = output.shape
    if target is None:
        if classes != 1:
            raise ValueError(f"target is needed: the model returns {classes} outputs per example")
        return torch.zeros(n, dtype=torch.long, device=output.device)
    targets = torch.as_tensor(target, device=output.device).long().reshape(-1)
    if targets.numel() == 1:
        targets = targets.expand(n)
    if targets.numel() != n:
        raise ValueError(f"target must be an int or one per example ({n}), got {targets.numel()}")
    if bool((targets < 0).any()) or bool((targets >= classes).any()):
        raise ValueError(f"target must be in [0, {classes}), got {targets.tolist()}")
    return targets
