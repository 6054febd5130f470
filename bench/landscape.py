"""The training lab's loss landscape: the batched grid against a Python loop over the
grid points, the stacked optimizer race against the same runs one after another, and
the training frame rate with the live view refreshing every 20 steps."""

from __future__ import annotations

import itertools
import statistics
import time
from dataclasses import replace
from typing import Any

import numpy as np

from deepscope import protocol
from deepscope.engine import landscape
from deepscope.engine.race import RunConfig
from deepscope.engine.training import TrainConfig, Trainer
from deepscope.sessions import runners

from .common import Row, paired_ms

# The training lab's default network and data: 2-8-8-1 on 200 points (100 to train on).
CONFIG = TrainConfig(
    hidden=(8, 8), n_samples=200, optimizer=RunConfig("adam", {"lr": 0.03}), steps=None
)


def grid_rows(quick: bool) -> list[Row]:
    trainer = Trainer(CONFIG)
    trainer.run(300)
    r = 11 if quick else 41
    plane = landscape.random_plane(trainer.net, trainer.net.flat, 0)
    a = landscape.axes(r, 1.0)

    def batched() -> None:
        landscape.grid(trainer, plane, r, 1.0)

    def loop() -> None:  # the same forward pass, one grid point at a time
        for beta in a:
            for alpha in a:
                landscape.loss_at(trainer, plane.center + alpha * plane.d1 + beta * plane.d2)

    ours, ref, ratio = paired_ms(batched, loop, repeat=3 if quick else 9)
    speedup = 1 / ratio
    cpu_ours, cpu_ref, cpu_ratio = paired_ms(
        batched, loop, repeat=3 if quick else 9, clock=time.thread_time
    )
    return [
        Row(
            f"Loss landscape {r} × {r}, 2-8-8-1 on 200 points: batched vs a Python loop "
            "over the grid points (paired)",
            f"{ours:.1f} ms",
            f"{ref:.0f} ms",
            f"{speedup:.1f}×",
            "≥ 20×",
            speedup >= 20 if not quick else None,
        ),
        Row(
            "… the same in CPU time (this thread's, which other processes on the cores do "
            "not add to; paired)",
            f"{cpu_ours:.1f} ms",
            f"{cpu_ref:.0f} ms",
            f"{1 / cpu_ratio:.1f}×",
            "—",
            None,
        ),
    ]


# A race of four optimizers on that network: the REST race's default steps.
RACE_RUNS = [
    RunConfig("gd", {"lr": 0.3}),
    RunConfig("momentum", {"lr": 0.05, "momentum": 0.9}),
    RunConfig("rmsprop", {"lr": 0.01}),
    RunConfig("adam", {"lr": 0.03}),
]


def race_rows(quick: bool) -> list[Row]:
    steps = 100 if quick else 1000
    config = replace(CONFIG, steps=steps)

    def stacked() -> None:  # the K runs as one batched pass a step
        landscape.race(config, RACE_RUNS, 3, 1.0, 50)

    def sequential() -> None:  # the same race, the runs one after another
        landscape.race(config, RACE_RUNS, 3, 1.0, 50, stack=False)

    ours, ref, ratio = paired_ms(stacked, sequential, repeat=3 if quick else 7, warmup=1)
    return [
        Row(
            f"Optimizer race on the 2-8-8-1 net, K = 4 (gd, momentum, rmsprop, adam) × {steps} "
            "steps, frames every 50: stacked (one batched pass a step) vs the runs one after "
            "another (paired)",
            f"{ours:.0f} ms",
            f"{ref:.0f} ms",
            f"{1 / ratio:.1f}× faster",
            "—",
            None,
        )
    ]


def _runner(options: dict[str, Any]) -> runners.TrainRunner:
    message = protocol.ConfigureTrain.model_validate(
        {
            "type": "configure",
            "lab": "train",
            "config": {"steps": 100_000},
            # the page's stream options: 10 steps and 20 frames a second, views at 5
            "options": {"steps_per_frame": 10, "fps": 20, **options},
        }
    )
    runner = runners.make_runner(message)
    assert isinstance(runner, runners.TrainRunner)
    runner.start()
    return runner


def _paced(runner: runners.TrainRunner, seconds: float, fps: float) -> tuple[int, list[int]]:
    """Frames produced in ``seconds`` at ``fps`` as a session paces them (a frame, then
    sleep until the next one is due; a late frame starts the next at once), and the
    steps at which the landscape refreshed."""
    period = 1.0 / fps
    frames, refreshed = 0, []
    start = time.perf_counter()
    due = start
    while time.perf_counter() - start < seconds:
        out = runner.advance(10)
        frames += 1
        if "landscape" in out.data:
            refreshed.append(out.step)
        due = max(due + period, time.perf_counter())
        time.sleep(max(0.0, due - time.perf_counter()))
    return frames, refreshed


def frame_rows(quick: bool) -> list[Row]:
    seconds, blocks = (0.5, 1) if quick else (3.0, 4)
    fps = 20.0
    plain = _runner({})
    live = _runner({"landscape": {"every": 20}})
    rates: dict[str, list[float]] = {"plain": [], "live": []}
    gaps: list[int] = []
    for _ in range(blocks):  # alternating blocks: the machine's drift hits both alike
        n, _r = _paced(plain, seconds, fps)
        rates["plain"].append(n / seconds)
        n, refreshed = _paced(live, seconds, fps)
        rates["live"].append(n / seconds)
        gaps += [b - a for a, b in itertools.pairwise(refreshed)]
    plain_fps, live_fps = (statistics.median(rates[k]) for k in ("plain", "live"))
    share = live_fps / plain_fps
    every = statistics.median(gaps) if gaps else float("nan")
    # and as fast as the worker can go (no pacing), in alternating blocks too
    spent = {"plain": 0.0, "live": 0.0}
    count = 20 if quick else 100
    for _ in range(1 if quick else 3):
        for name, runner in (("plain", plain), ("live", live)):
            t0 = time.perf_counter()
            for _ in range(count):
                runner.advance(10)
            spent[name] += time.perf_counter() - t0
    unpaced = {name: count * (1 if quick else 3) / t for name, t in spent.items()}
    return [
        Row(
            "Training lab frame rate at 20 frames/s, 41 × 41 landscape every 20 steps vs none",
            f"{live_fps:.1f}/s (refresh every {every:.0f} steps)",
            f"{plain_fps:.1f}/s",
            f"{share:.0%}",
            "≥ 80 %",
            share >= 0.8 if not quick else None,
        ),
        Row(
            "Training lab frames/s unpaced (the worker flat out), landscape every 20 steps "
            "(throttled to 15 % of the time) vs none",
            f"{unpaced['live']:.0f}/s",
            f"{unpaced['plain']:.0f}/s",
            f"{unpaced['live'] / unpaced['plain']:.0%}",
            "—",
            None,
        ),
    ]


def rows(quick: bool = False) -> list[Row]:
    np.seterr(all="ignore")
    return grid_rows(quick) + race_rows(quick) + frame_rows(quick)
