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

from .common import Row, print_table
from .sections import SECTIONS, run


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
            rows.extend(pool.submit(run, name, args.quick).result())
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
