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


def paired_ms(
    fn: Callable[[], object],
    reference: Callable[[], object],
    repeat: int = 7,
    warmup: int = 2,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[float, float, float]:
    """(median ms of ``fn``, of ``reference``, median of the per-pair ratios fn / reference).

    The two are run alternately, so a slow or fast spell of the machine (this VM's
    speed drifts by tens of percent within minutes) affects both sides of a pair
    alike; the ratio of each pair is the figure, not the ratio of two medians
    taken minutes apart. ``clock``: wall time by default; ``time.thread_time`` counts
    only this thread's CPU time (what the other processes on the cores do not add to).
    """
    for _ in range(warmup):
        fn()
        reference()
    ours, refs, ratios = [], [], []
    for _ in range(repeat):
        t0 = clock()
        fn()
        t1 = clock()
        reference()
        t2 = clock()
        ours.append((t1 - t0) * 1e3)
        refs.append((t2 - t1) * 1e3)
        ratios.append((t1 - t0) / (t2 - t1))
    return statistics.median(ours), statistics.median(refs), statistics.median(ratios)


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
    if any("(paired" in r.what for r in rows):
        lines.append(
            "\n(paired): each run of ours is timed next to a run of the reference; "
            "the ratio is the median of those per-pair ratios."
        )
    text = "\n".join(lines)
    print(text)
    return text
