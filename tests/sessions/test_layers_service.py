"""Layers-lab pictures for the whole server: single flight, a bounded cache, abandonment
and a fair, prioritized schedule (on real threads and worker processes)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from deepscope.engine.layers_lab import Abandoned
from deepscope.protocol import LayersRequest
from deepscope.sessions.encode import dumps
from deepscope.sessions.layers_service import Job, LayersService, Picture
from deepscope.sessions.runners import LayersRunner
from deepscope.sessions.workers import LayersHandler

SMALL = {"depth": 3, "width": 40, "batch": 400, "input_dim": 20}


def req(**changes: Any) -> LayersRequest:
    return LayersRequest.model_validate({**SMALL, **changes})


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


async def picture(got: Job | Picture) -> Picture:
    return got if isinstance(got, Picture) else await got.future


def tracker(order: list[str]) -> Callable[[str, Job | Picture], Job]:
    """``track(name, job)``: the job, whose name goes into ``order`` when it is done."""

    def track(name: str, got: Job | Picture) -> Job:
        assert isinstance(got, Job)
        got.future.add_done_callback(lambda f: order.append(name) if not f.cancelled() else None)
        return got

    return track


def test_identical_requests_in_flight_are_computed_once() -> None:
    async def go() -> None:
        service = LayersService(threads=2, cache_bytes=2**24)
        asks = [service.request(f"s{i}", req(), "complete") for i in range(10)]
        pictures = [await picture(a) for a in asks]
        assert all(p is pictures[0] for p in pictures)  # one result, shared
        assert (service.counts.computed, service.counts.misses) == (1, 1)
        assert service.counts.joins == 9
        again = service.request("s11", req(), "complete")  # now from the cache
        assert again is pictures[0] and service.counts.hits == 1
        service.shutdown()

    run(go())


def test_a_complete_picture_is_the_runner_s_frame_encoded() -> None:
    async def go() -> None:
        service = LayersService(threads=1, cache_bytes=2**24)
        got = await picture(service.request("s", req(seed=4), "complete"))
        expected = LayersRunner.data(_run(req(seed=4)))
        assert json.loads(got.data_json) == json.loads(dumps(expected))
        assert (got.detail, got.samples) == ("complete", 400)
        coarse = await picture(service.request("s", req(seed=4), "coarse"))
        data = json.loads(coarse.data_json)
        assert (data["detail"], data["samples"], data["batch"]) == ("coarse", 100, 400)
        assert all(layer["dead_units"] is None for layer in data["layers"])
        service.shutdown()

    run(go())


def _run(r: LayersRequest) -> Any:
    from deepscope.engine import layers_lab
    from deepscope.sessions import labs

    return layers_lab.run(labs.layers_config(r))


def test_the_cache_stays_within_its_bytes_under_a_stream_of_distinct_configurations() -> None:
    async def go() -> None:
        one = await picture(LayersService(1, 2**24).request("s", req(), "complete"))
        budget = 3 * one.nbytes + 10
        service = LayersService(threads=2, cache_bytes=budget)
        for seed in range(25):
            await picture(service.request("s", req(seed=seed), "complete"))
            assert service.cache.bytes <= budget
        assert 1 <= len(service.cache) <= 3
        assert service.request("s", req(seed=24), "complete").__class__ is Picture  # newest kept
        assert isinstance(service.request("s", req(seed=0), "complete"), Job)  # oldest gone
        service.shutdown()

    run(go())


def test_work_nobody_waits_for_is_dropped_or_abandoned() -> None:
    async def go() -> None:
        service = LayersService(threads=1, cache_bytes=2**24)
        big = {"depth": 30, "width": 300, "batch": 1000, "input_dim": 300}
        running = service.request("a", req(**big), "complete")
        queued = service.request("b", req(seed=1), "complete")
        assert isinstance(running, Job) and isinstance(queued, Job)
        await asyncio.sleep(0)  # running is on the thread, queued waits
        assert running.running and not queued.running
        service.release("b", queued)  # queued: removed, never computed
        assert queued.future.cancelled()
        service.release("a", running)  # running: stops after the layer it is in
        with pytest.raises(Abandoned):
            await running.future
        assert service.counts.abandoned == 2 and service.counts.computed == 0
        assert service.stats()["queued"] == 0 and service.stats()["running"] == 0
        service.shutdown()

    run(go())


def test_a_shared_job_goes_on_while_someone_still_waits() -> None:
    async def go() -> None:
        service = LayersService(threads=1, cache_bytes=2**24)
        a = service.request("a", req(seed=7), "complete")
        b = service.request("b", req(seed=7), "complete")
        assert a is b and isinstance(a, Job)
        service.release("a", a)
        assert isinstance(await a.future, Picture) and service.counts.abandoned == 0
        service.shutdown()

    run(go())


def test_coarse_work_first_and_a_flooding_session_does_not_delay_another() -> None:
    async def go() -> None:
        service = LayersService(threads=1, cache_bytes=2**24)
        order: list[str] = []
        track = tracker(order)

        track("flood-0", service.request("flood", req(seed=100), "complete"))  # runs now
        await asyncio.sleep(0)
        # The flooder sends 30 more; each replaces its own queued request.
        for i in range(1, 31):
            track(f"flood-{i}", service.request("flood", req(seed=100 + i), "coarse"))
        late = track("other-complete", service.request("other", req(seed=1), "complete"))
        coarse = track("other-coarse", service.request("other2", req(seed=2), "coarse"))
        await asyncio.gather(late.future, coarse.future, return_exceptions=True)
        await asyncio.sleep(0.05)
        # flood-0 was running; then the least recently served sessions' coarse work,
        # then the complete work. Only the flooder's newest coarse request was kept.
        assert order[0] == "flood-0"
        assert order.index("other-coarse") < order.index("other-complete")
        assert order.index("other-coarse") <= 2
        assert [n for n in order if n.startswith("flood")] == ["flood-0", "flood-30"]
        service.shutdown()

    run(go())


def test_complete_work_goes_to_the_slider_that_rested_longest() -> None:
    """Complete work in the order it was asked for, whoever was served last: a student
    still moving renews their request at the back, behind one who stopped earlier."""

    async def go() -> None:
        service = LayersService(threads=1, cache_bytes=2**24)
        order: list[str] = []
        track = tracker(order)

        busy = track("busy", service.request("busy", req(seed=50), "complete"))  # runs now
        await asyncio.sleep(0)
        # "rested" was served a coarse frame a moment ago (round-robin would put it last)
        coarse = track("rested-coarse", service.request("rested", req(seed=60), "coarse"))
        await busy.future
        assert coarse.running  # (so what follows queues behind it)
        jobs = [track("rested", service.request("rested", req(seed=61), "complete"))]
        for name in ("moving-a", "moving-b"):
            jobs.append(
                track(f"{name}-1", service.request(name, req(seed=80 + len(jobs)), "complete"))
            )
        # the moving students move again: their requests renew at the back
        for name in ("moving-a", "moving-b"):
            jobs.append(
                track(f"{name}-2", service.request(name, req(seed=90 + len(jobs)), "complete"))
            )
        await asyncio.gather(*(j.future for j in jobs), return_exceptions=True)
        await asyncio.sleep(0.05)
        done = [n for n in order if n not in ("busy", "rested-coarse")]
        assert done[0] == "rested"  # first, though its session was served most recently
        assert done[1:] == ["moving-a-2", "moving-b-2"]  # (the superseded ones dropped)
        service.shutdown()

    run(go())


def test_prewarm_runs_only_when_nothing_else_waits() -> None:
    async def go() -> None:
        service = LayersService(threads=1, cache_bytes=2**24)
        log: list[tuple[str, int, str]] = []  # (start | end, seed, detail), in order
        compute = service._compute

        def logged(job: Job) -> Picture:
            log.append(("start", job.req.seed, job.detail))
            try:
                return compute(job)
            finally:
                log.append(("end", job.req.seed, job.detail))

        service._compute = logged  # type: ignore[method-assign]
        first = service.request("s", req(seed=1), "complete")
        service.prewarm([req(seed=2), req(seed=3)])
        second = service.request("s2", req(seed=4), "coarse")
        assert isinstance(first, Job) and isinstance(second, Job)
        await asyncio.gather(first.future, second.future)
        while service.stats()["queued"] or service.stats()["running"]:
            await asyncio.sleep(0.02)
        asked_done = max(log.index(("end", 1, "complete")), log.index(("end", 4, "coarse")))
        prewarm_starts = [
            k for k, (what, seed, _) in enumerate(log) if what == "start" and seed > 1
        ]
        prewarm_starts = [k for k in prewarm_starts if log[k][1] in (2, 3)]
        assert len(prewarm_starts) == 4 and min(prewarm_starts) > asked_done
        for seed in (2, 3):  # coarse and complete of each, cached
            assert service.cached(req(seed=seed), "coarse") is not None
            assert service.cached(req(seed=seed), "complete") is not None
        service.shutdown()

    run(go())


def test_complete_work_pauses_between_layers_while_coarse_work_runs() -> None:
    """The cores go to coarse frames: a complete job waits at its next layer while any
    coarse work is queued or running, and goes on when there is none (two threads; with
    one there is no pausing, or the coarse work could never start)."""
    import threading

    async def go() -> None:
        service = LayersService(threads=2, cache_bytes=2**24)
        job = service.request("s", req(), "complete")
        assert isinstance(job, Job)
        await job.future
        service.workers.set_coarse_busy(True)  # as while a coarse job runs
        returned = threading.Event()
        between = LayersHandler(type("Flag", (), {"value": 0})(), service.workers.coarse_busy)
        t = threading.Thread(target=lambda: (between._between_layers(True), returned.set()))
        t.start()
        assert not returned.wait(0.3)  # paused
        service._note_coarse()  # no coarse work queued or running: go on
        assert returned.wait(10)
        t.join()
        assert LayersService(threads=1, cache_bytes=1).pauses is False
        service.shutdown()

    run(go())
