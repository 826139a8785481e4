"""Dataset-wide top-k activations per feature map (the paper's Fig. 2), streamed in O(k x channels) memory.

Each image contributes, per feature map, its strongest activation (value and position); the k
strongest over the whole data set are kept. Several processes (torchrun) each scan a shard and
the results are merged with torch.distributed; ties are broken by image id, so the merged result
equals a single-process scan exactly.

During the scan the running top-k (and histograms) live on the activations' device and are merged
there with tensor operations only: no per-batch copy to the host, no ``.item()``, no Python branch on
a tensor's value, so a GPU never waits for the host between batches. They come to the CPU only for a
checkpoint (a CPU copy is saved), for the merge across ranks, and at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import Tensor

from .._utils.checkpoint import save_atomically
from .._utils.progress import progress as progress_bar
from .histogram import UnitHistograms
from .projection import DeconvNet


@dataclass
class TopK:
    """The k strongest activations of each feature map of one layer, strongest first.

    Attributes:
        values (Tensor[C, k]): activation values (-inf where fewer than k images were seen).
        image_ids (Tensor[C, k], int64): dataset index of the image (-1 where empty).
        positions (Tensor[C, k, 2], int64): (y, x) in the layer's map.
        histogram: each map's ranking value over every scanned image, when the scan kept one.
    """

    values: Tensor
    image_ids: Tensor
    positions: Tensor
    histogram: UnitHistograms | None = None

    @classmethod
    def empty(cls, channels: int, k: int, device: torch.device | str | None = None) -> TopK:
        return cls(
            torch.full((channels, k), float("-inf"), device=device),
            torch.full((channels, k), -1, dtype=torch.long, device=device),
            torch.zeros((channels, k, 2), dtype=torch.long, device=device),
        )

    def to(self, device: torch.device | str) -> TopK:
        """This top-k (and its histograms) on ``device``."""
        histogram = None if self.histogram is None else self.histogram.to(device)
        return TopK(self.values.to(device), self.image_ids.to(device), self.positions.to(device), histogram)

    def merged(self, values: Tensor, image_ids: Tensor, positions: Tensor) -> TopK:
        """This top-k merged with candidates (Tensor[C, M], Tensor[C, M], Tensor[C, M, 2])."""
        k = self.values.shape[1]
        values = torch.cat([self.values, values], dim=1)
        image_ids = torch.cat([self.image_ids, image_ids], dim=1)
        positions = torch.cat([self.positions, positions], dim=1)
        # Order by value (descending), ties by image id (ascending), empty slots last: deterministic.
        by_id = image_ids.masked_fill(image_ids < 0, torch.iinfo(torch.long).max).argsort(dim=1, stable=True)
        values, image_ids, positions = values.gather(1, by_id), image_ids.gather(1, by_id), positions.gather(1, by_id[..., None].expand(-1, -1, 2))
        order = values.argsort(dim=1, descending=True, stable=True)[:, :k]
        return TopK(values.gather(1, order), image_ids.gather(1, order), positions.gather(1, order[..., None].expand(-1, -1, 2)),
                    self.histogram)


RANKS = ("max", "sum")


def _candidates(activation: Tensor, image_ids: Tensor, rank: str = "max") -> tuple[Tensor, Tensor, Tensor]:
    """Each image's value per feature map (its strongest activation, or with ``rank="sum"`` the
    whole map's sum) and the strongest position: (Tensor[C, N], Tensor[C, N], Tensor[C, N, 2]), on
    the activation's device (``image_ids`` is copied there without waiting for the device)."""
    n, c, h, w = activation.shape
    values, flat = activation.flatten(2).max(dim=2)  # (N, C)
    if rank == "sum":
        values = activation.flatten(2).sum(2, dtype=torch.float64 if activation.dtype == torch.float64 else torch.float32)
    positions = torch.stack([flat // w, flat % w], dim=-1)  # (N, C, 2)
    image_ids = image_ids.to(activation.device, non_blocking=True)  # host to device: no sync
    return values.T.float(), image_ids[None].expand(c, n), positions.transpose(0, 1)


def _on_cpu(result: dict[str, TopK]) -> dict[str, TopK]:
    """A CPU copy of a scan's partial result (for a checkpoint, the merge across ranks, the caller)."""
    return {name: topk.to("cpu") for name, topk in result.items()}


def top_activations(
    deconv: DeconvNet,
    batches: Iterable[tuple[Tensor, Tensor]],
    layers: Sequence[str | int],
    k: int = 9,
    state: dict | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 50,
    progress: bool = True,
    total: int | None = None,
    resumed_batches_left_out: bool = False,
    checkpoint_info: dict | None = None,
    rank: str = "max",
    histograms: bool = False,
) -> dict[str, TopK]:
    """Streams (images, dataset ids) batches once and keeps the top-k activations of every map of ``layers``.

    Args:
        deconv: the network's DeconvNet (its forward pass records nothing that is kept).
        batches: (Tensor[N, C, H, W] images, Tensor[N] int64 dataset ids) pairs; under torchrun
            each rank passes its own shard and the results are merged across ranks.
        layers: layer names or indices.
        k: how many to keep per feature map.
        state: a partial result from ``checkpoint`` to resume from (its batches are skipped).
        checkpoint: write the partial result here every ``checkpoint_every`` batches (under
            torchrun each rank writes its own file, with ``.rankN`` appended).
        checkpoint_every: batches between checkpoints.
        progress: show a progress bar (on rank 0).
        total: the number of batches, for the bar when ``batches`` has no length.
        resumed_batches_left_out: ``batches`` already leaves out the ones ``state`` holds (so a
            resumed scan does not load them again); by default they are passed and skipped.
        checkpoint_info: extra entries saved with every checkpoint (e.g. the run's settings).
        rank: what an image's value for a map is: "max" (its strongest activation, the paper's
            and deep-visualization-toolbox's choice; k distinct images) or "sum" (the whole map).
        histograms: also keep each map's histogram of that value over all images (``TopK.histogram``).

    Returns:
        layer name -> TopK, on the CPU (the scan itself keeps them on the activations' device).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if rank not in RANKS:
        raise ValueError(f"rank must be one of {', '.join(RANKS)}, got {rank!r}")
    if checkpoint is not None and dist.is_initialized() and dist.get_world_size() > 1:
        checkpoint = f"{checkpoint}.rank{dist.get_rank()}"
    names = sorted({deconv.name_of(layer) for layer in layers}, key=deconv.index)
    result: dict[str, TopK] = dict(state["topk"]) if state else {}
    done = state["batches"] if state else 0
    show = progress and (not dist.is_initialized() or dist.get_rank() == 0)
    iterator = progress_bar(batches, "top-k scan", show=show, total=total)
    seen = done if resumed_batches_left_out else 0
    for images, image_ids in iterator:
        seen += 1
        if (seen <= done and not resumed_batches_left_out) or images.shape[0] == 0:
            continue  # already scanned, or a batch of unreadable files
        # Everything below queues device work only: nothing here waits for the device.
        for name, activation in deconv.activations(images, names).items():
            current = result.get(name)
            if current is None:
                current = TopK.empty(activation.shape[1], k, activation.device)
            elif current.values.device != activation.device:  # a resumed state (CPU), on first use
                current = current.to(activation.device)
            candidates = _candidates(activation, image_ids, rank)
            result[name] = current.merged(*candidates)
            if histograms:
                counted = current.histogram or UnitHistograms.empty(activation.shape[1], device=activation.device)
                result[name].histogram = counted.added(candidates[0].T)
        if checkpoint is not None and seen % checkpoint_every == 0:
            save_atomically({"topk": _on_cpu(result), "batches": seen, **(checkpoint_info or {})}, checkpoint)
    result = _on_cpu(result)
    if checkpoint is not None:  # this rank's own result: resuming merges across ranks again
        save_atomically({"topk": result, "batches": seen, "complete": True, **(checkpoint_info or {})}, checkpoint)
    if dist.is_initialized() and dist.get_world_size() > 1:
        result = {name: _merge_across_ranks(topk) for name, topk in result.items()}
    return result


def load_state(path: str | Path) -> dict:
    """A partial (or complete) scan written by ``top_activations(checkpoint=...)``."""
    return torch.load(path, weights_only=False)


def _merge_across_ranks(topk: TopK) -> TopK:
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, topk)
    merged = TopK.empty(*topk.values.shape)
    for other in gathered:
        merged = merged.merged(other.values, other.image_ids, other.positions)
    histograms = [other.histogram for other in gathered if other.histogram is not None]
    if histograms:
        merged.histogram = histograms[0]
        for other in histograms[1:]:
            merged.histogram = merged.histogram.merged(other)
    return merged
