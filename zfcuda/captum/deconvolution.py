"""captum's ``Deconvolution``, ``GuidedBackprop``, ``NeuronDeconvolution`` and ``NeuronGuidedBackprop``,
with captum's constructors, ``attribute`` signatures and results, computed by zfcuda's deconvnet.

Changing ``from captum.attr import NeuronDeconvolution`` to ``from zfcuda.captum import
NeuronDeconvolution`` keeps a script's numbers where captum is right (``nn.ReLU`` modules) and
makes them right where it is not: captum hooks ``nn.ReLU`` modules only, so on ``F.relu``, ReLU6,
SiLU or GELU networks it silently returns the plain gradient there, where these classes apply the
deconvnet's rule at every activation (``zfcuda.deconvnet.graph``). When captum is installed the
classes subclass captum's, so ``isinstance`` checks and captum's visualization helpers work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from ..deconvnet.graph import GraphDeconvNet
from ._inputs import checked_inputs, refuse_forward_args, targets_of

try:  # captum is an optional extra: pip install "zfcuda[captum]"
    from captum.attr import Deconvolution as _CaptumDeconvolution
    from captum.attr import GuidedBackprop as _CaptumGuidedBackprop
    from captum.attr import NeuronDeconvolution as _CaptumNeuronDeconvolution
    from captum.attr import NeuronGuidedBackprop as _CaptumNeuronGuidedBackprop

    CAPTUM = True
except ImportError:  # without captum the classes stand alone
    _CaptumDeconvolution = _CaptumGuidedBackprop = _CaptumNeuronDeconvolution = _CaptumNeuronGuidedBackprop = object
    CAPTUM = False

NeuronSelector = int | tuple[int | slice, ...] | Callable[[Tensor], Tensor]


class _TargetProjection:
    """``attribute(inputs, target)``: the projection of each example's target output."""

    rule = "deconvnet"

    def __init__(self, model: nn.Module) -> None:
        if CAPTUM:
            super().__init__(model)
        self.model = model
        self._deconv = GraphDeconvNet(model, rule=self.rule)

    def attribute(self, inputs: Tensor | tuple[Tensor], target: int | list[int] | Tensor | None = None,
                  additional_forward_args=None) -> Tensor:
        """Attributions of ``target`` (an int, one per example as a list or Tensor[N], or None for a
        one-output model), Tensor[N, C, H, W] like ``inputs``."""
        refuse_forward_args(additional_forward_args, type(self).__name__)
        inputs = checked_inputs(inputs)

        def one_hot(output: Tensor) -> Tensor:
            if output.dim() != 2:
                raise ValueError(f"the model must return Tensor[N, classes] for a target, got shape {tuple(output.shape)}")
            top = torch.zeros_like(output)
            top[torch.arange(output.shape[0], device=output.device), targets_of(target, output)] = 1.0
            return top

        return self._deconv.project_signal(inputs, self._deconv.output_step, one_hot).to(inputs.dtype)


class _NeuronProjection:
    """``attribute(inputs, neuron_selector)``: the projection of a neuron of ``layer`` for every example."""

    rule = "deconvnet"

    def __init__(self, model: nn.Module, layer: nn.Module, device_ids: list[int] | None = None) -> None:
        if CAPTUM:
            super().__init__(model, layer, device_ids)
        self.model, self.layer, self.device_ids = model, layer, device_ids
        names = [name for name, module in model.named_modules() if module is layer]
        if not names:
            raise ValueError("layer must be a module of the model")
        self._deconv = GraphDeconvNet(model, rule=self.rule)
        self._step = self._deconv.index(names[0])

    def attribute(self, inputs: Tensor | tuple[Tensor], neuron_selector: NeuronSelector, additional_forward_args=None,
                  attribute_to_neuron_input: bool = False) -> Tensor:
        """Attributions of the selected neuron(s), Tensor[N, C, H, W] like ``inputs``.

        Args:
            neuron_selector: an int (a 2-D layer output), a tuple of ints and slices indexing one
                example's output (slices: their neurons are summed, as captum does), or a callable
                from the layer's output to one value per example.
        """
        refuse_forward_args(additional_forward_args, type(self).__name__)
        inputs = checked_inputs(inputs)
        if attribute_to_neuron_input:
            raise NotImplementedError("attribute_to_neuron_input=True is not supported by zfcuda.captum; use captum.attr")
        return self._deconv.project_signal(inputs, self._step, lambda output: _selected(neuron_selector, output)).to(inputs.dtype)

    def attribute_many(self, inputs: Tensor | tuple[Tensor], neuron_selectors: Sequence[NeuronSelector], chunk_size: int = 64) -> Tensor:
        """``attribute`` for many neurons in one call (zfcuda's extension): one forward pass, then
        the downward passes of every (neuron, example) pair in chunks of ``chunk_size``.

        Equal to ``torch.stack([attribute(inputs, s) for s in neuron_selectors])``, without a
        forward pass per neuron.

        Returns:
            Tensor[S, N, C, H, W]: S selectors, N examples.
        """
        inputs = checked_inputs(inputs)
        if len(neuron_selectors) == 0:
            raise ValueError("neuron_selectors must name at least one neuron")
        tops = [lambda output, s=selector: _selected(s, output) for selector in neuron_selectors]
        return self._deconv.project_signals(inputs, self._step, tops, chunk_size).to(inputs.dtype)


class Deconvolution(_TargetProjection, _CaptumDeconvolution):
    """captum's ``Deconvolution(model)``: the deconvnet projection of the target output of each example."""


class GuidedBackprop(_TargetProjection, _CaptumGuidedBackprop):
    """captum's ``GuidedBackprop(model)``: as ``Deconvolution``, also keeping only where each
    activation's forward input was positive."""

    rule = "guided"


class NeuronDeconvolution(_NeuronProjection, _CaptumNeuronDeconvolution):
    """captum's ``NeuronDeconvolution(model, layer, device_ids=None)`` (``device_ids`` is accepted and unused)."""


class NeuronGuidedBackprop(_NeuronProjection, _CaptumNeuronGuidedBackprop):
    """captum's ``NeuronGuidedBackprop(model, layer, device_ids=None)``."""

    rule = "guided"


def _selected(selector: NeuronSelector, output: Tensor) -> Tensor:
    """The top signal: the derivative of each example's selected value with respect to the layer output."""
    if callable(selector):
        with torch.enable_grad():
            x = output.detach().requires_grad_(True)
            values = selector(x)
            if values.numel() not in (1, x.shape[0]):
                raise ValueError(f"neuron_selector must return one value per example ({x.shape[0]}), got shape {tuple(values.shape)}")
            return torch.autograd.grad(values.sum(), x)[0]
    index = (selector,) if isinstance(selector, int) and not isinstance(selector, bool) else selector
    if not isinstance(index, tuple) or len(index) != output.dim() - 1:
        raise ValueError(f"neuron_selector must index one example's output of shape {tuple(output.shape[1:])}, got {selector!r}")
    top = torch.zeros_like(output)
    top[(slice(None), *index)] = 1.0
    return top
