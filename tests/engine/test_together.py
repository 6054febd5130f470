"""Races stepped together (one stacked race for many sessions' runs) get, to the last bit,
exactly what each gets stepped alone: rows, statuses, stops and the state they go on from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from deepscope.engine import race, surfaces
from deepscope.engine.optimizers import OPTIMIZERS, SCHEDULES, Schedule
from deepscope.engine.race import Chunk, Race, RunConfig

FIELDS = ("points", "loss", "grad", "step", "effective_lr", "distance")
FIRST_ORDER = [name for name in OPTIMIZERS if name != "newton"]
# Every schedule, with settings that change the learning rate within a few steps.
SCHEDULED = [Schedule(name, step_size=3, gamma=0.7, period=40) for name in SCHEDULES]


def bits(a: np.ndarray | None) -> bytes | None:
    return None if a is None else np.ascontiguousarray(a).tobytes()


def assert_same(alone: Chunk, together: Chunk) -> None:
    assert alone.first_row == together.first_row
    for name in FIELDS:
        assert bits(getattr(alone, name)) == bits(getattr(together, name)), name


def assert_same_race(alone: Race, together: Race) -> None:
    assert (alone.row, alone.status, alone.stopped_at) == (
        together.row,
        together.status,
        together.stopped_at,
    )
    assert bits(alone.theta) == bits(together.theta)
    for name in ("m", "v", "vmax", "u"):
        assert bits(getattr(alone.rule, name)) == bits(getattr(together.rule, name)), name
    assert alone.rule.parts() == together.rule.parts()
    assert alone.need_hessian == together.need_hessian
    assert alone.has_nesterov == together.has_nesterov


@pytest.fixture
def stacks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the stacked races formed (so a test sees that grouping happened)."""
    sizes: list[int] = []
    original = race._Stack.__init__

    def spy(self: Any, members: Sequence[Race]) -> None:
        sizes.append(len(members))
        original(self, members)

    monkeypatch.setattr(race._Stack, "__init__", spy)
    return sizes


def run_both(
    make: Callable[[], list[Race]], advances: Sequence[int]
) -> tuple[list[Race], list[Race]]:
    """The same races advanced alone and together; every chunk compared bit for bit."""
    alone, together = make(), make()
    for n in advances:
        expected = [r.advance(n) for r in alone]
        got = race.advance_together(together, n).chunks
        for a, b in zip(expected, got, strict=True):
            assert_same(a, b)
    for a, b in zip(alone, together, strict=True):
        assert_same_race(a, b)
    return alone, together


ADVANCES = (1, 5, 2, 64, 3, 130, 7)


def sessions_of_one_race(runs: Callable[[int], list[RunConfig]], surface: str = "rosenbrock"):  # type: ignore[no-untyped-def]
    """Four sessions' races on one surface, each its own learning rates, seed and start."""

    def make() -> list[Race]:
        s = surfaces.build(surface)
        return [Race(s, runs(i), seed=i) for i in range(4)]

    return make


@pytest.mark.parametrize("name", FIRST_ORDER)
def test_every_optimizer_stepped_together_is_what_it_is_alone(name: str, stacks: list[int]) -> None:
    """Four sessions racing one optimizer, each at its own learning rate, schedule, noise
    (seeded per session), clipping and start."""

    def runs(i: int) -> list[RunConfig]:
        return [
            RunConfig(
                name,
                {"lr": 0.0005 * (i + 1)},
                start=(-1.5 + 0.1 * i, 2.0),
                noise=0.05,
                clip_norm=5.0,
                clip_value=3.0,
                schedule=SCHEDULED[i % len(SCHEDULED)],
            ),
            RunConfig(name, {"lr": 0.001}, schedule=SCHEDULED[(i + 1) % len(SCHEDULED)]),
        ]

    run_both(sessions_of_one_race(runs), ADVANCES)
    assert stacks and max(stacks) == 4  # all four as one race


def test_mixed_races_with_schedules_clipping_and_noise(stacks: list[int]) -> None:
    """Sessions racing every first-order optimizer at once (the defaults and then some),
    two of them with the same seed: the same noise stream, each its own copy of it."""

    def runs(i: int) -> list[RunConfig]:
        return [
            RunConfig(
                name,
                {"lr": 0.002 * (1 + i % 2)},
                noise=0.02 * (j % 3),
                clip_norm=1.0 if j % 2 else None,
                schedule=SCHEDULED[(i + j) % len(SCHEDULED)],
            )
            for j, name in enumerate(FIRST_ORDER)
        ]

    def make() -> list[Race]:
        s = surfaces.build("beale")
        return [Race(s, runs(i), seed=i // 2) for i in range(4)]

    run_both(make, ADVANCES)
    assert stacks and max(stacks) == 4


def test_the_lecture_race_of_a_class(stacks: list[int]) -> None:
    """What a class races (gd, momentum, Adam on Rosenbrock), each student with another
    learning rate: one race for all."""

    def runs(i: int) -> list[RunConfig]:
        return [
            RunConfig("gd", {"lr": 0.001}),
            RunConfig("adam", {"lr": 0.01 + 0.01 * (i % 5)}),
            RunConfig("momentum", {"lr": 0.001}),
        ]

    def make() -> list[Race]:
        s = surfaces.build("rosenbrock")
        return [Race(s, runs(i), seed=0) for i in range(12)]

    run_both(make, (2,) * 30)
    assert stacks == [12] * 30


def test_a_run_that_diverges_or_converges_in_the_batch_changes_no_other(
    stacks: list[int],
) -> None:
    """On the bowl, GD at lr 5 diverges and Adam converges while the other sessions go on;
    the stop lands inside an advance longer than a check block (the races are grouped
    again after it)."""

    def make() -> list[Race]:
        s = surfaces.build("bowl")
        out = []
        for i in range(5):
            runs = [RunConfig("adam", {"lr": 0.1}), RunConfig("momentum", {"lr": 0.05})]
            if i % 2 == 0:
                runs.append(RunConfig("gd", {"lr": 5.0 if i == 0 else 0.2}))
            out.append(Race(s, runs, seed=i))
        return out

    alone, _ = run_both(make, (3, 150, 2, 400, 5))
    assert alone[0].status[2] == "diverged"
    assert "converged" in alone[2].status
    assert stacks and max(stacks) == 5


def test_newton_steps_alone_while_it_runs_then_joins() -> None:
    """Newton's solve decides for all rows at once whether every Hessian is regular, so a
    race with a running Newton run cannot share; once Newton has converged it can."""

    def make() -> list[Race]:
        s = surfaces.build("ill_conditioned")
        runs = [RunConfig("newton", {"lr": 1.0}), RunConfig("nesterov", {"lr": 0.01})]
        plain = [RunConfig("nesterov", {"lr": 0.02})]
        return [Race(s, runs, seed=0), Race(s, plain, seed=1), Race(s, runs, seed=2)]

    probe = make()
    assert probe[0].share_key() is None and probe[1].share_key() is not None
    _, together = run_both(make, (1, 2, 5, 70, 3))
    assert together[0].status[0] == "converged"  # Newton stopped, and dropped out
    assert together[0].share_key() is not None
    assert together[0].share_key() == together[2].share_key()


def test_sessions_join_leave_pause_and_reset_mid_batch() -> None:
    """Twelve ticks; at each, the sessions that play advance together. Some pause (they
    skip ticks), one leaves, one joins late, one resets (a fresh race): each session's
    rows are those of its own race stepped alone, tick by tick."""
    s = surfaces.build("rosenbrock")

    def fresh(i: int) -> Race:
        runs = [
            RunConfig("gd", {"lr": 0.001}),
            RunConfig("adam", {"lr": 0.01 * (1 + i)}, noise=0.1, schedule=SCHEDULED[i % 5]),
            RunConfig("momentum", {"lr": 0.001}),
        ]
        return Race(s, runs, seed=i)

    alone = {i: fresh(i) for i in range(5)}
    together = {i: fresh(i) for i in range(5)}
    rng = np.random.default_rng(0)
    for tick in range(12):
        if tick == 3:
            del alone[1], together[1]  # leaves
        if tick == 5:
            alone[7], together[7] = fresh(7), fresh(7)  # joins
        if tick == 6:
            alone[2], together[2] = fresh(2), fresh(2)  # resets
        playing = [i for i in together if i == 0 or rng.random() < 0.6]  # the rest pause
        got = race.advance_together([together[i] for i in playing], 4).chunks
        for i, chunk in zip(playing, got, strict=True):
            assert_same(alone[i].advance(4), chunk)
    for i in alone:
        assert_same_race(alone[i], together[i])


def test_one_race_over_several_blocks_is_its_advance() -> None:
    s = surfaces.build("himmelblau")
    runs = [RunConfig("rmsprop", {"lr": 0.01}, noise=0.3), RunConfig("adadelta")]
    a, b = Race(s, runs, seed=4), Race(s, runs, seed=4)
    assert_same(a.advance(300), race.advance_together([b], 300).chunks[0])
    assert_same_race(a, b)


def test_what_shares_a_key() -> None:
    """Learning rates, seeds, starts, schedules and noise σ differ per session without
    parting it from its group; the surface (named and with its parameters, or typed, by
    its parsed form), the parts of the rule, Nesterov, noise on/off and clipping do."""
    rosen = surfaces.build("rosenbrock")

    def key(s: surfaces.Surface, *runs: RunConfig, seed: int = 0) -> Any:
        return Race(s, list(runs), seed=seed).share_key()

    base = key(rosen, RunConfig("gd", {"lr": 0.001}), RunConfig("adam", {"lr": 0.05}))
    assert base is not None
    assert base == key(
        rosen,
        RunConfig("gd", {"lr": 0.003}, start=(0.5, 0.5), schedule=Schedule("cosine")),
        RunConfig("adam", {"lr": 0.01, "beta1": 0.8}),
        seed=9,
    )
    assert base == key(rosen, RunConfig("adam"), RunConfig("gd"))  # order of the runs
    assert base != key(rosen, RunConfig("gd"), RunConfig("adam", {"bias_correction": False}))
    assert base != key(rosen, RunConfig("gd"))
    assert base != key(rosen, RunConfig("gd"), RunConfig("adam"), RunConfig("nesterov"))
    assert base != key(rosen, RunConfig("gd", noise=0.1), RunConfig("adam"))
    assert base != key(rosen, RunConfig("gd", clip_norm=1.0), RunConfig("adam"))
    assert base != key(rosen, RunConfig("gd", clip_value=1.0), RunConfig("adam"))
    noisy = key(rosen, RunConfig("gd", noise=0.1), RunConfig("adam"))
    assert noisy == key(rosen, RunConfig("gd", noise=0.5), RunConfig("adam"), seed=3)
    other = surfaces.build("rosenbrock", {"b": 10.0})
    assert base != key(other, RunConfig("gd"), RunConfig("adam"))
    assert base != key(surfaces.build("beale"), RunConfig("gd"), RunConfig("adam"))

    typed = [
        surfaces.build_custom(surfaces.CustomSurface(text))
        for text in ("x**2 + 10*y**2", "x^2+10*y ^ 2", "(x**2) + 10*(y**2)")
    ]
    keys = {key(t, RunConfig("gd")) for t in typed}
    assert len(keys) == 1  # spelling and spaces do not matter
    assert key(typed[0], RunConfig("gd")) != key(
        surfaces.build_custom(surfaces.CustomSurface("x**2 + 10*y**2", ((-3.0, 3.0),) * 2)),
        RunConfig("gd"),
    )  # another window: another divergence bound
    assert key(rosen, RunConfig("newton"), RunConfig("gd")) is None


def test_a_kept_stack_steps_its_races_again_only_while_it_holds_their_state() -> None:
    """``Stacks`` keeps the stack of the last round trips: the same races asked for again
    are stepped by it; one stepped meanwhile on its own (or another race object: a new
    configuration) makes a new stack. Two races alone do not pay for a new stack."""
    s = surfaces.build("rosenbrock")

    def make() -> list[Race]:
        return [
            Race(s, [RunConfig("gd", {"lr": 0.001 * (i + 1)}), RunConfig("adam")], seed=i)
            for i in range(4)
        ]

    alone, together = make(), make()
    stacks = race.Stacks()

    def tick(ids: Sequence[int], n: int = 2) -> list[int]:
        got = race.advance_together([together[i] for i in ids], n, stacks)
        for i, chunk in zip(ids, got.chunks, strict=True):
            assert_same(alone[i].advance(n), chunk)
        stacks.round_done()
        return got.stacked

    assert tick([0, 1, 2]) == [3, 3, 3] and (stacks.built, stacks.reused) == (1, 0)
    assert tick([0, 1, 2]) == [3, 3, 3] and (stacks.built, stacks.reused) == (1, 1)
    assert tick([1]) == [1]  # 1 on its own: the kept stack no longer holds its state
    assert tick([0, 1, 2]) == [3, 3, 3] and (stacks.built, stacks.reused) == (2, 1)
    assert tick([2, 3]) == [1, 1] and stacks.built == 2  # two: not worth a new stack
    assert tick([0, 1, 2], 5) == [3, 3, 3] and stacks.reused == 1  # (2 stepped meanwhile)
    assert tick([0, 1, 2, 3]) == [4] * 4
    for _ in range(race.Stacks.KEEP_ROUNDS + 1):
        tick([3])
    assert not stacks._stacks  # unused for that long: dropped, and the races with them
    for a, b in zip(alone, together, strict=True):
        assert_same_race(a, b)
