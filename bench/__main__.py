"""`make bench`: every benchmark, one table, ratios measured in this run."""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from deepscope.runtime import tune_allocator

from . import (
    classroom,
    e2e,
    landscape,
    layers,
    layers_class,
    optimizers,
    reliability,
    streaming,
    surfaces,
    sweep,
    training,
)
from .common import Row, print_table

SECTIONS = {
    "layers": layers.rows,
    "optimizers": optimizers.rows,
    "sweep": sweep.rows,
    "surfaces": surfaces.rows,
    "training": training.rows,
    "landscape": landscape.rows,
    "e2e": e2e.rows,
    "layers_class": layers_class.rows,
    "classroom": classroom.rows,
    "streaming": streaming.rows,
    "reliability": reliability.rows,
}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def _section(name: str, quick: bool) -> list[Row]:
    tune_allocator()  # (as the server's processes)
    return SECTIONS[name](quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the smoke test)")
    parser.add_argument("--only", nargs="*", choices=list(SECTIONS), help="run these sections")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for name in SECTIONS:
        if args.only and name not in args.only:
            continue
        print(f"… {name}", file=sys.stderr, flush=True)
        # Each section in a process of its own: after the layers section's 2-thread
        # matmuls, OpenBLAS's idle worker kept one of the 2 cores busy, and every later
        # single-threaded row ran ~1.5–2× slower (the sweep's floor 53 ms against 28 ms
        # alone; with OPENBLAS_NUM_THREADS=1, 28 ms). A section measures what it sets up.
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            rows.extend(pool.submit(_section, name, args.quick).result())
    print(f"\nDeepScope benchmarks, {datetime.date.today().isoformat()}, {machine()}\n")
    text = print_table(rows)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / ("quick.md" if args.quick else "latest.md")).write_text(
        f"{datetime.date.today().isoformat()}, {machine()}\n\n{text}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
