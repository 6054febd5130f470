"""The learning-rate sweep's maths: each point is its run raced alone, the best learning
rate is the argmin over the runs that did not diverge, and GD's stable range on the
quadratic bowl ends where the theory says, at lr = 2/L."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepscope.engine import optimizers, race, surfaces, sweep

EIGHT = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw")


def _sweep(
    surface: surfaces.Surface, names: tuple[str, ...], steps: int, **kw: object
) -> sweep.Sweep:
    runs = [race.RunConfig(n) for n in names]
    swept = sweep.Sweep(surface, runs, sweep.SweepConfig(**kw), steps)  # type: ignore[arg-type]
    swept.run()
    return swept


def test_every_sweep_point_is_the_same_run_raced_alone() -> None:
    """Bit for bit for every optimizer but Newton, whose stacked 2 × 2 solve agrees to
    float rounding (|Δθ| ≈ 10⁻¹⁴ here)."""
    surface = surfaces.build("rosenbrock", {})
    names = tuple(optimizers.OPTIMIZERS)
    swept = _sweep(surface, names, 400, lr_min=1e-4, lr_max=3.0, lr_count=7)
    for k, run in enumerate(swept.runs):
        (alone,) = race.descend(surface, [run], 400)
        assert swept.race.status[k] == alone.status, run
        assert swept.race.stopped_at[k] == alone.stopped_at, run
        path = swept.path(k)
        assert path.shape == alone.points.shape
        if run.optimizer == "newton":
            np.testing.assert_allclose(path, alone.points, rtol=1e-9, atol=1e-12, err_msg=str(run))
            continue
        np.testing.assert_array_equal(path, alone.points, err_msg=str(run))
        value = swept.value(k)
        if alone.status == "diverged":
            assert value is None
        else:
            gap = float(alone.loss[-1]) - swept.f_star
            if gap < sweep.ROUNDING * max(1.0, abs(swept.f_star)):
                gap = 0.0  # float64's rounding of f near f*
            assert value == pytest.approx(gap, rel=1e-12, abs=1e-300)
        np.testing.assert_array_equal(swept.path_loss(k), alone.loss)


def _stays_below(loss: np.ndarray, f_star: float, tolerance: float) -> int | None:
    """The first row from which every row to the last is below the tolerance, by hand."""
    first = None
    for r, f in enumerate(loss):
        if f - f_star < tolerance:
            first = r if first is None else first
        else:
            first = None
    return first


@pytest.mark.parametrize(
    ("surface_name", "optimizers", "steps", "lr_max", "tolerance"),
    [
        ("ill_conditioned", ("gd", "adam"), 300, 2.0, 1e-4),
        ("rosenbrock", ("adam",), 2000, 10.0, 1e-6),  # large rates dip below, then leave
    ],
)
def test_steps_to_tolerance_is_the_first_step_from_which_it_stays_below(
    surface_name: str, optimizers: tuple[str, ...], steps: int, lr_max: float, tolerance: float
) -> None:
    surface = surfaces.build(surface_name, {})
    swept = _sweep(
        surface,
        optimizers,
        steps,
        lr_min=0.01,
        lr_max=lr_max,
        lr_count=9,
        criterion="steps_to_tolerance",
        tolerance=tolerance,
    )
    seen_value = seen_never = seen_left = False
    for k, run in enumerate(swept.runs):
        (alone,) = race.descend(surface, [run], steps)
        value = swept.value(k)
        stays = _stays_below(alone.loss, swept.f_star, tolerance)  # (tolerance ≫ the floor)
        touched = bool(np.any(alone.loss - swept.f_star < tolerance))
        if alone.status == "diverged" or stays is None:
            assert value is None
            seen_never = True
            seen_left |= alone.status != "diverged" and touched
        else:
            assert value == stays
            seen_value = True
    assert seen_value and seen_never  # both kinds occur in this grid
    if surface_name == "rosenbrock":
        assert seen_left  # a run that got below and left has no value


def test_adam_too_fast_on_rosenbrock_dips_below_the_tolerance_and_leaves() -> None:
    """The docs' example of a run that has not got there (docs/numerics.md, sweep.py)."""
    lr = float(sweep.learning_rates(1e-5, 10.0, 25)[21])
    assert round(lr, 2) == 1.78
    (alone,) = race.descend(
        surfaces.build("rosenbrock", {}), [race.RunConfig("adam", {"lr": lr})], 2000
    )
    below = np.flatnonzero(alone.loss < 1e-6)  # (f* = 0)
    assert below[0] == 435 and below.size == 13 and np.all(np.diff(below) == 1)
    assert 0.5 < np.median(alone.loss[below[-1] + 1 :]) < 2.0
    assert _stays_below(alone.loss, 0.0, 1e-6) is None


def test_steps_to_tolerance_while_streaming_follows_the_run_in_and_out() -> None:
    """Advanced a few steps at a time, a run's value is where its current stay below
    the tolerance began, and none while it is above."""
    surface = surfaces.build("rosenbrock", {})
    config = sweep.SweepConfig(1.0, 3.0, 5, "steps_to_tolerance", 1e-6)
    swept = sweep.Sweep(surface, [race.RunConfig("adam")], config, 2000)
    values: list[list[int | None]] = []
    while swept.row < swept.steps:
        swept.advance(37)
        values.append([swept.value(k) for k in range(5)])
        for k in range(5):
            loss = swept.path_loss(k)
            assert values[-1][k] == _stays_below(loss, swept.f_star, 1e-6)
    # (at lr 1.32 Adam gets below at step 650 and out again before step 1221)
    left = [k for k in range(5) if any(r[k] is not None for r in values) and values[-1][k] is None]
    assert left and any(v is not None for v in values[-1])


def test_the_best_lr_is_the_argmin_over_finished_runs_and_diverged_never_wins() -> None:
    surface = surfaces.build("rosenbrock", {})
    swept = _sweep(surface, EIGHT, 500)
    for curve in swept.curves():
        finished = [i for i, s in enumerate(curve.status) if s != "diverged"]
        assert all(curve.values[i] is None for i, s in enumerate(curve.status) if s == "diverged")
        candidates = [i for i in finished if curve.values[i] is not None]
        if not candidates:
            assert curve.best is None and curve.best_lr is None
            continue
        lowest = min(curve.values[i] for i in candidates)  # type: ignore[type-var]
        assert curve.best == min(i for i in candidates if curve.values[i] == lowest)
        assert curve.status[curve.best] != "diverged"
        assert curve.best_lr == curve.lrs[curve.best]
    # the wide default range makes every momentum-free GD run past its limit diverge
    gd = swept.curves()[0]
    assert "diverged" in gd.status and gd.status[-1] == "diverged"


@pytest.mark.parametrize(
    ("values", "best"),
    [
        ([3.0, None, 1.0, 2.0], 2),
        ([None, None], None),
        ([], None),
        ([0.0, 0.0, 0.0], 0),  # a tie: the smaller learning rate
        ([5, 3, 3, None], 1),
        ([None, 1e300, 2.0], 2),  # huge but finite values compete; missing ones do not
    ],
)
def test_best_index_ties_go_to_the_smaller_learning_rate(
    values: list[float | None], best: int | None
) -> None:
    assert sweep.best_index(values) == best


def test_gd_stable_range_ends_at_two_over_l_on_the_quadratic_bowl() -> None:
    """Stable for lr < 2/L, diverged for lr > 2/L, L the largest curvature (the theory
    line): around it the grid's last converging lr and first diverging one straddle 2/L."""
    condition = 10.0
    surface = surfaces.build("bowl", {"condition": condition, "rotation": 30.0})
    (minimum,) = surface.minima
    L = max(minimum.eigenvalues)
    assert pytest.approx(condition) == L
    limit = 2.0 / L
    swept = _sweep(surface, ("gd",), 2000, lr_min=limit / 4, lr_max=limit * 4, lr_count=41)
    (curve,) = swept.curves()
    stable = [lr for lr, s in zip(curve.lrs, curve.status, strict=True) if s != "diverged"]
    diverged = [lr for lr, s in zip(curve.lrs, curve.status, strict=True) if s == "diverged"]
    assert stable and diverged
    assert max(stable) < limit < min(diverged)
    ratio = curve.lrs[1] / curve.lrs[0]
    assert min(diverged) / max(stable) == pytest.approx(ratio)  # adjacent grid points
    assert curve.best_lr is not None and curve.best_lr < limit


def test_runs_at_f_star_to_machine_precision_tie_and_the_first_there_wins() -> None:
    """Adam on Rosenbrock reaches f* to float64's rounding for a whole range of learning
    rates: those are one tie (value 0), won by the one that got there (and stayed) first —
    not by the smallest, the slowest of them."""
    surface = surfaces.build("rosenbrock", {})
    swept = _sweep(surface, ("adam",), 2000)
    (curve,) = swept.curves()
    zeros = [i for i, v in enumerate(curve.values) if v == 0.0]
    assert len(zeros) >= 3
    arrived = {i: _stays_below(swept.path_loss(i), swept.f_star, swept.floor) for i in zeros}
    first = min(arrived.values(), key=lambda r: -1 if r is None else r)
    assert curve.best == min(i for i in zeros if arrived[i] == first)
    assert curve.best != zeros[0]  # (here the smallest such rate is not the fastest)
    assert all(v is None or v == 0.0 or v >= swept.floor for v in curve.values)


def test_best_index_breaks_a_tie_by_the_second_key_then_the_smaller_lr() -> None:
    assert sweep.best_index([0.0, 0.0, 0.0, 1.0], [30.0, 10.0, 10.0, 0.0]) == 1
    assert sweep.best_index([0.0, None, 0.0], [5.0, 0.0, 5.0]) == 0
    assert sweep.best_index([2.0, 1.0], [0.0, 9.0]) == 1  # (only a tie reads it)


def test_learning_rates_are_log_spaced_with_exact_ends() -> None:
    lrs = sweep.learning_rates(1e-5, 10.0, 25)
    assert lrs[0] == 1e-5 and lrs[-1] == 10.0 and lrs.size == 25
    np.testing.assert_allclose(np.diff(np.log10(lrs)), 0.25, rtol=1e-12)
    assert sweep.learning_rates(0.1, 0.1, 1).tolist() == [0.1]


def test_a_surface_without_a_minimum_is_refused() -> None:
    surface = surfaces.build("monkey_saddle", {})
    assert not surface.minima
    with pytest.raises(sweep.NoMinimumError, match="no known minimum"):
        sweep.Sweep(surface, [race.RunConfig("gd")], sweep.SweepConfig(), 10)


def test_a_sweep_stops_at_its_steps() -> None:
    surface = surfaces.build("rosenbrock", {})
    swept = _sweep(surface, ("adam",), 30, lr_count=3)
    assert swept.row == 30
    with pytest.raises(ValueError, match="done its 30 steps"):
        swept.advance(1)
    assert all(math.isfinite(v) for v in swept.curves()[0].values if v is not None)
