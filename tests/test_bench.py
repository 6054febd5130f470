"""`make bench` is not part of `make test`; this smoke test runs it at tiny sizes."""

from __future__ import annotations

from pathlib import Path

from bench.__main__ import main


def test_bench_runs_at_tiny_sizes(capsys: object) -> None:
    assert main(["--quick", "--only", "layers", "optimizers", "surfaces", "training"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "Layers lab" in out and "Optimizer race" in out and "Contour grid" in out
    assert "Training lab" in out
    assert (Path(__file__).resolve().parents[1] / "bench" / "results" / "quick.md").exists()
