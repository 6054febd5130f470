"""Frame workers: the streaming labs' runs in worker processes, many sessions' requests in
one round trip, each session's numbers exactly what its lab computes alone."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
from typing import Any

import pytest
from pydantic import TypeAdapter

from deepscope.engine.optimizers import OPTIMIZERS
from deepscope.protocol import Configure
from deepscope.sessions.encode import dumps
from deepscope.sessions.runners import make_runner
from deepscope.sessions.workers import (
    Framed,
    FrameHandler,
    FrameWorkers,
    LabError,
    Refused,
)

CONFIGURE: TypeAdapter[Any] = TypeAdapter(Configure)

RACE = {
    "surface": "rosenbrock",
    "steps": 400,
    "seed": 3,
    "runs": [
        {"optimizer": "gd", "lr": 0.001},
        {"optimizer": "adam", "lr": 0.05, "schedule": {"name": "step", "step_size": 50}},
        {"optimizer": "momentum", "lr": 0.001, "clip_norm": 0.5},
        {"optimizer": "gd", "lr": 0.002, "noise": 0.3},
    ],
}
NEWTON = {
    "surface": "ill_conditioned",
    "steps": 40,
    "runs": [{"optimizer": "newton", "lr": 1.0}, {"optimizer": "nesterov", "lr": 0.01}],
}
DIVERGES = {"surface": "bowl", "steps": 400, "runs": [{"optimizer": "gd", "lr": 5.0}]}
TRAIN = {"dataset": "circle", "hidden": [8, 8], "steps": 400, "seed": 5}
EVERY_OPTIMIZER = {
    "surface": "beale",
    "steps": 400,
    "seed": 9,
    "runs": [
        {"optimizer": name, "lr": 1.0 if name == "newton" else 0.002, "noise": 0.05}
        for name in OPTIMIZERS
    ],
}


def configure(lab: str, config: dict[str, Any], **options: Any) -> Any:
    message = {"type": "configure", "lab": lab, "config": config, "options": options}
    return CONFIGURE.validate_python(message)


def alone(lab: str, config: dict[str, Any], frames: int, n: int = 3) -> list[str]:
    """A lab's frames as its runner makes them, by itself, encoded."""
    runner = make_runner(configure(lab, config, fps=10))
    out = [dumps(runner.start().data)]
    for _ in range(frames):
        got = runner.advance(n)
        out.append(dumps(got.data))
        if got.ended:
            break
    return out


CASES = [
    ("descend", RACE),
    ("descend", EVERY_OPTIMIZER),
    ("descend", NEWTON),
    ("descend", DIVERGES),
    ("train", TRAIN),
    ("train", {**TRAIN, "optimizer": {"optimizer": "momentum", "lr": 0.05, "clip_norm": 1.0}}),
]


@pytest.mark.parametrize(
    ("lab", "config"),
    CASES,
    ids=["race", "every-optimizer", "newton", "diverges", "train", "train-momentum-clipped"],
)
def test_sessions_interleaved_in_batches_get_exactly_their_own_frames(
    lab: str, config: dict[str, Any]
) -> None:
    """Three sessions on one worker, their requests in shared round trips, started at
    different times, one of them resetting mid-way and one leaving: each session's frames
    are, byte for byte, those of its configuration alone."""
    expected = alone(lab, config, 12)
    other = alone("descend", RACE, 12)

    async def go() -> dict[str, list[str]]:
        workers = FrameWorkers(processes=1)
        worker = workers.place()
        got: dict[str, list[str]] = {"a": [], "b": [], "c": []}

        async def ask(sid: str, *request: Any) -> None:
            reply = await worker.ask(request[0], sid, *request[1:])
            assert isinstance(reply, Framed), reply
            got[sid].append(reply.data_json)

        await asyncio.gather(
            ask("a", "start", configure(lab, config, fps=10), None),
            ask("b", "start", configure("descend", RACE, fps=10), None),
        )
        for i in range(12):
            batch = [ask("a", "advance", 3, False)]
            if i == 4:  # b resets: its run starts again
                got["b"].clear()
                batch.append(ask("b", "start", configure("descend", RACE, fps=10), None))
            else:
                batch.append(ask("b", "advance", 3, False))
            if i == 2:  # c joins, then leaves at 6
                batch.append(ask("c", "start", configure(lab, config, fps=10), None))
            if 2 < i < 6:
                batch.append(ask("c", "advance", 3, False))
            if i == 6:
                workers.leave(worker, "c")
            await asyncio.gather(*batch)
        stats = workers.stats()
        workers.shutdown()
        assert stats["batches"] < stats["requests"]  # round trips were shared
        return got

    got = asyncio.run(go())
    ended = len(expected)
    assert got["a"][:ended] == expected
    assert got["b"] == other[: len(got["b"])]
    assert len(got["c"]) == 4 and got["c"][: min(4, ended)] == expected[:4]


def test_the_training_frames_carry_their_views_on_a_cadence_and_say_from_when() -> None:
    runner = make_runner(configure("train", TRAIN, fps=20, view_fps=5))
    frames = [json.loads(dumps(runner.start().data))]
    for _ in range(9):
        frames.append(json.loads(dumps(runner.advance(2).data)))
    frames.append(json.loads(dumps(runner.advance(2, views=True).data)))  # a student's step
    with_views = [i for i, f in enumerate(frames) if "boundary" in f]
    assert with_views == [0, 4, 8, 10]  # the first, every 20/5 = 4th, the asked-for step
    for f in frames:
        latest = max(i for i in with_views if i <= frames.index(f))
        assert f["views_step"] == frames[latest]["step"]
        assert ("histograms" in f) == ("weights" in f) == ("boundary" in f)
        assert f["train_loss"] is not None and f["accuracy"] is not None  # every frame


def test_the_last_training_frame_carries_the_views() -> None:
    runner = make_runner(configure("train", {**TRAIN, "steps": 7}, fps=30, view_fps=1))
    runner.start()
    while (out := runner.advance(2)).ended is None:
        assert "boundary" not in out.data
    assert out.step == 7 and "boundary" in out.data and out.data["views_step"] == 7


def test_a_configuration_the_lab_cannot_run_is_refused_and_keeps_the_run_before() -> None:
    handler = FrameHandler()
    ((_, first),) = handler.handle([("start", "s", 1, configure("descend", RACE), None)])
    assert isinstance(first, Framed)
    bad = {**RACE, "runs": [{"optimizer": "gd", "lr": 0.01, "start": [1.0]}]}  # 2-D surface
    ((_, refused),) = handler.handle([("start", "s", 2, configure("descend", bad), None)])
    assert isinstance(refused, Refused) and refused.name is not None
    assert "start" in str(refused.error())
    ((_, going_on),) = handler.handle([("advance", "s", 3, 1, False)])
    assert isinstance(going_on, Framed) and going_on.step == 1


def test_a_worker_that_dies_fails_its_requests_and_starts_again() -> None:
    async def go() -> None:
        workers = FrameWorkers(processes=1)
        worker = workers.place()
        first = await worker.ask("start", "s", configure("descend", RACE), None)
        assert isinstance(first, Framed)
        pid = worker.child.pid
        assert pid is not None and pid != os.getpid()  # a process of its own
        os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.2)
        lost = await worker.ask("advance", "s", 1, False)
        assert isinstance(lost, LabError)  # the run was in the dead process
        again = await worker.ask("start", "s", configure("descend", RACE), None)
        assert isinstance(again, Framed) and worker.child.pid not in (None, pid)
        workers.shutdown()

    asyncio.run(go())


def test_sessions_are_spread_over_the_workers() -> None:
    async def go() -> None:
        workers = FrameWorkers(processes=2)
        placed = [workers.place() for _ in range(5)]
        assert sorted(w.sessions for w in workers.workers) == [2, 3]
        fuller = max(workers.workers, key=lambda w: w.sessions)
        workers.leave(fuller, "x")
        workers.leave(fuller, "y")
        assert workers.place() is fuller
        assert placed
        workers.shutdown()

    asyncio.run(go())


# --- many sessions' races stepped as one array program ------------------------------------

# What a class races: the same surface and optimizers, each student's own learning rate,
# seed, start, schedule, noise σ and clipping bound.
CLASS_RACE = {
    "surface": "rosenbrock",
    "steps": 400,
    "runs": [
        {"optimizer": "gd", "lr": 0.001},
        {"optimizer": "adam", "lr": 0.05},
        {"optimizer": "momentum", "lr": 0.001},
    ],
}
FIRST_ORDER_NOISY = {
    "surface": "beale",
    "steps": 300,
    "runs": [
        {
            "optimizer": name,
            "lr": 0.002,
            "noise": 0.05,
            "clip_norm": 2.0,
            "clip_value": 1.5,
            "schedule": {"name": schedule, "step_size": 4, "gamma": 0.8, "period": 50},
        }
        for name, schedule in zip(
            [n for n in OPTIMIZERS if n != "newton"],
            ["constant", "inv_sqrt", "step", "exponential", "cosine"] * 3,
            strict=False,
        )
    ],
}
TYPED = {"surface": {"expr": "x**2 + 10*y**2"}, "steps": 300, "runs": [{"optimizer": "nesterov"}]}


def student(config: dict[str, Any], i: int) -> dict[str, Any]:
    """Student i's variant of a configuration: its own learning rates, seed and start."""
    c = json.loads(json.dumps(config))
    c["seed"] = 100 + i // 2  # (two students with the same seed: the same noise, apart)
    for j, run in enumerate(c["runs"]):
        run["lr"] = run.get("lr", 0.01) * (1 + 0.25 * ((i + j) % 3))
    if i % 2 and c["surface"] == "beale":
        c["start"] = [1.0 + 0.1 * i, 1.5]
    return c


def frames_alone(config: dict[str, Any], plan: list[int]) -> list[str]:
    """The frames of ``config``'s runner by itself, advanced as ``plan`` says."""
    runner = make_runner(configure("descend", config, fps=10))
    return [dumps(runner.start().data)] + [dumps(runner.advance(n).data) for n in plan]


@pytest.mark.parametrize(
    ("config", "shares"),
    [(CLASS_RACE, True), (FIRST_ORDER_NOISY, True), (TYPED, True), (NEWTON, False)],
    ids=["class-race", "first-order-noisy-clipped-scheduled", "typed-surface", "newton"],
)
def test_one_round_trips_races_on_one_surface_are_one_array_program(
    config: dict[str, Any], shares: bool
) -> None:
    """Five students' races in every round trip: stepped as one race (Newton, while it
    runs, alone), each student's frames byte for byte those of its own race alone."""
    plan = [3, 1, 5, 2, 70, 3]
    configs = [student(config, i) for i in range(5)]
    if config is TYPED:  # the same surface typed another way groups with it
        configs[1]["surface"] = {"expr": "x^2+10*y ^ 2"}
    expected = [frames_alone(c, plan) for c in configs]
    handler = FrameHandler()
    starts = [("start", f"s{i}", i, configure("descend", c), None) for i, c in enumerate(configs)]
    got = [[reply.data_json] for _, reply in sorted(handler.handle(starts))]
    together = []
    for n in plan:
        replies = sorted(handler.handle([("advance", f"s{i}", i, n, False) for i in range(5)]))
        for (_, reply), mine in zip(replies, got, strict=True):
            assert isinstance(reply, Framed), reply
            mine.append(reply.data_json)
        together.append([r.together for _, r in replies])
        shared = [
            len(c["runs"]) for c, (_, r) in zip(configs, replies, strict=True) if r.together > 1
        ]
        assert sum(r.program_rows for _, r in replies) == sum(shared)
    assert got == expected
    if shares:
        assert together == [[5] * 5] * len(plan)
    else:  # Newton converges within the first advances; then its race joins the others
        assert together[0] == [1] * 5 and max(together[-1]) > 1


def test_sessions_join_leave_pause_reset_and_diverge_without_touching_the_others() -> None:
    """Nine round trips of a class on Rosenbrock and on the bowl: students pause (no
    advance in some round trips), leave, join late, reset (a new configure), diverge (GD at
    lr 5 on the bowl: its run ends), take a step the page asked for, copy another's run
    where it stands; every student's frames are byte for byte its configuration's alone."""
    bowl = {"surface": "bowl", "steps": 400, "runs": [{"optimizer": "gd", "lr": 0.1}]}
    diverging = {**bowl, "runs": [{"optimizer": "gd", "lr": 5.0}]}
    configs = {f"r{i}": student(CLASS_RACE, i) for i in range(4)}
    configs |= {"b0": bowl, "b1": diverging, "b2": student(bowl, 2)}
    handler = FrameHandler()
    tokens = iter(range(1, 10_000))
    asked: dict[int, str] = {}  # token → session
    frames: dict[str, list[str]] = {}
    plans: dict[str, list[int]] = {}  # the advances since the session's start
    started: dict[str, tuple[dict[str, Any], list[int]]] = {}  # config, advances before
    ended: set[str] = set()
    together: list[int] = []

    def ask(op: str, sid: str, *rest: Any) -> tuple[Any, ...]:
        token = next(tokens)
        asked[token] = sid
        return (op, sid, token, *rest)

    def start(sid: str, config: dict[str, Any]) -> tuple[Any, ...]:
        frames[sid], plans[sid], started[sid] = [], [], (config, [])
        ended.discard(sid)
        return ask("start", sid, configure("descend", config), None)

    def trip(batch: list[tuple[Any, ...]]) -> None:
        for token, reply in handler.handle(batch):
            sid = asked.pop(token)
            if reply is True:  # a fork
                continue
            assert isinstance(reply, Framed), reply
            frames[sid].append(reply.data_json)
            together.append(reply.together)
            if reply.ended:
                ended.add(sid)

    trip([start(sid, c) for sid, c in configs.items() if sid != "r3"])
    rng = random.Random(4)
    for tick in range(9):
        batch = []
        if tick == 2:
            batch.append(start("r3", configs["r3"]))  # joins late
        if tick == 3:
            batch.append(("drop", "r1"))  # leaves
            del frames["r1"], plans["r1"]
        if tick == 4:
            batch.append(start("r2", student(CLASS_RACE, 9)))  # resets: a new configure
        if tick == 5:  # a student copies r0's run where it stands, then goes on its own
            batch.append(ask("fork", "t0", "r0"))
            frames["t0"], plans["t0"] = [], []
            started["t0"] = (started["r0"][0], list(plans["r0"]))
        for sid in list(plans):
            if any(r[1] == sid and r[0] in ("start", "fork") for r in batch) or sid in ended:
                continue
            if sid not in ("r0", "b1") and rng.random() < 0.3:
                continue  # paused during this round trip
            n = 1 if tick == 6 and sid == "r0" else 3  # (r0: a step the page asked for)
            batch.append(ask("advance", sid, n, tick == 6))
            plans[sid].append(n)
        trip(batch)

    assert "b1" in ended and max(together) >= 4  # the races did go as one
    for sid, plan in plans.items():
        config, before = started[sid]
        expected = frames_alone(config, before + plan)
        assert frames[sid] == (expected[len(before) + 1 :] if before else expected), sid


def test_a_copied_run_goes_on_exactly_as_its_source_would() -> None:
    """``fork`` (a class's explorer): the copy's arrays that were views of one another are
    views of one another's copies (a race's coordinate columns of its points, a network's
    weights of its parameter vector), so it steps as the source would have."""
    cases = [
        ("descend", {**RACE, "runs": [*RACE["runs"], {"optimizer": "nesterov", "lr": 0.001}]}),
        ("descend", NEWTON),
        ("train", TRAIN),
        ("train", {**TRAIN, "optimizer": {"optimizer": "nesterov", "lr": 0.05}}),
    ]
    for lab, config in cases:
        expected = alone(lab, config, 8)
        handler = FrameHandler()
        handler.handle([("start", "a", 1, configure(lab, config, fps=10), None)])
        for i in range(4):
            handler.handle([("advance", "a", 2 + i, 3, False)])
        assert handler.handle([("fork", "b", 9, "a")]) == [(9, True)]
        for i in range(4):
            batch = [("advance", s, 10 + 2 * i + j, 3, False) for j, s in enumerate("ab")]
            replies = dict(handler.handle(batch))
            a, b = replies[10 + 2 * i], replies[11 + 2 * i]
            assert isinstance(a, Framed) and isinstance(b, Framed)
            assert a.data_json == b.data_json == expected[5 + i], (lab, i)


def test_the_health_counters_show_the_races_stepped_together() -> None:
    """Through a real frame worker: three students' races asked for in one round trip are
    one program of their nine runs, counted in ``/healthz`` ``frames.together``."""

    async def go() -> dict[str, Any]:
        workers = FrameWorkers(processes=1)
        worker = workers.place()
        configs = [student(CLASS_RACE, i) for i in range(3)]
        await asyncio.gather(
            *(
                worker.ask("start", f"s{i}", configure("descend", c), None)
                for i, c in enumerate(configs)
            )
        )
        for _ in range(4):
            replies = await asyncio.gather(
                *(worker.ask("advance", f"s{i}", 2, False) for i in range(3))
            )
            assert all(isinstance(r, Framed) and r.together == 3 for r in replies)
        stats = workers.stats()
        workers.shutdown()
        return stats

    stats = asyncio.run(go())
    assert stats["together"] == {"frames": 12, "programs": 4, "rows": 36}
