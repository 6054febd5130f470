"""Timing helpers: medians of several runs after a warm-up, and the table printer."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def median_ms(fn: Callable[[], object], repeat: int = 7, warmup: int = 2) -> float:
    """Median wall time of ``fn`` in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


@dataclass
class Row:
    what: str
    ours: str
    reference: str
    ratio: str
    target: str
    ok: bool | None = None
    notes: list[str] = field(default_factory=list)


def verdict(ok: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "—"}[ok]


def print_table(rows: list[Row]) -> str:
    header = ["what", "DeepScope", "reference", "ratio", "target", ""]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for r in rows:
        cells = [r.what, r.ours, r.reference, r.ratio, r.target, verdict(r.ok)]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines)
    print(text)
    return text
