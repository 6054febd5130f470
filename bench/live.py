"""Start a real DeepScope server (uvicorn) on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository

# Debian's Chromium (Playwright's own browser download does not work here), with
# nothing that would reach outside the machine.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def origin(self) -> str:
        return self.url

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def settle(self, within_s: float = 120) -> None:
        """Wait until the layers pictures the server pre-warms at start-up are computed
        (for what measures memory or threads: that work is not its subject)."""
        deadline = time.monotonic() + within_s
        while True:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as r:
                work = json.load(r)["layers_cache"]
            if work["queued"] == 0 and work["running"] == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the layers pictures are still being computed: {work}")
            time.sleep(0.2)


@contextlib.contextmanager
def live_server(
    *args: str,
    env: dict[str, str] | None = None,
    tmp: Path | None = None,
    timeout: float = 30,
    command: list[str] | None = None,
    cwd: Path = ROOT,
) -> Iterator[LiveServer]:
    """``python -m deepscope --host 127.0.0.1 --port <free> *args`` (or ``command`` instead of
    ``python -m deepscope``, run in ``cwd``), up until the block ends."""
    port = free_port()
    log = (tmp or Path("/tmp")) / f"deepscope-{port}.log"
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                *(command or [sys.executable, "-m", "deepscope"]),
                *("--host", "127.0.0.1", "--port", str(port), *args),
            ],
            cwd=cwd,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(process, port, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{server.url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{server.output()}")
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
