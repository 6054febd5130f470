"""Frame workers: the streaming labs' runs in worker processes, many sessions' requests in
one round trip, each session's numbers exactly what its lab computes alone."""

from __future__ import annotations

import asyncio
import json
import os
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
