"""Learning-rate sweep: 8 optimizers × 25 learning rates × 2000 steps on Rosenbrock (200
runs) as one request, vs a bare vectorized NumPy Adam loop over the same 200 runs and vs
the 200 runs one at a time in a scalar Python loop."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from deepscope.engine import surfaces, sweep
from deepscope.engine.race import RunConfig
from deepscope.protocol import SweepRequest
from deepscope.sessions import labs

from .common import Row, paired_ms
from .optimizers import bare_adam, faster

EIGHT = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw")
# Where the engine calls a run diverged (outside the surface's bound: on Rosenbrock
# −42 … 42 × −41 … 43, its plot widened ten times each side): the scalar loop stops its
# runs there too, so it steps the same runs for as long as the sweep does (with ±1000 it
# stepped three runs on to the end that the sweep stops at steps 2–74).
(X_LOW, X_HIGH), (Y_LOW, Y_HIGH) = surfaces.build("rosenbrock").bound


def request(steps: int, count: int) -> dict[str, object]:
    return {
        "surface": "rosenbrock",
        "steps": steps,
        "optimizers": [{"optimizer": o} for o in EIGHT],
        "lr_min": 1e-5,
        "lr_max": 10.0,
        "lr_count": count,
        "criterion": "final",
    }


def serve(payload: dict[str, object]) -> bytes:
    """What POST /api/sweep does, without the socket: validate, sweep, respond, serialise."""
    return labs.run_sweep(SweepRequest.model_validate(payload)).model_dump_json().encode()


def scalar_run(optimizer: str, lr: float, steps: int) -> float:
    """One run in pure Python floats, stopped once it leaves the surface's bound (as a
    careful student's loop would, and as the engine does); its final f."""
    x, y = -1.5, 2.0
    m = [0.0, 0.0]
    v = [0.0, 0.0]
    u = [0.0, 0.0]
    for t in range(1, steps + 1):
        a, b = x, y
        if optimizer == "nesterov":  # the gradient at the look-ahead point
            a, b = x - lr * 0.9 * m[0], y - lr * 0.9 * m[1]
        g = (-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a))
        step = [0.0, 0.0]
        for i in range(2):
            if optimizer == "gd":
                step[i] = lr * g[i]
            elif optimizer in ("momentum", "nesterov"):
                m[i] = 0.9 * m[i] + g[i]
                step[i] = lr * m[i]
            elif optimizer == "adagrad":
                v[i] += g[i] * g[i]
                step[i] = lr * g[i] / (v[i] ** 0.5 + 1e-10)
            elif optimizer == "rmsprop":
                v[i] = 0.9 * v[i] + 0.1 * g[i] * g[i]
                step[i] = lr * g[i] / (v[i] ** 0.5 + 1e-8)
            elif optimizer == "adadelta":
                v[i] = 0.9 * v[i] + 0.1 * g[i] * g[i]
                d = (u[i] + 1e-6) ** 0.5 / (v[i] + 1e-6) ** 0.5 * g[i]
                u[i] = 0.9 * u[i] + 0.1 * d * d
                step[i] = lr * d
            else:  # adam, adamw
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                step[i] = lr * (m[i] / (1 - 0.9**t)) / ((v[i] / (1 - 0.999**t)) ** 0.5 + 1e-8)
        if optimizer == "adamw":
            x, y = x - lr * 0.01 * x, y - lr * 0.01 * y
        x, y = x - step[0], y - step[1]
        if not (X_LOW <= x <= X_HIGH and Y_LOW <= y <= Y_HIGH):  # (False for NaN)
            return math.inf
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def scalar_sweep(steps: int, count: int) -> None:
    for optimizer in EIGHT:
        for lr in sweep.learning_rates(1e-5, 10.0, count):
            scalar_run(optimizer, float(lr), steps)


def fused_floor(count: int, steps: int) -> tuple[Callable[[], NDArray[np.float64]], sweep.Sweep]:
    """The floor of a NumPy sweep here: the eight rules at ``count`` learning rates as one
    hand-fused loop of the fewest NumPy calls I found (35 a step: the gradient in 8, the
    rule in 25 — m, v and AdaDelta's u decayed in one call, a plain-gradient run's m set
    to its gradient so every numerator is m —, the update and its record), and nothing
    else: no stop checks, no losses, no learning-rate schedule, its tables made before
    it starts. Returns the loop (its points) and the engine's sweep of the same runs,
    whose coefficients it steps with: for every run that does not stop, its points are
    the engine's to the last bit (``tests/test_bench.py``)."""
    runs = [RunConfig(o, {}) for o in EIGHT]
    swept = sweep.Sweep(
        surfaces.build("rosenbrock"), runs, sweep.SweepConfig(lr_count=count), steps
    )
    race, rule = swept.race, swept.race.rule
    K, d = race.K, race.d
    lr, _lr_b1, _b2, lr_mu = race._rates(0, 1)
    B1, B2 = race.opt.bias_corrections(np.arange(1, steps + 1))
    lr_b1 = np.broadcast_to(race.lr0 * B1, (steps, K, d)).copy()
    b2 = np.broadcast_to(B2, (steps, K, d)).copy()
    plain = (rule.a_m == 0) & (rule.c_m == 0) & (rule.mu == 0)  # numerator a_g·g: m := a_g·g
    decay = np.stack([np.where(plain, 0.0, rule.mu), rule.beta, rule.beta_u])
    c_m = np.where(plain, rule.a_g, rule.c_m)
    c_v, eps_in, E, eps_u, c_u = rule.c_v, rule.eps_in, rule.E, rule.eps_u, rule.c_u
    assert lr_mu is not None
    look_mu, lr_wd, start = lr_mu[0].copy(), lr[0] * rule.wd_decoupled, race.theta.copy()
    mul, sub, add, div = np.multiply, np.subtract, np.add, np.divide

    def run() -> NDArray[np.float64]:
        theta = start.copy()
        state = np.zeros((3, K, d))
        m, v, u = state
        points = np.empty((steps + 1, K, d))
        points[0] = theta
        look, g, tmp, den, s, eff, num = (np.empty((K, d)) for _ in range(7))
        x, y, gx, gy = look[:, 0], look[:, 1], g[:, 0], g[:, 1]
        r, q = np.empty(K), np.empty(K)
        with np.errstate(all="ignore"):
            for i in range(steps):
                mul(look_mu, m, tmp)  # Nesterov's look-ahead point
                sub(theta, tmp, look)
                mul(x, x, r)  # Rosenbrock's gradient: r = y − x², 200r, 2(x − 1) − 400xr
                sub(y, r, r)
                mul(r, 200.0, gy)
                mul(x, r, q)
                mul(q, 400.0, q)
                sub(x, 1.0, gx)
                mul(gx, 2.0, gx)
                sub(gx, q, gx)
                add(u, eps_u, s)  # s = √(u + ε_u), from the u before this step's
                np.sqrt(s, s)
                mul(state, decay, state)  # m, v, u decayed at once
                mul(c_m, g, tmp)
                add(m, tmp, m)
                mul(g, g, tmp)
                mul(tmp, c_v, tmp)
                add(v, tmp, v)
                mul(v, b2[i], den)  # den = √(B2·v + ε_in) + E
                add(den, eps_in, den)
                np.sqrt(den, den)
                add(den, E, den)
                mul(lr_b1[i], s, eff)  # the effective learning rate lr·B1·s/den
                div(eff, den, eff)
                div(s, den, s)  # u += c_u·(s/den·m)²
                mul(s, m, s)
                np.square(s, s)
                mul(s, c_u, s)
                add(u, s, u)
                mul(m, eff, num)  # the step, AdamW's decay added
                mul(lr_wd, theta, tmp)
                add(num, tmp, num)
                sub(theta, num, theta)
                points[i + 1] = theta
        return points

    return run, swept


def rows(quick: bool = False) -> list[Row]:
    steps, count = (200, 5) if quick else (2000, 25)
    runs = len(EIGHT) * count
    repeat = 3 if quick else 7
    payload = request(steps, count)
    full, bare, ratio = paired_ms(
        lambda: serve(payload), lambda: bare_adam(runs, steps), repeat=repeat
    )
    ours, scalar, scalar_ratio = paired_ms(
        lambda: serve(payload), lambda: scalar_sweep(steps, count), repeat=3, warmup=1
    )
    # The ceiling of the second row: the bare Adam loop itself against the scalar loop
    # (no NumPy program of ~40 calls a step can beat that at 200 runs of 2 coordinates),
    # and where vectorizing pays: more runs, the same steps (as many as the request's work
    # bound, 10⁶ run-steps, allows).
    bare_alone, scalar_alone, bare_ratio = paired_ms(
        lambda: bare_adam(runs, steps), lambda: scalar_sweep(steps, count), repeat=3, warmup=1
    )
    floor, _ = fused_floor(count, steps)
    floor_ms, floor_scalar, floor_ratio = paired_ms(
        floor, lambda: scalar_sweep(steps, count), repeat=3, warmup=1
    )
    wide = 12 * count // 5  # 60 learning rates: 480 runs × 2000 steps
    many = request(steps, wide)
    ours_many, scalar_many, many_ratio = paired_ms(
        lambda: serve(many), lambda: scalar_sweep(steps, wide), repeat=3, warmup=1
    )
    diverged = sum(
        s == "diverged"
        for c in labs.run_sweep(SweepRequest.model_validate(payload)).optimizers
        for s in c["status"]
    )
    what = (
        f"Learning-rate sweep {len(EIGHT)} optimizers × {count} lrs (10⁻⁵ … 10) × {steps} "
        f"steps on Rosenbrock ({runs} runs, {diverged} diverge and drop out), whole request"
    )
    return [
        Row(
            f"{what} vs a bare vectorized NumPy Adam loop over the same {runs} runs (paired)",
            f"{full:.1f} ms",
            f"{bare:.1f} ms",
            f"{ratio:.2f}×",
            "≤ 3×",
            ratio <= 3,
        ),
        Row(
            f"… vs the {runs} runs one at a time in a scalar Python loop (paired)",
            f"{ours:.1f} ms",
            f"{scalar:.1f} ms",
            faster(1 / scalar_ratio),
            "≥ 10× faster",
            1 / scalar_ratio >= 10,
        ),
        Row(
            f"… the bare vectorized Adam loop itself vs that scalar loop ({runs} runs): "
            "the most any NumPy program of this size gains",
            f"{bare_alone:.1f} ms",
            f"{scalar_alone:.1f} ms",
            faster(1 / bare_ratio),
            "—",
            None,
        ),
        Row(
            f"… a hand-fused NumPy loop of the same {runs} runs, 35 calls a step, its points "
            "the engine's to the last bit, with no stop checks, losses or response (the "
            "floor of a NumPy sweep here) vs that scalar loop",
            f"{floor_ms:.1f} ms",
            f"{floor_scalar:.1f} ms",
            faster(1 / floor_ratio),
            "—",
            None,
        ),
        Row(
            f"… the sweep with {len(EIGHT) * wide} runs ({len(EIGHT)} × {wide} lrs) vs them one at "
            "a time in the scalar loop (paired)",
            f"{ours_many:.1f} ms",
            f"{scalar_many:.1f} ms",
            faster(1 / many_ratio),
            "—",
            None,
        ),
    ]
