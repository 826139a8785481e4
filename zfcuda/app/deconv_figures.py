"""End-to-end figures on a viewed model (the shipped ZF-Net, EfficientNet-Lite0, an exported ZF-Net):
projections of one photo, and Fig. 2 top-9 grids over a data set."""

from __future__ import annotations

from collections.abc import Sequence
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

    def load(ids: Tensor) -> Tensor:
        return view.canonical(torch.stack([data[i][0] for i in ids.tolist()]).to(context.device))

    shards = torch.arange(len(data)).split(batch_size)[context.rank :: context.world_size]
    state = _resume_state(checkpoint, context, batch_size) if resume else None
    done = state["batches"] if state else 0
    batches = ((load(ids), ids) for ids in shards[done:])  # scanned batches are not loaded again
    result = top_activations(deconv, batches, names, k=9, state=state, checkpoint=checkpoint, total=len(shards) - done,
                             resumed_batches_left_out=True,
                             checkpoint_info={"run": {"world_size": context.world_size, "batch_size": batch_size}})
    if not context.is_main:
        return []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        chosen = result[name].values[:, 0].argsort(descending=True)[:maps].tolist()
        projections, patches = _top_crops(deconv, result[name], name, chosen, load, view)
        path = out_dir / f"top9_{name}.png"
        top9_grid(projections, patches).save(path)
        paths.append(path)
    return paths


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


def _top_crops(deconv: DeconvNet, topk: TopK, layer: str, channels: list[int], load, view: ViewedModel):
    """Per map, its top activations' projections and image patches (HxWx3 uint8), each cropped to the unit's receptive field."""
    projections, patches = [], []
    for channel in channels:
        valid = topk.image_ids[channel] >= 0
        ids, positions = topk.image_ids[channel][valid], topk.positions[channel][valid]
        images = load(ids)
        activation, records = deconv.forward(images, layer)
        selections = torch.stack([torch.arange(len(ids)), torch.full_like(ids, channel), positions[:, 0], positions[:, 1]], 1)
        projected = deconv.project_selections(activation, records, layer, selections)
        row_p, row_i = [], []
        for i, (y, x) in enumerate(positions.tolist()):
            top, left, bottom, right = deconv.receptive_field(layer, y, x, images.shape[-2:])
            row_p.append(projection_to_rgb(projected[i, :, top:bottom, left:right]))
            row_i.append(view.display(images[i], (top, left, bottom, right)))
        projections.append(row_p)
        patches.append(row_i)
    return projections, patches
