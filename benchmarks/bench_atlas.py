"""How fast is ``zfcuda atlas``: its scan beside plain inference of the same model over the same images,
then a whole build (scan, sprites, site) with its wall time and site size.

Both the scan and the inference read the images from disk (PIL decode, the paper's 256 canonical
image, the model's preprocessing) in batches of 32, in interleaved rounds (medians); the scan
adds the top-k of every unit of four layers, their positions and histograms.

    python benchmarks/bench_atlas.py --data ../shared/data/cifar10/test [--model efficientnet-lite0]
        [--per-folder 50] [--build-per-folder 1000] [--device cpu|cuda]

``--build-per-folder 1000`` builds the atlas of the whole CIFAR-10 test set (10,000 images).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import keep_freed_memory, synchronize, write_results  # noqa: E402

from zfcuda._utils import distributed  # noqa: E402
from zfcuda.app.deconv_figures import readable_batch, scan_data_set  # noqa: E402
from zfcuda.atlas import build  # noqa: E402
from zfcuda.atlas.images import AtlasImages  # noqa: E402
from zfcuda.atlas.models import atlas_view  # noqa: E402
from zfcuda.atlas.pipeline import auto_rule  # noqa: E402
from zfcuda.deconvnet import DeconvNet  # noqa: E402


def scan_against_inference(data_dir: Path, model: str | None, per_folder: int, device, rounds: int, batch: int = 32) -> dict:
    images = AtlasImages(data_dir, per_folder)
    context = distributed.setup(str(device))
    view = atlas_view(model).to(context.device)
    deconv = DeconvNet(view.model, rule=auto_rule(view.model))
    shards = torch.arange(len(images)).split(batch)

    @torch.no_grad()
    def inference():
        for ids in shards:
            x, _ = readable_batch(images, ids, view, context.device)
            view.model(x)
        synchronize(device)

    def scan():
        scan_data_set(view, deconv, images, list(view.layers), 9, batch, context, histograms=True, show_progress=False)
        synchronize(device)

    times = {"inference": [], "atlas scan": []}
    for _ in range(rounds):
        for name, fn in (("inference", inference), ("atlas scan", scan)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    rates = {name: len(images) / statistics.median(t) for name, t in times.items()}
    for name, rate in rates.items():
        print(f"{view.name} {name:>11}: {rate:6.1f} images/s")
    print(f"scan / inference: {rates['atlas scan'] / rates['inference']:.2f}x")
    return {"model": view.name, "layers": list(view.layers), "images": len(images), "rounds": rounds, "images_per_s": rates,
            "scan_over_inference": rates["atlas scan"] / rates["inference"]}


def whole_build(data_dir: Path, model: str | None, per_folder: int, device, out: Path) -> dict:
    summary = build(data_dir, out, model=model, per_folder=per_folder, device=str(device))
    record = {"images": summary.images, "units": summary.units, "seconds": summary.seconds, "site_megabytes": summary.bytes / 2**20,
              "site": str(out)}
    print(f"built the atlas of {summary.units} units over {summary.images} images in {summary.seconds['total']:.0f} s "
          f"(scan {summary.seconds['scan']:.0f} s, sprites {summary.seconds['sprites']:.0f} s): {record['site_megabytes']:.1f} MB")
    return record


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a folder of images (e.g. CIFAR-10's test folder)")
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--per-folder", dest="per_folder", type=int, default=50, help="images per folder for the scan/inference ratio")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build-per-folder", dest="build_per_folder", type=int, default=None,
                        help="also build a whole atlas over this many images per folder")
    parser.add_argument("--out", type=Path, default=None, help="where the whole build goes (default: a temporary folder)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cpu":
        keep_freed_memory()
    payload = {"scan": scan_against_inference(args.data, args.model, args.per_folder, device, args.rounds)}
    if args.build_per_folder:
        with tempfile.TemporaryDirectory() as scratch:
            payload["build"] = whole_build(args.data, args.model, args.build_per_folder, device, args.out or Path(scratch) / "atlas")
    print(f"wrote {write_results('atlas', device, payload)}")
    return payload


if __name__ == "__main__":
    main()
