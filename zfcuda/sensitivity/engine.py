"""Occlusion sensitivity (Zeiler & Fergus 2014, section 4.2 and Fig. 7).

A grey square slides over the image; for every occluder position the classifier's output is
recorded: the probability of the target class (Fig. 7 d), the most probable class (e), and,
for a convolutional layer, the summed activation of the feature map that is strongest for the
unoccluded image (b) together with that map's deconvnet projection (c).

The occluded images are written by the fused ``occlusion_batch`` op, a chunk at a time, and
pushed through the model in chunks sized to a memory budget: no per-position Python work.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from .. import ops
from .._utils.hooks import eval_mode
from .._utils.progress import progress
from ..deconvnet import DeconvNet
from ..stages import feature_chain
from .drill import drill_down as drill_down_grid
from .grids import PositionGrid, captum_grid, paper_grid
from .incremental import IncrementalOcclusion
from .result import OcclusionResult

METHODS = ("full", "incremental", "approximate")


def occlusion(
    model: Callable[[Tensor], Tensor],
    image: Tensor,
    target: int | Sequence[int] | Tensor | None = None,
    patch: int | tuple[int, int] = 16,
    stride: int | tuple[int, int] = 4,
    fill: float | Sequence[float] | Tensor | str = "mean",
    layer: str | None = None,
    method: str = "full",
    batch_size: int | str = "auto",
    memory_budget: int | None = None,
    grid: str = "paper",
    output: str = "auto",
    tau: float = 0.5,
    drill_down: float | None = None,
    drill_factor: int = 4,
    show_progress: bool = True,
) -> OcclusionResult | list[OcclusionResult]:
    """Slides an occluder over ``image`` (or each image of a batch) and records the classifier's
    response at every position.

    Args:
        model: any callable mapping Tensor[B, C, H, W] to logits or probabilities Tensor[B, K]
            (an ``nn.Module`` is put in eval mode for the run and restored after).
        image (Tensor[C, H, W] or Tensor[N, C, H, W]): the model's input (already normalised as
            the model expects); a batch is run an image at a time, each in chunks sized to
            ``memory_budget``, so memory does not grow with N.
        target: the class whose probability is mapped; default the unoccluded prediction. For a
            batch: one int for all, or one per image (a sequence or Tensor[N]).
        patch: occluder (height, width) in pixels.
        stride: grid step in pixels.
        fill: the occluder's value: a number, per-channel values, "mean" (the image's mean colour,
            the paper's grey square), or a baseline image Tensor[C, H, W] (for a batch also one
            per image, Tensor[N, C, H, W]).
        layer: a convolutional layer (e.g. "conv5") for Fig. 7 (b) and (c); the model must be one
            ``DeconvNet`` accepts.
        method: "full" (every occluded image through the whole model), "incremental" (exact:
            only what each occluder changes is recomputed, from a stored clean pass; see
            ``sensitivity.incremental``) or "approximate" (incremental with each changed region
            capped at a fraction ``tau`` of its map).
        batch_size: occluded images per forward pass, or "auto": the largest chunk whose
            activations fit ``memory_budget``.
        memory_budget: bytes for one chunk's activations under "auto" (default: half the free
            GPU memory, or a quarter of the free RAM, at most 4 GiB).
        grid: "paper" (occluder centred on a regular grid, clipped at the border) or "captum"
            (first window at the origin, windows inside the image).
        output: "logits", "probs", or "auto" (probabilities if the outputs are non-negative and
            sum to 1).
        tau: the region cap of "approximate", in (0, 1].
        drill_down: adaptive drill-down (with any method): compute a grid ``drill_factor`` times
            coarser everywhere, then the requested grid only around this fraction of coarse
            positions with the lowest p(target); the rest is interpolated (``result.computed``
            marks what was computed). None: every position is computed.
        drill_factor: the coarse grid's step, in steps of the requested grid (>= 2).
        show_progress: show a progress bar over the chunks (and over the images of a batch).

    Returns:
        An ``OcclusionResult`` for Tensor[C, H, W]; a list of N of them for Tensor[N, C, H, W].

    Raises:
        ValueError / TypeError: bad image, patch, stride, fill, method, target or model output.
        NotSplittable: ``method`` "incremental" or "approximate" on a model whose forward cannot be
            split into stages (``method="full"`` runs any model).
    """
    if not (isinstance(image, Tensor) and image.dim() == 4):
        return _occlusion_one(model, image, target, patch, stride, fill, layer, method, batch_size, memory_budget, grid,
                              output, tau, drill_down, drill_factor, show_progress)
    n = image.shape[0]
    targets = _per_image("target", target, n)
    fills = _per_image("fill", fill, n) if isinstance(fill, Tensor) and fill.dim() == 4 else [fill] * n
    return [
        _occlusion_one(model, image[i], targets[i], patch, stride, image_fill, layer, method, batch_size, memory_budget, grid,
                       output, tau, drill_down, drill_factor, show_progress and n == 1)
        for i, image_fill in progress(list(enumerate(fills)), f"occlusion of {n} images", show=show_progress and n > 1)
    ]


def _per_image(name: str, value, n: int) -> list:
    """``value`` split into one entry per image: an int or None repeated, or a sequence / tensor of N."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return [value] * n
    if isinstance(value, Tensor):
        values = list(value.unbind(0)) if value.dim() > 1 else value.reshape(-1).tolist()
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = list(value)
    else:
        raise TypeError(f"{name} for a batch must be one value or one per image, got {type(value).__name__}")
    if len(values) == 1 and n != 1:
        values = values * n
    if len(values) != n:
        raise ValueError(f"{name} must give one value per image: the batch has {n} images, {name} has {len(values)}")
    return values


def _occlusion_one(model, image, target, patch, stride, fill, layer, method, batch_size, memory_budget, grid, output,
                   tau, drill_down, drill_factor, show_progress) -> OcclusionResult:
    """One image (Tensor[C, H, W]) of ``occlusion``."""
    image = _checked_image(image)
    if not 0 < tau <= 1:
        raise ValueError(f"tau must be in (0, 1], got {tau}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if output not in ("auto", "logits", "probs"):
        raise ValueError(f"output must be 'auto', 'logits' or 'probs', got {output!r}")
    size = tuple(image.shape[-2:])
    positions = _grid(grid, size, patch, stride)
    fill_tensor = _fill(fill, image)
    restore = eval_mode(model)
    try:
        with torch.no_grad():
            clean_out = _call(model, image[None], 1)
            probs_kind = _output_kind(clean_out, output)
            clean_probs = _to_probs(clean_out, probs_kind)[0]
            classes = clean_probs.shape[0]
            if target is None:
                target = int(clean_probs.argmax())
            if not isinstance(target, int) or isinstance(target, bool) or not 0 <= target < classes:
                raise ValueError(f"target must be a class index in [0, {classes}), got {target!r}")
            layer_module, feature_map, stage_index = _layer_setup(model, image, layer)
            engine = None
            if method != "full":
                watch = (stage_index, feature_map) if layer is not None else None
                engine = IncrementalOcclusion(model, image, positions.patch_size, fill_tensor,
                                              tau=tau if method == "approximate" else 1.0, watch=watch, expected=clean_out)
            per_position = engine.bytes_per_position() if engine is not None else None
            chunk = _chunk_size(model, image, batch_size, memory_budget, len(positions.positions), per_position)
            captured: list[Tensor] = []
            hook = engine is None and layer_module is not None
            # Summed inside the hook: a following in-place ReLU would change the output afterwards.
            handle = layer_module.register_forward_hook(lambda m, i, o: captured.append(o[:, feature_map].flatten(1).sum(1))) if hook else None

            def evaluate(corners: Tensor) -> dict[str, Tensor]:
                """The outputs (Tensor[N] each, on the CPU) for occluders at ``corners`` (Tensor[N, 2])."""
                outputs: dict[str, list[Tensor]] = {"prob": [], "top_class": [], "top_prob": [], "activation": []}
                for part in progress(corners.split(chunk), f"occlusion ({method})", show=show_progress, leave=False):
                    if engine is None:
                        occluded = ops.occlusion_batch(image, part, positions.patch_size, fill_tensor)
                        out = _call(model, occluded, len(part))
                        watched = captured.pop() if handle is not None else None
                    else:
                        out, watched = engine(part)
                    probs = _to_probs(out, probs_kind)
                    best = probs.max(dim=1)
                    outputs["prob"].append(_kept(probs[:, target]))
                    outputs["top_prob"].append(_kept(best.values))
                    outputs["top_class"].append(best.indices.cpu())
                    if watched is not None:
                        outputs["activation"].append(_kept(watched))
                return {name: torch.cat(values) for name, values in outputs.items() if values}

            try:
                corners = positions.positions.to(image.device)
                if drill_down is None:
                    flat, computed = evaluate(corners), None
                else:
                    flat, computed = drill_down_grid(evaluate, corners, positions.grid_shape, drill_factor, drill_down)
            finally:
                if handle is not None:
                    handle.remove()
    finally:
        restore()
    shape = positions.grid_shape
    result = OcclusionResult(
        grid=positions, image_size=size, target=target, clean_probs=_kept(clean_probs),
        prob=flat["prob"].view(shape), top_class=flat["top_class"].view(shape),
        top_prob=flat["top_prob"].view(shape), method=method, computed=computed,
    )
    if layer is not None:
        result.layer, result.feature_map = layer, feature_map
        result.activation = flat["activation"].view(shape)
        result.projection = DeconvNet(model).project(image[None], layer, channel=feature_map)[0].cpu()
    return result


def _kept(values: Tensor) -> Tensor:
    """Results on the CPU, in float32 or float64 (half precision widened)."""
    return values.float().cpu() if values.dtype in (torch.float16, torch.bfloat16) else values.cpu()


def _checked_image(image: Tensor) -> Tensor:
    if not isinstance(image, Tensor):
        raise TypeError(f"image must be a Tensor[C, H, W], got {type(image).__name__}")
    if image.dim() != 3:
        raise ValueError(f"image must be a Tensor[C, H, W] or a batch Tensor[N, C, H, W], got shape {tuple(image.shape)}")
    if not image.is_floating_point():
        raise TypeError(f"image must be a floating-point tensor (the model's normalised input), got {image.dtype}")
    if min(image.shape) < 1:
        raise ValueError(f"image must not be empty, got shape {tuple(image.shape)}")
    return image


def _grid(kind: str, size: tuple[int, int], patch, stride) -> PositionGrid:
    for name, value in (("patch", patch), ("stride", stride)):
        values = (value, value) if isinstance(value, int) else tuple(value)
        if len(values) != 2 or any(not isinstance(v, int) or v < 1 for v in values):
            raise ValueError(f"{name} must be a positive int or (height, width) of positive ints, got {value!r}")
        if name == "patch" and (values[0] > size[0] or values[1] > size[1]):
            raise ValueError(f"patch {values} is larger than the image {size}")
    if kind == "paper":
        return paper_grid(size, patch, stride)
    if kind == "captum":
        return captum_grid(size, patch, stride)
    raise ValueError(f"grid must be 'paper' or 'captum', got {kind!r}")


def _fill(fill, image: Tensor) -> Tensor:
    channels = image.shape[0]
    if isinstance(fill, str):
        if fill != "mean":
            raise ValueError(f"fill must be a number, per-channel values, 'mean' or a baseline image, got {fill!r}")
        return image.mean(dim=(1, 2))
    if isinstance(fill, bool):
        raise TypeError("fill must be a number, per-channel values, 'mean' or a baseline image, got a bool")
    if isinstance(fill, (int, float)):
        return torch.tensor(float(fill), dtype=image.dtype, device=image.device)
    value = torch.as_tensor(fill, dtype=image.dtype, device=image.device)
    if value.dim() == 1 and value.shape[0] != channels:
        raise ValueError(f"fill has {value.shape[0]} per-channel values but the image has {channels} channels")
    if value.dim() == 3 and value.shape != image.shape:
        raise ValueError(f"a baseline image fill must have the image's shape {tuple(image.shape)}, got {tuple(value.shape)}")
    if value.dim() not in (0, 1, 3):
        raise ValueError(f"fill must be a number, Tensor[C] or Tensor[C, H, W], got shape {tuple(value.shape)}")
    return value


def _call(model, batch: Tensor, expected: int) -> Tensor:
    out = model(batch)
    if not isinstance(out, Tensor) or out.dim() != 2 or out.shape[0] != expected:
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"model must return Tensor[B, num_classes] (logits or probabilities); for B = {expected} it returned {got}")
    return out


def _output_kind(out: Tensor, output: str) -> str:
    if output != "auto":
        return output
    looks_like_probs = bool((out >= 0).all()) and bool(torch.allclose(out.sum(1).double(), torch.ones(out.shape[0], dtype=torch.float64), atol=1e-4))
    return "probs" if looks_like_probs else "logits"


def _to_probs(out: Tensor, kind: str) -> Tensor:
    return out if kind == "probs" else torch.softmax(out.float() if out.dtype in (torch.float16, torch.bfloat16) else out, dim=1)


def _layer_setup(model, image: Tensor, layer: str | None) -> tuple[nn.Module | None, int | None, int | None]:
    """The model's module for ``layer``, the feature map strongest for the unoccluded image, and
    the layer's position in the feature chain."""
    if layer is None:
        return None, None, None
    deconv = DeconvNet(model)
    activation, _ = deconv.forward(image[None], layer)
    feature_map = int(activation[0].flatten(1).amax(1).argmax())
    index = deconv.index(layer)
    module = dict(feature_chain(model).named_children())[deconv.layer_names[index]]
    return module, feature_map, index


def _chunk_size(model, image: Tensor, batch_size: int | str, memory_budget: int | None, positions: int,
                per_position: int | None = None) -> int:
    if batch_size != "auto":
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int or 'auto', got {batch_size!r}")
        return batch_size
    budget = memory_budget if memory_budget is not None else _default_budget(image.device)
    if budget < 1:
        raise ValueError(f"memory_budget must be positive, got {budget}")
    per_image = per_position if per_position is not None else _activation_bytes(model, image)
    # Past a few dozen images a CPU gains nothing from larger batches but page faults on fresh
    # memory (measured: 150-image chunks ran 10x slower than 32 on EfficientNet-Lite0).
    most = 32 if image.device.type == "cpu" else 512
    return int(max(1, min(positions, most, budget // max(per_image, 1))))


def _default_budget(device: torch.device) -> int:
    cap = 4 << 30
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return min(cap, free // 2)
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        free = 4 << 30
    return min(cap, free // 4)


def _activation_bytes(model, image: Tensor) -> int:
    """Bytes of every leaf module's output for one image (the input included): what a chunk
    costs per image in a forward pass without gradients, with room for the largest two alive."""
    sizes = [image.numel() * image.element_size()]
    hooks = []
    if isinstance(model, nn.Module):
        for module in model.modules():
            if not list(module.children()):
                hooks.append(module.register_forward_hook(lambda m, i, o: sizes.append(o.numel() * o.element_size()) if isinstance(o, Tensor) else None))
    try:
        model(image[None])
    finally:
        for hook in hooks:
            hook.remove()
    if len(sizes) == 1:  # an opaque callable: assume a deep net keeps a few maps of the input's size
        return 8 * sizes[0]
    # The occluded input plus the two largest outputs alive at once, doubled for workspace.
    largest = sorted(sizes, reverse=True)
    return 2 * (sizes[0] + sum(largest[:2]))
