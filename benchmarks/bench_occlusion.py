"""How fast is occlusion sensitivity: captum's Occlusion vs our full, incremental and approximate engines,
and zfcuda.captum.Occlusion (the drop-in) vs captum.attr.Occlusion on the same call.

For ZF-Net and a VGG16-shaped net on a random 224x224 image, and the pretrained EfficientNet-Lite0
on a real photo (when its packages are installed), with a 16x16 occluder, positions per second
of each method (medians, same run), with the maps checked in the run: incremental against full
(max relative difference of p(target)), approximate against exact (max abs difference and SSIM
of the maps; also for adaptive drill-down), and our attribution against captum's on captum's own grid.

    python benchmarks/bench_occlusion.py [--device cpu|cuda] [--repeats 3]

Strides default to 16 (ZF-Net) and 32 (VGG16) on the CPU to bound the run time; positions per
second barely depend on the stride (every position costs the same).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import keep_freed_memory, synchronize, write_results  # noqa: E402

import zfcuda  # noqa: E402
from zfcuda.models import ZFNet  # noqa: E402
from zfcuda.models.torchvision_shaped import vgg16  # noqa: E402

PATCH = 16
TAUS = (0.6, 0.4)
DRILL = 0.25  # share of the 4x coarser grid refined


def _timed(fn, device) -> tuple[float, object]:
    synchronize(device)
    start = time.perf_counter()
    result = fn()
    synchronize(device)
    return time.perf_counter() - start, result


def _ssim(a: torch.Tensor, b: torch.Tensor) -> float | None:
    try:
        from skimage.metrics import structural_similarity
    except ImportError:
        return None
    a, b = a.double().numpy(), b.double().numpy()
    span = max(float(b.max() - b.min()), 1e-12)
    side = min(7, min(a.shape) - (1 - min(a.shape) % 2))
    return float(structural_similarity(a, b, data_range=span, win_size=max(side, 3)))


def bench_model(name: str, model, stride: int, captum_stride: int, device, repeats: int, image: torch.Tensor | None = None) -> dict:
    image = torch.randn(3, 224, 224, device=device) if image is None else image.to(device)
    runs = {"full": {}, "incremental": {}}
    runs.update({f"approximate_tau{tau}": {"tau": tau} for tau in TAUS})
    runs[f"incremental_drill{DRILL}"] = {"drill_down": DRILL}  # exact engine, adaptive drill-down
    times = {method: [] for method in runs}
    results = {}
    for _ in range(repeats):  # interleaved rounds: no method alone pays a noisy spell
        for method, extra in runs.items():
            kind = method.split("_")[0]
            seconds, results[method] = _timed(
                lambda: zfcuda.occlusion(model, image, patch=PATCH, stride=stride, method=kind, show_progress=False, **extra), device)
            times[method].append(seconds)
    positions = results["full"].prob.numel()
    per_s = {method: positions / statistics.median(t) for method, t in times.items()}
    exact = results["full"].prob
    record = {
        "model": name, "stride": stride, "positions": positions, "positions_per_s": per_s,
        "incremental_over_full": per_s["incremental"] / per_s["full"],
        "prob_range": [float(exact.min()), float(exact.max())],
        "incremental_max_rel_diff": float(((results["incremental"].prob - exact).abs() / exact.abs().clamp_min(1e-12)).max()),
        "approximate_error": {
            method: {"max_abs_diff": float((results[method].prob - exact).abs().max()), "ssim": _ssim(results[method].prob, exact)}
            for method in runs if method.startswith("approximate") or "drill" in method
        },
    }
    try:
        from captum.attr import Occlusion

        target = results["full"].target
        probabilities = lambda x: torch.softmax(model(x), 1)  # noqa: E731
        fill = float(image.mean())

        def attribute(per_eval: int):
            return Occlusion(probabilities).attribute(
                image[None], sliding_window_shapes=(3, PATCH, PATCH), strides=(3, captum_stride, captum_stride),
                baselines=fill, target=target, perturbations_per_eval=per_eval)

        captum_s, theirs = _timed(lambda: attribute(32), device)
        default_s, _ = _timed(lambda: attribute(1), device)  # captum's default: what most users run
        ours_s, ours = _timed(lambda: zfcuda.occlusion(model, image, target=target, patch=PATCH, stride=captum_stride, fill=fill,
                                                       grid="captum", show_progress=False), device)
        windows = ours.prob.numel()
        per_s["captum"] = windows / captum_s
        per_s["captum_default_batch1"] = windows / default_s
        record["full_over_captum"] = (windows / ours_s) / per_s["captum"]
        record["full_over_captum_default"] = (windows / ours_s) / per_s["captum_default_batch1"]
        record["attribution_max_abs_diff_vs_captum"] = float((ours.to_attribution().to(theirs) - theirs[0, 0]).abs().max())
        # The drop-in: the same captum call on the model's logits, captum's default of one image per pass.
        from zfcuda.captum import Occlusion as DropIn

        call = dict(sliding_window_shapes=(3, PATCH, PATCH), strides=(3, captum_stride, captum_stride), baselines=fill, target=target)
        drop_in_s, drop_in = _timed(lambda: DropIn(model).attribute(image[None], **call), device)
        logits_s, logits = _timed(lambda: Occlusion(model).attribute(image[None], **call), device)
        per_s["zfcuda_captum_drop_in"], per_s["captum_logits_batch1"] = windows / drop_in_s, windows / logits_s
        record["drop_in_over_captum"] = logits_s / drop_in_s
        record["drop_in_max_abs_diff_vs_captum"] = float((drop_in - logits).abs().max())
    except ImportError:
        per_s["captum"] = None
    return record


def _efficientnet_case(device) -> tuple[torch.nn.Module, torch.Tensor] | None:
    """The real classifier on scikit-image's cat photo, when its packages are installed."""
    try:
        from PIL import Image
        from skimage import data

        from zfcuda.models.efficientnet_lite import efficientnet_lite0, efficientnet_lite_input

        return efficientnet_lite0().to(device), efficientnet_lite_input(Image.fromarray(data.chelsea()))
    except ImportError:
        return None


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--zfnet-stride", dest="zfnet_stride", type=int, default=None)
    parser.add_argument("--vgg-stride", dest="vgg_stride", type=int, default=None)
    parser.add_argument("--tf32", action="store_true", help="let cuDNN use TF32 (then no method is float32-exact)")
    parser.add_argument("--captum-stride", dest="captum_stride", type=int, default=16, help="at most the patch (captum's rule)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    on_gpu = device.type == "cuda"
    # TF32 convolutions round to ~1e-3: full and incremental would then differ by that much.
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = args.tf32
    if not on_gpu:
        keep_freed_memory()
    torch.manual_seed(0)
    cases = [
        # Kaiming weights: the paper's N(0, 0.01) gives near-uniform outputs at random, flat maps.
        ("ZF-Net", ZFNet(1000, init="kaiming").eval().to(device), args.zfnet_stride or (4 if on_gpu else 16), args.captum_stride),
        ("VGG16-shaped", vgg16().eval().to(device), args.vgg_stride or (4 if on_gpu else 32), args.captum_stride),
    ]
    real = _efficientnet_case(device)
    if real is not None:
        cases.append(("EfficientNet-Lite0 (ImageNet weights, chelsea)", real[0], args.zfnet_stride or (4 if on_gpu else 16), args.captum_stride, real[1]))
    records = []
    for name, model, stride, captum_stride, *image in cases:
        record = bench_model(name, model, stride, captum_stride, device, args.repeats, *image)
        records.append(record)
        p = record["positions_per_s"]
        captum = f"{p['captum']:.1f} (batch 1: {p['captum_default_batch1']:.1f})" if p.get("captum") else "n/a"
        approx = ", ".join(f"tau {tau}: {p[f'approximate_tau{tau}']:.1f}" for tau in TAUS)
        approx += f", drill-down {DRILL}: {p[f'incremental_drill{DRILL}']:.1f}"
        print(f"{name} stride {stride}: positions/s captum {captum}, full {p['full']:.1f}, incremental {p['incremental']:.1f} "
              f"({record['incremental_over_full']:.2f}x full, max rel diff {record['incremental_max_rel_diff']:.1e}), {approx}")
        if p.get("zfcuda_captum_drop_in"):
            print(f"    zfcuda.captum.Occlusion {p['zfcuda_captum_drop_in']:.1f} vs captum.attr.Occlusion {p['captum_logits_batch1']:.1f} "
                  f"positions/s on the same call ({record['drop_in_over_captum']:.1f}x, max |diff| {record['drop_in_max_abs_diff_vs_captum']:.1e})")
    payload = {"patch": PATCH, "image": [3, 224, 224], "tf32": args.tf32, "cases": records}
    print(f"wrote {write_results('occlusion', device, payload)}")
    return payload


if __name__ == "__main__":
    main()
