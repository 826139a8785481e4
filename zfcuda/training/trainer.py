"""Training ZF-Net with the paper's recipe: SGD (lr 1e-2, momentum 0.9, batch 128), filter
renormalisation after every step, learning rate x0.1 when validation error plateaus, checkpoints
every epoch with resume, snapshots for the feature-evolution figure, and torchrun for several processes.

DATA_DIR holds ``train/<class>/<image>`` and ``val/`` (or ``test/``) laid out the same way.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from .._utils import distributed
from .._utils.checkpoint import save_atomically
from .._utils.progress import progress
from ..data import ImageFolder, collate_skipping, crop_offsets, mean_image, ten_crops, train_crops
from ..data.cache import CachedBatches, CachedImages, cached_images, canonical_batch
from ..data.folder import mean_of_batches
from ..models import ZFNet, renormalize_filters

CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainConfig:
    """Every option of a training run (all recorded in its checkpoints)."""

    data_dir: str
    out_dir: str = "runs/zfnet"
    epochs: int = 70
    batch_size: int = 128  # global: split evenly across processes
    lr: float = 1e-2
    momentum: float = 0.9
    weight_decay: float = 0.0
    width: float = 1.0
    init: str = "paper"
    dropout: float = 0.5
    renorm_radius: float = 0.1
    plateau_patience: int = 1
    classes: list[str] | None = None  # train on these classes only (default: every class folder)
    per_class: int | None = None  # use only the first N training images of each class
    val_per_class: int | None = None
    val_crops: int = 1  # 1 (centre) during training; the final evaluation always uses 10
    snapshots: list[int] = field(default_factory=list)
    workers: int = 2
    seed: int = 0
    device: str = "auto"
    resume: bool = False
    cache: bool = True  # decode the folders once into uint8 tensors under out_dir (see zfcuda.data.cache)
    init_from: str | None = None  # continue an exported model (weights, mean image, history; the optimiser restarts)

    def validate(self) -> None:
        if not self.width > 0:
            raise ValueError(f"width must be > 0, got {self.width}")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.val_crops not in (1, 10):
            raise ValueError(f"val_crops must be 1 or 10, got {self.val_crops}")


def _split_dir(root: Path, names: tuple[str, ...]) -> Path:
    for name in names:
        if (root / name).is_dir():
            return root / name
    raise FileNotFoundError(f"{root} has no {' or '.join(names)} folder (expected {root}/{names[0]}/<class>/<image>)")


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, mean: Tensor, crops: int, device: torch.device) -> dict[str, float]:
    """Top-1 / top-5 error and mean loss, over ``crops`` (1: centre, 10: the paper's) crops per image.

    The class scores of the crops are averaged softmax probabilities. Sums are reduced across ranks.
    """
    model.eval()
    totals = torch.zeros(4, dtype=torch.float64)  # loss, top-1 correct, top-5 correct, images
    mean = mean.to(device)
    for images, labels, _, _ in loader:
        if images.shape[0] == 0:
            continue
        views = ten_crops(images.to(device), mean)
        views = views[:, 4:5] if crops == 1 else views
        b, v = views.shape[:2]
        probs = F.softmax(model(views.flatten(0, 1)).float(), dim=1).view(b, v, -1).mean(1)
        labels = labels.to(device)
        top5 = probs.topk(min(5, probs.shape[1]), dim=1).indices
        totals += torch.tensor(
            [
                F.nll_loss(probs.clamp_min(1e-12).log(), labels, reduction="sum").item(),
                (top5[:, 0] == labels).sum().item(),
                (top5 == labels[:, None]).any(1).sum().item(),
                b,
            ],
            dtype=torch.float64,
        )
    totals = distributed.all_reduce_sum(totals)
    n = max(totals[3].item(), 1)
    return {"loss": totals[0].item() / n, "top1_error": 1 - totals[1].item() / n, "top5_error": 1 - totals[2].item() / n, "images": int(totals[3].item())}


class Trainer:
    """Runs a TrainConfig: builds data, model and optimiser, trains, evaluates, checkpoints."""

    def __init__(self, config: TrainConfig) -> None:
        config.validate()
        self.config = config
        self.ctx = distributed.setup(config.device)
        root = Path(config.data_dir)
        self.train_set = ImageFolder(_split_dir(root, ("train",)), classes=config.classes, per_class=config.per_class)
        self.val_set = ImageFolder(_split_dir(root, ("val", "test")), classes=self.train_set.classes, per_class=config.val_per_class)
        self.out_dir = Path(config.out_dir)
        if self.ctx.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        self.caches: dict[str, CachedImages] = {}
        if config.cache:
            self.caches = {"train": self._cached(self.train_set), "val": self._cached(self.val_set)}
        torch.manual_seed(config.seed)  # the same initial weights on every rank
        self.model = ZFNet(len(self.train_set.classes), config.width, config.init, config.dropout).to(self.ctx.device)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(self.optimizer, mode="min", factor=0.1, patience=config.plateau_patience)
        self.history: list[dict] = []
        self.start_epoch = 0
        self.mean: Tensor | None = None
        if config.resume and (self.out_dir / CHECKPOINT).exists():
            self._load(self.out_dir / CHECKPOINT)
        elif config.init_from is not None:
            self._continue_export(Path(config.init_from))
        if self.mean is None:
            self.mean = self._broadcast_mean(self._mean_image() if self.ctx.is_main else None)
        self.ddp = DistributedDataParallel(self.model) if self.ctx.world_size > 1 else self.model
        if config.batch_size % self.ctx.world_size:
            raise ValueError(f"batch_size {config.batch_size} must divide evenly over {self.ctx.world_size} processes")

    def _cached(self, folder: ImageFolder) -> CachedImages:
        """The folder decoded once (by rank 0; the other ranks wait, then read its file)."""
        if self.ctx.world_size > 1:
            import torch.distributed as dist

            if not self.ctx.is_main:
                dist.barrier()
            cache = cached_images(folder, self.out_dir, workers=self.config.workers)
            if self.ctx.is_main:
                dist.barrier()
            return cache
        return cached_images(folder, self.out_dir, workers=self.config.workers)

    def _mean_image(self) -> Tensor:
        """The training images' per-pixel mean (Tensor[3, 256, 256] in [0, 1]), from the cache when there is one."""
        if "train" not in self.caches:
            return mean_image(self.train_set, cache_dir=self.out_dir, workers=self.config.workers)
        cache = self.caches["train"]
        kept = cache.images[cache.readable]
        return mean_of_batches((canonical_batch(part) for part in kept.split(256)), self.train_set.root)

    def _broadcast_mean(self, mean: Tensor | None) -> Tensor:
        if self.ctx.world_size == 1:
            return mean
        import torch.distributed as dist

        holder = [mean]
        dist.broadcast_object_list(holder, src=0)
        return holder[0]

    def _loader(self, dataset: ImageFolder, epoch: int, train: bool) -> DataLoader | CachedBatches:
        sampler = DistributedSampler(
            dataset, self.ctx.world_size, self.ctx.rank, shuffle=train, seed=self.config.seed, drop_last=train
        )
        sampler.set_epoch(epoch)
        per_rank = self.config.batch_size // self.ctx.world_size
        cache = self.caches.get("train" if dataset is self.train_set else "val")
        if cache is not None:
            return CachedBatches(cache, sampler, per_rank, drop_last=train)
        return DataLoader(dataset, per_rank, sampler=sampler, num_workers=self.config.workers, collate_fn=collate_skipping, drop_last=train)

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """One pass over the training set; returns loss, error, images/s and skipped images (summed over ranks)."""
        self.ddp.train()
        loader = self._loader(self.train_set, epoch, train=True)
        totals = torch.zeros(4, dtype=torch.float64)  # loss sum, correct, images, skipped
        start = time.perf_counter()
        bar = progress(loader, f"epoch {epoch + 1}/{self.config.epochs}", self.ctx.is_main)
        for images, labels, indices, skipped in bar:
            totals[3] += skipped
            if images.shape[0] == 0:
                continue
            crops = train_crops(images, self.mean, crop_offsets(indices, self.config.seed, epoch)).to(self.ctx.device)
            labels = labels.to(self.ctx.device)
            logits = self.ddp(crops)
            loss = F.cross_entropy(logits, labels)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            renormalize_filters(self.model, self.config.renorm_radius)
            totals[:3] += torch.tensor([loss.item() * len(labels), (logits.argmax(1) == labels).sum().item(), len(labels)], dtype=torch.float64)
            if self.ctx.is_main:
                rate = totals[2].item() * self.ctx.world_size / (time.perf_counter() - start)
                bar.set_postfix(loss=f"{totals[0].item() / totals[2].item():.3f}", acc=f"{totals[1].item() / totals[2].item():.3f}", img_s=f"{rate:.0f}")
        seconds = time.perf_counter() - start
        totals = distributed.all_reduce_sum(totals)
        n = max(totals[2].item(), 1)
        return {"loss": totals[0].item() / n, "error": 1 - totals[1].item() / n, "images_per_s": totals[2].item() / seconds, "skipped": int(totals[3].item())}

    def fit(self) -> list[dict]:
        """Trains from ``start_epoch`` to ``epochs``, checkpointing after each epoch."""
        for epoch in range(self.start_epoch, self.config.epochs):
            train_stats = self.train_epoch(epoch)
            val_stats = evaluate(self.model, self._loader(self.val_set, 0, train=False), self.mean, self.config.val_crops, self.ctx.device)
            self.scheduler.step(val_stats["top1_error"])
            record = {"epoch": epoch + 1, "lr": self.optimizer.param_groups[0]["lr"], "train": train_stats, "val": val_stats}
            self.history.append(record)
            if self.ctx.is_main:
                print(json.dumps(record), flush=True)
                self.save(self.out_dir / CHECKPOINT, epoch + 1)
                if epoch + 1 in self.config.snapshots:
                    self.save(self.out_dir / f"snapshot-epoch{epoch + 1:03d}.pt", epoch + 1)
        return self.history

    def save(self, path: Path, epochs_done: int) -> None:
        """Writes a checkpoint atomically (a crash never leaves a half-written file)."""
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "epochs_done": epochs_done,
            "mean": self.mean,
            "classes": self.train_set.classes,
            "config": asdict(self.config),
            "history": self.history,
            "rng": torch.get_rng_state(),  # dropout masks continue identically after a resume
            "arch": {"name": "ZFNet", "num_classes": len(self.train_set.classes), "width": self.config.width, "dropout": self.config.dropout},
        }
        save_atomically(state, path)

    def _load(self, path: Path) -> None:
        state = torch.load(path, map_location=self.ctx.device, weights_only=False)
        if state["classes"] != self.train_set.classes or state["arch"]["width"] != self.config.width:
            raise ValueError(
                f"checkpoint {path} was trained on classes {state['classes']} at width {state['arch']['width']}; "
                f"this run has {self.train_set.classes} at width {self.config.width}"
            )
        self.model.load_state_dict(state["model"])
        self.mean = state["mean"]
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.start_epoch = state["epochs_done"]
        self.history = state["history"]
        torch.set_rng_state(state["rng"])

    def _continue_export(self, path: Path) -> None:
        """Starts from an exported model (``zfcuda export``): its weights, mean image and history.

        The optimiser's momentum restarts; the learning rate and the plateau counter are rebuilt by
        replaying the recorded validation errors through the scheduler, so a drop due at the next
        plateau still comes. Epoch numbers continue from the export's.
        """
        record = torch.load(path, map_location="cpu", weights_only=False)
        if record.get("format") != "zfcuda-pretrained-1":
            raise ValueError(f"init_from {path} is not an exported zfcuda model (write one with `zfcuda export`)")
        arch = record["arch"]
        if record["classes"] != self.train_set.classes or arch["width"] != self.config.width:
            raise ValueError(
                f"init_from {path} was trained on classes {record['classes']} at width {arch['width']}; "
                f"this run has {self.train_set.classes} at width {self.config.width}"
            )
        self.model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in record["model"].items()})
        self.mean = record["mean"].float()  # the mean the weights were trained against
        self.history = list(record["training"]["history"])
        self.start_epoch = record["training"]["epochs_done"]
        for past in self.history:
            self.scheduler.step(past["val"]["top1_error"])


def train(config: TrainConfig) -> list[dict]:
    """Runs a whole training (joining torchrun's process group when launched by it)."""
    try:
        return Trainer(config).fit()
    finally:
        distributed.teardown()
