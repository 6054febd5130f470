"""Optimizer race: vectorized vs one run at a time, and vs a bare NumPy Adam loop."""

from __future__ import annotations

import numpy as np

from deepscope.engine import surfaces
from deepscope.engine.race import RunConfig, descend
from deepscope.protocol import DescendRequest
from deepscope.sessions import labs

from .common import Row, median_ms, paired_ms

RACE = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "newton")
SLOW_LR = {"gd": 0.001, "momentum": 0.001, "nesterov": 0.001}


def race_runs() -> list[RunConfig]:
    return [RunConfig(name, {"lr": SLOW_LR[name]} if name in SLOW_LR else {}) for name in RACE]


def bare_adam(k: int, steps: int) -> None:
    """k Adam runs on Rosenbrock, hand-written NumPy, recording every point."""
    theta = np.tile([-1.5, 2.0], (k, 1))
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    out = np.empty((steps + 1, k, 2))
    out[0] = theta
    for t in range(1, steps + 1):
        x, y = theta[:, 0], theta[:, 1]
        r = y - x * x
        g = np.stack([-2 * (1 - x) - 400 * x * r, 200 * r], axis=1)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        out[t] = theta


FIRST_ORDER = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "nadam", "amsgrad")


def scaling(quick: bool) -> Row:
    """K Adam runs from a grid of starts: per-step cost, together vs a scalar loop."""
    surface = surfaces.build("rosenbrock")
    steps = 50 if quick else 200
    parts = []
    best = 0.0
    for k in (8, 64) if quick else (8, 64, 512, 4096):
        side = int(np.ceil(np.sqrt(k)))
        xs = np.linspace(-1.8, 1.8, side)
        starts = [(float(x), float(y)) for x in xs for y in np.linspace(-0.8, 2.8, side)][:k]
        runs = [RunConfig("adam", {"lr": 0.01}, start=s) for s in starts]
        together = median_ms(lambda runs=runs: descend(surface, runs, steps), repeat=3) / steps
        alone = median_ms(lambda runs=runs: scalar_adam(runs, steps), repeat=3) / steps
        best = max(best, alone / together)
        parts.append(
            f"K={k}: {together * 1e3:.0f} µs/step, {faster(alone / together)} than a scalar loop"
        )
    return Row(
        "Race of K Adam runs (grid of starts) on Rosenbrock: cost per step (setup and "
        "response arrays included) as K grows",
        "; ".join(parts),
        "—",
        f"up to {best:.0f}×",
        "grows with K",
        None,
    )


def scalar_adam(runs: list[RunConfig], steps: int) -> None:
    for run in runs:
        x, y = run.start or (-1.5, 2.0)
        m = [0.0, 0.0]
        v = [0.0, 0.0]
        for t in range(1, steps + 1):
            g = (-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x))
            d = [0.0, 0.0]
            for i in range(2):
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                d[i] = 0.01 * (m[i] / (1 - 0.9**t)) / ((v[i] / (1 - 0.999**t)) ** 0.5 + 1e-8)
            x, y = x - d[0], y - d[1]


def request(runs: list[RunConfig], steps: int) -> dict[str, object]:
    return {
        "surface": "rosenbrock",
        "steps": steps,
        "runs": [{"optimizer": r.optimizer, **r.hyper} for r in runs],
    }


def serve(payload: dict[str, object]) -> bytes:
    """What POST /api/descend does, without the socket: validate the body, race, build
    the response and serialise it (FastAPI serialises a response model in pydantic's
    Rust core, as ``model_dump_json`` does)."""
    return labs.run_descend(DescendRequest.model_validate(payload)).model_dump_json().encode()


def faster(ratio: float) -> str:
    return f"{ratio:.1f}× faster" if ratio >= 1 else f"{1 / ratio:.1f}× slower"


def rows(quick: bool = False) -> list[Row]:
    steps = 200 if quick else 2000
    surface = surfaces.build("rosenbrock")
    runs = race_runs()
    repeat = 3 if quick else 9
    together, one_by_one, alone_ratio = paired_ms(
        lambda: descend(surface, runs, steps),
        lambda: [descend(surface, [r], steps) for r in runs],
        repeat=max(3, repeat // 2),
    )
    # A Python loop stepping one optimizer at a time, the way a student would
    # write it: scalar arithmetic per run per step.
    _, scalar, scalar_ratio = paired_ms(
        lambda: descend(surface, runs, steps),
        lambda: scalar_loop(runs, steps),
        repeat=max(3, repeat // 2),
    )

    def bare() -> None:
        bare_adam(len(runs), steps)

    payload = request(runs, steps)
    full, bare_ms, ratio = paired_ms(lambda: serve(payload), bare, repeat=repeat)
    first = [RunConfig(n, {"lr": SLOW_LR[n]} if n in SLOW_LR else {}) for n in FIRST_ORDER]
    payload_first = request(first, steps)
    full_first, bare_first, ratio_first = paired_ms(
        lambda: serve(payload_first), bare, repeat=repeat
    )
    stops = [
        f"{r.optimizer} {r.status} at step {r.stopped_at}"
        for r in descend(surface, runs, steps)
        if r.stopped_at is not None
    ]
    stopped = f"; {', '.join(stops)}, and is then dropped from the step" if stops else ""
    return [
        Row(
            f"Optimizer race {len(runs)} × {steps} steps on Rosenbrock: vectorized vs "
            "one optimizer at a time in a scalar Python loop (paired)",
            f"{together:.1f} ms",
            f"{scalar:.1f} ms",
            faster(1 / scalar_ratio),
            "≥ 20× faster",
            1 / scalar_ratio >= 20,
        ),
        Row(
            "… vs the same race run one optimizer at a time through our engine (paired)",
            f"{together:.1f} ms",
            f"{one_by_one:.1f} ms",
            faster(1 / alone_ratio),
            "—",
            None,
        ),
        Row(
            "… whole request (validate, race, build and serialise the response) vs a bare "
            f"vectorized NumPy Adam loop of {len(runs)} × {steps} (paired"
            f"{stopped})",
            f"{full:.1f} ms",
            f"{bare_ms:.1f} ms",
            f"{ratio:.2f}×",
            "≤ 3×",
            ratio <= 3,
        ),
        Row(
            f"… the same with 8 first-order optimizers ({', '.join(FIRST_ORDER)}), "
            "all running every step (paired)",
            f"{full_first:.1f} ms",
            f"{bare_first:.1f} ms",
            f"{ratio_first:.2f}×",
            "≤ 3×",
            ratio_first <= 3,
        ),
        scaling(quick),
    ]


def scalar_loop(runs: list[RunConfig], steps: int) -> None:
    """Each optimizer stepped alone in pure Python floats (the straightforward version)."""
    for run in runs:
        x, y = -1.5, 2.0
        m = [0.0, 0.0]
        v = [0.0, 0.0]
        u = [0.0, 0.0]
        lr = run.hyper.get("lr", 0.01)
        for t in range(1, steps + 1):
            gx = -2 * (1 - x) - 400 * x * (y - x * x)
            gy = 200 * (y - x * x)
            g = [gx, gy]
            step = [0.0, 0.0]
            for i in range(2):
                if run.optimizer == "gd":
                    step[i] = lr * g[i]
                elif run.optimizer in ("momentum", "nesterov"):
                    m[i] = 0.9 * m[i] + g[i]
                    step[i] = lr * m[i]
                elif run.optimizer == "adagrad":
                    v[i] += g[i] * g[i]
                    step[i] = 0.5 * g[i] / (v[i] ** 0.5 + 1e-10)
                elif run.optimizer == "rmsprop":
                    v[i] = 0.9 * v[i] + 0.1 * g[i] * g[i]
                    step[i] = 0.01 * g[i] / (v[i] ** 0.5 + 1e-8)
                elif run.optimizer == "adadelta":
                    v[i] = 0.9 * v[i] + 0.1 * g[i] * g[i]
                    d = (u[i] + 1e-6) ** 0.5 / (v[i] + 1e-6) ** 0.5 * g[i]
                    u[i] = 0.9 * u[i] + 0.1 * d * d
                    step[i] = d
                elif run.optimizer == "adam":
                    m[i] = 0.9 * m[i] + 0.1 * g[i]
                    v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                    step[i] = 0.01 * (m[i] / (1 - 0.9**t)) / ((v[i] / (1 - 0.999**t)) ** 0.5 + 1e-8)
            if run.optimizer == "newton":
                hxx = 2 - 400 * (y - x * x) + 800 * x * x
                hxy = -400 * x
                hyy = 200.0
                det = hxx * hyy - hxy * hxy
                step = [(hyy * gx - hxy * gy) / det, (hxx * gy - hxy * gx) / det]
            x, y = x - step[0], y - step[1]
