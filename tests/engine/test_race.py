"""Races: the lectures' gradient-descent walk-throughs, statuses and stopping."""

from __future__ import annotations

import numpy as np
import pytest

from deepscope.engine import surfaces
from deepscope.engine.optimizers import Schedule
from deepscope.engine.race import Race, RunConfig, descend


def _gd(surface: str, lr: float, steps: int, start: tuple[float, ...] | None = None):  # type: ignore[no-untyped-def]
    return descend(surfaces.build(surface), [RunConfig("gd", {"lr": lr}, start=start)], steps)[0]


def test_quadratic_learning_rates() -> None:
    """f = x² − 10x + 1: x_{t+1} = (1 − 2γ)x_t + 10γ."""
    for lr in (0.01, 0.1, 0.5, 1.0, 1.1):
        r = _gd("quadratic_1d", lr, 30, start=(0.0,))
        x = 0.0
        for t in range(1, min(len(r.points), 20)):
            x = (1 - 2 * lr) * x + 10 * lr
            assert r.points[t, 0] == pytest.approx(x, rel=1e-12, abs=1e-12)
    assert _gd("quadratic_1d", 0.5, 30, (0.0,)).points[1, 0] == 5.0  # one step
    half = _gd("quadratic_1d", 0.5, 30, (0.0,))
    assert (half.status, half.stopped_at) == ("converged", 1)
    one = _gd("quadratic_1d", 1.0, 30, (-5.0,))
    assert one.status == "running"
    np.testing.assert_allclose(one.points[:5, 0], [-5, 15, -5, 15, -5])  # oscillates forever
    blow = _gd("quadratic_1d", 1.1, 200, (0.0,))
    assert blow.status == "diverged" and blow.stopped_at is not None
    slow = _gd("quadratic_1d", 0.01, 30, (0.0,))
    fast = _gd("quadratic_1d", 0.1, 30, (0.0,))
    assert abs(fast.points[-1, 0] - 5) < abs(slow.points[-1, 0] - 5)  # bigger is faster here


def test_x_squared_from_20() -> None:
    np.testing.assert_allclose(_gd("parabola_1d", 0.25, 3).points[:, 0], [20, 10, 5, 2.5])
    half = _gd("parabola_1d", 0.5, 3)
    np.testing.assert_allclose(half.points[:, 0], [20, 0])
    np.testing.assert_allclose(half.grad[:, 0], [40, 0])  # f′(20) = 40, not the slide's 20


def test_shifted_bowl_first_step() -> None:
    r = _gd("shifted_bowl", 0.1, 1)
    np.testing.assert_allclose(r.points, [[-9, 6], [-6.2, 4.8]])
    np.testing.assert_allclose(r.grad, [[-28, 12], [-22.4, 9.6]])


def test_ill_conditioned_bowl() -> None:
    assert _gd("ill_conditioned", 0.9, 1).loss[0] == pytest.approx(31.4)
    zigzag = _gd("ill_conditioned", 0.9, 400)
    assert zigzag.status == "converged"
    signs = np.sign(zigzag.points[1:8, 1])
    assert np.all(signs[1:] == -signs[:-1])  # x₂ flips sign every step
    assert _gd("ill_conditioned", 0.5, 1).points[1, 1] == 0.0  # zeroes x₂ in one step
    forever = _gd("ill_conditioned", 1.0, 400)
    assert forever.status == "running"
    np.testing.assert_allclose(np.abs(forever.points[-5:, 1]), 5.0)


def test_saddle_stall_and_escape() -> None:
    stall = _gd("saddle", 0.1, 500, (0.0, 2.0))
    assert stall.status == "converged"
    np.testing.assert_allclose(stall.points[-1], [0, 0], atol=1e-8)
    escape = _gd("saddle", 0.1, 500, (0.001, 2.0))
    assert escape.status == "diverged"  # slides down x₁ forever
    assert abs(escape.points[-1, 0]) > 3


def test_quartic_learning_rates() -> None:
    crawl = _gd("quartic_1d", 1e-5, 3000)
    assert crawl.status == "running" and -1 < crawl.points[-1, 0] < 0  # stuck on the shoulder
    good = _gd("quartic_1d", 3e-4, 3000)
    assert good.status == "converged"
    assert good.points[-1, 0] == pytest.approx(37.5, abs=0.01)
    cycle = _gd("quartic_1d", 4e-4, 3000)
    assert cycle.status == "running"
    a, b, c = cycle.points[-3:, 0]
    assert a == pytest.approx(c, abs=1e-9) and abs(a - b) > 5  # a 2-cycle around x*
    assert min(a, b) < 37.5 < max(a, b)


def test_newton_one_step_on_a_quadratic() -> None:
    for name, start in (("booth", (-8.0, -8.0)), ("bowl", (-4.0, 3.0)), ("shifted_bowl", None)):
        r = descend(surfaces.build(name), [RunConfig("newton", start=start)], 10)[0]
        assert r.stopped_at == 1
        minimum = surfaces.build(name).minima[0].point
        np.testing.assert_allclose(r.points[1], minimum, atol=1e-12)


def test_divergence_is_a_status_never_a_nan() -> None:
    s = surfaces.build("rosenbrock")
    runs = [RunConfig("gd", {"lr": 0.1}), RunConfig("adam", {"lr": 0.01})]
    res = descend(s, runs, 500)
    assert res[0].status == "diverged"
    assert res[1].status == "running"
    for r in res:
        for arr in (r.points, r.loss, r.grad, r.step, r.effective_lr):
            assert np.all(np.isfinite(arr))
    assert res[0].points.shape[0] == res[0].stopped_at + 1
    assert res[1].points.shape[0] == 501


def test_streaming_chunks_continue_the_same_run() -> None:
    s = surfaces.build("beale")
    runs = [RunConfig("adam", {"lr": 0.05}), RunConfig("momentum", {"lr": 0.001})]
    race = Race(s, runs)
    chunks = [race.initial(), race.advance(7), race.advance(13)]
    streamed = np.concatenate([c.points for c in chunks])
    whole = descend(s, runs, 20)
    for k in range(2):
        np.testing.assert_array_equal(streamed[:, k], whole[k].points)
    assert chunks[2].first_row == 8


def test_starts_must_match_the_dimension() -> None:
    with pytest.raises(ValueError, match="coordinate"):
        Race(surfaces.build("rosenbrock"), [RunConfig("gd", start=(1.0,))])


def test_parts_of_the_rule_are_dropped_when_their_runs_stop() -> None:
    """Newton converges in a few steps; the race then stops evaluating the Hessian,
    and the other runs' rows are the same as without it."""
    s = surfaces.build("rosenbrock")
    runs = [RunConfig("newton"), RunConfig("nesterov", {"lr": 0.001}), RunConfig("adam")]
    race = Race(s, runs)
    assert race.need_hessian and race.has_nesterov
    race.advance(100)
    assert race.status[0] == "converged" and not race.need_hessian
    assert race.has_nesterov
    later = race.advance(50)  # the stopped run sits still, with a zero step
    np.testing.assert_array_equal(later.points[:, 0], np.broadcast_to(race.theta[0], (50, 2)))
    assert not later.step[:, 0].any() and not later.effective_lr[:, 0].any()
    together = descend(s, runs, 300)
    for run, res in zip(runs, together, strict=True):
        alone = descend(s, [run], 300)[0]
        np.testing.assert_array_equal(res.points, alone.points)
        np.testing.assert_array_equal(res.effective_lr, alone.effective_lr)


def test_chunks_across_check_blocks_match_each_run_alone() -> None:
    """Learning rates, bias corrections and look-aheads are tabled a check block at a
    time: advances of any length, crossing blocks, with runs stopping inside them (GD
    diverges, Newton converges), give every run the rows it gets alone, without the
    distances too."""
    s = surfaces.build("rosenbrock")
    runs = [
        RunConfig("gd", {"lr": 0.1}),
        RunConfig("newton"),
        RunConfig("nesterov", {"lr": 0.001}, schedule=Schedule("cosine", period=150)),
        RunConfig("adam", {"lr": 0.05}, schedule=Schedule("step", step_size=40)),
        RunConfig("adadelta", {"lr": 2.0}),
    ]
    for distance in (True, False):
        race = Race(s, runs, distance=distance)
        chunks = [race.initial()] + [race.advance(n) for n in (1, 63, 64, 65, 7)]
        assert race.status[:2] == ["diverged", "converged"]
        for k, run in enumerate(runs):
            alone = descend(s, [run], 200)[0]
            rows = alone.points.shape[0]
            for name, mine in (
                ("points", alone.points),
                ("loss", alone.loss),
                ("grad", alone.grad),
                ("step", alone.step),
                ("effective_lr", alone.effective_lr),
            ):
                got = np.concatenate([getattr(c, name) for c in chunks])[:rows, k]
                np.testing.assert_array_equal(got, mine, err_msg=f"{run.optimizer} {name}")
            if distance:
                got = np.concatenate([c.distance for c in chunks])[:rows, k]
                np.testing.assert_array_equal(got, alone.distance)
            else:
                assert all(c.distance is None for c in chunks)
