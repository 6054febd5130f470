"""`make bench` is not part of `make test`; this smoke test runs it at tiny sizes."""

from __future__ import annotations

from pathlib import Path

from bench.__main__ import main

QUICK = Path(__file__).resolve().parents[1] / "bench" / "results" / "quick.md"


def test_bench_runs_at_tiny_sizes(capsys: object) -> None:
    QUICK.unlink(missing_ok=True)  # a previous run's file must not pass for this one's
    sections = ["layers", "optimizers", "sweep", "surfaces", "training", "landscape"]
    assert main(["--quick", "--only", *sections]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "Layers lab" in out and "Optimizer race" in out and "Contour grid" in out
    assert "Training lab" in out and "Learning-rate sweep" in out and "Loss landscape" in out
    # The file holds this run's table (its timings differ from run to run), as printed.
    _date, _blank, table = QUICK.read_text().partition("\n\n")
    assert table.strip() and table.strip() in out


def test_the_sweeps_floor_steps_the_engines_numbers() -> None:
    """The bench's floor of a NumPy sweep is the same arithmetic as the engine: every run
    that does not stop ends where the engine's does, to the last bit (so the floor times
    the sweep's own work, not an easier one)."""
    from bench.sweep import fused_floor

    loop, swept = fused_floor(count=5, steps=300)
    points = loop()
    swept.run()
    going = [k for k, s in enumerate(swept.race.status) if s == "running"]
    assert len(going) >= 20  # (most of the 40 runs go on to the end)
    assert (points[-1, going] == swept.race.theta[going]).all()
    assert (points[1:, going] == swept._points[1:, going]).all()
