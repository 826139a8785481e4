"""The deconvnet (Zeiler & Fergus 2014, section 2.1): project any activation back to pixel space.

For a chosen activation of layer L, every other activation of that layer is set to zero and the
signal goes down to the input by repeating, layer by layer: unpool with the switches recorded in
the forward pass, rectify with ReLU, filter with the transposed convolution of the same filters
(no bias). Local response normalisation, dropout and identity layers pass the signal unchanged
on the way down, as in the original deconvnet.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .. import ops
from ..nn import SwitchMaxPool2d
from ..stages import feature_chain
from ..stages.geometry import input_window, window_geometry
from .crop import crop_down
from .transpose import conv_transpose

PASS_THROUGH = (nn.LocalResponseNorm, nn.Dropout, nn.Identity)
SUPPORTED = (nn.Conv2d, nn.ReLU, nn.MaxPool2d, *PASS_THROUGH)


def _check_chain_layer(name: str, module: nn.Module) -> None:
    """Raises TypeError for a chain layer the chain engine cannot invert."""
    if not isinstance(module, SUPPORTED):
        supported = ", ".join(t.__name__ for t in SUPPORTED)
        raise TypeError(f"DeconvNet cannot invert layer {name!r} ({type(module).__name__}); supported layers: {supported}")
    if isinstance(module, nn.Conv2d) and module.padding_mode != "zeros":
        raise TypeError(f"DeconvNet cannot invert layer {name!r}: padding_mode {module.padding_mode!r} (only 'zeros')")
    if isinstance(module, nn.Conv2d) and isinstance(module.padding, str):
        raise TypeError(f"DeconvNet cannot invert layer {name!r}: padding={module.padding!r}; give the padding as integers")


RULES = ("deconvnet", "guided")


def _checked_rule(rule: str) -> str:
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    return rule


def reads_as_chain(model: nn.Module) -> bool:
    """Whether ``model``'s convolutional part is a plain chain the crop engine inverts layer by layer."""
    try:
        layers = feature_chain(model).named_children()
        for name, module in layers:
            _check_chain_layer(name, module)
    except TypeError:
        return False
    return True


class DeconvNet:
    """A deconvnet attached to a CNN: projections of any unit of any layer back to pixels.

    ``DeconvNet(model)`` reads the model once. A plain chain (ZF-Net, torchvision-style models
    whose ``features`` is a Sequential of Conv2d / ReLU / MaxPool2d / LRN / Dropout / Identity, or
    such a Sequential) goes down on receptive-field crops, layer by layer; layers are the chain's
    own names ("conv5", "10"). Any other CNN (batch norm, residual blocks, depthwise convolutions,
    concatenation, ``F.relu`` in ``forward``) is read as a graph by ``torch.fx`` and gets a
    ``GraphDeconvNet`` (see ``deconvnet.graph`` for its rules); its layers are the model's module
    names ("layer3", "layer3.1.relu").

    The user's model is not modified: its weights are used as they are, and max pools run
    through switch-recording twins held here.

    Args:
        model: the CNN (``nn.Module``).
        rule: "deconvnet" (the paper: at every activation the signal is rectified, whatever the
            forward pass did there) or "guided" (guided backpropagation, Springenberg et al. 2015:
            also zero where the activation's forward input was not positive, which keeps the
            projection specific to the image on networks without max-pool switches; graph engine).

    Raises:
        TypeError: a layer cannot be inverted, or the model's forward cannot be read (the message names it).
    """

    def __new__(cls, model: nn.Module, rule: str = "deconvnet"):
        if cls is DeconvNet and (rule != "deconvnet" or not reads_as_chain(model)):
            from .graph import GraphDeconvNet  # a subclass: imported here, where it is chosen

            return super().__new__(GraphDeconvNet)
        return super().__new__(cls)

    def __init__(self, model: nn.Module, rule: str = "deconvnet") -> None:
        self.rule = _checked_rule(rule)
        self.layers: list[tuple[str, nn.Module]] = []
        for name, module in feature_chain(model).named_children():
            _check_chain_layer(name, module)
            if isinstance(module, nn.MaxPool2d) and not isinstance(module, SwitchMaxPool2d):
                module = SwitchMaxPool2d.from_max_pool(module, record_switches=False)
            self.layers.append((name, module))

    @property
    def layer_names(self) -> list[str]:
        return [name for name, _ in self.layers]

    def index(self, layer: str | int) -> int:
        """Position of ``layer`` (a name such as "conv5" or "features.10" -> "10", or an index) in the chain."""
        if isinstance(layer, int) and not isinstance(layer, bool):
            if not -len(self.layers) <= layer < len(self.layers):
                raise IndexError(f"layer index {layer} out of range for {len(self.layers)} layers")
            return layer % len(self.layers)
        names = self.layer_names
        if layer in names:
            return names.index(layer)
        raise KeyError(f"no layer {layer!r}; layers are {', '.join(names)}")

    def receptive_field(self, layer: str | int, y: int, x: int, image_size: tuple[int, int] | None = None) -> tuple[int, int, int, int]:
        """The input pixels that unit (y, x) of ``layer`` can see, from the layer arithmetic.

        Each convolution or pool maps output rows [a, b] to input rows
        [a * stride - padding, b * stride - padding + dilation * (kernel - 1)]; other layers keep
        positions. The projection of a unit is zero outside this box.

        Args:
            layer: a layer name or index.
            y, x: the unit's position in the layer's map.
            image_size: (H, W) to clip the box to; None keeps it unclipped (it may reach into padding).

        Returns:
            (top, left, bottom, right), with bottom and right exclusive.
        """
        origin, size = (y, x), (1, 1)
        for i in range(self.index(layer), -1, -1):
            module = self.layers[i][1]
            if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
                origin, size = input_window(origin, size, window_geometry(module))
        top, left, bottom, right = origin[0], origin[1], origin[0] + size[0], origin[1] + size[1]
        if image_size is not None:
            top, left = max(top, 0), max(left, 0)
            bottom, right = min(bottom, image_size[0]), min(right, image_size[1])
        return top, left, bottom, right

    @torch.no_grad()
    def forward(self, images: Tensor, layer: str | int) -> tuple[Tensor, list]:
        """Runs the chain up to and including ``layer``.

        Returns:
            The activation of ``layer`` (Tensor[N, C, H, W]) and, per layer, what the way down
            needs: the input size, and for pools the switches.
        """
        outputs, records = self.forward_all(images, self.index(layer))
        return outputs[-1], records

    def name_of(self, layer: str | int) -> str:
        """The layer's name, for a name or an index."""
        return self.layer_names[self.index(layer)]

    @torch.no_grad()
    def activations(self, images: Tensor, layers: Sequence[str | int]) -> dict[str, Tensor]:
        """The outputs of several layers (Tensor[N, C, H, W] each) from one forward pass, by layer name."""
        indices = {self.name_of(layer): self.index(layer) for layer in layers}
        outputs, _ = self.forward_all(images, max(indices.values()))
        return {name: outputs[index] for name, index in indices.items()}

    @torch.no_grad()
    def forward_all(self, images: Tensor, last: int) -> tuple[list[Tensor], list]:
        """Every layer's output up to layer index ``last``, and the records ``down`` needs."""
        if images.dim() != 4:
            raise ValueError(f"images must be 4-D (N, C, H, W), got shape {tuple(images.shape)}")
        outputs, records = [], []
        x = images
        for _, module in self.layers[: last + 1]:
            size = tuple(x.shape[-2:])
            if isinstance(module, SwitchMaxPool2d):
                x, switches = ops.max_pool2d_switches(x, ceil_mode=module.ceil_mode, **module.geometry())
                records.append((size, switches))
            else:
                x = module(x)
                records.append((size, None))
            outputs.append(x)
        return outputs, records

    @torch.no_grad()
    def down(self, top: Tensor, image_index: Tensor, records: list, layer: str | int) -> Tensor:
        """The downward pass from ``layer`` to pixels.

        Args:
            top (Tensor[S, C, H, W]): the signal at the output of ``layer`` (zero but the selected units).
            image_index (Tensor[S], int64): which forward image's switches each row uses.
            records: from ``forward`` on those images.

        Returns:
            Tensor[S, C_in, H_in, W_in]: the projections in pixel space.
        """
        x = top
        for i in range(self.index(layer), -1, -1):
            _, module = self.layers[i]
            size, switches = records[i]
            if isinstance(module, nn.ReLU):
                x = torch.relu(x)
            elif isinstance(module, SwitchMaxPool2d):
                x = ops.unpool2d_switches(x, switches[image_index], size, validate=False, **module.geometry())
            elif isinstance(module, nn.Conv2d):
                x = conv_transpose(x, module.weight, module.stride, module.padding, module.dilation, module.groups, size)
        return x

    @torch.no_grad()
    def select(
        self, activation: Tensor, channel: int | Sequence[int] | None = None, position: tuple[int, int] | None = None
    ) -> Tensor:
        """Which units to project: Tensor[S, 4] of (image, channel, y, x), image-major.

        Args:
            activation (Tensor[N, C, H, W]): a layer's output.
            channel: None (each image's strongest channel), a channel, or several channels.
            position: (y, x) of the unit; default: the strongest activation of the channel.
        """
        if activation.dim() == 2:  # a linear layer's units, as 1x1 maps
            activation = activation[:, :, None, None]
        n, c, h, w = activation.shape
        if channel is None:
            if position is not None:
                raise ValueError("position needs a channel")
            channels = activation.flatten(2).amax(2).argmax(1)[:, None]  # (N, 1)
        else:
            wanted = torch.as_tensor([channel] if isinstance(channel, int) else list(channel), dtype=torch.long)
            if wanted.numel() == 0 or wanted.min() < 0 or wanted.max() >= c:
                raise IndexError(f"channel {channel} out of range for a layer with {c} channels")
            channels = wanted.to(activation.device).expand(n, -1)
        k = channels.shape[1]
        images = torch.arange(n, device=activation.device)[:, None].expand(n, k)
        if position is None:
            maps = activation[images, channels].flatten(2)  # (N, K, H * W)
            flat = maps.argmax(2)
            ys, xs = flat // w, flat % w
        else:
            y, x = position
            if not (0 <= y < h and 0 <= x < w):
                raise IndexError(f"position {position} out of range for a {h}x{w} map")
            ys, xs = torch.full_like(channels, y), torch.full_like(channels, x)
        return torch.stack([images, channels, ys, xs], dim=-1).reshape(-1, 4)

    @torch.no_grad()
    def project(
        self,
        images: Tensor,
        layer: str | int,
        channel: int | Sequence[int] | None = None,
        position: tuple[int, int] | None = None,
        value: str = "activation",
        crop: bool = True,
    ) -> Tensor:
        """Projects selected units of ``layer`` to pixel space, all in one batched downward pass.

        Args:
            images (Tensor[N, C, H, W]): the input images.
            layer: a layer name (``model.layer_names``) or index.
            channel: None (each image's strongest channel), one channel, or a sequence of channels.
            position: (y, x) of the unit; default the strongest activation of the channel.
            value: "activation" keeps the unit's value as the top signal (the paper); "one" uses 1,
                which is the gradient-based deconvolution of captum's ``NeuronDeconvolution``.
            crop: go down on receptive-field crops (same result, faster; see ``deconvnet.crop`` and
                ``deconvnet.graph_crop``).

        Returns:
            Tensor[N, C, H, W], or Tensor[N, K, C, H, W] when ``channel`` is a sequence of K channels.
        """
        activation, records = self.forward(images, layer)
        selections = self.select(activation, channel, position)
        projections = self.project_selections(activation, records, layer, selections, value, crop)
        if channel is not None and not isinstance(channel, int):
            return projections.view(images.shape[0], -1, *projections.shape[1:])
        return projections

    @torch.no_grad()
    def project_selections(
        self,
        activation: Tensor,
        records: list,
        layer: str | int,
        selections: Tensor,
        value: str = "activation",
        crop: bool = True,
        chunk: int = 32,
    ) -> Tensor:
        """Projects explicit units (Tensor[S, 4] of image, channel, y, x) of a ``forward`` result.

        Args:
            activation, records: from ``forward``.
            layer: the layer ``activation`` belongs to.
            selections (Tensor[S, 4], int64): (image, channel, y, x) of each unit.
            value: "activation" or "one" (see ``project``).
            crop: compute each layer of the way down only on the unit's receptive field (the
                result is the same; it is faster wherever receptive fields are smaller than maps).
            chunk: units going down together, which bounds memory.

        Returns:
            Tensor[S, C_in, H_in, W_in]: the projections in pixel space.
        """
        if value not in ("activation", "one"):
            raise ValueError(f"value must be 'activation' or 'one', got {value!r}")
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        last = self.index(layer)
        selections = selections.to(activation.device)
        parts = [self._project_chunk(activation, records, last, part, value, crop) for part in selections.split(chunk)]
        return torch.cat(parts) if parts else self._empty(records, activation)

    def _empty(self, records: list, like: Tensor) -> Tensor:
        return like.new_zeros((0, *records[0][0]))

    def _project_chunk(self, activation: Tensor, records: list, last: int, selections: Tensor, value: str, crop: bool) -> Tensor:
        image, channel, y, x = selections.unbind(1)
        rows = torch.arange(selections.shape[0], device=activation.device)
        signal = activation[image, channel, y, x] if value == "activation" else 1.0
        if not crop:
            top = activation.new_zeros((selections.shape[0], *activation.shape[1:]))
            top[rows, channel, y, x] = signal
            return self.down(top, image, records, last)
        top = activation.new_zeros((selections.shape[0], activation.shape[1], 1, 1))
        top[rows, channel, 0, 0] = signal
        maps, stop = crop_down(self.layers, records, last, top, activation.shape[2:], image, selections[:, 2:])
        return self.down(maps, image, records, stop - 1) if stop > 0 else maps


def layer_name(deconv: DeconvNet, layer: str) -> str:
    """Accepts "conv5" or the paper's layer number "5" (meaning conv5)."""
    if layer.isdigit() and f"conv{layer}" in deconv.layer_names:
        return f"conv{layer}"
    deconv.index(layer)  # raises a clear KeyError for an unknown name
    return layer
