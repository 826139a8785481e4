"""``zfcuda demo``: what zfcuda does, on built-in defaults, in one command.

With the shipped ZF-Net (CIFAR-10 classes) and the photos that scikit-image carries (or the
user's photos) it writes Fig. 7-style occlusion figures, deconvnet projections for every layer, a
Fig. 2-style top-9 grid over the sample set, Fig. 5-style invariance curves, occlusion figures of
a real ImageNet classifier (EfficientNet-Lite0) and an index.html that shows them all; it prints
where to look, how long each step took and how much faster exact incremental occlusion is than
re-running the whole network for every occluder position.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .._utils.distributed import resolve_device, teardown
from ..analysis.invariance import DEFAULT_AMOUNTS, invariance
from ..atlas.pipeline import build as build_atlas
from ..data import ImageFolder, photo_input
from ..figures.invariance import invariance_figure
from ..figures.occlusion import fig7, heatmap_overlay
from ..models import pretrained
from ..sensitivity import occlusion
from .deconv_figures import deconv_figure, top9_figures
from .demo_page import Section, write_page
from .viewed_models import EFFICIENTNET, EfficientNetView, ZFNetView

PHOTOS = ("chelsea", "astronaut", "coffee", "rocket")  # natural photos: occlusion, projections, invariance
SAMPLE_SET = PHOTOS + ("hubble_deep_field", "immunohistochemistry", "retina", "colorwheel", "camera", "coins",
                       "moon", "page", "clock", "brick", "grass", "gravel", "horse", "text")  # the top-9 scan


@dataclass
class DemoSettings:
    """How much work the demo does. ``quick()`` is the test suite's small setting."""

    patch: int = 48
    stride: int = 8
    speed_stride: int = 16
    efficientnet_stride: int = 16  # a deeper net: a coarser grid keeps the demo to a few minutes on a CPU
    deconv_layers: tuple[str, ...] = ("conv1", "conv2", "conv3", "conv4", "conv5")
    top9_layers: tuple[str, ...] = ("conv2", "conv5")
    efficientnet_deconv_layers: tuple[str, ...] = ("_blocks.4", "_blocks.10")
    efficientnet_top9_layers: tuple[str, ...] = ("_blocks.2", "_blocks.4", "_blocks.10", "_blocks.15")
    atlas_layers: tuple[str, ...] = ("_blocks.2", "_blocks.4")
    maps: int = 4
    photos: int = len(PHOTOS)
    invariance_steps: int = 1  # take every n-th default amount

    @classmethod
    def quick(cls) -> DemoSettings:
        return cls(patch=64, stride=56, speed_stride=80, efficientnet_stride=56, deconv_layers=("conv1", "conv5"), top9_layers=("conv5",),
                   efficientnet_deconv_layers=("_blocks.4",), efficientnet_top9_layers=("_blocks.4",), atlas_layers=("_blocks.2",), maps=2, photos=1,
                   invariance_steps=4)


def sample_photos(folder: Path, names: Sequence[str] = SAMPLE_SET, user_photos: Sequence[str | Path] = ()) -> list[Path]:
    """Writes scikit-image's photos ``names`` (then the user's photos, as RGB PNG) into ``folder``.

    Raises:
        ImportError: scikit-image is missing and no user photos were given.
        FileNotFoundError: a user photo does not exist.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths, taken = [], set()

    def unique(stem: str) -> Path:
        """A file name no earlier photo has: photo.png, photo-2.png, ..."""
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name)
        return folder / f"{name}.png"

    for photo in user_photos:
        source = Path(photo)
        if not source.is_file():
            raise FileNotFoundError(f"photo {source} does not exist")
        with Image.open(source) as image:
            path = unique(source.stem)
            image.convert("RGB").save(path)
        paths.append(path)
    if names:
        try:
            from skimage import data
        except ImportError as error:
            raise ImportError("the demo's sample photos come from scikit-image: pip install scikit-image, "
                              "or pass your own photos") from error
        for name in names:
            pixels = np.asarray(getattr(data, name)())
            pixels = (pixels * 255).astype(np.uint8) if pixels.dtype == bool else pixels
            path = unique(name)
            Image.fromarray(pixels).convert("RGB").save(path)
            paths.append(path)
    return paths


class _Steps:
    """Times each step and prints it as it finishes."""

    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []

    @contextmanager
    def step(self, name: str):
        print(f"[zfcuda demo] {name} ...", flush=True)
        start = time.perf_counter()
        yield
        self.timings.append((name, time.perf_counter() - start))
        print(f"[zfcuda demo] {name}: {self.timings[-1][1]:.1f} s", flush=True)


def run_demo(out_dir: str | Path = "zfcuda-demo", photos: Sequence[str | Path] = (), device: str = "auto",
             settings: DemoSettings | None = None) -> Path:
    """Runs every analysis on the sample photos and writes ``out_dir/index.html``.

    Args:
        out_dir: where the figures and the page go.
        photos: the user's photos; they come first (the occlusion and invariance figures use the first
            ``settings.photos``), scikit-image's photos complete the top-9 sample set.
        device: "auto" (a GPU when there is one), "cpu" or "cuda".
        settings: how much to compute (default: the full demo).

    Returns:
        The path of index.html.
    """
    settings = settings or DemoSettings()
    out = Path(out_dir)
    device = resolve_device(device)
    steps, sections = _Steps(), []
    with steps.step("sample photos"):
        paths = sample_photos(out / "photos" / "samples", SAMPLE_SET, photos)
        main = paths[: settings.photos]
    with steps.step("EfficientNet-Lite0: occlusion, projections, top-9"):
        sections += _efficientnet(main, out, settings, device)
    net = pretrained.load(device=device)
    with steps.step("ZF-Net occlusion (Fig. 7)"):
        sections.append(_zfnet_occlusion(net, main, out, settings, device))
    with steps.step("incremental vs full occlusion"):
        speed = _speed_up(net, main[0], settings, device)
    with steps.step("deconvnet projections"):
        sections.append(_projections(net, main[0], out, settings))
    with steps.step("top-9 over the sample set (Fig. 2)"):
        sections.append(_top9(net, out, settings, device))
    with steps.step("invariance (Fig. 5)"):
        sections.append(_invariance(net, main, out, settings, device))
    with steps.step("atlas of EfficientNet-Lite0 over the sample photos"):
        sections.append(_atlas(out, settings, device))
    summary = ("Zeiler and Fergus's instruments (occlusion, deconvnet projections, the images that excite each unit) "
               "on a pretrained ImageNet network, EfficientNet-Lite0, and on the paper's ZF-Net trained on CIFAR-10. "
               f"Everything on this page was computed on {device.type.upper()} by `zfcuda demo`. Exact incremental occlusion ran "
               f"{speed['incremental']:.1f} positions/s against {speed['full']:.1f} for full re-inference "
               f"({speed['ratio']:.1f}x faster over {speed['positions']} occluder positions, largest difference in p(class) "
               f"{speed['max_abs_diff']:.1e}).")
    sections.insert(next(i for i, s in enumerate(sections) if s.title.startswith("ZF-Net")) + 1,
                    Section("Incremental occlusion", summary))
    page = write_page(out, sections, steps.timings, summary)
    print(f"[zfcuda demo] incremental occlusion {speed['ratio']:.1f}x faster than full ({speed['incremental']:.1f} vs "
          f"{speed['full']:.1f} positions/s over {speed['positions']} positions, max |diff| {speed['max_abs_diff']:.1e})")
    print(f"[zfcuda demo] open {page.resolve()}")
    return page


def _display(net, path: Path) -> tuple[torch.Tensor, np.ndarray]:
    """(ZF-Net input Tensor[3, 224, 224], the same crop as HxWx3 uint8 for figures)."""
    with Image.open(path) as image:
        return photo_input(image, net.mean)


def _zfnet_occlusion(net, photos: list[Path], out: Path, settings: DemoSettings, device) -> Section:
    figures = []
    for path in photos:
        x, picture = _display(net, path)
        result = occlusion(net.model, x.to(device), patch=settings.patch, stride=settings.stride, layer="relu5", method="incremental")
        figures += _occlusion_figures(picture, result, out, f"zfnet_{path.stem}", net.classes)
    return Section("ZF-Net: occlusion sensitivity (Fig. 7)",
                   f"A grey {settings.patch}-pixel square slides over each photo. (b) the summed activation of the conv5 map "
                   "strongest for the clean photo, (c) that map's deconvnet projection, (d) the probability of the predicted "
                   "class and (e) the most probable class, at each occluder position. The shipped ZF-Net knows only the ten "
                   "CIFAR-10 classes, so the predictions are coarse; the overlay shows where occlusion hurts most.", figures)


def _occlusion_figures(picture: np.ndarray, result, out: Path, stem: str, classes) -> list[tuple[str, ...]]:
    """Writes the Fig. 7 panels and the heatmap overlay under ``out/occlusion``; their paths relative to
    ``out``, as one row of the page."""
    paths = [fig7(picture, result, out / "occlusion" / f"{stem}.png", classes),
             heatmap_overlay(picture, result, out / "occlusion" / f"{stem}_overlay.png")]
    return [tuple(path.relative_to(out).as_posix() for path in paths)]


def _speed_up(net, path: Path, settings: DemoSettings, device) -> dict[str, float]:
    x, _ = _display(net, path)
    x = x.to(device)
    seconds, results = {}, {}
    for method in ("full", "incremental"):
        start = time.perf_counter()
        results[method] = occlusion(net.model, x, patch=settings.patch, stride=settings.speed_stride, method=method)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds[method] = time.perf_counter() - start
    positions = results["full"].prob.numel()
    speed = {method: positions / s for method, s in seconds.items()}
    return {**speed, "ratio": speed["incremental"] / speed["full"], "positions": positions,
            "max_abs_diff": float((results["incremental"].prob - results["full"].prob).abs().max())}


def _projections(net, path: Path, out: Path, settings: DemoSettings) -> Section:
    figures = [deconv_figure(ZFNetView(net), path, layer, settings.maps, out / "deconv" / f"{path.stem}_{layer}.png").relative_to(out).as_posix()
               for layer in settings.deconv_layers]
    return Section("ZF-Net: deconvnet projections, layer by layer",
                   f"The {settings.maps} strongest feature maps of each layer for {path.stem}, projected back to pixels by the "
                   "deconvnet (unpooling with the recorded switches, rectification, transposed filters), alone and over the "
                   "photo. Low layers respond to edges and colour; higher layers to larger, more specific structures.", figures)


def _top9(net, out: Path, settings: DemoSettings, device) -> Section:
    try:
        paths = top9_figures(ZFNetView(net), ImageFolder(out / "photos"), settings.top9_layers, settings.maps, out / "top9", batch_size=8,
                             device=str(device))
    finally:
        teardown()
    return Section("ZF-Net: top-9 activations over the sample set (Fig. 2)",
                   "For each of the strongest feature maps, the nine sample-set positions that excite it most: their "
                   "deconvnet projections beside the image patches under their receptive fields. Over a few dozen photos "
                   "the nine are fewer and less alike than over the paper's ImageNet validation set.",
                   [tuple(p.relative_to(out).as_posix() for p in paths)])


def _atlas(out: Path, settings: DemoSettings, device) -> Section:
    """EfficientNet-Lite0's units over the sample photos (ZF-Net's conv2 and conv5 where it is not installed)."""
    try:
        model, layers, name = EFFICIENTNET, settings.atlas_layers, "EfficientNet-Lite0"
        summary = build_atlas(out / "photos", out / "atlas", model=model, layers=layers, device=str(device))
    except ImportError:
        model, layers, name = None, ("conv2", "conv5"), "ZF-Net"
        summary = build_atlas(out / "photos", out / "atlas", model=model, layers=layers, device=str(device))
    return Section(
        f"An atlas of {name}'s units over the sample photos",
        f"Every unit of {', '.join(layers)} ({summary.units} units), each with its nine strongest image patches beside their "
        "projections and its response over all the photos, as a site that opens from disk with a page per unit (arrow keys "
        "step through them). `zfcuda atlas DATA_DIR --model ...` makes one for your model on your images.",
        links=[("Open the atlas", "atlas/index.html")])


def _invariance(net, photos: list[Path], out: Path, settings: DemoSettings, device) -> Section:
    x = torch.stack([_display(net, path)[0] for path in photos]).to(device)
    results = [invariance(net.model, x, kind, DEFAULT_AMOUNTS[kind][:: settings.invariance_steps], layers=("conv1", "fc7"))
               for kind in ("translate", "scale", "rotate")]
    figure = invariance_figure(results, out / "invariance.png", [p.stem for p in photos])
    return Section("ZF-Net: invariance to translation, scale and rotation (Fig. 5)",
                   "Euclidean distance between the features of each photo and of its transformed copy, at layer 1 (conv1) and "
                   "layer 7 (fc7), and the probability of the predicted class. As in the paper, small transformations change "
                   "layer 1 a lot and layer 7 much less, and the output is not rotation invariant except near 360 degrees.",
                   [figure.relative_to(out).as_posix()])


def _efficientnet(photos: list[Path], out: Path, settings: DemoSettings, device) -> list[Section]:
    """EfficientNet-Lite0 with its ImageNet weights: occlusion of the photos, projections of the first, top-9 over the sample set."""
    try:
        view = EfficientNetView().to(device)
    except ImportError as error:
        print(f"[zfcuda demo] skipped EfficientNet-Lite0: {error}")
        return [Section("EfficientNet-Lite0 (skipped)", f"Not installed: {error}")]
    figures, findings = [], []
    for path in photos:
        with Image.open(path) as image:
            x = view.photo(image)
        result = occlusion(view.model, x.to(device), patch=settings.patch, stride=settings.efficientnet_stride, method="incremental")
        figures += _occlusion_figures(view.display(x), result, out, f"efficientnet_{path.stem}", view.classes)
        lowest = int(result.prob.argmin())
        row, col = divmod(lowest, result.prob.shape[1])
        top, left = result.grid.positions[lowest].tolist()
        findings.append(f"{path.stem}: p({view.classes[result.target]}) = {result.clean_prob:.2f}, down to "
                        f"{float(result.prob[row, col]):.2f} with the square at rows {max(top, 0)}-{top + settings.patch}, "
                        f"columns {max(left, 0)}-{left + settings.patch}")
    occlusion_section = Section(
        "EfficientNet-Lite0 (ImageNet): where the evidence is",
        "A grey square slides over each photo and a pretrained ImageNet classifier (EfficientNet-Lite0) is asked again at "
        "every position. (d) maps the probability of the class it predicts for the whole photo, blue where covering "
        "the photo lowers it; the overlay on the right shows that drop in red on the photo. " + "; ".join(findings) +
        ". Computed exactly by the incremental engine through its depthwise convolutions, batch norm and residual blocks.",
        figures)
    first = photos[0]
    projections = [deconv_figure(view, first, layer, settings.maps, out / "deconv" / f"efficientnet_{first.stem}_{layer}{suffix}.png",
                                 overlay=False, rule=rule).relative_to(out).as_posix()
                   for layer in settings.efficientnet_deconv_layers for rule, suffix in (("deconvnet", ""), ("guided", "_guided"))]
    projection_section = Section(
        "EfficientNet-Lite0: its strongest units, projected back to pixels",
        f"The {settings.maps} strongest units of each stage for {first.stem}, first by the paper's deconvnet, then by "
        "guided backpropagation. EfficientNet has no max pooling, so the deconvnet has no switches to follow: each of its "
        "projections is the unit's own pattern, the same on every photo, and only its place depends on the image. Guided "
        "backpropagation goes the same way down but keeps only where the forward pass was positive: it shows the part of "
        "this photo the unit responds to.", projections)
    try:
        grids = top9_figures(view, ImageFolder(out / "photos"), settings.efficientnet_top9_layers, settings.maps,
                             out / "top9" / "efficientnet", batch_size=8, device=str(device), rule="guided")
    finally:
        teardown()
    top9_section = Section(
        "EfficientNet-Lite0: what excites its units across the sample photos (Fig. 2)",
        "For four depths (the 24-, 40-, 112- and 320-channel stages, left to right), each strongest unit's nine best image "
        "patches over the sample photos (right of each grid) beside their guided projections (left): the early stages "
        "pick out edges at one orientation, colours and textures. The last stage sees whole photos, and a few dozen are "
        "too few for its units to find their kind; over the 10,000 CIFAR-10 test photos they do: horses, white dogs, "
        "aeroplanes (the README's figure, made with zfcuda top9 --model efficientnet-lite0).", [tuple(p.relative_to(out).as_posix() for p in grids)])
    return [occlusion_section, projection_section, top9_section]
