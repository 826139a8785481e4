"""What every ``zfcuda.captum`` class accepts of captum's inputs and targets, and the clear errors for the rest."""

from __future__ import annotations

import torch
from torch import Tensor


def checked_inputs(inputs, additional_forward_args) -> Tensor:
    """The one image batch (Tensor[N, C, H, W]) these classes take; a clear error for what they do not."""
    if additional_forward_args is not None:
        raise NotImplementedError("zfcuda.captum runs forward(inputs) only: additional_forward_args are not supported; "
                                  "use captum.attr for models that need them")
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
