"""``zfcuda atlas``: every unit of the chosen layers of a model, over a folder of images, as a static site.

One scan of the images (streaming top-k per unit with a histogram of its response, resumable,
sharded under torchrun), then for every unit its k strongest activations as receptive-field patches
beside their deconvnet projections, one sprite image per unit, and the pages (``site``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .._utils import distributed
from .._utils.progress import progress
from ..app.deconv_figures import scan_data_set, top_crops
from ..deconvnet import DeconvNet, layer_name
from ..deconvnet.topk import RANKS
from ..figures.projections import projection_to_rgb
from .images import AtlasImages
from .models import atlas_view
from .site import LayerPage, SiteInfo, site_bytes, write_site
from .sprites import FORMATS, save_sprite, unit_sprite

CHECKPOINT = "scan-checkpoint.pt"
SPRITE_GROUP = 32  # units whose sprites are made together (then written: a stopped build resumes from there)


@dataclass
class AtlasSummary:
    """What a build made: the site's index, units, images scanned and skipped, bytes, seconds per phase."""

    index: Path
    units: int
    images: int
    unreadable: int
    bytes: int
    seconds: dict[str, float]


def build(data_dir: str | Path, out: str | Path, model: str | None = None, layers: Sequence[str] | None = None, k: int = 9,
          rank: str = "max", batch_size: int = 32, device: str = "auto", cell: int = 72, image_format: str = "jpeg",
          per_folder: int | None = None, resume: bool = False, rule: str = "auto", input_size: int = 224,
          show_progress: bool = True) -> AtlasSummary | None:
    """Builds the atlas of ``model`` over the images under ``data_dir`` into ``out``.

    Args:
        data_dir: a folder of images (class folders or not; searched recursively).
        out: the site's folder (the partial scan is kept there too, for ``resume``).
        model: None (the shipped ZF-Net), "efficientnet-lite0", an exported ZF-Net or a
            ``torch.save(model)`` file, or ``package.module:function`` returning the model.
        layers: layer names (default: the model's four default depths).
        k: activations shown per unit (k distinct images).
        rank: "max" (each image's strongest activation of the map) or "sum" (the whole map's sum).
        batch_size: images per forward pass of the scan.
        device: "auto", "cpu" or "cuda" (under torchrun: each rank its local GPU).
        cell: side of a sprite cell in pixels.
        image_format: "jpeg" or "webp".
        per_folder: scan only the first N images of each folder.
        resume: continue a stopped build (its scan checkpoint and the sprites already written).
        rule: "deconvnet", "guided", or "auto": the deconvnet where the model has max pooling
            (its switches make projections specific to the image), guided backpropagation where it
            has none (there the deconvnet's projections hardly depend on the image).
        input_size: the input side of a user's model (images are resized to it, ImageNet-normalised).
        show_progress: progress bars.

    Returns:
        An ``AtlasSummary`` (None on torchrun ranks other than 0).

    Raises:
        ValueError / FileNotFoundError: bad arguments, an empty folder, an unknown layer, a model or
            layer the deconvnet cannot invert; all raised before any scanning.
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    if rank not in RANKS:
        raise ValueError(f"rank must be one of {', '.join(RANKS)}, got {rank!r}")
    if image_format not in FORMATS:
        raise ValueError(f"image_format must be one of {', '.join(FORMATS)}, got {image_format!r}")
    if cell < 8:
        raise ValueError(f"cell must be at least 8 pixels, got {cell}")
    started = time.perf_counter()
    data = AtlasImages(data_dir, per_folder)
    view = atlas_view(model, input_size)
    context = distributed.setup(device)
    view = view.to(context.device)
    rule = rule if rule != "auto" else auto_rule(view.model)
    deconv, names, shapes = _checked(view, layers or view.layers, data, rule, context.device)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seconds = {"check": time.perf_counter() - started}
    start = time.perf_counter()
    result, load = scan_data_set(view, deconv, data, names, k, batch_size, context, checkpoint=out / CHECKPOINT, resume=resume,
                                 rank=rank, histograms=True, show_progress=show_progress)
    seconds["scan"] = time.perf_counter() - start
    if not context.is_main:
        return None
    start = time.perf_counter()
    pages = [LayerPage(name, f"l{i}", shapes[name], result[name]) for i, name in enumerate(names)]
    units = sum(page.shape[0] for page in pages)
    suffix = FORMATS[image_format][0]
    bar = progress(None, "sprites", show=show_progress, total=units)
    for page in pages:
        todo = [c for c in range(page.shape[0]) if not (resume and (out / "sprites" / page.directory / f"{c}.{suffix}").exists())]
        bar.update(page.shape[0] - len(todo))
        for group in [todo[i : i + SPRITE_GROUP] for i in range(0, len(todo), SPRITE_GROUP)]:
            projections, patches = top_crops(deconv, page.topk, page.name, group, load, view)
            for channel, row_p, row_i in zip(group, projections, patches):
                save_sprite(unit_sprite(row_i, row_p, k, cell), out / "sprites" / page.directory / str(channel), image_format)
            bar.update(len(group))
    bar.close()
    seconds["sprites"] = time.perf_counter() - start
    info = SiteInfo(view.name, str(data_dir), len(data) - len(data.unreadable), len(data.unreadable), k, rank, cell, image_format, rule)
    index = write_site(out, info, pages, data.name)
    seconds["total"] = time.perf_counter() - started
    return AtlasSummary(index, units, info.images, info.unreadable, site_bytes(out), seconds)


def auto_rule(model) -> str:
    """"deconvnet" for a model with max pooling, else "guided"."""
    return "deconvnet" if any("MaxPool" in type(m).__name__ for m in model.modules()) else "guided"


def _checked(view, layers: Sequence[str], data: AtlasImages, rule: str, device) -> tuple[DeconvNet, list[str], dict]:
    """The deconvnet, the layers' names and map shapes, after projecting one unit of each layer on the
    first readable image: a model or layer the deconvnet cannot invert fails here, before the scan."""
    sample = next((item for item in (data[i] for i in range(len(data))) if item is not None), None)
    if sample is None:
        raise ValueError(f"no readable image in {data.root}")
    x = view.canonical(sample[0][None].to(device))
    try:
        deconv = DeconvNet(view.model, rule=rule)
    except (TypeError, ValueError, NotImplementedError, RuntimeError) as error:
        raise ValueError(f"the deconvnet cannot read model {view.name}: {error}") from error
    names, shapes = [], {}
    for layer in layers:
        try:
            name = layer_name(deconv, str(layer))
            deconv.index(name)
        except (KeyError, IndexError) as error:
            raise ValueError(f"unknown layer {layer!r} for {view.name}: {error.args[0]}") from None
        try:
            activation, _ = deconv.forward(x, name)
            if activation.dim() != 4:
                raise ValueError(f"its output has shape {tuple(activation.shape)}, not feature maps (N, C, H, W)")
            projection = deconv.project(x, name, channel=0)
            projection_to_rgb(projection.reshape(-1, *projection.shape[-3:])[0])
        except (TypeError, ValueError, NotImplementedError, RuntimeError, KeyError) as error:
            raise ValueError(f"layer {name} of {view.name} cannot be shown in an atlas: {error}") from error
        names.append(name)
        shapes[name] = tuple(activation.shape[1:])
    if len(set(names)) != len(names):
        raise ValueError(f"layers name the same layer twice: {list(layers)}")
    return deconv, names, shapes
