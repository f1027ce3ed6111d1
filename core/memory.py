"""Giving freed memory back to the system (glibc's malloc_trim; on other C libraries nothing).

A photo's bytes, its pixels and the models' activations are blocks of a few to some tens of MB. After the first
of them is freed glibc raises its mmap threshold above their size, so the next ones come from the heap (and from
the heaps of the threads that write and send them), and a heap keeps the pages they leave between the small
blocks still in use: a recognition worker stood at 354-364 MB after 300 photos, 243-262 MB trimmed after each
(benchmarks/worker_memory.py). Trimming costs well under a millisecond.

A bot process maps such blocks on their own instead (map_large_blocks): its few per turn (a chart's 4.4 MB of
pixels, a photo's bytes, a PDF) then go back the moment they are freed, not at the next trim, where six threads'
heaps held 30 MB of them between two trims (docs/benchmarks.md, "What a bot process holds").
"""
from __future__ import annotations

import ctypes
import platform


def give_back_freed_memory() -> None:
    """Return the free pages of every heap of this process to the system."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


M_MMAP_THRESHOLD = -3  # mallopt's parameter, from glibc's malloc.h
LARGE_BLOCK = 1024 * 1024  # bytes; the bot's large blocks are MBs, its small ones (Python objects) under 1 KB


def map_large_blocks(threshold: int = LARGE_BLOCK) -> None:
    """From now on every block of `threshold` bytes or more is mapped on its own and unmapped when freed (a fixed
    mmap threshold: glibc no longer raises it above the blocks it has seen freed)."""
    if _LIBC is not None:
        _LIBC.mallopt(M_MMAP_THRESHOLD, threshold)


def _glibc() -> ctypes.CDLL | None:
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim  # noqa: B018  # in every glibc; looked up once, here
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()
