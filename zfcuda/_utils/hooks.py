"""Reading a model's intermediate outputs by module name, shared by the invariance and
correspondence analyses, and running a model in eval mode for the length of an analysis."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from torch import Tensor, nn


def eval_mode(model) -> Callable[[], None]:
    """Puts an ``nn.Module`` in eval mode; returns the call that restores its previous mode
    (a no-op for any other callable)."""
    if isinstance(model, nn.Module):
        was_training = model.training
        model.eval()
        return lambda: model.train(was_training)
    return lambda: None


def find_module(model: nn.Module, name: str) -> nn.Module:
    """The submodule called ``name``, or the only one whose dotted name ends with ``.name``.

    Raises:
        ValueError: no such module, or the suffix is ambiguous (the message lists candidates).
    """
    named = dict(model.named_modules())
    if name in named and name:
        return named[name]
    matches = [full for full in named if full.endswith("." + name)]
    if len(matches) == 1:
        return named[matches[0]]
    some = ", ".join(n for n in list(named)[1:12] if n)
    if matches:
        raise ValueError(f"layer {name!r} is ambiguous: {', '.join(matches)}")
    raise ValueError(f"the model has no layer {name!r}; its modules include {some}")


@contextmanager
def layer_outputs(model: nn.Module, names: Sequence[str]) -> Iterator[dict[str, Tensor]]:
    """While open, the model runs in eval mode and every forward pass leaves each named layer's
    output, flattened per sample (Tensor[B, D], detached, copied: a later in-place op cannot change
    it), in the yielded dict; hooks and the previous mode are restored on exit.

    Raises:
        ValueError: an unknown or ambiguous layer name (see ``find_module``).
    """
    modules = {name: find_module(model, name) for name in names}
    captured: dict[str, Tensor] = {}
    hooks = [module.register_forward_hook(lambda m, i, o, name=name: captured.__setitem__(name, o.detach().flatten(1).clone()))
             for name, module in modules.items()]
    restore = eval_mode(model)
    try:
        yield captured
    finally:
        for hook in hooks:
            hook.remove()
        restore()
