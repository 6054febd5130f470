"""``deepscope`` / ``python -m deepscope``: start the server and say where to open it."""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import socket
import sys
import threading
import webbrowser
from collections.abc import Sequence
from types import FrameType

import uvicorn

from . import __version__
from .protocol import MAX_UPLOAD_MESSAGE_BYTES
from .settings import Settings

WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def lan_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses (what students on the LAN type)."""
    found: set[str] = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(str(info[4][0]))
    except OSError:
        pass
    # The address of the default route: a UDP "connect" sends no packet.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            found.add(probe.getsockname()[0])
        except OSError:
            pass
    return sorted(a for a in found if not ipaddress.ip_address(a).is_loopback)


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    defaults = Settings()
    parser = argparse.ArgumentParser(
        prog="deepscope", description="DeepScope: see how deep networks train."
    )
    parser.add_argument(
        "--host",
        default=defaults.host,
        help="address to listen on; 0.0.0.0 for a classroom LAN (default %(default)s)",
    )
    parser.add_argument("--port", type=int, default=defaults.port, help="(default %(default)s)")
    parser.add_argument("--open", action="store_true", help="open a browser on the page")
    parser.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help="worker processes (default %(default)s)",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="URL",
        help="also accept WebSockets from this exact origin (repeatable)",
    )
    parser.add_argument(
        "--redis",
        default=defaults.redis_url,
        metavar="URL",
        help="Redis that carries classes between processes and hosts, e.g. "
        "redis://127.0.0.1:6379/0 (also DEEPSCOPE_REDIS_URL)",
    )
    parser.add_argument(
        "--max-sessions",
        type=int,
        default=defaults.max_sessions,
        help="live sessions per worker (default %(default)s)",
    )
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    parser.add_argument("--version", action="version", version=f"deepscope {__version__}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    lan: list[str] = lan_addresses() if args.host in WILDCARD_HOSTS else []
    port = args.port
    lan_origins = [f"http://{a}:{port}" for a in lan]
    env = {
        "DEEPSCOPE_HOST": args.host,
        "DEEPSCOPE_PORT": str(port),
        "DEEPSCOPE_WORKERS": str(args.workers),
        "DEEPSCOPE_MAX_SESSIONS": str(args.max_sessions),
        "DEEPSCOPE_ALLOW_ORIGINS": _json_list([*Settings().allow_origins, *args.allow_origin]),
        "DEEPSCOPE_LAN_ORIGINS": _json_list(lan_origins),
    }
    if args.redis:
        env["DEEPSCOPE_REDIS_URL"] = args.redis
    if lan:
        hostname = socket.gethostname().lower()
        extra = [*Settings().allowed_hosts, hostname, f"{hostname}.local"]
        env["DEEPSCOPE_ALLOWED_HOSTS"] = _json_list(extra)
    os.environ.update(env)
    try:
        settings = Settings()  # validate the combination before starting anything
    except ValueError as err:
        sys.exit(f"deepscope: {err}")

    shown = "127.0.0.1" if args.host in WILDCARD_HOSTS else args.host
    local_url = f"http://{url_host(shown)}:{port}"
    print(f"DeepScope {__version__} is running at {local_url}  (Ctrl+C to stop)", flush=True)
    if args.host in WILDCARD_HOSTS:
        if lan:
            print("Students on the same network open:", flush=True)
            for address in lan:
                print(f"    http://{address}:{port}", flush=True)
        else:
            print("No LAN address found: is this machine connected to a network?", flush=True)
    if settings.workers > 1 and settings.redis_url is None:
        print(
            "Classes need --redis URL with --workers > 1 (a class's teacher and students may "
            "land in different processes); without it, starting a class says so.",
            flush=True,
        )
    if args.open:
        threading.Timer(1.0, webbrowser.open, args=(local_url,)).start()

    # uvicorn stops gracefully on SIGTERM/SIGINT (every WebSocket gets 1012), then
    # re-raises the signal to the handler that was there before: make that an exit 0.
    signal.signal(signal.SIGTERM, _stopped)
    signal.signal(signal.SIGINT, _stopped)
    uvicorn.run(
        "deepscope.app:app",
        host=args.host,
        port=port,
        workers=settings.workers,
        log_level=args.log_level,
        # (a dataset message may carry a whole file; the session bounds every other one)
        ws_max_size=max(settings.max_message_bytes, MAX_UPLOAD_MESSAGE_BYTES),
        ws_per_message_deflate=False,
        ws_ping_interval=settings.ping_interval_s,
        ws_ping_timeout=settings.ping_timeout_s,
        timeout_graceful_shutdown=5,
        server_header=False,
    )


def _stopped(signum: int, frame: FrameType | None) -> None:
    print("DeepScope stopped.", flush=True)
    raise SystemExit(0)


def _json_list(items: Sequence[str]) -> str:
    import json

    return json.dumps(list(dict.fromkeys(items)))


if __name__ == "__main__":
    main()
