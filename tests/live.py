"""The live-server helper is shared with the benchmarks."""

from bench.live import ROOT, LiveServer, free_port, live_server

__all__ = ["ROOT", "LiveServer", "free_port", "live_server"]
