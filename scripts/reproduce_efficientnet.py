"""The paper's analyses on an ImageNet-trained network, EfficientNet-Lite0: correspondence at two
depths on the annotated dog faces, invariance on CIFAR-10 and scikit-image photos with ImageNet
labels, and occlusion with the drop in p(true class) over the object against the background."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from PIL import Image

from zfcuda.app.viewed_models import EfficientNetView
from zfcuda.data import CANONICAL_SIZE, CENTRE
from zfcuda.models.efficientnet_lite import INPUT_SIZE, efficientnet_lite_display, efficientnet_lite_input, imagenet_classes

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("_blocks.10", "_blocks.15")  # the end of the 112-channel stage (14x14) and the last block (7x7, 320 channels)
INVARIANCE_LAYERS = ("_blocks.0", "_blocks.15")  # the first block and the last
# ImageNet classes that name each CIFAR-10 class (or photo) used for invariance; the true label of
# a photo is the one of its classes the model finds most probable on the untransformed photo.
NAMED = {
    "cat": ["tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"],
    "horse": ["sorrel"],
    "ship": ["container ship", "liner", "fireboat", "lifeboat", "speedboat", "aircraft carrier", "wreck", "schooner", "yawl",
             "catamaran", "trimaran", "pirate", "submarine"],
    "truck": ["trailer truck", "moving van", "pickup", "fire engine", "garbage truck", "tow truck", "minivan", "police van"],
    "espresso": ["espresso", "cup", "coffee mug"],
}
DOGS = range(151, 269)  # ImageNet's dog breeds


def _best_of(model, x: torch.Tensor, names: list[str] | None, indices=None) -> int:
    classes = imagenet_classes()
    allowed = list(indices) if indices is not None else [classes.index(name) for name in names]
    with torch.no_grad():
        probs = torch.softmax(model(x[None]), 1)[0]
    return allowed[int(probs[allowed].argmax())]


def correspondence_step(view: EfficientNetView, canonical: torch.Tensor, spec: dict, regions_of) -> dict:
    """Table 1 at two depths. The dog-face boxes are given in ZF-Net's input (the 224 centre crop of
    the 256 canonical image); EfficientNet sees the whole canonical image resized to 224."""
    scale = INPUT_SIZE / CANONICAL_SIZE
    images = view.canonical(canonical)
    regions = {}
    for part in ("right eye", "left eye", "nose"):
        side = round(spec["box_size"]["nose" if part == "nose" else "eye"] * scale)
        centres = [((r + CENTRE) * scale, (c + CENTRE) * scale) for r, c in (item[part] for item in spec["images"])]
        regions[part] = torch.tensor([[round(r - side / 2), round(c - side / 2), side, side] for r, c in centres])
    return regions_of(view.model, images, regions, LAYERS)


def invariance_step(view: EfficientNetView, data: Path, figures: Path, device, summarize, load_canonical) -> dict:
    from skimage import data as photos

    from zfcuda.analysis.invariance import invariance
    from zfcuda.figures.invariance import invariance_figure

    names = ["cat", "dog", "horse", "ship", "truck"]
    paths = [sorted((data / "cifar10" / "test" / name).glob("*.jpg"))[0] for name in names]
    x = torch.cat([view.canonical(load_canonical(paths)), torch.stack([efficientnet_lite_input(Image.fromarray(photos.coffee()))])])
    names.append("espresso")
    model = view.model.to(device)
    x = x.to(device)
    labels = [_best_of(model, image, NAMED.get(name), DOGS if name == "dog" else None) for image, name in zip(x, names)]
    runs = [invariance(model, x, kind, layers=INVARIANCE_LAYERS, labels=labels) for kind in ("translate", "scale", "rotate")]
    invariance_figure(runs, figures / "invariance_efficientnet.png", names)
    summary = summarize(runs)
    summary["labels"] = [imagenet_classes()[i] for i in labels]
    summary["images"] = names
    return summary


def occlusion_step(view: EfficientNetView, figures: Path, device, stride: int) -> dict:
    """Fig. 7 on photos whose class is in ImageNet, and how much p(true class) drops with the square
    over the object (its centre inside the object's box) against over the background (no overlap)."""
    from skimage import data as photos

    from zfcuda.figures.occlusion import fig7
    from zfcuda.sensitivity import occlusion

    spec = json.loads((ROOT / "docs" / "occlusion_objects.json").read_text())
    model = view.model.to(device)
    results = {}
    for item in spec["photos"]:
        x = efficientnet_lite_input(Image.fromarray(getattr(photos, item["name"])()).convert("RGB")).to(device)
        target = _best_of(model, x, item["classes"])
        result = occlusion(model, x, target=target, patch=48, stride=stride, method="incremental", show_progress=False)
        fig7(efficientnet_lite_display(x), result, figures / f"occlusion_efficientnet_{item['name']}.png", imagenet_classes())
        top, left, bottom, right = item["object"]
        corners = result.grid.positions.double()
        centres = result.grid.centers()
        ph, pw = result.grid.patch_size
        on_object = (centres[:, 0] >= top) & (centres[:, 0] < bottom) & (centres[:, 1] >= left) & (centres[:, 1] < right)
        overlaps = (corners[:, 0] < bottom) & (corners[:, 0] + ph > top) & (corners[:, 1] < right) & (corners[:, 1] + pw > left)
        drop = result.clean_prob - result.prob.double().flatten()
        results[item["name"]] = {
            "class": imagenet_classes()[target], "clean_prob": result.clean_prob,
            "predicted": imagenet_classes()[int(result.clean_probs.argmax())],
            "drop_over_object": float(drop[on_object].mean()) if on_object.any() else None,
            "drop_over_background": float(drop[~overlaps].mean()) if (~overlaps).any() else None,
            "positions_object": int(on_object.sum()), "positions_background": int((~overlaps).sum()),
            "min_prob": float(result.prob.min()),
        }
    return results
