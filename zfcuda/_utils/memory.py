"""Process-wide memory settings for long computations in a process zfcuda owns (the command line,
the benchmarks): a library call never changes them."""

from __future__ import annotations


def keep_freed_memory() -> bool:
    """Makes glibc reuse freed CPU memory instead of returning it to the OS.

    Without this, every tensor over 32 MB is a fresh mmap whose first touch page-faults (several
    ms each on a 2-core CPU): a top-9 scan of EfficientNet-Lite0 in batches of 64 spent nearly all
    its time in the kernel zeroing pages. In a benchmark it is applied once per process, so it
    affects ours and the peers alike.

    Returns:
        Whether the allocator settings could be changed (glibc only).
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        # mallopt takes a C int: a larger value would wrap (2**34 became 0, which trimmed on every free).
        int_max = 2**31 - 1
        return bool(libc.mallopt(m_mmap_threshold, 2**30)) and bool(libc.mallopt(m_trim_threshold, int_max))
    except (OSError, AttributeError):
        return False
