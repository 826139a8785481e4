"""torch.distributed plumbing for torchrun: one process per rank, gloo on CPU, nccl on GPU."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    """Where this process stands: rank, world size, and its device."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """ "auto" as CUDA when a GPU is visible, else the CPU; any other name as it is."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def setup(device: str = "auto") -> Context:
    """Joins the process group when launched by torchrun (WORLD_SIZE set), else runs alone.

    Args:
        device: "auto" (CUDA when available), "cpu" or "cuda".
    """
    use_cuda = torch.cuda.is_available() if device == "auto" else device.startswith("cuda")
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    if use_cuda:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank)
        return Context(rank, world_size, torch.device("cuda", local_rank))
    return Context(rank, world_size, torch.device("cpu"))


def all_reduce_sum(values: torch.Tensor) -> torch.Tensor:
    """Sums ``values`` over ranks (a no-op in a single process)."""
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
