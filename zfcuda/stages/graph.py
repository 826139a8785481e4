"""Any CNN's forward pass read as a graph of steps the deconvnet can invert, with ``torch.fx``.

``model_stages`` and ``feature_chain`` read models whose structure their modules show (ZF-Net,
torchvision's ``features``, Sequentials, EfficientNet). A ResNet, MobileNet or DenseNet adds its
shortcuts and concatenations in Python, in ``forward``; ``read_graph`` traces that ``forward``
symbolically and classifies every step into one of a few kinds, each with a rule for the way down:

=================  ==============================================================================
kind               steps
=================  ==============================================================================
``conv``           ``nn.Conv2d`` (any groups, stride, dilation, integer padding), ``F.conv2d``
``linear``         ``nn.Linear``, ``F.linear``
``batchnorm``      ``nn.BatchNorm2d`` with running statistics (eval mode)
``maxpool``        ``nn.MaxPool2d`` / ``SwitchMaxPool2d``, ``F.max_pool2d`` (switches recorded)
``activation``     ReLU, ReLU6, Hardtanh, LeakyReLU, SiLU (and the EfficientNet packages' Swish),
                   Hardswish, GELU: modules, ``F.*`` functions and tensor methods, in place or not
``linear_map``     other linear maps, inverted by their exact adjoint: average and adaptive
                   average pooling, ``mean`` over positions, zero padding (``nn.ZeroPad2d``, ``F.pad``),
                   slices (``x[:, :8]``)
``reshape``        ``nn.Flatten``, ``flatten``, ``view``, ``reshape``, ``contiguous``, ``clone``
``identity``       Dropout, Identity, LocalResponseNorm (passed unchanged, as in the original deconvnet)
``add``, ``cat``   residual addition; channel concatenation
=================  ==============================================================================

Anything else (an LSTM, a multiplication of two tensors as in squeeze-and-excitation, a sigmoid)
is a ``TypeError`` that names the step, its module and type: never a silently different rule.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from ..nn import SwitchMaxPool2d

# The activation rules of the deconvnet's way down (docs: zfcuda.deconvnet.projection).
RECTIFIERS = (nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.SiLU, nn.Hardswish, nn.GELU)
LEAKY = (nn.LeakyReLU,)
PACKAGE_SWISH = ("Swish", "MemoryEfficientSwish")  # efficientnet_pytorch / efficientnet-lite-pytorch
RECTIFIER_FUNCTIONS = {F.relu, torch.relu, torch.relu_, F.relu_, F.relu6, F.hardtanh, F.silu, F.hardswish, F.gelu}
LINEAR_MAP_MODULES = (nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.ZeroPad2d)
LINEAR_MAP_FUNCTIONS = {F.avg_pool2d, F.adaptive_avg_pool2d, F.pad, torch.mean}
IDENTITY_MODULES = (nn.Dropout, nn.Dropout2d, nn.Identity, nn.LocalResponseNorm)
RESHAPE_METHODS = {"flatten", "view", "reshape", "contiguous", "clone"}
META_METHODS = {"size", "dim"}
SUPPORTED_MODULES = (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.MaxPool2d, *RECTIFIERS, *LEAKY, *LINEAR_MAP_MODULES,
                     *IDENTITY_MODULES, nn.Flatten)


@dataclass
class Step:
    """One node of the traced forward pass and what the way down does at it.

    Attributes:
        node: the ``torch.fx`` node.
        kind: see the module docstring ("input", "param", "meta", "output" for the rest).
        module: the module it calls, for ``call_module`` nodes.
        where: the module's qualified name, or the node's name, for messages.
        slope: a LeakyReLU's negative slope (0 for the rectifiers).
    """

    node: fx.Node
    kind: str
    module: nn.Module | None = None
    where: str = ""
    slope: float = 0.0


@dataclass
class Graph:
    """A traced model: its steps in execution order and the step each module name ends at.

    Attributes:
        module: the ``torch.fx.GraphModule`` that runs the steps (sharing the model's parameters).
        steps: every node, in order, classified.
        outputs: module name -> index of the step that produces its output (its last call,
            for a module called more than once).
    """

    module: fx.GraphModule
    steps: list[Step]
    outputs: dict[str, int] = field(default_factory=dict)


class _Tracer(fx.Tracer):
    """Keeps the modules the deconvnet has rules for as leaves, and notes where every module's output is."""

    def __init__(self) -> None:
        super().__init__()
        self.module_outputs: dict[str, fx.Node] = {}

    def is_leaf_module(self, module: nn.Module, name: str) -> bool:
        if isinstance(module, SwitchMaxPool2d) or type(module).__name__ in PACKAGE_SWISH:
            return True
        if isinstance(module, SUPPORTED_MODULES):
            # A subclass with its own forward (a conv that pads itself first) is traced into instead.
            return _stock_forward(module)
        return super().is_leaf_module(module, name)

    def call_module(self, module, forward, args, kwargs):
        out = super().call_module(module, forward, args, kwargs)
        if isinstance(out, fx.Proxy):
            self.module_outputs[self.path_of_module(module)] = out.node
        return out


def _stock_forward(module: nn.Module) -> bool:
    return any(type(module).forward is cls.forward for cls in type(module).__mro__ if cls.__module__.startswith("torch.nn"))


def read_graph(model: nn.Module) -> Graph:
    """Traces ``model.forward`` and classifies every step.

    Raises:
        TypeError: the forward cannot be traced (data-dependent control flow), or a step has no
            deconvnet rule; the message names it.
    """
    tracer = _Tracer()
    try:
        with _hooks_set_aside(model):  # the user's hooks would be traced as steps of forward
            graph = tracer.trace(model)
    except Exception as error:  # fx raises many kinds (TraceError, TypeError, RuntimeError...)
        raise TypeError(f"DeconvNet could not read {type(model).__name__}.forward with torch.fx ({type(error).__name__}: "
                        f"{error}); a forward with data-dependent control flow cannot be read") from error
    module = fx.GraphModule(model, graph)
    steps, problems, kinds = [], [], {}
    for node in graph.nodes:
        try:
            steps.append(_classify(node, module, kinds))
            kinds[node] = steps[-1].kind
        except TypeError as error:
            problems.append(str(error))
    if problems:  # every step without a rule at once, so one run tells the user all of them
        raise TypeError("; ".join(problems))
    index = {step.node: i for i, step in enumerate(steps)}
    outputs = {name: index[node] for name, node in tracer.module_outputs.items() if name}
    return Graph(module, steps, outputs)


@contextmanager
def _hooks_set_aside(model: nn.Module):
    """Every module's forward hooks and pre-hooks, removed for the block and put back after it."""
    kept = [(m, m._forward_hooks, m._forward_pre_hooks) for m in model.modules()]
    try:
        for module, _, _ in kept:
            module._forward_hooks, module._forward_pre_hooks = OrderedDict(), OrderedDict()
        yield
    finally:
        for module, hooks, pre_hooks in kept:
            module._forward_hooks, module._forward_pre_hooks = hooks, pre_hooks


def _classify(node: fx.Node, root: fx.GraphModule, kinds: dict[fx.Node, str]) -> Step:
    """The step for ``node`` (``kinds``: those of the steps before it); a TypeError for anything without a deconvnet rule."""
    sources = [kinds.get(n) for n in node.all_input_nodes]
    if node.op in ("call_function", "call_method") and sources and all(k in ("meta", "param") for k in sources):
        return Step(node, "meta", where=node.name)  # arithmetic on sizes or on parameters: no signal goes there
    if node.op == "call_function" and node.target in (getattr, operator.getitem):
        # x.shape, x.size()[0]: bookkeeping; x[:, :8]: a slice of a tensor, a linear map.
        source = kinds.get(node.args[0]) if isinstance(node.args[0], fx.Node) else "meta"
        tensor = node.target is operator.getitem and source not in ("meta", "param")
        return Step(node, "linear_map" if tensor else "meta", where=node.name)
    if node.op in ("placeholder", "get_attr", "output"):
        return Step(node, {"placeholder": "input", "get_attr": "param", "output": "output"}[node.op], where=node.name)
    if node.op == "call_module":
        return _module_step(node, root.get_submodule(node.target))
    if node.op == "call_method":
        return _method_step(node)
    return _function_step(node)


def _module_step(node: fx.Node, module: nn.Module) -> Step:
    where = str(node.target)

    def unsupported(why: str = "") -> TypeError:
        return TypeError(f"DeconvNet cannot invert module {where!r} ({type(module).__name__}){why}; supported: "
                         "Conv2d, Linear, BatchNorm2d (eval), MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, ZeroPad2d, ReLU, ReLU6, "
                         "Hardtanh, LeakyReLU, SiLU, Swish, Hardswish, GELU, Flatten, Dropout, Identity, LocalResponseNorm, "
                         "and residual addition and concatenation in forward")

    if isinstance(module, nn.MaxPool2d):
        if module.return_indices:
            raise unsupported(": return_indices=True")
        return Step(node, "maxpool", module, where)
    if type(module).__name__ in PACKAGE_SWISH:
        return Step(node, "activation", module, where)
    if not isinstance(module, SUPPORTED_MODULES) or not _stock_forward(module):
        raise unsupported()
    if isinstance(module, nn.Conv2d):
        if module.padding_mode != "zeros":
            raise unsupported(f": padding_mode {module.padding_mode!r} (only 'zeros')")
        if isinstance(module.padding, str) and module.padding != "valid":
            raise unsupported(f": padding={module.padding!r}; give the padding as integers or a ZeroPad2d")
        return Step(node, "conv", module, where)
    if isinstance(module, nn.Linear):
        return Step(node, "linear", module, where)
    if isinstance(module, nn.BatchNorm2d):
        return Step(node, "batchnorm", module, where)
    if isinstance(module, LEAKY):
        return Step(node, "activation", module, where, slope=module.negative_slope)
    if isinstance(module, RECTIFIERS):
        return Step(node, "activation", module, where)
    if isinstance(module, LINEAR_MAP_MODULES):
        return Step(node, "linear_map", module, where)
    if isinstance(module, nn.Flatten):
        return Step(node, "reshape", module, where)
    return Step(node, "identity", module, where)


def _method_step(node: fx.Node) -> Step:
    name = node.target
    if name in RESHAPE_METHODS:
        return Step(node, "reshape", where=node.name)
    if name in META_METHODS:
        return Step(node, "meta", where=node.name)
    if name in ("relu", "relu_"):
        return Step(node, "activation", where=node.name)
    if name in ("add", "add_"):
        return Step(node, "add", where=node.name)
    if name == "mean":
        return Step(node, "linear_map", where=node.name)
    raise TypeError(f"DeconvNet cannot invert the tensor method .{name}() at step {node.name!r} of forward")


def _function_step(node: fx.Node) -> Step:
    fn = node.target
    if fn in (operator.add, operator.iadd, torch.add):
        if "alpha" in node.kwargs:
            raise TypeError(f"DeconvNet cannot invert torch.add(..., alpha=...) at step {node.name!r} of forward")
        return Step(node, "add", where=node.name)
    if fn is torch.cat:
        return Step(node, "cat", where=node.name)
    if fn in (torch.flatten, torch.reshape):
        return Step(node, "reshape", where=node.name)
    if fn in RECTIFIER_FUNCTIONS:
        return Step(node, "activation", where=node.name)
    if fn is F.leaky_relu:
        slope = node.args[1] if len(node.args) > 1 else node.kwargs.get("negative_slope", 0.01)
        return Step(node, "activation", where=node.name, slope=float(slope))
    if fn is F.conv2d:
        return Step(node, "conv", where=node.name)
    if fn is F.linear:
        return Step(node, "linear", where=node.name)
    if fn is F.max_pool2d:
        return Step(node, "maxpool", where=node.name)
    if fn in LINEAR_MAP_FUNCTIONS:
        return Step(node, "linear_map", where=node.name)
    if fn in (F.dropout, F.dropout2d):
        return Step(node, "identity", where=node.name)
    name = getattr(fn, "__name__", repr(fn))
    raise TypeError(f"DeconvNet cannot invert {name} at step {node.name!r} of forward (a product of two tensors, as in "
                    "squeeze-and-excitation, a sigmoid or a custom function has no deconvnet rule)")
