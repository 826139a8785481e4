"""End-to-end figures on a viewed model (the shipped ZF-Net, EfficientNet-Lite0, an exported ZF-Net):
projections of one photo, and Fig. 2 top-9 grids over a data set."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from .._utils import distributed
from ..data import ImageFolder
from ..deconvnet import DeconvNet, TopK, layer_name, load_state, top_activations
from ..figures.projections import projection_overlay, projection_to_rgb, save_projection_figure, top9_grid
from .viewed_models import ViewedModel


def deconv_figure(view: ViewedModel, image_path: str | Path, layer: str, maps: int, out: str | Path, overlay: bool = True,
                  rule: str = "deconvnet") -> Path:
    """The image beside the projections of its ``maps`` strongest feature maps of ``layer``, and
    (``overlay``) a second row with each projection over the image; ``rule`` as in ``DeconvNet``."""
    deconv = DeconvNet(view.model, rule=rule)
    layer = layer_name(deconv, layer)
    with Image.open(image_path) as image:
        x = view.photo(image)
    picture = view.display(x)
    x = x[None].to(next(view.model.parameters()).device)
    activation, _ = deconv.forward(x, layer)
    strongest = activation[0].flatten(1).amax(1).argsort(descending=True)[:maps].tolist()
    projections = deconv.project(x, layer, channel=strongest)[0]
    panels = [projection_to_rgb(p) for p in projections]
    titles = [f"{layer} map {c}" + (" (guided)" if rule == "guided" else "") for c in strongest]
    overlays = [projection_overlay(picture, p) for p in projections] if overlay else None
    return save_projection_figure(picture, panels, titles, out, overlays)


def top9_figures(view: ViewedModel, data: ImageFolder, layers: Sequence[str], maps: int, out_dir: str | Path,
                 batch_size: int = 32, device: str = "auto", checkpoint: str | Path | None = None,
                 resume: bool = False, rule: str = "deconvnet") -> list[Path]:
    """Scans ``data`` once, then writes one Fig. 2-style grid per layer for its ``maps`` strongest maps.

    Under torchrun each rank scans every world_size-th batch; the top-k are merged across ranks
    and rank 0 projects and writes the figures (the other ranks return an empty list).

    Args:
        checkpoint: keep the partial scan here (per rank under torchrun) so a stopped run can resume.
        resume: continue from ``checkpoint`` instead of starting over.
        rule: how the projections go down ("deconvnet" or "guided", as in ``DeconvNet``).
    """
    context = distributed.setup(device)
    view = view.to(context.device)
    deconv = DeconvNet(view.model, rule=rule)
    names = [layer_name(deconv, layer) for layer in layers]
    result, load = scan_data_set(view, deconv, data, names, 9, batch_size, context, checkpoint, resume)
    if not context.is_main:
        return []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        chosen = result[name].values[:, 0].argsort(descending=True)[:maps].tolist()
        projections, patches = top_crops(deconv, result[name], name, chosen, load, view)
        path = out_dir / f"top9_{name}.png"
        top9_grid(projections, patches).save(path)
        paths.append(path)
    return paths


def scan_data_set(view: ViewedModel, deconv: DeconvNet, data, names: Sequence[str], k: int, batch_size: int, context,
                  checkpoint: str | Path | None = None, resume: bool = False, rank: str = "max",
                  histograms: bool = False, show_progress: bool = True) -> tuple[dict[str, TopK], Callable[[Tensor], Tensor]]:
    """The top-k scan of ``data`` (items (canonical uint8 image, label, index) or None) for the layers
    ``names``, sharded over torchrun's ranks, resumable from ``checkpoint``; also the function that
    loads images by index as the model's inputs (Tensor[N, C, H, W] on the run's device)."""

    def load(ids: Tensor) -> Tensor:
        return view.canonical(torch.stack([data[i][0] for i in ids.tolist()]).to(context.device))

    shards = torch.arange(len(data)).split(batch_size)[context.rank :: context.world_size]
    state = _resume_state(checkpoint, context, batch_size) if resume else None
    done = state["batches"] if state else 0
    batches = (readable_batch(data, ids, view, context.device) for ids in shards[done:])  # scanned batches are not loaded again
    result = top_activations(deconv, batches, names, k=k, state=state, checkpoint=checkpoint, total=len(shards) - done,
                             resumed_batches_left_out=True, rank=rank, histograms=histograms, progress=show_progress,
                             checkpoint_info={"run": {"world_size": context.world_size, "batch_size": batch_size}})
    return result, load


def readable_batch(data, ids: Tensor, view: ViewedModel, device) -> tuple[Tensor, Tensor]:
    """A batch of the readable images among ``ids`` (unreadable ones yield None and are left out)."""
    items = [(data[i], i) for i in ids.tolist()]
    kept = [(item[0], i) for item, i in items if item is not None]
    if not kept:
        return torch.empty(0, 3, *view.canonical(torch.zeros(1, 3, 8, 8, dtype=torch.uint8)).shape[-2:], device=device), ids[:0]
    images = torch.stack([image for image, _ in kept]).to(device)
    return view.canonical(images), torch.tensor([i for _, i in kept], dtype=torch.long)


def _resume_state(checkpoint: str | Path | None, context, batch_size: int) -> dict | None:
    """This rank's partial scan, checked against the run it is to continue."""
    if checkpoint is None:
        raise ValueError("resume needs a checkpoint path")
    path = Path(f"{checkpoint}.rank{context.rank}" if context.world_size > 1 else checkpoint)
    if not path.exists():
        return None
    state = load_state(path)
    saved = state.get("run", {"world_size": context.world_size, "batch_size": batch_size})
    if saved != {"world_size": context.world_size, "batch_size": batch_size}:
        raise ValueError(f"checkpoint {path} was written by a run with {saved}; resume with the same "
                         f"--batch-size and number of processes (now batch_size {batch_size}, world_size {context.world_size})")
    return state


def top_crops(deconv: DeconvNet, topk: TopK, layer: str, channels: list[int], load, view: ViewedModel, images_per_pass: int = 48):
    """Per map, its top activations' projections and image patches (HxWx3 uint8), each cropped to the
    unit's receptive field: two lists (one per channel) of lists (one per top image).

    Maps are taken in groups whose top images, loaded and run forward once together, number at
    most ``images_per_pass`` (or one map's k), so a whole layer costs a few batched passes.
    """
    projections, patches = [], []
    groups, group, group_ids = [], [], set()
    for channel in channels:
        ids = set(topk.image_ids[channel][topk.image_ids[channel] >= 0].tolist())
        if group and len(group_ids | ids) > images_per_pass:
            groups.append(group)
            group, group_ids = [], set()
        group.append(channel)
        group_ids |= ids
    groups.append(group)
    for group in groups:
        valid = [topk.image_ids[c] >= 0 for c in group]
        ids = torch.cat([topk.image_ids[c][v] for c, v in zip(group, valid)])
        unique, rows = ids.unique(return_inverse=True)
        images = load(unique)
        activation, records = deconv.forward(images, layer)
        positions = torch.cat([topk.positions[c][v] for c, v in zip(group, valid)])
        owners = torch.cat([torch.full((int(v.sum()),), c) for c, v in zip(group, valid)])
        selections = torch.stack([rows, owners, positions[:, 0], positions[:, 1]], 1)
        projected = deconv.project_selections(activation, records, layer, selections)
        start = 0
        for v in valid:
            row_p, row_i = [], []
            for i in range(start, start + int(v.sum())):
                top, left, bottom, right = deconv.receptive_field(layer, int(positions[i, 0]), int(positions[i, 1]), images.shape[-2:])
                row_p.append(projection_to_rgb(projected[i, :, top:bottom, left:right]))
                row_i.append(view.display(images[rows[i]], (top, left, bottom, right)))
            projections.append(row_p)
            patches.append(row_i)
            start += int(v.sum())
    return projections, patches
