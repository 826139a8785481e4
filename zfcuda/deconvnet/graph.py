"""The deconvnet on any CNN whose forward ``torch.fx`` can read: ResNets, MobileNets, DenseNets,
EfficientNet, user code with ``F.relu`` and ``x + shortcut``.

The forward pass runs the traced graph step by step, recording what the way down needs (each max
pool's switches, each step's input shape). The way down visits the steps in reverse and applies
the deconvnet's rule at each (``zfcuda.stages.graph`` lists the kinds):

- convolution and linear layers: their transpose with the same weights, no bias;
- batch norm (eval): the per-channel scale of its affine map, no shift;
- max pooling: unpooling with the recorded switches;
- activations: the ReLU family (ReLU, ReLU6, Hardtanh) and the smooth gates (SiLU/Swish,
  Hardswish, GELU, which tend to the identity above and to 0 below) rectify the signal with ReLU,
  as the deconvnet does at every ReLU; LeakyReLU applies itself with its own slope to the signal;
- other linear maps (average pooling, means, padding): their exact adjoint;
- residual addition sends the signal down both branches and sums where they meet; concatenation
  splits it by channels; Dropout, Identity and LRN pass it unchanged.

With ``nn.ReLU`` activations and ``value="one"`` this is exactly captum's ``NeuronDeconvolution``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import Tensor, nn

from .. import ops
from .._utils.geometry import pair
from ..stages.geometry import input_window
from ..stages.graph import Graph, Step, read_graph
from .graph_crop import Crop, Signal, added, down_on_crop, full
from .projection import DeconvNet, _checked_rule
from .transpose import conv_transpose


# The parameters of the functional ops the graph reads, to bind a traced call's arguments by name
# (torch's builtins have no signature that ``inspect`` can read).
def _conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """F.conv2d's parameters."""


def _linear(input, weight, bias=None):
    """F.linear's parameters."""


def _max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """F.max_pool2d's parameters."""


def _avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """F.avg_pool2d's parameters."""


def _bound(signature_of, args: tuple, kwargs: dict) -> dict:
    """A functional call's arguments by name."""
    bound = inspect.signature(signature_of).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.arguments


class GraphRecords:
    """What a forward pass leaves for the way down: per step, the shapes of its tensor inputs and
    what its rule needs (switches, weights, scales, the adjoint of a linear map)."""

    def __init__(self, input_shape: torch.Size) -> None:
        self.input_shape = input_shape
        self.inputs: dict[int, list[tuple[int, torch.Size]]] = {}  # step -> (producing step, shape) per tensor input
        self.rule: dict[int, dict] = {}


class GraphDeconvNet(DeconvNet):
    """``DeconvNet`` for a model read as a graph (see the module docstring); created by
    ``DeconvNet(model)`` when the model is not a plain chain of layers.

    Layers are the model's own module names (``"layer3"``, ``"layer3.1.relu"``, ``"blocks.10"``;
    a unique last part such as ``"conv3"`` for ``"conv_layers.conv3"`` is enough); a module called several times (torchvision's BasicBlock calls its ``relu`` twice) names its
    last call. With ``crop=True`` the way down works on receptive-field crops wherever the path is
    local (``deconvnet.graph_crop``) and on full maps below global pooling or linear layers.

    Raises:
        TypeError: the forward cannot be read, or a step has no deconvnet rule (the message names it).
    """

    def __init__(self, model: nn.Module, rule: str = "deconvnet") -> None:
        self.rule = _checked_rule(rule)
        self.model = model
        self.graph: Graph = read_graph(model)
        self.steps: list[Step] = self.graph.steps
        self._index = {step.node: i for i, step in enumerate(self.steps)}
        # Where each value is read for the last time: the forward frees it there (a batch's
        # intermediate maps would otherwise all stay alive, and fresh memory is slow to touch).
        last_read = {source: i for i, step in enumerate(self.steps) for source in step.node.all_input_nodes}
        self._freed_after: dict[int, list[fx.Node]] = {}
        for source, i in last_read.items():
            self._freed_after.setdefault(i, []).append(source)
        self._names = sorted(self.graph.outputs, key=lambda name: self.graph.outputs[name])
        if not self._names:
            raise TypeError(f"DeconvNet found no layer in {type(model).__name__}: give it a CNN made of modules")

    @property
    def layer_names(self) -> list[str]:
        return list(self._names)

    def index(self, layer: str | int) -> int:
        """The step that produces ``layer``'s output (a module name, or an index into ``layer_names``)."""
        if isinstance(layer, int) and not isinstance(layer, bool):
            if not -len(self._names) <= layer < len(self._names):
                raise IndexError(f"layer index {layer} out of range for {len(self._names)} layers")
            return self.graph.outputs[self._names[layer]]
        return self.graph.outputs[self._full_name(layer)]

    def _full_name(self, layer: str) -> str:
        """The module name ``layer`` stands for: itself, or the one name ending with ``.layer``."""
        if layer in self.graph.outputs:
            return layer
        matches = [name for name in self._names if name.endswith("." + layer)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise KeyError(f"layer {layer!r} is ambiguous: {', '.join(matches)}")
        raise KeyError(f"no layer {layer!r}; layers are {', '.join(self._names)}")

    def receptive_field(self, layer: str | int, y: int, x: int, image_size: tuple[int, int] | None = None) -> tuple[int, int, int, int]:
        """The input box unit (y, x) of ``layer`` can see, following every path down (the union of
        the branches); a layer above global pooling, a mean or a linear layer sees the whole image.

        Returns:
            (top, left, bottom, right), bottom and right exclusive; clipped to ``image_size``.

        Raises:
            ValueError: the layer sees the whole image and ``image_size`` is None.
        """
        # Per step, the box of its output that the unit reads; None: all of it.
        boxes: dict[int, tuple[int, int, int, int] | None] = {self.index(layer): (y, x, y + 1, x + 1)}
        for i in range(self.index(layer), 0, -1):
            if i not in boxes:
                continue
            box, step = boxes.pop(i), self.steps[i]
            below = self._box_below(step, box)
            for source in self._tensor_inputs(step):
                boxes[source] = _union(boxes[source], below) if source in boxes else below
        if 0 not in boxes:
            raise ValueError(f"layer {layer!r} does not depend on the input")
        found = boxes[0]
        if found is None:
            if image_size is None:
                raise ValueError(f"layer {layer!r} sees the whole image; give image_size")
            return 0, 0, image_size[0], image_size[1]
        top, left, bottom, right = found
        if image_size is not None:
            top, left = max(top, 0), max(left, 0)
            bottom, right = min(bottom, image_size[0]), min(right, image_size[1])
        return top, left, bottom, right

    def _tensor_inputs(self, step: Step) -> list[int]:
        return [self._index[n] for n in step.node.all_input_nodes if self.steps[self._index[n]].kind not in ("param", "meta")]

    def _box_below(self, step: Step, box):
        """The input box of ``step`` for an output box (None: the whole input)."""
        if box is None:
            return None
        if step.kind in ("conv", "maxpool") or isinstance(step.module, nn.AvgPool2d) or step.node.target is F.avg_pool2d:
            geometry = self.window_of(step)
            origin, size = input_window((box[0], box[1]), (box[2] - box[0], box[3] - box[1]), geometry)
            return origin[0], origin[1], origin[0] + size[0], origin[1] + size[1]
        if isinstance(step.module, nn.ZeroPad2d):
            left, _, top, _ = step.module.padding
            return box[0] - top, box[1] - left, box[2] - top, box[3] - left
        if step.kind in ("activation", "batchnorm", "identity", "add", "cat"):
            return box
        return None  # linear layers, global pooling, flatten, other padding: every input position

    def window_of(self, step: Step) -> tuple:
        """(kernel, stride, padding, dilation) of a windowed step (conv, pool), each [height, width], from
        the traced call: what receptive fields and crops follow."""
        module, node = step.module, step.node
        if module is not None:
            kernel = pair(module.kernel_size, "kernel_size")
            stride = kernel if module.stride is None else pair(module.stride, "stride")
            padding = [0, 0] if module.padding == "valid" else pair(module.padding, "padding")
            return kernel, stride, padding, pair(getattr(module, "dilation", 1), "dilation")
        if node.target is F.conv2d:
            args = _bound(_conv2d, node.args, node.kwargs)
            weight = self.graph.module.get_parameter(args["weight"].target) if isinstance(args["weight"], fx.Node) else args["weight"]
            kernel = list(weight.shape[-2:])
        else:
            args = _bound(_max_pool2d if node.target is F.max_pool2d else _avg_pool2d, node.args, node.kwargs)
            kernel = pair(args["kernel_size"], "kernel_size")
        stride = kernel if args.get("stride") is None else pair(args["stride"], "stride")
        return kernel, stride, pair(args.get("padding", 0), "padding"), pair(args.get("dilation", 1), "dilation")

    @property
    def output_step(self) -> int:
        """The step whose value ``forward`` returns."""
        return self._index[self.steps[-1].node.args[0]]

    @torch.no_grad()
    def project_signal(self, images: Tensor, step: int, top_of: Callable[[Tensor], Tensor]) -> Tensor:
        """The projection of any signal at step ``step`` (an index into ``steps``; ``output_step``
        for the model's output), one per image.

        Args:
            images (Tensor[N, C, H, W]): the inputs.
            top_of: maps the step's output (Tensor[N, ...]) to the signal to send down (same shape).

        Returns:
            Tensor[N, C, H, W].
        """
        captured, records = self._run(images, {step})
        top = top_of(captured[step])
        return self._down_from(step, top, torch.arange(images.shape[0], device=images.device), records)

    def project_signals(self, images: Tensor, step: int, tops_of: Sequence[Callable[[Tensor], Tensor]], chunk_size: int = 64) -> Tensor:
        """``project_signal`` for several signals from one forward pass: every (signal, image) pair
        goes down, ``chunk_size`` pairs at a time.

        Returns:
            Tensor[S, N, C, H, W]: S signals, N images.
        """
        if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
        captured, records = self._run(images, {step})
        n = images.shape[0]
        per_chunk = max(1, chunk_size // n)
        examples = torch.arange(n, device=images.device)
        projections = []
        for start in range(0, len(tops_of), per_chunk):
            part = tops_of[start : start + per_chunk]
            top = torch.cat([top_of(captured[step]) for top_of in part])
            projections.append(self._down_from(step, top, examples.repeat(len(part)), records).view(len(part), *images.shape))
        return torch.cat(projections)

    def name_of(self, layer: str | int) -> str:
        """The layer's module name, for a name or an index into ``layer_names``."""
        self.index(layer)  # a clear error for an unknown one
        return self._full_name(layer) if isinstance(layer, str) else self._names[layer]

    @torch.no_grad()
    def forward(self, images: Tensor, layer: str | int) -> tuple[Tensor, GraphRecords]:
        """Runs the graph up to ``layer``'s step; returns its output and what the way down needs."""
        captured, records = self._run(images, {self.index(layer)})
        return captured[self.index(layer)], records

    @torch.no_grad()
    def activations(self, images: Tensor, layers: Sequence[str | int]) -> dict[str, Tensor]:
        """The outputs of several layers from one forward pass, by layer name."""
        steps = {self.name_of(layer): self.index(layer) for layer in layers}
        captured, _ = self._run(images, set(steps.values()))
        return {name: captured[step] for name, step in steps.items()}

    def _run(self, images: Tensor, capture: set[int]) -> tuple[dict[int, Tensor], GraphRecords]:
        """Runs the graph up to the last step in ``capture``; those steps' outputs (copied as they
        come: a later in-place step must not change them) and what the way down needs."""
        if images.dim() != 4:
            raise ValueError(f"images must be 4-D (N, C, H, W), got shape {tuple(images.shape)}")
        last = max(capture)
        captured: dict[int, Tensor] = {}
        records = GraphRecords(images.shape)
        interpreter = fx.Interpreter(self.graph.module)
        interpreter.args_iter = iter([images])
        env = interpreter.env
        for i, step in enumerate(self.steps[: last + 1]):
            node = step.node
            args, kwargs = interpreter.fetch_args_kwargs_from_env(node)
            records.inputs[i] = [(self._index[n], env[n].shape) for n in node.all_input_nodes
                                 if isinstance(env.get(n), Tensor) and self.steps[self._index[n]].kind not in ("param", "meta")]
            if step.kind == "maxpool":
                env[node] = self._max_pool(step, args, kwargs, records, i)
            else:
                self._note_rule(step, args, kwargs, records, i)  # first: an in-place step overwrites its input
                env[node] = interpreter.run_node(node)
            if i in capture:
                captured[i] = env[node].clone()
            for source in self._freed_after.get(i, ()):
                env.pop(source, None)
        return captured, records

    def _max_pool(self, step: Step, args: tuple, kwargs: dict, records: GraphRecords, i: int) -> Tensor:
        """Max pooling through the switch op (bitwise F.max_pool2d), keeping its switches."""
        if step.module is not None:
            pool = step.module
            x, kernel, stride, padding, dilation, ceil = args[0], pool.kernel_size, pool.stride, pool.padding, pool.dilation, pool.ceil_mode
        else:
            bound = _bound(_max_pool2d, args, kwargs)
            if bound["return_indices"]:
                raise TypeError(f"DeconvNet cannot invert F.max_pool2d(return_indices=True) at step {step.where!r}")
            x, kernel, stride, padding, dilation, ceil = (bound[k] for k in ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode"))
        stride = kernel if stride is None or stride == [] else stride
        y, switches = ops.max_pool2d_switches(x, kernel, stride, padding, dilation, ceil)
        records.rule[i] = {"switches": switches, "size": tuple(x.shape[-2:]), "geometry": (kernel, stride, padding, dilation)}
        return y

    def _note_rule(self, step: Step, args: tuple, kwargs: dict, records: GraphRecords, i: int) -> None:
        """What the rule of ``step`` needs from its forward call."""
        kind, module = step.kind, step.module
        if kind == "conv":
            if module is not None:
                conv = dict(weight=module.weight, stride=module.stride, dilation=module.dilation, groups=module.groups,
                            padding=(0, 0) if module.padding == "valid" else module.padding)
            else:
                bound = _bound(_conv2d, args, kwargs)
                if isinstance(bound["padding"], str):
                    raise TypeError(f"DeconvNet cannot invert F.conv2d(padding={bound['padding']!r}) at step {step.where!r}")
                conv = {k: bound[k] for k in ("weight", "stride", "padding", "dilation", "groups")}
            conv.update(size=tuple(args[0].shape[-2:]))
            records.rule[i] = conv
        elif kind == "activation" and self.rule == "guided":
            records.rule[i] = {"positive": args[0] > 0}
        elif kind == "linear":
            records.rule[i] = {"weight": module.weight if module is not None else _bound(_linear, args, kwargs)["weight"]}
        elif kind == "batchnorm":
            if module.training or module.running_var is None:
                raise TypeError(f"DeconvNet needs batch norm {step.where!r} in eval mode with running statistics "
                                "(batch statistics mix the images); call model.eval()")
            scale = torch.rsqrt(module.running_var + module.eps)
            records.rule[i] = {"scale": scale * module.weight if module.weight is not None else scale}
        elif kind == "linear_map":
            call = module if module is not None else _bind_first(step.node, args, kwargs)
            records.rule[i] = {"map": call}
        elif kind == "add":
            operands = [(self._index[n], a.shape) for n, a in zip(step.node.args, args) if isinstance(n, fx.Node) and isinstance(a, Tensor)
                        and self.steps[self._index[n]].kind != "param"]
            records.rule[i] = {"operands": operands}
        elif kind == "cat":
            nodes = step.node.args[0] if step.node.args else step.node.kwargs["tensors"]
            tensors = args[0] if args else kwargs["tensors"]
            records.rule[i] = {"dim": kwargs.get("dim", args[1] if len(args) > 1 else 0),
                               "operands": [(self._index[n], a.shape) for n, a in zip(nodes, tensors)]}

    @torch.no_grad()
    def down(self, top: Tensor, image_index: Tensor, records: GraphRecords, layer: str | int) -> Tensor:
        """The way down from ``layer`` to pixels.

        Args:
            top (Tensor[S, ...]): the signal at ``layer``'s output (zero but the selected units).
            image_index (Tensor[S], int64): which forward image's switches each row uses.
            records: from ``forward`` on those images.

        Returns:
            Tensor[S, C, H, W]: the projections in pixel space.
        """
        return self._down_from(self.index(layer), top, image_index, records)

    def _down_from(self, last: int, top: Signal, image_index: Tensor, records: GraphRecords) -> Tensor:
        """``down`` from step ``last``, for a signal on full maps or on receptive-field crops."""
        signals: dict[int, Signal] = {last: top}
        for i in range(last, -1, -1):
            signal = signals.pop(i, None)
            if signal is None:
                continue
            step = self.steps[i]
            if step.kind == "input":
                return full(signal)
            parts = down_on_crop(self, step, i, signal, image_index, records) if isinstance(signal, Crop) else None
            if parts is None:
                parts = self._down_step(step, i, full(signal), image_index, records)
            for source, part in parts:
                signals[source] = added(signals[source], part) if source in signals else part
        like = top.values if isinstance(top, Crop) else top
        return like.new_zeros((like.shape[0], *records.input_shape[1:]))  # the layer does not depend on the input

    def _down_step(self, step: Step, i: int, s: Tensor, image_index: Tensor, records: GraphRecords):
        """(producing step, signal) for each tensor input of ``step``, given the signal ``s`` at its output."""
        inputs, rule, kind = records.inputs[i], records.rule.get(i, {}), step.kind
        (first, shape), count = (inputs[0] if inputs else (None, None)), s.shape[0]
        if kind == "conv":
            geometry = [pair(rule[name], name) for name in ("stride", "padding", "dilation")]
            yield first, conv_transpose(s, rule["weight"], *geometry, rule["groups"], rule["size"])
        elif kind == "linear":
            yield first, s @ rule["weight"]
        elif kind == "batchnorm":
            yield first, s * rule["scale"].view(1, -1, *([1] * (s.dim() - 2)))
        elif kind == "maxpool":
            kernel, stride, padding, dilation = rule["geometry"]
            yield first, ops.unpool2d_switches(s.contiguous(), rule["switches"][image_index], rule["size"], kernel, stride, padding,
                                               dilation, validate=False)
        elif kind == "activation":
            rectified = F.leaky_relu(s, step.slope) if step.slope else torch.relu(s)
            yield first, rectified * rule["positive"][image_index] if self.rule == "guided" else rectified
        elif kind == "linear_map":
            with torch.enable_grad():
                zero = s.new_zeros((count, *shape[1:]), requires_grad=True)
                yield first, torch.autograd.grad(rule["map"](zero), zero, s)[0]
        elif kind in ("reshape", "identity"):
            yield first, s.reshape(count, *shape[1:])
        elif kind == "add":  # each tensor operand (x + x counts twice), summed over what it was broadcast along
            for source, source_shape in rule["operands"]:
                yield source, s.sum_to_size(count, *source_shape[1:])
        elif kind == "cat":
            operands = rule["operands"]
            parts = s.split([source_shape[rule["dim"]] for _, source_shape in operands], dim=rule["dim"])
            yield from zip((source for source, _ in operands), parts)
        else:
            raise TypeError(f"DeconvNet has no rule for step {step.where!r} ({kind})")

    def _empty(self, records: GraphRecords, like: Tensor) -> Tensor:
        return like.new_zeros((0, *records.input_shape[1:]))

    def _project_chunk(self, activation: Tensor, records: GraphRecords, last: int, selections: Tensor, value: str, crop: bool) -> Tensor:
        image, channel, y, x = selections.unbind(1)
        rows = torch.arange(selections.shape[0], device=activation.device)
        if activation.dim() == 2:  # a linear layer's units: channel is the unit, y = x = 0
            top = activation.new_zeros((selections.shape[0], *activation.shape[1:]))
            top[rows, channel] = activation[image, channel] if value == "activation" else 1.0
        elif crop:  # each unit alone in a 1x1 window of its map
            values = activation.new_zeros((selections.shape[0], activation.shape[1], 1, 1))
            values[rows, channel, 0, 0] = activation[image, channel, y, x] if value == "activation" else 1.0
            top = Crop(values, selections[:, 2:].clone(), tuple(activation.shape[2:]))
        else:
            top = activation.new_zeros((selections.shape[0], *activation.shape[1:]))
            top[rows, channel, y, x] = activation[image, channel, y, x] if value == "activation" else 1.0
        return self._down_from(last, top, image, records)


def _union(a: tuple[int, int, int, int] | None, b: tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
    """The box holding both (None: the whole map)."""
    if a is None or b is None:
        return None
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _bind_first(node: fx.Node, args: tuple, kwargs: dict):
    """``node``'s call as a function of its first argument (the others fixed as in the forward)."""
    rest = args[1:]
    if node.op == "call_method":
        return lambda x: getattr(x, node.target)(*rest, **kwargs)
    return lambda x: node.target(x, *rest, **kwargs)
