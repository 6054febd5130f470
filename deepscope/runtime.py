"""Process-level tuning for the NumPy engine.

The labs allocate and free arrays of a few megabytes at a high rate. glibc's
default malloc returns such blocks to the kernel (mmap/munmap, heap trimming),
so every new array pays a page fault per 4 KiB page — on a virtual machine that
costs more than the arithmetic. Raising the mmap and trim thresholds keeps the
freed memory in the process for reuse. Peak memory is unchanged; only the
release of freed memory to the OS is deferred.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("deepscope")

_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

_tuned = False


def tune_allocator(threshold_bytes: int = 512 * 2**20) -> bool:
    """Keep freed blocks below ``threshold_bytes`` for reuse (glibc only; else a no-op)."""
    global _tuned
    if _tuned:
        return True
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(
        mallopt(_M_MMAP_THRESHOLD, threshold_bytes)
        and mallopt(_M_TRIM_THRESHOLD, 2 * threshold_bytes)
        and mallopt(_M_TOP_PAD, 64 * 2**20)
    )
    _tuned = ok
    if not ok:
        log.debug("mallopt refused the allocator settings")
    return ok
