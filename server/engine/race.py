"""An optimizer race: K runs on one surface, stepped together as array operations.

The K runs may use different optimizers, hyper-parameters, schedules, clipping,
noise and starts; their coefficients are stacked into (K, 1) arrays so a step is
one fixed sequence of NumPy calls whatever K is (``optimizers.stack``). Each run
stops on its own: *diverged* when its point turns non-finite or leaves the
surface's divergence bound, *converged* when both its gradient and its step
vanish; the others go on.

Rows are iterates: row r holds θ_r, f(θ_r), ∇f(θ_r), and the step and the
effective learning rate that led from θ_{r−1} to θ_r (zero for the start).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from . import optimizers
from .optimizers import Schedule
from .surfaces import Surface

Array = NDArray[np.floating]
Status = Literal["running", "converged", "diverged"]

GRAD_TOL = 1e-8  # converged: ‖∇f‖ below this …
STEP_TOL = 1e-10  # … and the step below this × the domain's size


@dataclass(frozen=True)
class RunConfig:
    """One runner: an optimizer, its hyper-parameters and options."""

    optimizer: str
    hyper: Mapping[str, Any] = field(default_factory=dict)
    start: tuple[float, ...] | None = None
    clip_norm: float | None = None
    clip_value: float | None = None
    noise: float = 0.0  # σ of Gaussian noise added to the gradient (SGD-like)
    schedule: Schedule = field(default_factory=Schedule)
    label: str = ""


@dataclass
class Chunk:
    """Rows first_row … first_row + n − 1 of every run."""

    first_row: int
    points: Array  # (n, K, d)
    loss: Array  # (n, K)
    grad: Array  # (n, K, d) ∇f at each point
    step: Array  # (n, K, d) the step that led to each point
    effective_lr: Array  # (n, K, d)
    distance: Array | None  # (n, K) to the nearest minimum


class Race:
    """K runs on ``surface``; ``advance(n)`` steps all of them n times."""

    def __init__(self, surface: Surface, runs: Sequence[RunConfig], seed: int = 0) -> None:
        if not runs:
            raise ValueError("a race needs at least one run")
        self.surface = surface
        self.runs = list(runs)
        K, d = len(runs), surface.dims
        self.K, self.d = K, d
        starts = []
        for run in runs:
            start = run.start if run.start is not None else surface.start
            if len(start) != d:
                raise ValueError(f"start needs {d} coordinate(s) on a {d}-D surface")
            starts.append(start)
        self.theta = np.array(starts, dtype=np.float64)  # (K, d)
        self.opt = optimizers.stack([optimizers.make(r.optimizer, r.hyper) for r in runs])
        self.state = self.opt.init(self.theta)
        self.lr0 = np.asarray(self.opt.c.lr, dtype=np.float64)  # (K, 1)
        self.need_hessian = any(optimizers.get_spec(r.optimizer).needs_hessian for r in runs)
        self.has_nesterov = bool(np.any(self.opt.c.nesterov))
        self.clip_norm = np.array([[r.clip_norm or math.inf] for r in runs])
        self.clip_value = np.array([[r.clip_value or math.inf] for r in runs])
        self.clipping = bool(
            np.any(np.isfinite(self.clip_norm)) or np.any(np.isfinite(self.clip_value))
        )
        self.noise = np.array([[r.noise] for r in runs])
        self.noisy = bool(np.any(self.noise > 0))
        self.rng = np.random.default_rng(seed)
        self.schedules = [r.schedule for r in runs]
        bound = np.array(surface.bound)  # (d, 2)
        self.center = bound.mean(axis=1)
        self.half = (bound[:, 1] - bound[:, 0]) / 2
        self.step_tol = STEP_TOL * max(hi - lo for lo, hi in surface.domain)
        self.minima = np.array([c.point for c in surface.minima]).reshape(-1, d)

        self.status: list[Status] = ["running"] * K
        self.stopped_at: list[int | None] = [None] * K
        self.active = np.ones(K, dtype=bool)
        self.alive = np.ones((K, 1))  # 0 once a run stops
        self.row = 0  # index of the current iterate
        self.hess: Array | None = None
        self.look_grad = np.zeros_like(self.theta)
        self.theta_next = self.theta
        with np.errstate(all="ignore"):
            f, g, H = surface.evaluate(self.theta, self.need_hessian)
        self.loss, self.grad, self.hess = f, g, H
        self._check_start()
        if self.has_nesterov:  # the first look-ahead point is θ₀ itself (m = 0)
            self.look_grad = self.grad.copy()

    # --- bookkeeping ------------------------------------------------------------

    def _stop(self, k: int, status: Status, row: int, restore: bool) -> None:
        """Stop run k: it keeps its last point (``restore`` puts back the previous one)."""
        self.status[k] = status
        self.stopped_at[k] = row
        self.active[k] = False
        self.alive[k] = 0.0  # a zero learning rate from now on: its step is 0
        for name in ("m", "v", "vmax", "u"):
            getattr(self.state, name)[k] = 0.0
        if restore:
            self.theta_next[k] = self.theta[k]

    def _check_start(self) -> None:
        finite = np.all(np.isfinite(self.theta), axis=1) & np.isfinite(self.loss)
        for k in np.flatnonzero(~finite):
            self.status[k] = "diverged"
            self.stopped_at[k] = 0
            self.active[k] = False
            self.alive[k] = 0.0

    def _lr(self, rows: NDArray[np.int64]) -> Array:
        """(n, K) learning rates for the steps leaving rows ``rows``."""
        out = np.empty((rows.size, self.K))
        done: dict[Schedule, Array] = {}
        for k, sched in enumerate(self.schedules):
            if sched not in done:
                done[sched] = sched.factor(rows)
            out[:, k] = done[sched]
        return out * self.lr0[:, 0]

    def _distance(self, points: Array) -> Array | None:
        if self.minima.size == 0:
            return None
        diff = points[..., None, :] - self.minima  # (n, K, M, d)
        out: Array = np.min(np.linalg.norm(diff, axis=-1), axis=-1)
        return out

    # --- stepping --------------------------------------------------------------

    def initial(self) -> Chunk:
        """Row 0: the starts."""
        zeros = np.zeros((1, self.K, self.d))
        points = self.theta[None].copy()
        return Chunk(
            0,
            points,
            self.loss[None].copy(),
            self.grad[None].copy(),
            zeros,
            zeros.copy(),
            self._distance(points),
        )

    def advance(self, n: int) -> Chunk:
        """Step every active run ``n`` times; returns the n new rows.

        A stopped run gets a zero learning rate (``alive``), so its step is 0
        without a per-step mask; the per-step checks are a handful of reductions.
        """
        K, d = self.K, self.d
        points = np.empty((n + 1, K, d))
        points[0] = self.theta
        loss = np.empty((n, K))
        grads = np.empty((n, K, d))
        eff = np.empty((n, K, d))
        rows = np.arange(self.row, self.row + n + 1)
        lrs = self._lr(rows)[:, :, None]  # (n + 1, K, 1)
        B1, B2 = self.opt.bias_corrections(rows[1:])
        scalar_bias = np.ndim(B1) == 0
        _surface, opt = self.surface, self.opt
        grad_tol2 = GRAD_TOL * GRAD_TOL
        with np.errstate(all="ignore"):
            for i in range(n):
                alive = self.alive
                lr_t = lrs[i] * alive
                g: Array = self.look_grad if self.has_nesterov else self.grad
                if self.noisy:
                    g = g + self.noise * self.rng.standard_normal((K, d))
                if self.clipping:
                    g = optimizers.clip(g, self.clip_norm, self.clip_value)
                bias = (B1, B2) if scalar_bias else (B1[i], B2[i])
                step, self.state, scale = opt.update(
                    g, self.state, self.theta, lr_t, self.hess, bias
                )
                # Converged: the gradient and the step both vanish (θ_t is final).
                gn2 = np.einsum("kd,kd->k", self.grad, self.grad)
                if gn2.min() <= grad_tol2:
                    self._converge(gn2 <= grad_tol2, step)
                    step = step * self.alive
                self.theta_next = self.theta - step
                self.row += 1
                self._evaluate(lrs[i + 1] * self.alive)
                points[i + 1], loss[i], grads[i], eff[i] = self.theta, self.loss, self.grad, scale
        steps = points[:-1] - points[1:]
        return Chunk(
            self.row - n + 1, points[1:], loss, grads, steps, eff, self._distance(points[1:])
        )

    def _evaluate(self, next_lr: Array) -> None:
        """f, ∇f (and ∇², and the look-ahead gradient) at the new points, in one pass."""
        K = self.K
        theta = self.theta_next
        pts = theta
        if self.has_nesterov:
            look = self.opt.eval_point(theta, self.state, next_lr)
            pts = np.concatenate([theta, look])
        f, g, H = self.surface.evaluate(pts, self.need_hessian)
        if self.has_nesterov:
            f, self.look_grad, g = f[:K], g[K:], g[:K]
            H = None if H is None else H[:K]
        bad = ~(np.isfinite(f) & np.all(np.abs(theta - self.center) <= self.half, axis=1))
        if bad.any():
            finite = np.all(np.isfinite(theta), axis=1) & np.isfinite(f)
            for k in np.flatnonzero(bad & self.active):
                # A finite point outside the bound is kept (the path visibly leaves);
                # a non-finite one is not.
                self._stop(
                    int(k), "diverged", self.row if finite[k] else self.row - 1, not finite[k]
                )
            if not finite.all():  # evaluate the restored points again
                return self._evaluate(next_lr)
        self.theta, self.loss, self.grad, self.hess = theta, f, g, H

    def _converge(self, small_grad: NDArray[np.bool_], step: Array) -> None:
        still = small_grad & (np.linalg.norm(step, axis=1) <= self.step_tol) & self.active
        for k in np.flatnonzero(still):
            self._stop(int(k), "converged", self.row, restore=False)

    def frames(self, steps_per_frame: int) -> Iterator[Chunk]:
        """An endless generator of chunks (the live lab's frames); stops when all runs stop."""
        yield self.initial()
        while self.active.any():
            yield self.advance(steps_per_frame)

    @property
    def finished(self) -> bool:
        return not self.active.any()


@dataclass
class RunResult:
    optimizer: str
    label: str
    status: Status
    stopped_at: int | None
    points: Array  # (rows, d)
    loss: Array
    grad: Array
    step: Array
    effective_lr: Array
    distance: Array | None


def descend(
    surface: Surface, runs: Sequence[RunConfig], steps: int, seed: int = 0
) -> list[RunResult]:
    """Run the race for ``steps`` steps (or until every run stops)."""
    race = Race(surface, runs, seed)
    chunks = [race.initial()]
    done = 0
    while done < steps and not race.finished:
        n = min(1024, steps - done)
        chunks.append(race.advance(n))
        done += n

    def cat(attr: str) -> Array:
        return np.concatenate([getattr(c, attr) for c in chunks])

    points, loss, grad, step, eff = (
        cat(a) for a in ("points", "loss", "grad", "step", "effective_lr")
    )
    dist = None if chunks[0].distance is None else cat("distance")
    out = []
    for k, run in enumerate(runs):
        stop = race.stopped_at[k]
        rows = (stop + 1) if stop is not None else points.shape[0]
        out.append(
            RunResult(
                optimizer=run.optimizer,
                label=run.label or run.optimizer,
                status=race.status[k],
                stopped_at=stop,
                points=points[:rows, k],
                loss=loss[:rows, k],
                grad=grad[:rows, k],
                step=step[:rows, k],
                effective_lr=eff[:rows, k],
                distance=None if dist is None else dist[:rows, k],
            )
        )
    return out
