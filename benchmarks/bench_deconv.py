"""How fast are deconvnet projections and the dataset-wide top-9 scan?

- Projections per second for all maps of one layer of one image: our batched pass, our
  one-at-a-time pass, and captum's NeuronDeconvolution (one unit per call, forward included),
  on ZF-Net, a VGG16-shaped net, a ResNet-18-shaped net (layer2, layer3) and EfficientNet-Lite0
  with its ImageNet weights (an early and a middle stage, ``_blocks.4`` and ``_blocks.10``).
- Top-9 scan images/s against plain inference on the same images: ZF-Net's conv2-conv5 on random
  images, and EfficientNet-Lite0's four default depths over 1,000 CIFAR-10 test photos
  (``../shared/data``, 100 per class, resized to 224) when they are there.

    python benchmarks/bench_deconv.py [--device cpu|cuda] [--maps 256] [--captum-units 8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import keep_freed_memory, median_seconds, write_results  # noqa: E402

from zfcuda import DeconvNet  # noqa: E402
from zfcuda.app.viewed_models import EfficientNetView  # noqa: E402
from zfcuda.data import ImageFolder  # noqa: E402
from zfcuda.deconvnet import top_activations  # noqa: E402
from zfcuda.models import ZFNet  # noqa: E402
from zfcuda.models.resnet_shaped import resnet18  # noqa: E402
from zfcuda.models.torchvision_shaped import vgg16  # noqa: E402

CIFAR_TEST = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10" / "test"


def bench_projections(name, model, layer, size, maps, captum_units, device, repeats) -> dict:
    deconv = DeconvNet(model)
    image = torch.randn(1, 3, size, size, device=device)
    activation, _ = deconv.forward(image, layer)
    channels = list(range(min(maps, activation.shape[1])))
    batched_s = median_seconds(lambda: deconv.project(image, layer, channel=channels), device, repeats)
    uncropped_s = median_seconds(lambda: deconv.project(image, layer, channel=channels, crop=False), device, 1, warmup=0)
    single = channels[: max(1, len(channels) // 8)]
    single_s = median_seconds(lambda: [deconv.project(image, layer, channel=c) for c in single], device, 1, warmup=1) / len(single)
    result = {"model": name, "layer": layer, "maps": len(channels), "projections_per_s": {
        "ours_batched": len(channels) / batched_s, "ours_batched_without_crops": len(channels) / uncropped_s,
        "ours_one_at_a_time": 1 / single_s}}
    try:
        from captum.attr import NeuronDeconvolution

        module = dict(deconv.layers)[str(layer)] if hasattr(deconv, "layers") else dict(model.named_modules())[deconv.name_of(layer)]
        attribution = NeuronDeconvolution(model, module)
        x = image.clone().requires_grad_(True)
        units = channels[:captum_units]
        start = time.perf_counter()
        for c in units:
            attribution.attribute(x, neuron_selector=(c, activation.shape[2] // 2, activation.shape[3] // 2))
        result["projections_per_s"]["captum"] = len(units) / (time.perf_counter() - start)
        result["speedup_batched_vs_captum"] = result["projections_per_s"]["ours_batched"] / result["projections_per_s"]["captum"]
    except ImportError:
        result["projections_per_s"]["captum"] = None
    return result


def bench_scan(name: str, model, layers: list[str], inference_fn, data: torch.Tensor, batch: int, device, repeats: int) -> dict:
    """Top-9 scan of ``layers`` over ``data`` against ``inference_fn`` (plain inference) on the same batches."""
    deconv = DeconvNet(model)
    images = data.shape[0]
    batches = [(data[i : i + batch], torch.arange(i, min(i + batch, images))) for i in range(0, images, batch)]

    def inference():
        with torch.no_grad():
            for x, _ in batches:
                inference_fn(x)

    # Interleaved rounds, so that neither side alone pays the allocator's warm-up or a noisy spell.
    scan_times, infer_times = [], []
    for _ in range(repeats):
        scan_times.append(median_seconds(lambda: top_activations(deconv, batches, layers, k=9, progress=False), device, 1, warmup=1))
        infer_times.append(median_seconds(inference, device, 1, warmup=1))
    scan_s, infer_s = statistics.median(scan_times), statistics.median(infer_times)
    return {"model": name, "images": images, "layers": layers, "scan_images_per_s": images / scan_s,
            "inference_images_per_s": images / infer_s, "scan_over_inference": infer_s / scan_s}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--maps", type=int, default=256)
    parser.add_argument("--captum-units", type=int, default=8)
    parser.add_argument("--scan-images", type=int, default=128)
    parser.add_argument("--cifar-per-class", type=int, default=100, help="CIFAR-10 test photos per class for the EfficientNet scan")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cpu":
        keep_freed_memory()
    torch.manual_seed(0)
    efficientnet = EfficientNetView().to(device)
    cases = [
        bench_projections("ZF-Net", ZFNet(1000).eval().to(device), "conv5", 224, args.maps, args.captum_units, device, args.repeats),
        bench_projections("VGG16-shaped", vgg16().eval().to(device), "28", 224, args.maps, args.captum_units, device, args.repeats),
        bench_projections("ResNet-18-shaped", resnet18().eval().to(device), "layer2", 224, args.maps, args.captum_units, device, args.repeats),
        bench_projections("ResNet-18-shaped", resnet18().eval().to(device), "layer3", 224, args.maps, args.captum_units, device, args.repeats),
        bench_projections("EfficientNet-Lite0", efficientnet.model, "_blocks.4", 224, args.maps, args.captum_units, device, args.repeats),
        bench_projections("EfficientNet-Lite0", efficientnet.model, "_blocks.10", 224, args.maps, args.captum_units, device, args.repeats),
    ]
    for case in cases:
        p = case["projections_per_s"]
        captum = f"{p['captum']:.1f}" if p["captum"] else "n/a"
        print(f"{case['model']:>13} {case['layer']}: batched {p['ours_batched']:.1f}/s (without crops "
              f"{p['ours_batched_without_crops']:.1f}/s), one at a time {p['ours_one_at_a_time']:.1f}/s, captum {captum}/s")
    zfnet = ZFNet(10, width=0.25).eval().to(device)
    scans = [bench_scan("ZF-Net width 0.25", zfnet, ["conv2", "conv3", "conv4", "conv5"], zfnet.conv_layers,
                        torch.randn(args.scan_images, 3, 224, 224, device=device), 32, device, args.repeats)]
    if CIFAR_TEST.is_dir():
        photos = ImageFolder(CIFAR_TEST, per_class=args.cifar_per_class)
        data = efficientnet.canonical(torch.stack([photos[i][0] for i in range(len(photos))])).to(device)
        scans.append(bench_scan("EfficientNet-Lite0 (CIFAR-10 test photos)", efficientnet.model, list(efficientnet.layers),
                                efficientnet.model, data, 32, device, 1))
    for scan in scans:
        print(f"top-9 scan of {', '.join(scan['layers'])} ({scan['model']}, {scan['images']} images): {scan['scan_images_per_s']:.1f} "
              f"img/s vs inference {scan['inference_images_per_s']:.1f} img/s ({scan['scan_over_inference']:.2f}x)")
    payload = {"projections": cases, "scans": scans}
    print(f"wrote {write_results('deconv', device, payload)}")
    return payload


if __name__ == "__main__":
    main()
