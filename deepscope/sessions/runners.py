"""Live labs: build a lab from its validated configuration, then produce frame data.

A runner is synchronous and runs on a compute thread. ``start()`` builds the lab
and returns its first frame; streaming labs (descend, train) then ``advance(n)``.
Every value leaving here is finite (or None) and rounded for the wire.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .. import i18n
from ..engine import landscape, layers_lab, race, training
from ..engine.histograms import Histogram
from ..engine.owndata import Table
from ..engine.text import Text
from ..protocol import (
    ConfigureDescend,
    ConfigureLayers,
    ConfigureTrain,
    CountsOut,
    DescendFrameData,
    DescendRunFrame,
    FrameData,
    LabName,
    LandscapeFrame,
    LayersFrameData,
    StreamOptions,
    SweepCurveFrame,
    SweepFrameData,
    TrainFrameData,
)
from . import labs
from .encode import finite_list, wire


@dataclass
class Output:
    """One frame's data (its lab's shape, see ``protocol.FrameData``), its step, and
    whether the run can go on."""

    step: int
    data: FrameData
    ended: Literal["diverged", "finished"] | None = None
    reason: str = ""
    reason_text: Text | None = None  # a reason the page shows (in its language)


class Runner(ABC):
    lab: LabName
    streaming: bool = False

    @abstractmethod
    def start(self) -> Output:
        """Build the lab and return its first frame."""

    def advance(self, n: int, views: bool = False) -> Output:
        """Move a streaming lab on by n steps and return the frame (``views``: the frame
        carries everything, whatever the lab's cadence for its slow parts)."""
        raise TypeError(f"the {self.lab} lab does not step")


def _counts(h: Histogram) -> CountsOut:
    return {
        "counts": None if h.counts is None else np.ascontiguousarray(h.counts),
        "below": h.below,
        "above": h.above,
        "nonfinite": h.nonfinite,
        "mean": _num(h.mean),
        "std": _num(h.std),
    }


def _num(x: float | None, digits: int = 6) -> float | None:
    """One number as ``round_sig`` rounds it (the same arithmetic, without an array)."""
    if x is None or not math.isfinite(x):
        return None
    if x == 0:
        return float(x)
    scale = 10.0 ** (digits - 1 - math.floor(math.log10(abs(x))))
    out = round(x * scale) / scale
    return out if math.isfinite(out) else float(x)


class LayersRunner(Runner):
    """Recomputes everything on every configure (no stepping)."""

    lab: LabName = "layers"

    def __init__(self, message: ConfigureLayers) -> None:
        self.config = labs.layers_config(message.config)

    def start(self) -> Output:
        """The complete frame (sessions get theirs through ``layers_service``)."""
        return Output(0, self.data(layers_lab.run(self.config)))

    @staticmethod
    def data(result: layers_lab.LayersResult) -> LayersFrameData:
        edges = {q: finite_list(b.edges, 10) for q, b in result.bins.items()}
        return {
            "layers": [
                {
                    "index": s.index,
                    "width": s.width,
                    "hist": {q: _counts(h) for q, h in s.hist.items()},
                    "saturated_fraction": _num(s.saturated_fraction),
                    "dead_units": s.dead_units,
                    "zero_fraction": _num(s.zero_fraction),
                    "grad_norm": _num(s.grad_norm),
                    "n_var_w": _num(s.n_var_w),
                    "flags": [
                        {"quantity": f.quantity, "kind": f.kind, "share": _num(f.share)}
                        for f in s.flags
                    ],
                }
                for s in result.layers
            ],
            "edges": edges,
            "scales": {q: b.scale for q, b in result.bins.items()},
            "theory": finite_list(result.theory, 6) if result.theory is not None else None,
            "theory_note": i18n.english(result.theory_note),
            "theory_text": labs.text_ref(result.theory_note),
            "n_var_w_expected": finite_list(result.n_var_w_expected, 6),
            "n_var_w_target": result.target_gain,
            "saturation_rule": i18n.english(result.saturation_rule),
            "saturation_text": labs.text_ref(result.saturation_rule),
            "loss": _num(result.loss),
            "detail": "coarse" if result.coarse else "complete",
            "samples": result.samples,
            "batch": result.batch,
        }


class DescendRunner(Runner):
    """An optimizer race, stepped ``steps_per_frame`` at a time up to ``steps``."""

    lab: LabName = "descend"
    streaming = True

    def __init__(self, message: ConfigureDescend) -> None:
        self.req = message.config
        self.options = message.options

    def start(self) -> Output:
        surface = labs.build_surface(self.req.surface, self.req.surface_params)
        labs.check_starts(self.req, surface)
        configs = [labs.run_config(r, self.req.start) for r in self.req.runs]
        self.race = race.Race(surface, configs, self.req.seed)
        first = self.race.initial()
        data = self._data(first, _wired([first]))
        data["surface"] = labs.surface_info(surface)
        return Output(0, data)

    def steps(self, n: int) -> int:
        """The steps an advance of n takes (at least one; none past ``steps``)."""
        return max(1, min(n, self.req.steps - self.race.row))

    def share_key(self, n: int) -> tuple[Any, ...] | None:
        """Advances with equal keys may be stepped as one race (``advance_together``)."""
        key = self.race.share_key()
        return None if key is None else (key, self.steps(n))

    def advance(self, n: int, views: bool = False) -> Output:
        chunk = self.race.advance(self.steps(n))
        return self._output(self._data(chunk, _wired([chunk])))

    @staticmethod
    def advance_together(
        runners: Sequence[DescendRunner], n: int, stacks: race.Stacks | None = None
    ) -> tuple[list[Output], list[int]]:
        """``advance(n)`` for runners of one share key, their runs stepped as one race and
        rounded for the wire together: each output is the one it gets alone; and for each,
        how many races were stepped as one with it (``race.Together.stacked``)."""
        stepped = race.advance_together([r.race for r in runners], runners[0].steps(n), stacks)
        points, loss, grad, eff, dist = _wired(stepped.chunks)
        out, first = [], 0
        for runner, chunk in zip(runners, stepped.chunks, strict=True):
            rows = slice(first, first + runner.race.K)
            first = rows.stop
            mine = (
                points[rows],
                loss[rows],
                grad[rows],
                eff[rows],
                None if dist is None else dist[rows],
            )
            out.append(runner._output(runner._data(chunk, mine)))
        return out, stepped.stacked

    def _output(self, data: DescendFrameData) -> Output:
        out = Output(self.race.row, data)
        if self.race.finished:
            out.ended, out.reason = "finished", "every run has stopped"
        elif self.race.row >= self.req.steps:
            out.ended, out.reason = "finished", f"finished {self.req.steps} steps"
        return out

    def _data(self, chunk: race.Chunk, wired: Wired) -> DescendFrameData:
        points, loss, grad, eff, dist = wired
        runs: list[DescendRunFrame] = []
        for k, run in enumerate(self.race.runs):
            stop = self.race.stopped_at[k]
            rows = chunk.points.shape[0]
            if stop is not None:  # only rows up to the run's last point
                rows = max(0, min(rows, stop - chunk.first_row + 1))
            runs.append(
                {
                    "label": run.label or run.optimizer,
                    "optimizer": run.optimizer,
                    "status": self.race.status[k],
                    "stopped_at": stop,
                    "points": points[k, :rows],
                    "loss": loss[k, :rows],
                    "gradient": grad[k, :rows],
                    "effective_lr": eff[k, :rows],
                    "distance": None if dist is None else dist[k, :rows],
                }
            )
        return {"first_row": chunk.first_row, "runs": runs}


# A chunk's points, losses, gradients, effective learning rates and distances rounded for
# the wire, run-major (K, rows, …) so that each run's rows are one contiguous block.
Wired = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]


def _wired(chunks: Sequence[race.Chunk]) -> Wired:
    """The chunks' rows rounded for the wire, their runs one after another (one chunk's,
    or several races' stepped together, rounded in one pass: the rounding is element-wise,
    so each run's numbers are those it gets alone)."""

    def runs_first(attr: str, digits: int | None) -> np.ndarray:
        parts = [getattr(c, attr) for c in chunks]
        a = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        return wire(np.moveaxis(a, 1, 0), digits)

    # (f to float64's digits: the chart draws f − f*, and 8 digits of f ≈ −24 made a run
    # converging as 0.8ᵗ drop to 0 at 10⁻⁶)
    return (
        runs_first("points", 8),
        runs_first("loss", None),
        runs_first("grad", 6),
        runs_first("effective_lr", 6),
        None if chunks[0].distance is None else runs_first("distance", 6),
    )


class SweepRunner(Runner):
    """A learning-rate sweep of the race's runs (``configure.sweep``), streamed like the
    race: ``steps_per_frame`` steps of every run a frame. Each frame carries every
    optimizer's whole curve so far (a few numbers per learning rate) and the new rows of
    its best run's path (the whole path again when the best run changed)."""

    lab: LabName = "descend"
    streaming = True

    def __init__(self, message: ConfigureDescend) -> None:
        assert message.sweep is not None
        self.req = message.config
        self.spec = message.sweep
        self.options = message.options
        self.sent: list[tuple[int | None, int]] = []  # per optimizer: best run, rows sent

    def start(self) -> Output:
        surface = labs.build_surface(self.req.surface, self.req.surface_params)
        labs.check_starts(self.req, surface)
        configs = [labs.run_config(r, self.req.start) for r in self.req.runs]
        self.sweep = labs.start_sweep(surface, configs, self.spec, self.req.steps, self.req.seed)
        self.sent = [(None, 0)] * len(configs)
        data = self._data()
        data["surface"] = labs.surface_info(surface)
        return Output(0, data)

    def advance(self, n: int, views: bool = False) -> Output:
        left = self.req.steps - self.sweep.row
        if left > 0:  # (a step after the end repeats the last frame)
            self.sweep.advance(min(max(1, n), left))
        out = Output(self.sweep.row, self._data())
        if self.sweep.finished:
            out.ended, out.reason = "finished", "every run has stopped"
        elif self.sweep.row >= self.req.steps:
            out.ended, out.reason = "finished", f"finished {self.req.steps} steps"
        return out

    def _data(self) -> SweepFrameData:
        curves: list[SweepCurveFrame] = []
        for j, curve in enumerate(self.sweep.curves()):
            run, sent = self.sent[j]
            best = None if curve.best is None else self.sweep.run_index(j, curve.best)
            start = sent if best == run else 0
            if best is None:
                path, loss = np.empty((0, self.sweep.surface.dims)), np.empty(0)
            else:
                path, loss = self.sweep.path(best, start), self.sweep.path_loss(best, start)
            self.sent[j] = (best, start + path.shape[0])
            curves.append(
                {
                    "optimizer": curve.optimizer,
                    "label": curve.label,
                    "lrs": curve.lrs,
                    "values": [v if isinstance(v, int) else _num(v, 8) for v in curve.values],
                    "status": curve.status,
                    "best_lr": curve.best_lr,
                    "best_index": curve.best,
                    "path_from": start,
                    "path": wire(path, 8),
                    "path_loss": wire(loss, None),
                }
            )
        return {
            "sweep": True,
            "criterion": self.spec.criterion,
            "tolerance": self.spec.tolerance,
            "f_star": _num(self.sweep.f_star, 15),
            "optimizers": curves,
        }


class TrainRunner(Runner):
    """A training run, ``steps_per_frame`` updates per frame up to ``steps``."""

    lab: LabName = "train"
    streaming = True

    def __init__(self, message: ConfigureTrain, table: Table | None = None) -> None:
        self.req = message.config
        self.table = table  # the points of an uploaded dataset
        self.options: StreamOptions = message.options
        # The views (decision boundary, histograms, weights) are most of a frame's cost
        # and bytes, and change slowly: they ride on every ``views_every``-th frame, on
        # the first and on the last; every frame says the step its views are from.
        self.views_every = max(1, round(self.options.fps / self.options.view_fps))
        self.with_views = training.FrameOptions(
            boundary=self.options.boundary,
            histograms=self.options.histogram_bins,
            weights=self.options.weights,
        )
        self.without_views = training.FrameOptions()
        self.frames = 0
        self.views_step = 0
        self.live: landscape.LiveLandscape | None = None

    def start(self) -> Output:
        self.trainer = training.Trainer(labs.train_config(self.req, table=self.table))
        self.live = live_landscape(self.options, self.trainer)
        data = self._data(self.trainer.frame(self.with_views))
        if self.live is not None:
            data["landscape"] = landscape_data(self.live.refresh(self.trainer))
        split = self.trainer.data
        data["data"] = {
            "X_train": wire(split.X_train, 6),
            "y_train": wire(split.y_train),
            "X_test": wire(split.X_test, 6),
            "y_test": wire(split.y_test),
            "domain": [list(r) for r in split.domain],
            "n_params": self.trainer.net.n_params,
        }
        return Output(0, data)

    def advance(self, n: int, views: bool = False) -> Output:
        """``views``: carry the views whatever the cadence (a step the student asked for)."""
        t = self.trainer
        n = max(1, min(n, self.req.steps - t.step_count))
        with np.errstate(all="ignore"):
            t.run(n)
        self.frames += 1
        last = not t.running or t.step_count >= self.req.steps
        asked = views or last  # a step the student asked for, or the run's last frame
        views = views or last or self.frames % self.views_every == 0
        data = self._data(t.frame(self.with_views if views else self.without_views))
        if self.live is not None:
            self.live.record(t.step_count, t.net.flat)
            if self.live.due(t.step_count, force=asked):
                data["landscape"] = landscape_data(self.live.refresh(t))
        out = Output(t.step_count, data)
        if t.status == "diverged" and t.reason is not None:
            out.ended, out.reason, out.reason_text = "diverged", i18n.english(t.reason), t.reason
        elif t.step_count >= self.req.steps:
            out.ended, out.reason = "finished", f"finished {self.req.steps} steps"
        return out

    def _data(self, f: training.TrainFrame) -> TrainFrameData:
        if f.boundary is not None or f.histograms is not None or f.weights is not None:
            self.views_step = f.step
        data: TrainFrameData = {
            "step": f.step,
            "epoch": f.epoch,
            "train_loss": _num(f.train_loss),
            "test_loss": _num(f.test_loss),
            "accuracy": f.accuracy,
            "train_accuracy": f.train_accuracy,
            "lr": _num(f.lr),
            "dead_units": f.dead_units,
            "zero_fraction": wire(f.zero_fraction, 4),
            "grad_norm": [_num(g) for g in f.grad_norm],
            "update_ratio": [_num(r) for r in f.update_ratio],
            "views_step": self.views_step,
        }
        warning = labs.blowup_out(f.blowup)
        if warning is not None:
            data["warning"] = warning
        if f.histograms is not None:
            data["histograms"] = [_counts(h) for h in f.histograms]
            data["histogram_edges"] = wire(f.histograms[0].bins.edges, 6) if f.histograms else []
        if f.boundary is not None:
            data["boundary"] = wire(np.round(f.boundary, 3), None)
        if f.weights is not None and f.biases is not None:
            data["weights"] = [wire(w, 5) for w in f.weights]
            data["biases"] = [wire(b, 5) for b in f.biases]
        return data


def live_landscape(
    options: StreamOptions, trainer: training.Trainer
) -> landscape.LiveLandscape | None:
    """The live landscape view a training run's options ask for (InputError if too big)."""
    o = options.landscape
    if o is None:
        return None
    try:
        landscape.require_size(trainer, o.resolution)
    except landscape.SizeError as err:  # (an upload's rows are known only here)
        raise labs.landscape_size_error(err, "options.landscape.resolution") from None
    return landscape.LiveLandscape(trainer, o.directions, o.center, o.resolution, o.span, o.every)


def landscape_data(m: landscape.LiveMap) -> LandscapeFrame:
    """A refresh of the live view, as the frame's ``landscape`` carries it."""
    land = m.landscape
    assert land.path is not None
    return {
        "step": m.step,
        "directions": m.directions,
        "center": m.center,
        "alphas": wire(land.alphas, 8),
        "betas": wire(land.betas, 8),
        "loss": wire(land.loss, 6),
        "center_loss": _num(land.center_loss),
        "path": wire(land.path, 6),
        "path_steps": land.path_steps,
        "explained_variance": land.plane.explained_variance,
        "compute_ms": round(m.compute_ms, 3),
    }


def make_runner(
    message: ConfigureLayers | ConfigureDescend | ConfigureTrain, find: labs.Find | None = None
) -> Runner:
    """The lab's runner; ``find`` looks up the session's uploads (InputError if unknown)."""
    if isinstance(message, ConfigureLayers):
        return LayersRunner(message)
    if isinstance(message, ConfigureDescend):
        return SweepRunner(message) if message.sweep is not None else DescendRunner(message)
    return TrainRunner(message, labs.train_table(message.config, find))
