"""The live-server helper is shared with the benchmarks."""

from bench.live import CHROMIUM, CHROMIUM_FLAGS, ROOT, LiveServer, free_port, live_server

__all__ = ["CHROMIUM", "CHROMIUM_FLAGS", "ROOT", "LiveServer", "free_port", "live_server"]
