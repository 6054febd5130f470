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

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from . import optimizers
from .expressions import Evaluator
from .fused import FusedRule
from .knobs import Knob, knob
from .optimizers import Coefficients, Schedule
from .surfaces import Surface

Array = NDArray[np.float64]
Status = Literal["running", "converged", "diverged"]

BLOCK = 64  # steps between the vectorized checks for stops
GRAD_TOL = 1e-8  # converged: ‖∇f‖ below this …
STEP_TOL = 1e-10  # … and the step below this × the domain's size


# The optimizer lab's race: how long, and which runners a page opens on.
STEPS = Knob(
    2000,
    "plain gradient descent needs about this many steps to cross Rosenbrock's valley",
    ge=1,
    le=100_000,
    log=True,
    integer=True,
    span=(10, 100_000),
    span_why="fewer than 10 steps shows no path",
)
EVERY = Knob(1, "every step (a REST client may thin the rows)", ge=1, le=10_000, integer=True)


@dataclass(frozen=True)
class RunConfig:
    """One runner: an optimizer, its hyper-parameters and options."""

    optimizer: str
    hyper: Mapping[str, Any] = field(default_factory=dict)
    start: tuple[float, ...] | None = None
    clip_norm: float | None = knob(None, "no clipping until asked for", gt=0, le=1e6)
    clip_value: float | None = knob(None, "no clipping until asked for", gt=0, le=1e6)
    noise: float = knob(
        0.0,
        "the exact gradient; σ > 0 makes it SGD-like",
        ge=0,
        le=100,  # σ of Gaussian noise added to the gradient
        step=0.05,
        span=(0, 5),
        span_why="past σ ≈ 5 every surface's gradient is lost in the noise",
    )
    schedule: Schedule = field(default_factory=Schedule)
    label: str = ""


# Rosenbrock's classic race: GD and momentum at the lr where GD is still stable in the
# valley (0.001), and Adam, whose per-coordinate steps let it take 0.05.
LECTURE_RACE = (
    RunConfig("gd", {"lr": 0.001}),
    RunConfig("momentum", {"lr": 0.001}),
    RunConfig("adam", {"lr": 0.05}),
)


@dataclass
class Chunk:
    """Rows first_row … first_row + n − 1 of every run."""

    first_row: int
    points: Array  # (n, K, d)
    loss: Array  # (n, K)
    grad: Array  # (n, K, d) ∇f at each point
    step: Array  # (n, K, d) the step that led to each point
    effective_lr: Array  # (n, K, d)
    distance: Array | None  # (n, K) to the nearest minimum (None: none known, or not asked)


class Race:
    """K runs on ``surface``; ``advance(n)`` steps all of them n times.

    The inner loop is the few NumPy calls of one step (``fused.FusedRule``) and
    nothing else: losses, the gradients at the recorded points, divergence and
    convergence are worked out afterwards for a block of steps at a time, in one
    vectorized pass, and a run found to have stopped inside a block is rolled
    back to its last point (its later rows are overwritten and its state
    cleared), which gives the same rows as checking every step.
    """

    with_distance = True  # the chunks carry each run's distance to the nearest minimum
    _rate_buffers: list[Array] | None = None  # ``_rates``' tables, made at its first call
    _checks: Evaluator | None = None  # f and ∇f of a block's points (``_settle``) …
    _scratch: list[Array]  # … and its other buffers, made with it
    _grad_rows: Array | None = None  # ``advance_into``'s gradient table, reused

    def __init__(
        self, surface: Surface, runs: Sequence[RunConfig], seed: int = 0, *, distance: bool = True
    ) -> None:
        """``distance=False``: the chunks carry no distance to the nearest minimum (a
        sweep reads only points and losses, and the distances of 200 runs over 2000
        steps cost ~5 % of its time)."""
        if not runs:
            raise ValueError("a race needs at least one run")
        self.surface = surface
        self.runs = list(runs)
        self.with_distance = distance  # (a class default too, as ``_rate_buffers``)
        K, d = len(runs), surface.dims
        self.K, self.d = K, d
        starts = []
        for run in runs:
            start = run.start if run.start is not None else surface.start
            if len(start) != d:
                raise ValueError(f"start needs {d} coordinate(s) on a {d}-D surface")
            starts.append(start)
        self.theta = np.array(starts, dtype=np.float64)  # (K, d), updated in place
        made: dict[tuple[str, tuple[tuple[str, Any], ...]], optimizers.Optimizer] = {}
        stacked = []
        for r in runs:  # one Optimizer per distinct setting (a grid of starts shares one)
            key = (r.optimizer, tuple(sorted(r.hyper.items())))
            if key not in made:
                made[key] = optimizers.make(r.optimizer, r.hyper)
            stacked.append(made[key])
        self.opt = optimizers.stack(stacked)
        self.rule = FusedRule(self.opt.c, (K, d))
        self.lr0 = np.asarray(self.opt.c.lr, dtype=np.float64)  # (K, 1)
        self.clip_norm = np.array([[r.clip_norm or math.inf] for r in runs])
        self.clip_value = np.array([[r.clip_value or math.inf] for r in runs])
        self.clipping = bool(
            np.any(np.isfinite(self.clip_norm)) or np.any(np.isfinite(self.clip_value))
        )
        self.noise = np.array([[r.noise] for r in runs])
        self.noisy = bool(np.any(self.noise > 0))
        self.rng = np.random.default_rng(seed)
        self.schedules = [r.schedule for r in runs]
        groups: dict[Schedule, list[int]] = {}
        for k, sched in enumerate(self.schedules):
            groups.setdefault(sched, []).append(k)
        self._schedule_groups = {sched: np.array(ks) for sched, ks in groups.items()}
        bound = np.array(surface.bound)  # (d, 2)
        self.center = bound.mean(axis=1)
        self.half = (bound[:, 1] - bound[:, 0]) / 2
        self.step_tol = STEP_TOL * max(hi - lo for lo, hi in surface.domain)
        self.minima = np.array([c.point for c in surface.minima]).reshape(-1, d)
        self._look = np.empty_like(self.theta)
        self._frozen = self.theta.copy()  # where each stopped run stays
        self._g = np.empty_like(self.theta)
        self._nesterov = np.asarray(self.opt.c.nesterov)[:, 0] > 0

        self.status: list[Status] = ["running"] * K
        self.stopped_at: list[int | None] = [None] * K
        self.active = np.ones(K, dtype=bool)
        self.row = 0  # index of the current iterate
        self.loss, self.grad = surface.value_and_gradient(self.theta)  # at the iterates
        self._check_start()
        self._choose_kernel()

    def _choose_kernel(self) -> None:
        """What each step evaluates, for the runs still going: the Hessian only while a
        Newton run is, the gradient at a look-ahead point only while a Nesterov run is."""
        compiled = self.surface.compiled
        self._key: tuple[Any, ...] | None = None  # (share_key's, worked out when asked)
        self.need_hessian = self.rule.uses_newton
        self._program = compiled.derivatives if self.need_hessian else compiled.gradient
        # the gradient computed straight into G's columns (where an output is a call's)
        evaluator = Evaluator(self._program, (self.K,), [self._g[:, j] for j in range(self.d)])
        self._copied = [j for j in range(self.d) if not evaluator.writes_into[j]]
        self.has_nesterov = bool(np.any(self._nesterov & self.active))
        points = self._look if self.has_nesterov else self.theta
        # the program's inputs: views of the points, the same arrays at every step
        self._evaluate = evaluator.bind(*(points[:, j] for j in range(self.d)))

    # --- bookkeeping ------------------------------------------------------------

    def _check_start(self) -> None:
        finite = np.all(np.isfinite(self.theta), axis=1) & np.isfinite(self.loss)
        for k in np.flatnonzero(~finite):
            self.status[k] = "diverged"
            self.stopped_at[k] = 0
            self.active[k] = False
            self.rule.retire(int(k))

    def _lr(self, rows: NDArray[np.int64]) -> Array:
        """(n, K) learning rates for the steps leaving rows ``rows``."""
        out = np.empty((rows.size, self.K))
        for sched, ks in self._schedule_groups.items():
            out[:, ks] = sched.factor(rows)[:, None]
        return out * self.lr0[:, 0]

    def _bias_corrections(self, steps: NDArray[np.int64]) -> tuple[Any, Any]:
        """(B1, B2) for the steps ``steps`` (1-based): floats, or (n, K, 1) tables."""
        return self.opt.bias_corrections(steps)

    def _noise(self, n: int) -> Array:
        """The gradient noise of the next n steps, (n, K, d), from the race's own stream."""
        out: Array = self.noise * self.rng.standard_normal((n, self.K, self.d))
        return out

    def _distance(self, points: Array) -> Array | None:
        if self.minima.size == 0 or not self.with_distance:
            return None
        diff = points[..., None, :] - self.minima  # (n, K, M, d)
        out: Array = np.sqrt(np.min(np.einsum("nkmd,nkmd->nkm", diff, diff), axis=-1))
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
        """Step every active run ``n`` times; returns the n new rows."""
        K, d = self.K, self.d
        t = _Tables(
            points=np.empty((n + 1, K, d)),
            loss=np.empty((n, K)),
            grad=np.empty((n, K, d)),
            eff=np.empty((n, K, d)),
        )
        self._step_rows(t, n)
        points = t.points
        steps = points[:-1] - points[1:]
        assert t.eff is not None
        return Chunk(
            self.row - n + 1, points[1:], t.loss, t.grad, steps, t.eff, self._distance(points[1:])
        )

    def advance_into(self, points: Array, loss: Array) -> None:
        """``advance(n)`` for n = len(loss), the rows written into the caller's arrays:
        ``points`` (n + 1, K, d), row 0 the current iterate, and ``loss`` (n, K); no
        chunk, no steps, no effective learning rates. For a caller that keeps every row
        itself (a sweep): an advance of 200 runs makes ~13 MB of fresh tables, and the
        page faults of filling fresh memory cost a fifth of a sweep's time."""
        n = loss.shape[0]
        if self._grad_rows is None or self._grad_rows.shape[0] < n:
            self._grad_rows = np.empty((n, self.K, self.d))
        self._step_rows(_Tables(points, loss, self._grad_rows[:n], None), n)

    def _step_rows(self, t: _Tables, n: int) -> None:
        """The n steps of an advance, into ``t``."""
        d = self.d
        t.points[0] = self.theta
        noise = self._noise(n) if self.noisy else None
        rule = self.rule
        theta, G, look, P, eff = self.theta, self._g, self._look, t.points, t.eff
        clipping = self.clipping
        with np.errstate(all="ignore"):
            for first in range(0, n, BLOCK):
                last = min(n, first + BLOCK)
                program, copied = self._evaluate, self._copied
                hessian = self.need_hessian
                lr, lr_b1, B2, lr_mu = self._rates(first, last)
                scalar_b2 = np.ndim(B2) == 0
                for i in range(last - first):
                    if lr_mu is not None:
                        rule.look_ahead(theta, lr_mu[i], look)
                    out = program()  # (∇f into G, but where it is a constant)
                    for j in copied:
                        G[:, j] = out[j]
                    g: NDArray[np.floating] = G
                    if noise is not None:
                        g = g + noise[first + i]
                    if clipping:
                        g = optimizers.clip(g, self.clip_norm, self.clip_value)
                    step = rule.step(
                        g,
                        theta,
                        lr_b1[i],
                        B2 if scalar_b2 else B2[i],
                        lr[i],
                        None if eff is None else eff[first + i],
                        out[d:] if hessian else None,
                    )
                    np.subtract(theta, step, out=theta)
                    P[first + i + 1] = theta
                self._settle(t, first, last)
        self.row += n
        self.loss, self.grad = t.loss[-1].copy(), t.grad[-1].copy()

    def _rates(self, first: int, last: int) -> tuple[Array, Array, Any, Array | None]:
        """lr_t, lr_t·B1_t, B2_t (a float, or a table) and lr_t·μ·nesterov (None without a
        Nesterov run still going) for the steps first … last − 1 of ``advance``: tables
        (last − first, K, d), each run's value repeated along d (``fused.BLOCK_WIDTH``);
        0 for a stopped run. Made a block at a time, in buffers reused from block to
        block (tables for a whole advance of 200 runs are megabytes of fresh memory)."""
        c = self.opt.c
        b, K, d = last - first, self.K, self.d
        if self._rate_buffers is None:  # four tables, and two (BLOCK, K, 1) for the products
            self._rate_buffers = [np.empty((BLOCK, K, d)) for _ in range(4)]
            self._rate_buffers += [np.empty((BLOCK, K, 1)) for _ in range(2)]
        lr_buf, lr_b1_buf, b2_buf, mu_buf, lr, product = (a[:b] for a in self._rate_buffers)
        rows = np.arange(self.row + first, self.row + last)
        np.multiply(self._lr(rows)[:, :, None], self.active[:, None], out=lr)  # (b, K, 1)
        B1, B2 = self._bias_corrections(rows + 1)
        _blocks(lr, lr_buf)
        _blocks(np.multiply(lr, B1, out=product), lr_b1_buf)
        if np.ndim(B2) != 0:
            B2 = _blocks(B2, b2_buf)
        lr_mu = None
        if self.has_nesterov:
            np.multiply(lr, c.mu, out=product)
            product *= c.nesterov
            lr_mu = _blocks(product, mu_buf)
        return lr_buf, lr_b1_buf, B2, lr_mu

    def _settle(self, t: _Tables, first: int, last: int) -> None:
        """Losses, gradients and stops for the steps first … last − 1 of ``advance``.

        Point index r in ``t.points`` is the race's row ``self.row + r``; loss and
        gradient index r − 1 belong to it, and so does the step index r − 1 that
        led to it. A run *converged* at r when its gradient there and the step
        leaving r both vanish; it *diverged* at r when the point is non-finite (it
        stops at r − 1, the last finite point) or leaves the bound (it stops at r,
        the path visibly leaving). Whichever comes first wins.
        """
        P = t.points
        stopped = ~self.active
        if stopped.any():  # runs stopped earlier sit still (even were their step not 0)
            self.theta[stopped] = self._frozen[stopped]
            P[first + 1 : last + 1, stopped] = self._frozen[stopped]
        # Coordinate by coordinate, each a contiguous (b, K) array: the program and the
        # tests run on whole blocks instead of striding over interleaved coordinates,
        # in buffers of the race's own (each ~100 kB: see ``expressions.Evaluator``).
        d, b = self.d, last - first
        if self._checks is None:
            self._checks = Evaluator(self.surface.compiled.value_and_gradient, (BLOCK, self.K))
            self._scratch = [np.empty((BLOCK, self.K)) for _ in range(d + 3)]
        *new, grad2, moved2, tmp = (a[:b] for a in self._scratch)
        for j in range(d):
            np.copyto(new[j], P[first + 1 : last + 1, :, j])
        f, *g = self._checks.full(*new)
        t.loss[first:last] = f
        for j in range(d):
            t.grad[first:last, :, j] = g[j]
        if stopped.any() and t.eff is not None:
            t.eff[first:last, stopped] = 0.0
        inside = np.isfinite(f)
        for j in range(d):
            np.subtract(new[j], self.center[j], out=tmp)
            np.abs(tmp, out=tmp)
            inside &= tmp <= self.half[j]
        bad = ~inside
        # ‖∇f‖² at rows first … last − 1 (the row before the block, then the block's but
        # its last) and ‖θ_r − θ_r+1‖², the steps leaving them, summed over coordinates
        before = self.grad if first == 0 else t.grad[first - 1]
        for j in range(d):
            into = grad2 if j == 0 else tmp
            np.multiply(before[:, j], before[:, j], out=into[0])
            np.multiply(g[j][:-1], g[j][:-1], out=into[1:])
            if j:
                grad2 += tmp
            into = moved2 if j == 0 else tmp
            np.subtract(P[first:last, :, j], new[j], out=into)
            np.multiply(into, into, out=into)
            if j:
                moved2 += tmp
        small = grad2 <= GRAD_TOL * GRAD_TOL
        still = moved2 <= self.step_tol * self.step_tol
        converged = small & still
        events = (bad | converged) & self.active
        if not events.any():
            return
        for k in np.flatnonzero(events.any(axis=0)):
            conv = np.flatnonzero(converged[:, k] & self.active[k])
            div = np.flatnonzero(bad[:, k])
            c = first + int(conv[0]) if conv.size else None
            v = first + 1 + int(div[0]) if div.size else None
            if c is not None and (v is None or c < v):
                self._stop(t, int(k), "converged", keep=c, last_step=c, end=last)
            elif v is not None:
                finite = bool(np.all(np.isfinite(P[v, k])) and np.isfinite(t.loss[v - 1, k]))
                keep = v if finite else v - 1
                self._stop(t, int(k), "diverged", keep=keep, last_step=v - 1, end=last)
        self.rule.decide()  # once for all the runs retired here
        self._choose_kernel()

    def _stop(
        self, t: _Tables, k: int, status: Status, keep: int, last_step: int, end: int
    ) -> None:
        """Stop run k at point index ``keep``: later rows repeat it, its later steps are 0."""
        self.status[k] = status
        self.stopped_at[k] = self.row + keep
        self.active[k] = False
        P = t.points
        P[keep + 1 : end + 1, k] = P[keep, k]
        loss = t.loss[keep - 1, k] if keep > 0 else self.loss[k]
        grad = t.grad[keep - 1, k] if keep > 0 else self.grad[k]
        t.loss[keep:end, k] = loss
        t.grad[keep:end, k] = grad
        if t.eff is not None:
            t.eff[last_step + 1 : end, k] = 0.0
        self.theta[k] = self._frozen[k] = P[keep, k]
        self.rule.retire(k, decide=False)  # (and a zero learning rate from the next block)

    @property
    def finished(self) -> bool:
        return not self.active.any()

    # --- stepping together with other races --------------------------------------

    def share_key(self) -> tuple[Any, ...] | None:
        """Races with equal keys step together (``advance_together``), each getting to the
        last bit what it gets alone; None while this one cannot share.

        The key holds what a step of the race reads or decides for all its rows at once:
        the surface (its parsed formula — so a typed surface's spelling does not matter —,
        its window and its minima), and which optional parts the step takes (the rule's
        parts, Nesterov's look-ahead, noise, clipping by norm and by value). Equal keys
        make the stacked step the very same sequence of element-wise operations for
        every row. A Newton run cannot share while it runs: its 2-D solve takes the
        closed form only when *every* row's Hessian is regular, so another race's
        singular Hessian would change its numbers (it joins once Newton has stopped).
        """
        if self.need_hessian:
            return None
        if self._key is None:  # (cleared whenever the rule decides its parts again)
            self._key = (
                self._surface_key,
                self.has_nesterov,
                self.noisy,
                self._clips,
                self.rule.parts(),
            )
        return self._key

    @cached_property
    def _surface_key(self) -> str:
        s = self.surface
        minima = tuple(c.point for c in s.minima)
        return repr((s.compiled.f, s.compiled.variables, s.domain, minima))

    @cached_property
    def _coefficients(self) -> Array:
        """The runs' coefficients as one (K, fields) matrix, to stack races by."""
        c = self.opt.c
        return np.hstack([np.asarray(getattr(c, f.name), dtype=np.float64) for f in _FIELDS])

    @cached_property
    def _clips(self) -> tuple[bool, bool]:
        return bool(np.isfinite(self.clip_norm).any()), bool(np.isfinite(self.clip_value).any())


def _blocks(table: Array, out: Array) -> Array:
    """An (n, K, 1) table into ``out`` (n, K, d), its column repeated (a column at a time:
    faster than ``np.repeat``)."""
    for j in range(out.shape[-1]):
        out[..., j] = table[..., 0]
    return out


@dataclass
class _Tables:
    """One ``advance``: its rows so far."""

    points: Array  # (n + 1, K, d): index 0 is where the advance started
    loss: Array
    grad: Array
    eff: Array | None  # (None: not recorded)


class Stacks:
    """The stacked races of recent ``advance_together`` calls, kept so that the same races
    asked for together again (a class whose students all ask in every round trip) are
    stepped by the same stack, not one built anew; ``round_done`` after each round of
    calls drops the stacks unused for ``KEEP_ROUNDS`` rounds (and the races they hold).

    Building a stack costs about as much as stepping three races alone at a few steps a
    frame (the rule's set-up: measured 2026-12-02, two races a frame, two steps each, were
    35 % slower stacked anew than alone, three even, five 35 % faster, ten 2× — and a stack
    kept from the last round trip 40 % faster already for three), so a new stack is built
    for at least ``least`` races; fewer step alone unless their stack is kept.
    """

    KEEP_ROUNDS = 2

    def __init__(self, least: int = 3) -> None:
        self.least = least
        self._stacks: dict[tuple[int, ...], tuple[_Stack, int]] = {}  # (stack, round used)
        self.round = 0
        self.built = self.reused = 0

    def get(self, members: Sequence[Race]) -> _Stack | None:
        key = tuple(id(m) for m in members)  # (a kept stack holds its races: ids stay theirs)
        found = self._stacks.get(key)
        if found is not None and found[0].current(members):
            stack = found[0]
            self.reused += 1
        elif len(members) >= self.least:
            stack = _Stack(members)
            self.built += 1
        else:
            return None
        self._stacks[key] = (stack, self.round)
        return stack

    def round_done(self) -> None:
        self.round += 1
        oldest = self.round - self.KEEP_ROUNDS
        self._stacks = {k: v for k, v in self._stacks.items() if v[1] >= oldest}


@dataclass
class Together:
    """What ``advance_together`` gives each race: its chunk, and how many races (itself
    included) were stepped as one stack with it (1: alone; in its first check block)."""

    chunks: list[Chunk]
    stacked: list[int]


def advance_together(races: Sequence[Race], n: int, stacks: Stacks | None = None) -> Together:
    """Advance every race n steps; races with equal ``share_key`` as one stacked race (one
    array program for all their runs), the others alone. Each race gets exactly the
    chunk and the state ``race.advance(n)`` would give it: its own rows, schedules, bias
    corrections, noise stream, look-ahead and stops.

    The steps go a check block (``BLOCK``) at a time — as ``advance`` checks for stops —
    and the races are grouped again before each block: a run that stops may change which
    parts of the rule its race takes, and so which races it can share with. ``stacks``
    keeps the stacks for the next call, and builds a new one only for at least
    ``stacks.least`` races (without it, for any two).
    """
    pieces: list[list[Chunk]] = [[] for _ in races]
    stacked = [0] * len(races)
    done = 0
    while done < n:
        b = min(BLOCK, n - done)
        groups: dict[Any, list[int]] = {}
        for i, r in enumerate(races):
            key = r.share_key()
            groups.setdefault(("alone", i) if key is None else key, []).append(i)
        for members in groups.values():
            group = [races[i] for i in members]
            stack = None
            if len(group) > 1:
                stack = _Stack(group) if stacks is None else stacks.get(group)
            chunks = [r.advance(b) for r in group] if stack is None else stack.advance_members(b)
            for i, chunk in zip(members, chunks, strict=True):
                pieces[i].append(chunk)
                stacked[i] = stacked[i] or (1 if stack is None else len(group))
        done += b
    return Together([p[0] if len(p) == 1 else _joined(p) for p in pieces], stacked)


def _joined(chunks: Sequence[Chunk]) -> Chunk:
    def cat(attr: str) -> Array:
        return np.concatenate([getattr(c, attr) for c in chunks])

    distance = None if chunks[0].distance is None else cat("distance")
    return Chunk(
        chunks[0].first_row,
        cat("points"),
        cat("loss"),
        cat("grad"),
        cat("step"),
        cat("effective_lr"),
        distance,
    )


# The rule's state, copied into the stack and back (an unused one is read-only zeros).
_STATE = ("m", "v", "vmax", "u")
_FIELDS = fields(Coefficients)


class _Stack(Race):
    """Several races with one share key as one race, for one advance of at most a block.

    Its rows are the members' runs, one after another; every per-run array is the
    members' stacked, the rule is rebuilt from their coefficients and state, and what a
    race derives from its own row count (learning rates, bias corrections) or its own
    random stream (noise) is asked of each member. ``advance_members`` writes each
    member's new state back and returns each member's chunk.
    """

    def __init__(self, members: Sequence[Race]) -> None:  # (no Race.__init__: nothing to compute)
        first = members[0]
        self.members = list(members)
        bounds = [0, *itertools.accumulate(m.K for m in members)]
        self.slices = [slice(a, b) for a, b in itertools.pairwise(bounds)]
        self.surface = first.surface
        self.runs = [r for m in members for r in m.runs]
        self.K, self.d = bounds[-1], first.d

        def cat(attr: str) -> Any:
            return np.concatenate([getattr(m, attr) for m in members])

        self.theta = cat("theta")
        matrix = np.concatenate([m._coefficients for m in members])
        columns = {f.name: matrix[:, j : j + 1] for j, f in enumerate(_FIELDS)}
        self.opt = optimizers.Optimizer("stack", Coefficients(**columns))
        self.rule = FusedRule(self.opt.c, (self.K, self.d))
        self.active = cat("active")
        for k in np.flatnonzero(~self.active):
            self.rule.retire(int(k), decide=False)
        for name in _STATE:
            mine = getattr(self.rule, name)
            if mine.flags.writeable:
                np.concatenate([getattr(m.rule, name) for m in members], out=mine)
        self.rule.decide()
        self.lr0 = cat("lr0")
        self.clip_norm, self.clip_value = cat("clip_norm"), cat("clip_value")
        self.clipping = first.clipping
        self.noise = cat("noise")
        self.noisy = first.noisy
        self.center, self.half, self.step_tol = first.center, first.half, first.step_tol
        self.minima = first.minima
        self._look = np.empty_like(self.theta)
        self._frozen = cat("_frozen")
        self._g = np.empty_like(self.theta)
        self._nesterov = cat("_nesterov")
        self.status = [s for m in members for s in m.status]
        self.stopped_at = [s for m in members for s in m.stopped_at]
        groups: dict[Schedule, list[int]] = {}
        for row, run in enumerate(self.runs):
            groups.setdefault(run.schedule, []).append(row)
        self._schedule_groups = {sched: np.array(ks) for sched, ks in groups.items()}
        self.loss, self.grad = cat("loss"), cat("grad")
        self._choose_kernel()
        self._written: list[int] | None = None  # the members' rows it last wrote back
        self._start()

    def _start(self) -> None:
        """Before an advance: the stack counts its rows from 0, each run's own row in
        ``_rows`` (for its learning rate and bias corrections)."""
        self.row = 0
        self._rows = np.concatenate([np.full(m.K, m.row) for m in self.members])

    def current(self, members: Sequence[Race]) -> bool:
        """Whether this stack still holds these races' state as they are (the same races,
        none stepped since this stack wrote them back): then it can step them again without
        being built anew."""
        written = self._written
        return (
            written is not None
            and len(members) == len(self.members)
            and all(a is b for a, b in zip(members, self.members, strict=True))
            and all(m.row == r for m, r in zip(members, written, strict=True))
        )

    def _lr(self, rows: NDArray[np.int64]) -> Array:
        """As ``Race._lr``, each run at its own race's row (the same element-wise factor)."""
        steps = rows[:, None] + self._rows
        out = np.empty((rows.size, self.K))
        for sched, ks in self._schedule_groups.items():
            out[:, ks] = sched.factor(steps[:, ks])
        return out * self.lr0[:, 0]

    def _bias_corrections(self, steps: NDArray[np.int64]) -> tuple[Any, Any]:
        return self.opt.bias_corrections_per_run(steps[:, None] + self._rows)

    def _noise(self, n: int) -> Array:
        return np.concatenate([m._noise(n) for m in self.members], axis=1)

    def advance_members(self, n: int) -> list[Chunk]:
        """``advance(n)`` (n ≤ BLOCK) for every member: its state written back, its chunk."""
        assert n <= BLOCK
        if self.row:  # (stepped before: its rows count from 0 again)
            self._start()
        self._written = None  # (until every member has its state back)
        chunk = self.advance(n)
        out = []
        for m, s in zip(self.members, self.slices, strict=True):
            m.theta[...] = self.theta[s]
            m._frozen[...] = self._frozen[s]
            for name in _STATE:
                theirs = getattr(m.rule, name)
                if theirs.flags.writeable:
                    theirs[...] = getattr(self.rule, name)[s]
            stopped = np.flatnonzero(m.active & ~self.active[s])
            for k in stopped:
                i = s.start + int(k)
                m.status[k] = self.status[i]
                at = self.stopped_at[i]
                assert at is not None
                m.stopped_at[k] = m.row + at  # (the stack counts its rows from 0)
                m.active[k] = False
                m.rule.retire(int(k), decide=False)
            if stopped.size:
                m.rule.decide()
                m._choose_kernel()
            distance = None if chunk.distance is None else chunk.distance[:, s]
            mine = Chunk(
                m.row + 1,
                chunk.points[:, s],
                chunk.loss[:, s],
                chunk.grad[:, s],
                chunk.step[:, s],
                chunk.effective_lr[:, s],
                distance,
            )
            m.row += n
            m.loss, m.grad = mine.loss[-1].copy(), mine.grad[-1].copy()
            out.append(mine)
        self._written = [m.row for m in self.members]
        return out


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
