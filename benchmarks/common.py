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


def device_median_seconds(
    fn: Callable[[], object], device: torch.device, iterations: int = 20, repeats: int = 7, warmup: int = 3,
    cpu_min_seconds: float = 0.02,
) -> float:
    """Median time per call of ``fn`` as the device spends it, for calls issued back to back.

    Why not ``median_seconds`` on a GPU: wall clock with a synchronisation around one call measures
    the host's launch and the synchronisation's round trip (10-30 us) beside the kernel, and for
    small shapes that overhead is most of the number, so a fast kernel and a slow one look alike.
    Here, on CUDA, each of ``repeats`` rounds records a ``torch.cuda.Event(enable_timing=True)``,
    issues ``iterations`` calls without synchronising, records a second event, and takes the
    elapsed device time / ``iterations``; the launches of later calls overlap the kernels of earlier
    ones, as in a real pipeline. (If the host cannot launch as fast as the device runs, the number
    is the launch rate: that is then the real cost.) An op that synchronises inside (e.g. a
    validating one) pays for it here too.

    On the CPU it is the wall-clock median over ``repeats`` rounds of several calls each: as many
    as fit in ``cpu_min_seconds`` (at most ``iterations``, at least one), per call, so a large
    shape is timed one call at a time as before and a tiny one is not lost in the timer's resolution.
    """
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    if device.type == "cuda":
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(iterations):
                fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3 / iterations)  # elapsed_time is in ms
        return statistics.median(times)
    begin = time.perf_counter()
    fn()
    calls = max(1, min(iterations, round(cpu_min_seconds / max(time.perf_counter() - begin, 1e-9))))
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def host_seconds_per_call(fn: Callable[[], object], device: torch.device, calls: int = 2000, repeats: int = 5) -> float:
    """The host's cost of one call on a tiny input: wall clock of ``calls`` calls issued back to back
    (on CUDA without any synchronisation between them, one at the end) / ``calls``, median of ``repeats``.
    On CUDA this is the launch path (dispatch, checks, allocation, the launch), not the kernel."""
    for _ in range(max(10, calls // 20)):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        synchronize(device)
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def measured_bandwidth(device: torch.device, megabytes: int = 256) -> dict[str, float]:
    """Copy (read + write) and write-only bandwidth in bytes/s, measured on a buffer far larger than caches."""
    src = torch.empty(megabytes * 2**20 // 4, dtype=torch.float32, device=device).uniform_()
    dst = torch.empty_like(src)
    nbytes = src.numel() * 4
    copy_s = device_median_seconds(lambda: dst.copy_(src), device)
    write_s = device_median_seconds(lambda: dst.fill_(1.0), device)
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
