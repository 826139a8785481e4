"""Timing, bandwidth floors and result files shared by the benchmark scripts."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import torch

from zfcuda._utils.memory import keep_freed_memory  # noqa: F401 (the benchmarks call it from here)

RESULTS = Path(__file__).resolve().parent / "results"


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(fn: Callable[[], object], device: torch.device, repeats: int = 7, warmup: int = 2) -> float:
    """Median wall time of ``fn`` over ``repeats`` calls after ``warmup`` calls (device synchronised)."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measured_bandwidth(device: torch.device, megabytes: int = 256) -> dict[str, float]:
    """Copy (read + write) and write-only bandwidth in bytes/s, measured on a buffer far larger than caches."""
    src = torch.empty(megabytes * 2**20 // 4, dtype=torch.float32, device=device).uniform_()
    dst = torch.empty_like(src)
    nbytes = src.numel() * 4
    copy_s = median_seconds(lambda: dst.copy_(src), device)
    write_s = median_seconds(lambda: dst.fill_(1.0), device)
    return {"copy_bytes_per_s": 2 * nbytes / copy_s, "write_bytes_per_s": nbytes / write_s}


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({torch.get_num_threads()} threads)"
    except OSError:
        pass
    return f"{platform.processor() or 'CPU'} ({torch.get_num_threads()} threads)"


def write_results(name: str, device: torch.device, payload: dict) -> Path:
    """Writes ``payload`` with device and versions to benchmarks/results/<name>_<device>.json."""
    import zfcuda

    record = {
        "benchmark": name,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "device": device_name(device),
        "device_type": device.type,
        "torch": torch.__version__,
        "zfcuda_build": zfcuda.build_info(),
        "python": platform.python_version(),
        **payload,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}_{device.type}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
