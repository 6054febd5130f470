"""What a preset says, checked on what its picture shows.

A preset's ``claims`` are data: a list of ``{"check": name, ...parameters}``. Each
names a check from ``CHECKS`` below, a plain function over the *frames the page
receives* for that configuration (the runners' wire data, replayed the way a
session streams it: ``start()`` then ``advance(steps_per_frame)`` until the run
ends). ``tests/test_presets.py`` evaluates every preset's claims on its own
configuration, so a preset cannot say what its own picture does not show.

Checks are named functions, never ``eval``: a claim's parameters are numbers,
names of frame quantities and layer ranges. Quantities are addressed as

* layers lab: ``"<quantity>.<stat>"`` (quantity one of the histogrammed ones,
  stat ``mean`` or ``std``) or a per-layer field (``saturated_fraction``,
  ``zero_fraction``, ``dead_units``, ``grad_norm``);
* optimizer lab: a run by its label, then ``loss``, ``x`` / ``y`` (the point's
  coordinates), ``effective_lr`` (first coordinate) or ``distance``;
* training lab: a frame field (``accuracy``, ``train_loss``, ``dead_units``…), or a
  quantity of the live loss landscape's refreshes (``landscape``, ``shared_landscape``);
* a learning-rate sweep (a descend preset whose view is ``{"mode": "sweep", "sweep":
  {…}}``): a run by its label, then its curve at the end — ``best_lr``, and the
  ``values`` and ``status`` at the learning rates in a range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from pydantic import TypeAdapter

from . import protocol
from .sessions import runners
from .sessions.encode import dumps_bytes

HISTOGRAMMED = protocol.QUANTITY_NAMES
CONFIGURE: TypeAdapter[Any] = TypeAdapter(protocol.Configure)
MAX_FRAMES = 20_000  # a replay that streams longer than this is a preset mistake


@dataclass
class Trace:
    """Every frame's data the page would receive, in order, and how the run ended."""

    lab: str
    config: dict[str, Any]
    frames: list[dict[str, Any]]
    ended: str | None = None
    reason: str = ""
    # optimizer lab: each run's whole history, stitched from the frames' chunks
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # a sweep: each run's curve in the last frame, by label
    curves: dict[str, dict[str, Any]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)  # the stream options replayed


def replay(
    lab: str,
    config: dict[str, Any],
    options: dict[str, Any] | None = None,
    *,
    frames: int = 0,
    sweep: dict[str, Any] | None = None,
) -> Trace:
    """Run ``config`` as a session would stream it; ``frames`` > 0 stops after that many;
    ``sweep``: the configure's sweep section (the optimizer lab's sweep mode)."""
    message = {"type": "configure", "lab": lab, "config": config, "options": options or {}}
    if sweep is not None:
        message["sweep"] = sweep
    if lab == "layers":  # the page asks for one quantity's histograms; a claim may need any
        message["config"] = {**config, "histograms": list(HISTOGRAMMED)}
    parsed = CONFIGURE.validate_python(message)
    runner = runners.make_runner(parsed)
    out = runner.start()
    trace = Trace(lab, config, [_wire(out.data)], options=options or {})
    steps = max(1, parsed.options.steps_per_frame)
    while runner.streaming and out.ended is None and len(trace.frames) < MAX_FRAMES:
        if frames and len(trace.frames) >= frames:
            break
        out = runner.advance(steps)
        trace.frames.append(_wire(out.data))
    trace.ended, trace.reason = out.ended, out.reason
    if sweep is not None:
        trace.curves = {c["label"]: c for c in trace.frames[-1]["optimizers"]}
    elif lab == "descend":
        trace.runs = _stitch(trace.frames)
    return trace


def _wire(data: protocol.FrameData) -> dict[str, Any]:
    """The frame's data as the page receives it (encoded and decoded)."""
    decoded: dict[str, Any] = orjson.loads(dumps_bytes(data))
    return decoded


def _stitch(frames: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each run's points, loss, effective lr and distance over all frames, by label."""
    runs: dict[str, dict[str, Any]] = {}
    for data in frames:
        for run in data["runs"]:
            r = runs.setdefault(
                run["label"],
                {"points": [], "loss": [], "gradient": [], "effective_lr": [], "distance": []},
            )
            r["status"], r["stopped_at"] = run["status"], run["stopped_at"]
            for key in ("points", "loss", "gradient", "effective_lr"):
                r[key].extend(run[key])
            r["distance"].extend(run["distance"] or [])
    return runs


# --- reading quantities ---------------------------------------------------------------


def layer_series(frame: dict[str, Any], what: str) -> list[float]:
    """One value per layer (layer 1 first)."""
    layers = frame["layers"]
    if "." in what:
        quantity, stat = what.split(".")
        return [_f(layer["hist"][quantity][stat]) for layer in layers]
    return [_f(layer[what]) for layer in layers]


def run_series(trace: Trace, run: str, what: str) -> list[float]:
    """One value per step of one run of a race (the start first)."""
    r = trace.runs[run]
    if what in ("x", "y"):
        return [_f(p[0 if what == "x" else 1]) for p in r["points"]]
    if what in ("grad_x", "grad_y"):
        return [_f(g[0 if what == "grad_x" else 1]) for g in r["gradient"]]
    if what == "effective_lr":
        return [_f(v[0] if isinstance(v, list) else v) for v in r["effective_lr"]]
    return [_f(v) for v in r[what]]


def _f(v: Any) -> float:
    return math.nan if v is None else float(v)


def _layers(values: list[float], layers: Sequence[int] | None) -> list[tuple[int, float]]:
    """(1-based layer, value) for layers lo..hi inclusive; negative counts from the end."""
    n = len(values)
    lo, hi = layers or (1, n)
    lo, hi = (lo if lo > 0 else n + 1 + lo), (hi if hi > 0 else n + 1 + hi)
    return [(k, values[k - 1]) for k in range(lo, hi + 1)]


@dataclass
class Verdict:
    ok: bool
    observed: str


def _within(value: float, between: Sequence[float]) -> bool:
    return bool(np.isfinite(value)) and between[0] <= value <= between[1]


def _show(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.4g}" for v in values)


# --- checks: layers lab ------------------------------------------------------------------


def each_layer(
    trace: Trace, what: str, between: Sequence[float], layers: Sequence[int] | None = None
) -> Verdict:
    """Every layer in ``layers`` has ``what`` in [lo, hi]."""
    picked = _layers(layer_series(trace.frames[-1], what), layers)
    ok = all(_within(v, between) for _, v in picked)
    return Verdict(ok, f"{what} per layer: {_show([v for _, v in picked])}")


def layer_ratio(
    trace: Trace, what: str, between: Sequence[float], layers: Sequence[int] | None = None
) -> Verdict:
    """value(k) / value(k − 1), deeper over shallower, in [lo, hi] for every k in ``layers``."""
    values = layer_series(trace.frames[-1], what)
    picked = [k for k, _ in _layers(values, layers or (2, len(values))) if k >= 2]
    ratios = [values[k - 1] / values[k - 2] if values[k - 2] else math.inf for k in picked]
    return Verdict(all(_within(r, between) for r in ratios), f"{what} ratios: {_show(ratios)}")


def end_ratio(trace: Trace, what: str, between: Sequence[float]) -> Verdict:
    """value(last layer) / value(first layer) in [lo, hi]."""
    values = layer_series(trace.frames[-1], what)
    ratio = values[-1] / values[0] if values[0] else math.inf
    return Verdict(_within(ratio, between), f"{what} last / first = {ratio:.4g}")


def same_as(
    trace: Trace,
    what: str,
    other: dict[str, Any],
    between: Sequence[float],
    layers: Sequence[int] | None = None,
) -> Verdict:
    """value / value of the same configuration with ``other``'s changes, per layer, in [lo, hi]."""
    frame = trace.frames[-1]
    theirs = layer_series(replay("layers", {**trace.config, **other}).frames[-1], what)
    ours = layer_series(frame, what)
    ratios = [ours[k - 1] / theirs[k - 1] for k, _ in _layers(ours, layers)]
    return Verdict(all(_within(r, between) for r in ratios), f"{what} / other: {_show(ratios)}")


# --- checks: optimizer lab -----------------------------------------------------------------


def status(trace: Trace, run: str, equals: str, by: int | None = None) -> Verdict:
    """The run ends with this status (and, with ``by``, stopped at or before that step)."""
    r = trace.runs[run]
    ok = r["status"] == equals and (by is None or (r["stopped_at"] or math.inf) <= by)
    return Verdict(ok, f"{run}: {r['status']} at step {r['stopped_at']}")


def converged_at(trace: Trace, run: str, step: int) -> Verdict:
    """The run converged exactly at ``step``."""
    r = trace.runs[run]
    return Verdict(
        r["status"] == "converged" and r["stopped_at"] == step,
        f"{run}: {r['status']} at step {r['stopped_at']}",
    )


def value_at(
    trace: Trace, run: str, what: str, step: int, near: float, tol: float = 1e-9
) -> Verdict:
    """The run's ``what`` at ``step`` (negative: from the end) is ``near`` ± tol."""
    values = run_series(trace, run, what)
    v = values[step]
    return Verdict(abs(v - near) <= tol, f"{run} {what}[{step}] = {v:.10g}")


def final(trace: Trace, run: str, what: str, between: Sequence[float]) -> Verdict:
    """The run's last ``what`` lies in [lo, hi]."""
    v = run_series(trace, run, what)[-1]
    return Verdict(_within(v, between), f"{run} final {what} = {v:.4g}")


def cycles(
    trace: Trace, run: str, what: str, values: Sequence[float], tol: float = 1e-6, last: int = 10
) -> Verdict:
    """The run's last ``last`` values alternate between two values (a 2-cycle, forever)."""
    tail = run_series(trace, run, what)[-last:]
    a, b = values
    fits = [abs(v - (a if i % 2 == 0 else b)) <= tol for i, v in enumerate(tail)]
    swapped = [abs(v - (b if i % 2 == 0 else a)) <= tol for i, v in enumerate(tail)]
    return Verdict(all(fits) or all(swapped), f"{run} last {what}: {_show(tail)}")


def two_cycle(trace: Trace, run: str, what: str, last: int = 20, gap: float = 1e-3) -> Verdict:
    """The run ends bouncing between two distinct values, not converging to one."""
    tail = np.array(run_series(trace, run, what)[-last:])
    even, odd = tail[0::2], tail[1::2]
    steady = np.ptp(even) < gap * 0.1 and np.ptp(odd) < gap * 0.1
    apart = abs(float(even.mean()) - float(odd.mean())) > gap
    return Verdict(
        bool(steady and apart), f"{run} last {what}: {_show(tail[-4:].tolist())} (ends alternating)"
    )


def same_curve(trace: Trace, run: str, other: str, what: str, rtol: float = 1e-9) -> Verdict:
    """Two runs have the same ``what`` at every step (up to rounding)."""
    a, b = np.array(run_series(trace, run, what)), np.array(run_series(trace, other, what))
    n = min(len(a), len(b))
    ok = bool(n > 1 and np.allclose(a[:n], b[:n], rtol=rtol, atol=1e-300))
    return Verdict(
        ok, f"{run} vs {other} {what}: first {_show(a[:3].tolist())} / {_show(b[:3].tolist())}"
    )


def final_ratio(trace: Trace, run: str, other: str, what: str, between: Sequence[float]) -> Verdict:
    """run's last ``what`` / other's last ``what`` in [lo, hi]."""
    a, b = run_series(trace, run, what)[-1], run_series(trace, other, what)[-1]
    ratio = a / b if b else math.inf
    return Verdict(_within(ratio, between), f"{run} / {other} final {what} = {ratio:.4g}")


def decay(trace: Trace, run: str, what: str, between: Sequence[float], frm: int = 1) -> Verdict:
    """The run's last ``what`` / its value at step ``frm``, in [lo, hi]."""
    values = run_series(trace, run, what)
    ratio = values[-1] / values[frm] if values[frm] else math.inf
    return Verdict(_within(ratio, between), f"{run} {what}[-1] / [{frm}] = {ratio:.4g}")


def first_step(trace: Trace, run: str, lr: float, between: Sequence[float]) -> Verdict:
    """The run's first step length, in units of lr, lies in [lo, hi]."""
    p = np.array(trace.runs[run]["points"][:2], dtype=float)
    length = float(np.abs(p[1] - p[0]).max()) / lr
    return Verdict(_within(length, between), f"{run} first step = {length:.4g} × lr")


# --- checks: training lab ---------------------------------------------------------------------


def _with_weights(trace: Trace) -> list[dict[str, Any]]:
    """The frames that carry the weights (the first, the last and every few between)."""
    frames = [data for data in trace.frames if "weights" in data]
    if not frames:
        raise ValueError("no frame of this run carries the weights")
    return frames


def identical_units(trace: Trace, layers: Sequence[int]) -> Verdict:
    """In every frame the hidden layers' units have identical incoming weights and biases."""
    worst = 0.0
    for data in _with_weights(trace):
        for k in layers:
            W, b = np.array(data["weights"][k - 1]), np.array(data["biases"][k - 1])
            rows = np.concatenate([W.reshape(-1, W.shape[-1]).T, b.reshape(-1, 1)], axis=1)
            worst = max(worst, float(np.ptp(rows, axis=0).max()))
    return Verdict(worst == 0.0, f"largest spread between units: {worst:.3g}")


def zero_gradient(trace: Trace, layers: Sequence[int]) -> Verdict:
    """The hidden layers' weights never move (their gradient is exactly zero)."""
    frames = _with_weights(trace)
    first = frames[0]
    moved = max(
        float(np.abs(np.array(data["weights"][k - 1]) - np.array(first["weights"][k - 1])).max())
        for data in frames
        for k in layers
    )
    return Verdict(moved == 0.0, f"largest hidden-weight change: {moved:.3g}")


def dead_share(
    trace: Trace, frame: int, between: Sequence[float], layers: Sequence[int] | None = None
) -> Verdict:
    """At frame ``frame`` (negative: from the end), dead hidden units / hidden units in [lo, hi]."""
    data = trace.frames[frame]
    widths = protocol.TrainRequest.model_validate(trace.config).hidden
    picked = range(len(widths)) if layers is None else [k - 1 for k in layers]
    share = sum(data["dead_units"][k] for k in picked) / sum(widths[k] for k in picked)
    return Verdict(_within(share, between), f"frame {frame}: dead share {share:.3g}")


def never_recover(trace: Trace, layer: int) -> Verdict:
    """Once dead, a unit of hidden layer ``layer`` stays dead: its dead count never falls."""
    counts = [data["dead_units"][layer - 1] for data in trace.frames]
    falls = [i for i in range(1, len(counts)) if counts[i] < counts[i - 1]]
    return Verdict(
        not falls, f"layer {layer} dead: {counts[0]} → {max(counts)}; falls at frames {falls[:5]}"
    )


def metric(trace: Trace, what: str, between: Sequence[float], frame: int = -1) -> Verdict:
    """A frame's scalar ``what`` (accuracy, train_loss…) lies in [lo, hi]."""
    v = _f(trace.frames[frame][what])
    return Verdict(_within(v, between), f"frame {frame}: {what} = {v:.4g}")


def straight_boundary(trace: Trace, spread: float = 0.8, tol: float = 0.02) -> Verdict:
    """The last frame's P = 0.5 contour is one straight line, and P varies across the plot.

    The boundary grid's rows follow y; the crossing of 0.5 along each row is found by
    linear interpolation, then a line is fitted to the crossings (residual in units
    of the plot's width).
    """
    P = np.array(trace.frames[-1]["boundary"], dtype=float)
    (x0, x1), (y0, y1) = trace.frames[0]["data"]["domain"]
    xs, ys = np.linspace(x0, x1, P.shape[1]), np.linspace(y0, y1, P.shape[0])
    points = []
    for row, y in zip(P, ys, strict=True):
        s = np.sign(row - 0.5)
        cross = np.nonzero(s[:-1] * s[1:] < 0)[0]
        if len(cross) > 1:
            return Verdict(False, f"row y = {y:.3g} crosses 0.5 {len(cross)} times")
        if len(cross) == 1:
            i = int(cross[0])
            t = (0.5 - row[i]) / (row[i + 1] - row[i])
            points.append((xs[i] + t * (xs[i + 1] - xs[i]), y))
    if len(points) < 3:
        return Verdict(False, f"P spans {P.min():.3g} … {P.max():.3g}: no boundary in view")
    pts = np.array(points)
    A = np.column_stack([pts[:, 1], np.ones(len(pts))])
    coef, *_ = np.linalg.lstsq(A, pts[:, 0], rcond=None)
    residual = float(np.abs(A @ coef - pts[:, 0]).max()) / (x1 - x0)
    ok = residual <= tol and float(P.max() - P.min()) >= spread
    return Verdict(ok, f"P {P.min():.3g} … {P.max():.3g}, line residual {residual:.3g}")


# --- checks: the training lab's loss landscape -----------------------------------------


def _landscapes(trace: Trace) -> list[dict[str, Any]]:
    """The frames' landscape refreshes, in order (the first and the last always come)."""
    return [data["landscape"] for data in trace.frames if data.get("landscape")]


def _landscape_value(land: dict[str, Any], what: str) -> float:
    if what == "center_loss":
        return _f(land["center_loss"])
    if what == "explained_variance":  # the two directions' shares together
        return float(sum(land["explained_variance"] or [math.nan]))
    if what == "lowest_ratio":  # the plane's lowest loss / the loss at its centre
        grid = np.array([[_f(v) for v in row] for row in land["loss"]])
        return float(np.nanmin(grid)) / _f(land["center_loss"])
    if what == "reach":  # the path's farthest coordinate from the centre
        return float(np.max(np.abs(np.array(land["path"], dtype=float))))
    raise ValueError(f"no landscape quantity {what}")


def landscape(trace: Trace, what: str, between: Sequence[float], frame: int = -1) -> Verdict:
    """The ``frame``-th landscape refresh's ``what`` (center_loss, explained_variance:
    the two shares' sum, lowest_ratio: the grid's lowest loss / the centre's, reach:
    the path's farthest |α| or |β|) lies in [lo, hi]."""
    lands = _landscapes(trace)
    if not lands:
        return Verdict(False, "no frame carries a landscape")
    v = _landscape_value(lands[frame], what)
    return Verdict(
        _within(v, between), f"landscape {frame} (step {lands[frame]['step']}): {what} = {v:.4g}"
    )


def shared_landscape(trace: Trace, other: dict[str, Any], apart: float) -> Verdict:
    """The configuration with ``other``'s changes draws the very same map (one plane,
    one loss grid), and the two paths end at least ``apart`` from each other on it."""
    mine = _landscapes(trace)
    theirs = _landscapes(replay(trace.lab, {**trace.config, **other}, trace.options))
    if not mine or not theirs:
        return Verdict(False, "no frame carries a landscape")
    same = mine[-1]["loss"] == theirs[-1]["loss"] and mine[0]["loss"] == theirs[0]["loss"]
    a, b = np.array(mine[-1]["path"][-1], float), np.array(theirs[-1]["path"][-1], float)
    gap = float(np.linalg.norm(a - b))
    return Verdict(same and gap >= apart, f"same grid: {same}; the paths end {gap:.3g} apart")


Check = Callable[..., Verdict]

# --- learning-rate sweeps ---------------------------------------------------------------


def _swept(trace: Trace, run: str, lrs: Sequence[float]) -> list[tuple[float, Any, str]]:
    """(lr, value, status) of the run's curve at the learning rates in [lo, hi]."""
    c = trace.curves[run]
    return [
        (lr, v, st)
        for lr, v, st in zip(c["lrs"], c["values"], c["status"], strict=True)
        if _within(lr, lrs)
    ]


def sweep_best(trace: Trace, run: str, between: Sequence[float]) -> Verdict:
    """The run's best learning rate lies in [lo, hi]."""
    best = trace.curves[run]["best_lr"]
    return Verdict(best is not None and _within(best, between), f"{run}: best lr {best}")


def sweep_values(trace: Trace, run: str, lrs: Sequence[float], between: Sequence[float]) -> Verdict:
    """At every learning rate in ``lrs`` (at least one) the criterion lies in [lo, hi]."""
    points = _swept(trace, run, lrs)
    ok = bool(points) and all(v is not None and _within(v, between) for _, v, _ in points)
    return Verdict(ok, f"{run}: " + ", ".join(f"{lr:.3g} → {v}" for lr, v, _ in points))


def sweep_status(trace: Trace, run: str, lrs: Sequence[float], equals: str) -> Verdict:
    """Every run at a learning rate in ``lrs`` (at least one) ends with this status."""
    points = _swept(trace, run, lrs)
    ok = bool(points) and all(st == equals for _, _, st in points)
    return Verdict(ok, f"{run}: " + ", ".join(f"{lr:.3g} {st}" for lr, _, st in points))


def sweep_never(trace: Trace, run: str, lrs: Sequence[float]) -> Verdict:
    """At every learning rate in ``lrs`` the run neither diverged nor reached the tolerance."""
    points = _swept(trace, run, lrs)
    ok = bool(points) and all(v is None and st != "diverged" for _, v, st in points)
    return Verdict(ok, f"{run}: " + ", ".join(f"{lr:.3g} {v} {st}" for lr, v, st in points))


CHECKS: dict[str, Check] = {
    f.__name__: f
    for f in (
        each_layer,
        layer_ratio,
        end_ratio,
        same_as,
        status,
        converged_at,
        value_at,
        final,
        cycles,
        two_cycle,
        same_curve,
        final_ratio,
        decay,
        first_step,
        identical_units,
        zero_gradient,
        dead_share,
        never_recover,
        metric,
        straight_boundary,
        sweep_best,
        sweep_values,
        sweep_status,
        sweep_never,
        landscape,
        shared_landscape,
    )
}


def check_preset(preset: dict[str, Any]) -> list[tuple[dict[str, Any], Verdict]]:
    """Every claim of a preset, on its own configuration and options.

    A claim with ``"on"`` is about a variant the preset's text names ("switch to
    leaky_relu: it never dies"): it is checked on the configuration with those changes.
    """
    lab, options = preset["lab"], preset.get("options")
    view = preset.get("view", {})
    sweep = view.get("sweep") if view.get("mode") == "sweep" else None
    traces: dict[str, Trace] = {}
    results = []
    for claim in preset["claims"]:
        variant = claim.get("on", {})
        key = repr(sorted(variant.items()))
        if key not in traces:
            traces[key] = replay(lab, {**preset["config"], **variant}, options, sweep=sweep)
        params = {k: v for k, v in claim.items() if k not in ("check", "on")}
        results.append((claim, CHECKS[claim["check"]](traces[key], **params)))
    return results
