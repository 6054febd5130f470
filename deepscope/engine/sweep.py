"""A learning-rate sweep: every optimizer at every learning rate, raced as one array program.

A race at one shared learning rate says little about which optimizer is better: each has
its own good range. A sweep gives each optimizer of ``runs`` (its other hyper-parameters as
set) ``count`` log-spaced learning rates from ``lr_min`` to ``lr_max`` and steps all
``len(runs) × count`` runs together as one ``race.Race`` — the same rows as each run raced
alone, to the last bit (Newton's to float rounding), since a race's runs share nothing but
the arrays they are stacked in (noise aside: with σ > 0 each run draws its own). Run
k·count + i is optimizer k at learning rate i.

The *criterion* of a run, read after every ``advance``:

* ``final``: f − f* at the run's current (at the end: last) point, f* the surface's
  lowest known minimum; below float64's rounding of f near f* (``ROUNDING`` ×
  max(1, |f*|)) it is 0 — the runs that reach f* to machine precision tie (not
  whichever rounding noise is lowest wins);
* ``steps_to_tolerance``: the first step from which f − f* stays below ``tolerance``
  (row 0, the start, counts as step 0) up to the current (at the end: last) step, or
  none while it is not below (never, at the end). A run that dips below and comes back
  out has not got there: at lr 1.78 Adam is below 10⁻⁶ on Rosenbrock from step 435
  for 13 steps, then f − f* is about 1 at the median over the rest of 2000 steps.

A diverged run has no value (``None``), whatever it did before: it is marked as diverged
at its learning rate, never drawn as a huge number, and never the best. Each optimizer's
best learning rate is the argmin of the criterion over its runs that have a value. Runs
tied at f* to machine precision (``final``) go to the one that got there first, and
stayed: every rate that reaches f* in 2000 steps ties at 0, and the smallest of them is
the slowest, which would make "race each at its best" a race of slow runs. Any tie left
goes to the smaller learning rate (the first in the ascending list).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from .knobs import knob
from .race import Race, RunConfig, Status
from .surfaces import Surface

Array = NDArray[np.float64]
Criterion = Literal["final", "steps_to_tolerance"]
CRITERIA: tuple[Criterion, ...] = ("final", "steps_to_tolerance")

# Work of one sweep: runs × steps (what the engine steps, not the rows it returns).
MAX_WORK = 1_000_000
ADVANCE = 1024  # steps per ``advance`` when a sweep runs to its end at once
ROUNDING = 1e-15  # f − f* below this × max(1, |f*|) is float64's rounding of f: 0


class NoMinimumError(ValueError):
    """The surface knows no minimum, so f − f* means nothing there."""


@dataclass(frozen=True)
class SweepConfig:
    """Which learning rates, and what counts as good."""

    lr_min: float = knob(
        1e-5,
        "below 10⁻⁵ no optimizer moves visibly in a few thousand steps",
        ge=1e-6,
        le=10.0,
        log=True,
    )
    lr_max: float = knob(
        10.0, "past 10 every optimizer here has long diverged", ge=1e-6, le=10.0, log=True
    )
    lr_count: int = knob(
        25,
        "25 values, about four a decade over 10⁻⁵ … 10: a smooth sensitivity curve",
        ge=1,
        le=100,
        integer=True,
    )
    criterion: Criterion = "final"
    tolerance: float = knob(
        1e-6,
        "f − f* below 10⁻⁶: at the minimum to the eye on every lecture surface",
        gt=0,
        le=1e6,
        log=True,
        span=(1e-12, 1.0),
        span_why="below 10⁻¹² float64's rounding of f decides; above 1 nothing is near f*",
    )

    def __post_init__(self) -> None:
        if self.lr_min > self.lr_max or (self.lr_count > 1 and self.lr_min == self.lr_max):
            raise ValueError("lr_min must be below lr_max")
        if self.criterion not in CRITERIA:
            raise ValueError(f"criterion must be one of {CRITERIA}")


def learning_rates(lr_min: float, lr_max: float, count: int) -> Array:
    """``count`` log-spaced learning rates from lr_min to lr_max, both included."""
    if count == 1:
        return np.array([lr_min])
    out: Array = np.geomspace(lr_min, lr_max, count)
    out[0], out[-1] = lr_min, lr_max  # exactly the ends asked for
    return out


def f_star(surface: Surface) -> float:
    """The lowest value among the surface's known minima (NoMinimumError if it knows none)."""
    values = [c.value for c in surface.minima if math.isfinite(c.value)]
    if not values:
        raise NoMinimumError(
            f"{surface.name} has no known minimum: f − f* (a sweep's criterion) needs one"
        )
    return min(values)


def best_index(values: Sequence[float | None], then: Sequence[float] | None = None) -> int | None:
    """The argmin over the runs with a value; a tie goes to the lowest ``then`` (a
    second key, per run), then to the first (smaller lr)."""
    best: int | None = None
    lowest: tuple[float, float] = (math.inf, math.inf)
    for i, v in enumerate(values):
        if v is None:
            continue
        key = (v, 0.0 if then is None else then[i])
        if best is None or key < lowest:
            best, lowest = i, key
    return best


def settled_from(below: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Per column of ``below`` (rows × runs), the first row from which every row to the
    last is True; −1 where the last row is False."""
    n = below.shape[0]
    last_out = n - 1 - np.argmax(~below[::-1], axis=0)  # the last False row (n − 1 − …)
    out: NDArray[np.int64] = np.where(below.all(axis=0), 0, last_out + 1)
    out[~below[-1]] = -1
    return out


@dataclass
class Curve:
    """One optimizer's sensitivity curve, as far as the sweep has gone."""

    optimizer: str
    label: str
    lrs: list[float]
    values: list[float | None]
    status: list[Status]
    best: int | None  # index into lrs

    @property
    def best_lr(self) -> float | None:
        return None if self.best is None else self.lrs[self.best]


class Sweep:
    """``runs`` (their ``lr`` replaced) × ``config``'s learning rates, as one race."""

    def __init__(
        self,
        surface: Surface,
        runs: Sequence[RunConfig],
        config: SweepConfig,
        steps: int,
        seed: int = 0,
    ) -> None:
        if not runs:
            raise ValueError("a sweep needs at least one optimizer")
        self.surface = surface
        self.config = config
        self.f_star = f_star(surface)
        self.floor = ROUNDING * max(1.0, abs(self.f_star))
        self.lrs = learning_rates(config.lr_min, config.lr_max, config.lr_count)
        self.optimizers = list(runs)
        self.steps = steps
        self.count = len(self.lrs)
        self.runs = [
            replace(run, hyper={**run.hyper, "lr": float(lr)}) for run in runs for lr in self.lrs
        ]
        self.race = Race(surface, self.runs, seed, distance=False)
        K = len(self.runs)
        self.gap = self._gap(self.race.loss)  # f − f* at each run's current point
        self.reached = np.full(K, -1, dtype=np.int64)  # first step below the tolerance
        self._reach(0, self.gap[None])
        # every run's rows (a stopped run's repeat its last point), kept for the best paths
        self._points = np.empty((steps + 1, K, surface.dims))
        self._loss = np.empty((steps + 1, K))
        self._points[0], self._loss[0] = self.race.theta, self.race.loss

    @property
    def row(self) -> int:
        return self.race.row

    @property
    def finished(self) -> bool:
        return self.race.finished

    def _gap(self, loss: Array) -> Array:
        """f − f*, 0 below the rounding floor (NaN stays NaN)."""
        with np.errstate(invalid="ignore"):
            gap = loss - self.f_star
            out: Array = np.where(gap < self.floor, 0.0, gap)
        return out

    def _reach(self, first_row: int, gaps: Array) -> None:
        """The rows of ``gaps`` (first_row …) just stepped: where each run has stayed below
        the tolerance from (−1: it is above it now)."""
        below = gaps < self.config.tolerance  # (n, K); NaN compares False
        since = settled_from(below)
        through = since == 0  # below in every new row: a stay goes on, or starts here
        self.reached = np.where(
            through & (self.reached >= 0), self.reached, np.where(since < 0, -1, first_row + since)
        )

    def advance(self, n: int) -> None:
        """Step every running run n times (at most up to ``steps``), into the sweep's rows."""
        n = min(n, self.steps - self.row)
        if n < 1:
            raise ValueError(f"the sweep has done its {self.steps} steps")
        row = self.row
        loss = self._loss[row + 1 : row + n + 1]
        self.race.advance_into(self._points[row : row + n + 1], loss)
        if self.config.criterion == "steps_to_tolerance":
            self._reach(row + 1, self._gap(loss))
        self.gap = self._gap(loss[-1])

    def run(self) -> None:
        """Advance until every step is done or every run has stopped."""
        while self.row < self.steps and not self.finished:
            self.advance(ADVANCE)

    def value(self, k: int) -> float | None:
        """Run k's criterion so far (None: diverged, or not below the tolerance yet)."""
        if self.race.status[k] == "diverged":
            return None
        if self.config.criterion == "final":
            gap = float(self.gap[k])
            return gap if math.isfinite(gap) else None
        return None if self.reached[k] < 0 else int(self.reached[k])

    def curves(self) -> list[Curve]:
        out = []
        lrs = [float(lr) for lr in self.lrs]
        for j, run in enumerate(self.optimizers):
            ks = range(j * self.count, (j + 1) * self.count)
            values = [self.value(k) for k in ks]
            out.append(
                Curve(
                    optimizer=run.optimizer,
                    label=run.label or run.optimizer,
                    lrs=lrs,
                    values=values,
                    status=[self.race.status[k] for k in ks],
                    best=best_index(values, self._tie_break(ks, values)) if self.row > 0 else None,
                )
            )
        return out

    def _tie_break(self, ks: range, values: Sequence[float | None]) -> list[float] | None:
        """For ``final``: the row from which each run tied at f* (0) has stayed there (the
        one that got there first wins the tie); None when no two runs tie at 0."""
        if self.config.criterion != "final" or sum(v == 0.0 for v in values) < 2:
            return None
        out = [math.inf] * len(values)
        for i, (k, v) in enumerate(zip(ks, values, strict=True)):
            if v == 0.0:
                end = self._end(k)
                at_floor = self._gap(self._loss[:end, k]) == 0.0
                out[i] = float(settled_from(at_floor[:, None])[0])
        return out

    def run_index(self, optimizer: int, lr: int) -> int:
        """The race's run of ``optimizer`` (its index in runs) at learning rate ``lr``."""
        return optimizer * self.count + lr

    def _end(self, k: int) -> int:
        stop = self.race.stopped_at[k]
        return self.row + 1 if stop is None else stop + 1

    def path(self, k: int, first_row: int = 0) -> Array:
        """Run k's points from ``first_row`` on (to its last point, if it stopped)."""
        out: Array = self._points[first_row : self._end(k), k]
        return out

    def path_loss(self, k: int, first_row: int = 0) -> Array:
        """f at the points of ``path``."""
        out: Array = self._loss[first_row : self._end(k), k]
        return out
