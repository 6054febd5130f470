"""`python -m bench.load`: a class of simulated students against a real server.

100 students for 60 s by default, each on a lab (optimizer, training or layers),
playing it and moving a slider every 2 s. Prints what they saw: frame gaps,
control → frame latency, frame rates (fairness), event-loop lag, server memory,
bytes per client and unexpected closes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json

from .__main__ import machine
from .live import live_server
from .students import run_class


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between slider moves")
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    env = {"DEEPSCOPE_MAX_SESSIONS": str(args.students + 10)}
    with live_server("--workers", str(args.workers), env=env) as server:
        report = asyncio.run(run_class(server, args.students, args.seconds, args.every, args.fps))
    print(f"{datetime.date.today().isoformat()}, {machine()}, {args.workers} worker(s)")
    print(json.dumps(report.summary(), indent=2, ensure_ascii=False))
    for problem in report.unexpected[:10]:
        print("unexpected:", problem)


if __name__ == "__main__":
    main()
