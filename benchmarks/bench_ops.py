"""How fast are zfcuda's switch ops against torch's own pooling ops, and against the memory floor?

On ZF-Net's real pooling shapes (batch 8 and 64) it times, in the same run and on the same input:
pool forward (ours vs F.max_pool2d with and without indices), unpooling and the pool backward
(ours vs torch's max-pool autograd backward and F.max_unpool2d), and the occlusion batch (ours vs
a broadcast torch.where). Medians; the floor is bytes that must move / measured bandwidth. On CUDA
every time is device time per call from CUDA events around ``--iterations`` back-to-back calls
(common.device_median_seconds: a synchronised wall clock around one call would mostly measure the
launch); on the CPU, wall clock.

Host overhead: the per-call cost of each op beside torch's own on a tiny input (one 2x2 plane,
kernel 2: one output element), where the kernel is nothing and dispatch, checks and allocation are
everything: wall clock of many calls on CPU tensors, and on CUDA also of many asynchronous calls
with one synchronisation at the end (the launch path). Written under "host_overhead".

    python benchmarks/bench_ops.py [--device cpu|cuda] [--batches 8 64] [--repeats 7] [--iterations 20]
                                   [--host-calls 2000] [--threads N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import device_median_seconds, host_seconds_per_call, keep_freed_memory, measured_bandwidth, write_results  # noqa: E402

import zfcuda  # noqa: E402

# ZF-Net's pools: (name, channels, size, kernel, stride, padding)
ZF_POOLS = [
    ("conv1 pool", 96, 110, 3, 2, 1),
    ("conv2 pool", 256, 26, 3, 2, 1),
    ("conv5 pool", 256, 13, 3, 2, 0),
]


FORMATS = {"nchw": torch.contiguous_format, "channels_last": torch.channels_last}


def bench_pool_case(batch, channels, size, k, s, p, fmt, device, repeats, iterations, bandwidth) -> dict:
    x = torch.randn(batch, channels, size, size, device=device).contiguous(memory_format=FORMATS[fmt])
    y, switches = zfcuda.max_pool2d_switches(x, k, s, p)
    _, indices = F.max_pool2d(x, k, s, p, return_indices=True)
    grad_y = torch.randn_like(y)
    t = {
        "pool_ours": lambda: zfcuda.max_pool2d_switches(x, k, s, p),
        "pool_torch_with_indices": lambda: F.max_pool2d(x, k, s, p, return_indices=True),
        "pool_torch_values_only": lambda: F.max_pool2d(x, k, s, p),
        "unpool_ours": lambda: zfcuda.unpool2d_switches(grad_y, switches, (size, size), k, s, p),
        "pool_backward_ours": lambda: zfcuda.unpool2d_switches(grad_y, switches, (size, size), k, s, p, validate=False),
        "pool_backward_torch": lambda: torch.ops.aten.max_pool2d_with_indices_backward(
            grad_y, x, [k, k], [s, s], [p, p], [1, 1], False, indices
        ),
        "max_unpool2d_torch": lambda: F.max_unpool2d(grad_y, indices, k, s, p, output_size=(size, size)),
    }
    seconds = {name: device_median_seconds(fn, device, iterations, repeats) for name, fn in t.items()}
    elt = x.element_size()
    pool_bytes = x.numel() * elt + y.numel() * (elt + 1)  # read x; write y and 1-byte switches
    unpool_bytes = y.numel() * (elt + 1) + x.numel() * elt  # read y and switches; write x
    floor_pool = pool_bytes / bandwidth["copy_bytes_per_s"]
    floor_unpool = unpool_bytes / bandwidth["copy_bytes_per_s"]
    return {
        "shape": list(x.shape),
        "memory_format": fmt,
        "kernel": k,
        "stride": s,
        "padding": p,
        "median_s": seconds,
        "floor_s": {"pool": floor_pool, "unpool": floor_unpool},
        "speedup": {
            "pool_vs_torch_with_indices": seconds["pool_torch_with_indices"] / seconds["pool_ours"],
            "pool_vs_torch_values_only": seconds["pool_torch_values_only"] / seconds["pool_ours"],
            "unpool_vs_torch_backward": seconds["pool_backward_torch"] / seconds["unpool_ours"],
            "pool_backward_vs_torch_backward": seconds["pool_backward_torch"] / seconds["pool_backward_ours"],
            "unpool_vs_max_unpool2d": seconds["max_unpool2d_torch"] / seconds["unpool_ours"],
        },
        "times_floor": {
            "pool": seconds["pool_ours"] / floor_pool,
            "unpool": seconds["unpool_ours"] / floor_unpool,
            "pool_backward": seconds["pool_backward_ours"] / floor_unpool,
        },
    }


def bench_occlusion(device, repeats, iterations, bandwidth, size=224, patch=32, stride=16) -> dict:
    image = torch.rand(3, size, size, device=device)
    grid = zfcuda.paper_grid((size, size), patch, stride)
    positions = grid.positions.to(device)
    fill = image.mean((1, 2))
    rows = torch.arange(size, device=device)
    top, left = positions[:, 0].view(-1, 1, 1, 1), positions[:, 1].view(-1, 1, 1, 1)

    def torch_where():  # the best pure-torch way: broadcast a (B, 1, H, W) mask, one pass
        covered = (rows.view(1, 1, -1, 1) >= top) & (rows.view(1, 1, -1, 1) < top + patch)
        covered = covered & (rows.view(1, 1, 1, -1) >= left) & (rows.view(1, 1, 1, -1) < left + patch)
        return torch.where(covered, fill.view(1, -1, 1, 1), image)

    ours = lambda: zfcuda.occlusion_batch(image, positions, patch, fill)  # noqa: E731
    assert torch.equal(ours(), torch_where())
    seconds = {"occlusion_ours": device_median_seconds(ours, device, iterations, repeats),
               "occlusion_torch_where": device_median_seconds(torch_where, device, iterations, repeats)}
    out_bytes = positions.shape[0] * image.numel() * image.element_size()
    floor = out_bytes / bandwidth["write_bytes_per_s"]
    return {
        "image": [3, size, size],
        "positions": positions.shape[0],
        "patch": patch,
        "median_s": seconds,
        "floor_s": {"write": floor},
        "speedup": {"vs_torch_where": seconds["occlusion_torch_where"] / seconds["occlusion_ours"]},
        "times_floor": {"occlusion": seconds["occlusion_ours"] / floor},
    }


# (ours, torch's counterpart) per op of the host-overhead table
HOST_PAIRS = {
    "pool": ("pool_ours", "pool_torch_with_indices"),
    "unpool": ("unpool_ours", "pool_backward_torch"),
    "unpool_validated": ("unpool_ours_validated", "pool_backward_torch"),
    "gather": ("gather_ours", "gather_torch"),
    "gather_validated": ("gather_ours_validated", "gather_torch"),
}


def host_overhead_calls(device) -> dict:
    """Each op and torch's own on one 2x2 plane with kernel 2 (one element per plane)."""
    x = torch.randn(1, 1, 2, 2, device=device)
    y, switches = zfcuda.max_pool2d_switches(x, 2)
    _, indices = F.max_pool2d(x, 2, return_indices=True)
    flat_x, flat_indices = x.flatten(2), indices.flatten(2)  # torch.gather's equivalent of gather2d_switches
    assert torch.equal(zfcuda.gather2d_switches(x, switches, 2), torch.gather(flat_x, 2, flat_indices).view_as(y))
    return {
        "pool_ours": lambda: zfcuda.max_pool2d_switches(x, 2),
        "pool_torch_with_indices": lambda: F.max_pool2d(x, 2, return_indices=True),
        "unpool_ours": lambda: zfcuda.unpool2d_switches(y, switches, (2, 2), 2, validate=False),
        "unpool_ours_validated": lambda: zfcuda.unpool2d_switches(y, switches, (2, 2), 2),
        "pool_backward_torch": lambda: torch.ops.aten.max_pool2d_with_indices_backward(y, x, [2, 2], [2, 2], [0, 0], [1, 1], False, indices),
        "gather_ours": lambda: zfcuda.gather2d_switches(x, switches, 2, validate=False),
        "gather_ours_validated": lambda: zfcuda.gather2d_switches(x, switches, 2),
        "gather_torch": lambda: torch.gather(flat_x, 2, flat_indices),
    }


def bench_host_overhead(device, calls: int, repeats: int = 5) -> dict:
    """Seconds per call on CPU tensors (wall clock), and on CUDA also of asynchronous calls (one sync at the end)."""
    record = {"input": [1, 1, 2, 2], "kernel": 2, "calls": calls, "repeats": repeats, "pairs": HOST_PAIRS}
    on = [torch.device("cpu")] + ([device] if device.type == "cuda" else [])
    for where in on:
        seconds = {name: host_seconds_per_call(fn, where, calls, repeats) for name, fn in host_overhead_calls(where).items()}
        record[where.type] = {
            "seconds_per_call": seconds,
            "ours_over_torch": {op: seconds[ours] / seconds[theirs] for op, (ours, theirs) in HOST_PAIRS.items()},
        }
    return record


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batches", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=20, help="back-to-back calls per timed round (CUDA events)")
    parser.add_argument("--host-calls", dest="host_calls", type=int, default=2000, help="calls per round of the host-overhead timing")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    parser.add_argument("--formats", nargs="+", choices=sorted(FORMATS), default=["nchw", "channels_last"])
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    steady_allocator = keep_freed_memory() if device.type == "cpu" else False

    bandwidth = measured_bandwidth(device)
    print(f"device {device}: copy {bandwidth['copy_bytes_per_s'] / 1e9:.1f} GB/s, write {bandwidth['write_bytes_per_s'] / 1e9:.1f} GB/s")
    header = f"{'case':<36}{'pool ms':>9}{'torch+idx':>10}{'x':>6}{'floor':>7}{'unpool ms':>10}{'torch bwd':>10}{'x':>6}{'floor':>7}"
    print(header)
    cases = []
    for fmt in args.formats:
        for batch in args.batches:
            for name, channels, size, k, s, p in ZF_POOLS:
                r = bench_pool_case(batch, channels, size, k, s, p, fmt, device, args.repeats, args.iterations, bandwidth)
                r["name"] = f"{name} N={batch} {fmt}"
                cases.append(r)
                m, sp, tf = r["median_s"], r["speedup"], r["times_floor"]
                print(
                    f"{r['name']:<36}{m['pool_ours'] * 1e3:9.2f}{m['pool_torch_with_indices'] * 1e3:10.2f}"
                    f"{sp['pool_vs_torch_with_indices']:6.1f}{tf['pool']:7.2f}"
                    f"{m['unpool_ours'] * 1e3:10.2f}{m['pool_backward_torch'] * 1e3:10.2f}"
                    f"{sp['unpool_vs_torch_backward']:6.1f}{tf['unpool']:7.2f}"
                )
    occlusion = bench_occlusion(device, args.repeats, args.iterations, bandwidth)
    m = occlusion["median_s"]
    print(
        f"occlusion_batch {occlusion['positions']}x3x224x224: ours {m['occlusion_ours'] * 1e3:.2f} ms, "
        f"torch.where {m['occlusion_torch_where'] * 1e3:.2f} ms ({occlusion['speedup']['vs_torch_where']:.1f}x), "
        f"{occlusion['times_floor']['occlusion']:.2f}x the write floor"
    )
    host = bench_host_overhead(device, args.host_calls)
    for where in ("cpu", "cuda"):
        if where in host:
            m, ratio = host[where]["seconds_per_call"], host[where]["ours_over_torch"]
            print(f"host overhead per call, 1x1x2x2 on {where}" + (" (async, one sync)" if where == "cuda" else "") + ": " + ", ".join(
                f"{op} {m[ours] * 1e6:.1f} us vs torch {m[theirs] * 1e6:.1f} us ({ratio[op]:.2f}x)" for op, (ours, theirs) in HOST_PAIRS.items()))
    payload = {
        "bandwidth": bandwidth,
        "steady_state_allocator": steady_allocator,
        "pool_cases": cases,
        "occlusion": occlusion,
        "host_overhead": host,
        "repeats": args.repeats,
        "iterations": args.iterations,
        "timing": "CUDA events around back-to-back calls, per call" if device.type == "cuda" else "wall clock per call",
    }
    path = write_results("ops", device, payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
