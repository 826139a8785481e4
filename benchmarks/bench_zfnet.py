"""Does switch pooling cost anything end to end? ZF-Net with our pools vs the same net with nn.MaxPool2d.

Forward (inference) and training-step images/s, same weights and inputs, in the same run. With
``--data CIFAR_DIR`` also the training data path: images/s of ready (cropped, mean-subtracted)
batches from the decoded-folder cache beside decoding the JPEGs with PIL every epoch.

    python benchmarks/bench_zfnet.py [--device cpu|cuda] [--width 0.25] [--batch 32] [--repeats 5] [--data DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, RandomSampler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import keep_freed_memory, median_seconds, write_results  # noqa: E402

import zfcuda  # noqa: E402
from zfcuda.data import ImageFolder, collate_skipping, crop_offsets, train_crops  # noqa: E402
from zfcuda.data.cache import CachedBatches, cached_images  # noqa: E402
from zfcuda.models import ZFNet  # noqa: E402


def data_path_rates(data_dir: Path, batches: int = 20, batch: int = 128, workers: int = 1) -> dict[str, float]:
    """Training batches per second through each data path (decode + resize + crop + flip + mean)."""
    folder = ImageFolder(data_dir / "train")
    mean = torch.rand(3, 256, 256)
    sampler = RandomSampler(folder, generator=torch.Generator().manual_seed(0))
    with tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter()
        cache = cached_images(folder, cache_dir, workers=workers)
        decode_once = time.perf_counter() - start
        paths = {
            f"PIL decode per epoch ({workers} worker)": DataLoader(folder, batch, sampler=sampler, num_workers=workers, collate_fn=collate_skipping),
            "decoded-folder cache": CachedBatches(cache, sampler, batch, drop_last=True),
        }
        rates = {}
        for name, loader in paths.items():
            start, seen = time.perf_counter(), 0
            for step, (images, _, indices, _) in enumerate(loader):
                train_crops(images, mean, crop_offsets(indices, 0, 0))
                seen += images.shape[0]
                if step + 1 == batches:
                    break
            rates[name] = seen / (time.perf_counter() - start)
            print(f"{name:>34}: {rates[name]:7.1f} img/s")
    return {"images_per_s": rates, "cache_decode_seconds": decode_once, "images": len(folder)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of (ours, torch)")
    parser.add_argument("--data", type=Path, default=None, help="a CIFAR-10 folder: also time the training data paths")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cpu":
        keep_freed_memory()

    ours = ZFNet(10, args.width, init="kaiming").to(device)
    models = {"zfcuda pools": ours, "nn.MaxPool2d": zfcuda.convert(ours, switches=False)}
    x = torch.randn(args.batch, 3, 224, 224, device=device)
    labels = torch.randint(0, 10, (args.batch,), device=device)
    runs = {}
    for name, model in models.items():
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

        def infer(model=model):
            with torch.no_grad():
                model.eval()(x)

        def step(model=model, optimizer=optimizer):
            model.train()
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), labels).backward()
            optimizer.step()

        runs[name] = {"forward": infer, "train": step}
        infer(), step()  # warm both models (and the allocator) before any timing
    # Interleaved rounds, so drift of the machine affects both models alike.
    times = {name: {"forward": [], "train": []} for name in runs}
    for _ in range(args.rounds):
        for name, fns in runs.items():
            for kind, fn in fns.items():
                times[name][kind].append(median_seconds(fn, device, args.repeats, warmup=0))
    results = {}
    for name, t in times.items():
        results[name] = {f"{kind}_images_per_s": args.batch / sorted(v)[len(v) // 2] for kind, v in t.items()}
        print(f"{name:>14}: forward {results[name]['forward_images_per_s']:7.1f} img/s, train {results[name]['train_images_per_s']:7.1f} img/s")
    ratio = {k: results["zfcuda pools"][k] / results["nn.MaxPool2d"][k] for k in results["zfcuda pools"]}
    print(f"ours / torch: forward {ratio['forward_images_per_s']:.2f}x, train {ratio['train_images_per_s']:.2f}x")
    payload = {"width": args.width, "batch": args.batch, "repeats": args.repeats, "rounds": args.rounds,
               "results": results, "ours_over_torch": ratio}
    if args.data is not None:
        payload["data_path"] = data_path_rates(args.data)
    print(f"wrote {write_results('zfnet', device, payload)}")
    return payload


if __name__ == "__main__":
    main()
