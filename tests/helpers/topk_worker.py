"""Run by tests/deconvnet/test_topk.py under torchrun: scans a shard of real images and saves the merged top-k,
then resumes from the finished scan's checkpoint and saves that result too (it must not change)."""

from __future__ import annotations

import sys

import torch
import torch.distributed as dist

from tests.helpers.nets import small_chain
from tests.helpers.shared_data import real_images
from zfcuda import DeconvNet
from zfcuda.deconvnet import load_state, top_activations

if __name__ == "__main__":
    out = sys.argv[1]
    if "WORLD_SIZE" in __import__("os").environ:
        dist.init_process_group("gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    images = real_images()
    ids = torch.arange(len(images))[rank::world]
    batches = [(images[ids[i : i + 5]], ids[i : i + 5]) for i in range(0, len(ids), 5)]
    deconv = DeconvNet(small_chain())
    checkpoint = f"{out}.scan"
    result = top_activations(deconv, batches, ["2", "5"], k=4, progress=False, checkpoint=checkpoint)
    own = f"{checkpoint}.rank{rank}" if world > 1 else checkpoint
    resumed = top_activations(deconv, batches, ["2", "5"], k=4, progress=False, state=load_state(own))
    if rank == 0:
        torch.save({"scan": result, "resumed": resumed}, out)
    if dist.is_initialized():
        dist.destroy_process_group()
