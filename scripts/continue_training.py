"""Continue training the shipped ZF-Net in resumable pieces, one epoch at a time, in the background.

Each epoch resumes from RUNS/checkpoint.pt when that continues the shipped weights, else from the
shipped weights themselves (the optimiser restarts), trains one epoch with the paper's recipe
(learning rate x0.1 on a plateau of the centre-crop validation error), evaluates the 10 crops on
the whole CIFAR-10 test set, and re-exports the shipped float16 model with its new history and
errors. It stops at the target error, at the epoch limit, or when the time budget would be
overrun by another epoch; running it again continues where it stopped. Snapshots for Fig. 4 stay
in RUNS (outside git).

    nohup python scripts/continue_training.py --data ../shared/data/cifar10 --runs ../runs/zfnet-w025 \\
        --hours 2.5 --threads 1 > ../runs/zfnet-w025.log 2>&1 &
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import torch
from torch.utils.data import SequentialSampler

from zfcuda.data import ImageFolder
from zfcuda.data.cache import CachedBatches, cached_images
from zfcuda.models import pretrained
from zfcuda.training import TrainConfig, Trainer, evaluate
from zfcuda.training.trainer import CHECKPOINT

SNAPSHOT_EPOCHS = (1, 2, 5, 10)


def _checkpoint_epochs(runs: Path) -> int:
    path = runs / CHECKPOINT
    return torch.load(path, map_location="cpu", weights_only=False)["epochs_done"] if path.exists() else -1


def _test_error(trainer: Trainer, data: Path, runs: Path) -> dict:
    """10-crop top-1 / top-5 error on the whole test split (1,000 images per class)."""
    folder = ImageFolder(data / "test", classes=trainer.train_set.classes)
    cache = cached_images(folder, runs)
    batches = CachedBatches(cache, SequentialSampler(range(len(cache))), 100, drop_last=False)
    metrics = evaluate(trainer.model, batches, trainer.mean, 10, trainer.ctx.device)
    return {"crops": 10, **metrics, "test_images": f"CIFAR-10 test, all {len(cache)} images"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="CIFAR-10 folder with train/ and test/")
    parser.add_argument("--runs", type=Path, required=True, help="checkpoints, snapshots and caches (outside git)")
    parser.add_argument("--weights", type=Path, default=pretrained.SHIPPED, help="the exported model to continue and overwrite")
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--target-error", type=float, default=0.25, help="stop at this 10-crop top-1 test error")
    parser.add_argument("--hours", type=float, default=2.0, help="time budget of this piece")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--test-every", dest="test_every", type=int, default=5, help="epochs between 10-crop test evaluations")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.monotonic()
    epoch_seconds = 0.0
    while True:
        record = torch.load(args.weights, map_location="cpu", weights_only=False)
        done, error = record["training"]["epochs_done"], record["metrics"].get("top1_error", 1.0)
        full_test = "all" in str(record["metrics"].get("test_images", ""))
        if done >= args.max_epochs or (full_test and error <= args.target_error):
            print(json.dumps({"stopped": "done", "epochs": done, "top1_error": error}), flush=True)
            return 0
        if time.monotonic() - start + epoch_seconds > args.hours * 3600:
            print(json.dumps({"stopped": "time budget", "epochs": done}), flush=True)
            return 0
        epoch_start = time.monotonic()
        # The runs' checkpoint keeps the optimiser's momentum; use it only when it continues these weights.
        # One epoch ahead of them means the last piece trained that epoch but stopped before exporting
        # it: the trainer then has nothing left to train and the epoch is only evaluated and exported.
        resume = _checkpoint_epochs(args.runs) in (done, done + 1)
        config = TrainConfig(
            data_dir=str(args.data), out_dir=str(args.runs), epochs=done + 1, width=record["arch"]["width"],
            dropout=record["arch"]["dropout"], val_per_class=100, val_crops=1, workers=0,
            snapshots=list(SNAPSHOT_EPOCHS), resume=resume, init_from=None if resume else str(args.weights),
        )
        trainer = Trainer(config)
        history = trainer.fit()
        train_seconds = time.monotonic() - epoch_start
        centre = history[-1]["val"]
        last_of_piece = time.monotonic() - start + 2 * train_seconds > args.hours * 3600
        if (done + 1) % args.test_every == 0 or centre["top1_error"] <= args.target_error + 0.05 or last_of_piece or done + 1 >= args.max_epochs:
            metrics = _test_error(trainer, args.data, args.runs)
        else:
            metrics = {"crops": 1, **centre, "test_images": "first 100 per class of CIFAR-10 test (1,000)"}
        shutil.copyfile(args.runs / CHECKPOINT, args.runs / "snapshot-last.pt")
        pretrained.export(args.runs / CHECKPOINT, args.weights, metrics)
        epoch_seconds = max(epoch_seconds, time.monotonic() - epoch_start)
        print(json.dumps({"epoch": done + 1, "test": metrics, "seconds": round(epoch_seconds)}), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
