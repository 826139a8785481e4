"""Regenerates docs/reproduction.md: the paper's analyses run on real data with zfcuda.

    python scripts/reproduce.py [--data ../shared/data] [--out docs] [--device cpu|cuda]

Needs the CIFAR-10 image folders (see ../shared/data/README.md) and scikit-image plus the
EfficientNet-Lite0 packages (``pip install ".[demo]"``). Each analysis writes its figure under
``docs/figures/`` and its numbers to ``docs/reproduction.json``; the Markdown is rendered from
those numbers. Intermediate training runs go to ``runs/reproduction/`` and are reused when present.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from reproduction_report import render  # noqa: E402

from zfcuda.data import (  # noqa: E402
    canonical_image,  # noqa: E402
    centre_mean,
    model_input,
    photo_input,
)
from zfcuda.models import pretrained  # noqa: E402

PRETRAIN_CLASSES = ["airplane", "automobile", "bird", "cat", "deer"]
TRANSFER_CLASSES = ["dog", "frog", "horse", "ship", "truck"]


def load_canonical(paths: list[Path]) -> torch.Tensor:
    """Canonical uint8 images Tensor[N, 3, 256, 256]."""
    out = []
    for path in paths:
        with Image.open(path) as image:
            out.append(canonical_image(image))
    return torch.stack(out)


def correspondence_step(net, data: Path, figures: Path) -> dict:
    spec = json.loads((ROOT / "docs" / "correspondence_boxes.json").read_text())
    images = model_input(load_canonical([data / item["path"] for item in spec["images"]]), net.mean)
    regions = {}
    for part in ("right eye", "left eye", "nose"):
        side = spec["box_size"]["nose" if part == "nose" else "eye"]
        regions[part] = torch.tensor([[r - side // 2, c - side // 2, side, side] for r, c in (item[part] for item in spec["images"])])
    result = correspondence_deltas(net.model, images, regions, ("pool5", "relu7"))  # the outputs of layers 5 and 7
    _boxes_figure(images, net.mean, result.pop("boxes"), figures / "correspondence_boxes.png")
    return {**result, "images": [item["path"] for item in spec["images"]]}


def correspondence_deltas(model, images: torch.Tensor, regions: dict, layers: tuple[str, str]) -> dict:
    """Table 1's Delta per part and layer, with the random control averaged over ten draws (one draw
    of five boxes is a noisy baseline)."""
    from zfcuda.analysis.correspondence import correspondence

    result = correspondence(model, images, regions, layers=layers, seed=0)
    randoms = [correspondence(model, images, {"right eye": regions["right eye"]}, layers=layers, seed=s).delta["random"] for s in range(10)]
    delta = {part: {layer: list(values) for layer, values in per_layer.items()} for part, per_layer in result.delta.items()}
    delta["random (10 draws)"] = {layer: [sum(r[layer][0] for r in randoms) / len(randoms), sum(r[layer][1] for r in randoms) / len(randoms)]
                                  for layer in layers}
    return {"layers": list(layers), "delta": delta, "boxes": result.boxes}


def _boxes_figure(images, mean, boxes: dict, path: Path) -> None:
    from PIL import ImageDraw

    from zfcuda.data import image_to_rgb

    colours = {"right eye": (255, 0, 0), "left eye": (0, 160, 255), "nose": (255, 220, 0), "random": (255, 255, 255)}
    tiles = []
    for i in range(images.shape[0]):
        tile = Image.fromarray(image_to_rgb(images[i], centre_mean(mean)))
        draw = ImageDraw.Draw(tile)
        for part, part_boxes in boxes.items():
            top, left, height, width = part_boxes[i].tolist()
            draw.rectangle([left, top, left + width - 1, top + height - 1], outline=colours[part], width=3)
        tiles.append(tile)
    canvas = Image.new("RGB", (len(tiles) * 228, 224), "white")
    for i, tile in enumerate(tiles):
        canvas.paste(tile, (i * 228, 0))
    canvas.save(path)


def invariance_step(net, data: Path, figures: Path, device) -> dict:
    from zfcuda.analysis.invariance import invariance
    from zfcuda.figures.invariance import invariance_figure

    names = ["cat", "dog", "horse", "ship", "truck"]
    paths = [sorted((data / "cifar10" / "test" / name).glob("*.jpg"))[0] for name in names]
    x = model_input(load_canonical(paths), net.mean).to(device)
    labels = [net.classes.index(name) for name in names]
    runs = [invariance(net.model, x, kind, layers=("conv1", "relu7"), labels=labels) for kind in ("translate", "scale", "rotate")]
    invariance_figure(runs, figures / "invariance.png", names)
    return invariance_summary(runs)


def invariance_summary(runs) -> dict:
    """Per transformation: how much of the largest feature distance the smallest step already causes
    (mean over the images), per layer, and mean p(true class) per amount."""
    summary = {}
    identity = {"translate": 0.0, "scale": 1.0, "rotate": 0.0}
    for run in runs:
        amounts = run.amounts.tolist()
        step = amounts.index(identity[run.transform]) + 1  # the smallest transformation
        entry = {"smallest_step": amounts[step], "layers": list(run.distances)}
        for layer, values in run.distances.items():
            curve = values.mean(0)  # over the images
            entry[f"{layer}_smallest_step_share_of_max"] = float(curve[step] / curve.max())
        entry["prob_mean_per_amount"] = [round(float(p), 4) for p in run.prob.mean(0)]
        entry["amounts"] = amounts
        summary[run.transform] = entry
    return summary


def pretrain_step(data: Path, runs: Path, epochs: int, per_class: int, device: str) -> tuple[dict, list[Path]]:
    """Trains the five-class ZF-Net with a snapshot every epoch (or reuses an identical finished run).

    Returns:
        The final checkpoint (what was trained, not what was asked) and the snapshots, epoch 1 first.
    """
    from zfcuda.training import TrainConfig, train

    out = runs / "pretrain5"
    checkpoint = out / "checkpoint.pt"
    snapshots = [out / f"snapshot-epoch{e:03d}.pt" for e in range(1, epochs + 1)]
    if checkpoint.is_file():  # reuse a finished run only if it is this very configuration
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        config = state["config"]
        if (config["classes"], config["per_class"], config["width"], config["epochs"]) == (PRETRAIN_CLASSES, per_class, 0.25, epochs) \
                and all(path.is_file() for path in snapshots):
            return state, snapshots
        raise SystemExit(f"{out} holds a different pre-training run ({config['per_class']} per class, {config['epochs']} epochs); "
                         "remove it or pass --runs elsewhere")
    config = TrainConfig(data_dir=str(data / "cifar10"), out_dir=str(out), epochs=epochs, batch_size=64, width=0.25, init="kaiming",
                         classes=PRETRAIN_CLASSES, per_class=per_class, val_per_class=100, snapshots=list(range(1, epochs + 1)),
                         workers=1, seed=0, device=device)
    train(config)
    return torch.load(checkpoint, map_location="cpu", weights_only=False), snapshots


def evolution_step(snapshots: list[Path], data: Path, figures: Path, device) -> dict:
    from zfcuda.analysis.feature_evolution import feature_evolution
    from zfcuda.figures.evolution import evolution_grid

    paths = [p for name in PRETRAIN_CLASSES for p in sorted((data / "cifar10" / "test" / name).glob("*.jpg"))[:40]]
    images = load_canonical(paths)
    result = {}
    for layer in ("conv2", "conv5"):
        evolution = feature_evolution(snapshots, images, layer=layer, count=6, device=device)
        evolution_grid(evolution).save(figures / f"evolution_{layer}.png")
        result[layer] = {"epochs": evolution.epochs, "maps": evolution.maps, "values": evolution.values.tolist()}
    return result


def shipped_snapshots(runs: Path) -> list[Path]:
    """The shipped model's snapshots, one per epoch, then the shipped weights as its last epoch.

    ``scripts/continue_training.py`` keeps them outside git in ``runs`` (``snapshot-epochNNN.pt``
    and ``snapshot-last.pt``). Returns an empty list when fewer than two epochs are at hand.
    """
    by_epoch = {pretrained.load_checkpoint(path).training["epochs_done"]: path for path in [*sorted(runs.glob("snapshot-*.pt")), pretrained.SHIPPED]}
    return [by_epoch[e] for e in sorted(by_epoch)] if len(by_epoch) > 1 else []


def shipped_evolution_step(snapshots: list[Path], data: Path, figures: Path, device) -> dict:
    """Fig. 4 on the shipped model: its strongest maps over 20 test images of each of the ten classes."""
    from zfcuda.analysis.feature_evolution import feature_evolution
    from zfcuda.figures.evolution import evolution_grid

    classes = sorted(p.name for p in (data / "cifar10" / "test").iterdir() if p.is_dir())
    images = load_canonical([p for name in classes for p in sorted((data / "cifar10" / "test" / name).glob("*.jpg"))[:20]])
    result = {}
    for layer in ("conv2", "conv5"):
        evolution = feature_evolution(snapshots, images, layer=layer, count=6, device=device)
        evolution_grid(evolution).save(figures / f"evolution_shipped_{layer}.png")
        result[layer] = {"epochs": evolution.epochs, "maps": evolution.maps, "values": evolution.values.tolist()}
    result["weight_change_per_epoch"] = weight_change_per_epoch(snapshots)
    return result


def weight_change_per_epoch(snapshots: list[Path]) -> dict:
    """How fast each conv layer still moves: ||W_b - W_a|| / ||W_a|| / (b - a) between consecutive snapshots a, b."""
    nets = [pretrained.load_checkpoint(path) for path in snapshots]
    epochs = [net.training["epochs_done"] for net in nets]
    change = {}
    for layer in ("conv1", "conv2", "conv3", "conv4", "conv5"):
        weights = [getattr(net.model.conv_layers, layer).weight.detach() for net in nets]
        change[layer] = [float((b - a).norm() / a.norm()) / (e1 - e0) for a, b, e0, e1 in zip(weights, weights[1:], epochs, epochs[1:])]
    return {"intervals": [[e0, e1] for e0, e1 in zip(epochs, epochs[1:])], "layers": change}


def transfer_step(pretrained_snapshot: Path, data: Path, device, sizes=(10, 50, 150), scratch_size: int = 50, scratch_epochs: int = 10,
                  per_class: int = 300) -> dict:
    from zfcuda.analysis.transfer import fc7_features, from_scratch, softmax_on_features, transfer_splits
    from zfcuda.models.pretrained import load_checkpoint

    net = load_checkpoint(pretrained_snapshot, device)
    paths, labels = [], []
    for label, name in enumerate(TRANSFER_CLASSES):
        files = sorted((data / "cifar10" / "train" / name).glob("*.jpg"))[:per_class]
        paths += files
        labels += [label] * len(files)
    images, labels = load_canonical(paths), torch.tensor(labels)
    features = fc7_features(net.model, images, net.mean, device=device)
    result = {"classes": TRANSFER_CLASSES, "images_per_class": per_class, "pretrained_on": PRETRAIN_CLASSES, "fixed_features": {}}
    for n in sizes:
        accuracies = softmax_on_features(features, labels, transfer_splits(labels, n, splits=5, seed=0))
        result["fixed_features"][str(n)] = [float(accuracies.mean()), float(accuracies.std())]
    accuracies = from_scratch(images, labels, transfer_splits(labels, scratch_size, splits=5, seed=0), net.mean, width=0.25,
                              epochs=scratch_epochs, device=device)
    result["from_scratch"] = {str(scratch_size): [float(accuracies.mean()), float(accuracies.std())], "epochs": scratch_epochs}
    return result


def occlusion_step(net, figures: Path, device, stride: int = 8) -> dict:
    from skimage import data as skimage_data

    from zfcuda.figures.occlusion import fig7
    from zfcuda.models.efficientnet_lite import efficientnet_lite0, efficientnet_lite_display, efficientnet_lite_input, imagenet_classes
    from zfcuda.occlusion import occlusion

    photo = Image.fromarray(skimage_data.chelsea())
    x = efficientnet_lite_input(photo).to(device)
    model = efficientnet_lite0().to(device)
    result = occlusion(model, x, patch=48, stride=stride, method="incremental")
    fig7(efficientnet_lite_display(x), result, figures / "occlusion_efficientnet_chelsea.png", imagenet_classes())
    lowest = int(result.prob.argmin())
    zf_x, zf_picture = photo_input(at_cifar_resolution(photo), net.mean)
    zf = occlusion(net.model, zf_x.to(device), target=net.classes.index("cat"), patch=48, stride=stride, layer="relu5", method="incremental")
    fig7(zf_picture, zf, figures / "occlusion_zfnet_chelsea.png", net.classes)
    return {"efficientnet": {"class": imagenet_classes()[result.target], "clean_prob": result.clean_prob,
                             "min_prob": float(result.prob.min()), "max_prob": float(result.prob.max()),
                             "min_at_centre": result.grid.centers()[lowest].tolist()},
            "zfnet": {"class": net.classes[zf.target], "clean_prob": zf.clean_prob, "min_prob": float(zf.prob.min()),
                      "predicted": net.classes[int(zf.clean_probs.argmax())]}}


def at_cifar_resolution(photo: Image.Image, size: int = 32) -> Image.Image:
    """The photo's centre square at CIFAR-10's 32x32. The shipped ZF-Net saw only 32x32 photos upsampled
    to 256: a sharp photo's fine detail is out of its distribution (it calls the sharp `chelsea` a truck)."""
    return Image.fromarray(canonical_image(photo, size).permute(1, 2, 0).numpy())


def efficientnet_steps(args, figures: Path, timed) -> None:
    """The same analyses on EfficientNet-Lite0 (ImageNet weights), when its packages are installed."""
    import reproduce_efficientnet as eff

    from zfcuda.app.viewed_models import EfficientNetView

    try:
        view = EfficientNetView()
    except ImportError as error:
        print(f"[reproduce] EfficientNet-Lite0 skipped: {error}")
        return
    spec = json.loads((ROOT / "docs" / "correspondence_boxes.json").read_text())
    canonical = load_canonical([args.data / item["path"] for item in spec["images"]])
    timed("efficientnet_correspondence", eff.correspondence_step, view, canonical, spec,
          lambda *a: {k: v for k, v in correspondence_deltas(*a).items() if k != "boxes"})
    timed("efficientnet_invariance", eff.invariance_step, view, args.data, figures, args.device, invariance_summary, load_canonical)
    timed("efficientnet_occlusion", eff.occlusion_step, view, figures, args.device, 56 if args.quick else 8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "reproduction")
    parser.add_argument("--shipped-runs", dest="shipped_runs", type=Path, default=ROOT.parent / "runs" / "zfnet-w025",
                        help="the shipped model's training snapshots (scripts/continue_training.py --runs), for Fig. 4")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--epochs", type=int, default=3, help="pre-training epochs on the five classes")
    parser.add_argument("--per-class", dest="per_class", type=int, default=1000, help="pre-training images per class")
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny training, few images, coarse grids")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.per_class = 1, 16
    if not (args.data / "cifar10").is_dir():
        raise SystemExit(f"no CIFAR-10 folders under {args.data} (see ../shared/data/README.md)")
    figures = args.out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    net = pretrained.load(device=args.device)
    results, timings = {}, {}

    def timed(name, fn, *fn_args):
        start = time.perf_counter()
        print(f"[reproduce] {name} ...", flush=True)
        results[name] = fn(*fn_args)
        timings[name] = time.perf_counter() - start
        print(f"[reproduce] {name}: {timings[name]:.0f} s", flush=True)

    timed("correspondence", correspondence_step, net, args.data, figures)
    timed("invariance", invariance_step, net, args.data, figures, args.device)
    timed("occlusion", occlusion_step, net, figures, args.device, 56 if args.quick else 8)
    efficientnet_steps(args, figures, timed)
    shipped = shipped_snapshots(args.shipped_runs)
    if shipped:
        timed("shipped_evolution", shipped_evolution_step, shipped, args.data, figures, args.device)
    else:
        print(f"[reproduce] the shipped model's Fig. 4 skipped: no snapshots of earlier epochs in {args.shipped_runs}")
    start = time.perf_counter()
    state, snapshots = pretrain_step(args.data, args.runs, args.epochs, args.per_class, args.device)
    timings["pretraining"] = time.perf_counter() - start
    timed("feature_evolution", evolution_step, snapshots, args.data, figures, args.device)
    quick = dict(sizes=(3,), scratch_size=3, scratch_epochs=1, per_class=8) if args.quick else {}
    timed("transfer", lambda *a: transfer_step(*a, **quick), snapshots[-1], args.data, args.device)
    results["pretraining"] = {"classes": state["config"]["classes"], "epochs": state["epochs_done"],
                              "per_class": state["config"]["per_class"], "history": state["history"]}
    results["shipped_model"] = {"classes": net.classes, "metrics": net.metrics, "epochs_done": net.training["epochs_done"],
                                "width": net.training["config"]["width"], "history": net.training["history"]}
    results["timings_s"] = timings
    (args.out / "reproduction.json").write_text(json.dumps(results, indent=1))
    (args.out / "reproduction.md").write_text(render(results))
    print(f"[reproduce] wrote {args.out / 'reproduction.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
