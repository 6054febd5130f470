"""Against a real uvicorn on a random loopback port, with the ``websockets`` client."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.live import LiveServer, live_server

LAYERS = {
    "type": "configure",
    "lab": "layers",
    "config": {"depth": 3, "width": 40, "batch": 50, "input_dim": 20},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    env = {"DEEPSCOPE_STALLED_READER_S": "2", "DEEPSCOPE_RATE_LIMIT_BURST": "400"}
    with live_server("--max-sessions", "6", env=env, tmp=tmp_path_factory.mktemp("live")) as s:
        yield s


async def _open(server: LiveServer, origin: str | None = None, **kw: Any) -> ClientConnection:
    return await connect(
        server.ws_url,
        origin=origin or server.origin,
        compression=None,  # type: ignore[arg-type]
        open_timeout=10,
        **kw,
    )


async def _until(ws: ClientConnection, kind: str, **match: Any) -> dict[str, Any]:
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
        if m["type"] == kind and all(m.get(k) == v for k, v in match.items()):
            return dict(m)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://127.0.0.1.evil.example",
        "http://evil.example/http://127.0.0.1",
        "https://127.0.0.1:1",
        "http://localhost:1",
        "null",
    ],
)
def test_foreign_and_partial_match_origins_are_refused(server: LiveServer, origin: str) -> None:
    async def go() -> None:
        with pytest.raises(InvalidStatus) as info:
            await _open(server, origin=origin)
        assert info.value.response.status_code == 403

    run(go())


def test_partial_match_of_the_real_origin_is_refused(server: LiveServer) -> None:
    async def go() -> None:
        for origin in (server.origin + "0", server.origin + ".evil.example", server.origin[:-1]):
            with pytest.raises(InvalidStatus):
                await _open(server, origin=origin)

    run(go())


def test_missing_origin_and_foreign_host_are_refused(server: LiveServer) -> None:
    async def go() -> None:
        with pytest.raises(InvalidStatus):
            await connect(server.ws_url, compression=None, open_timeout=10)
        with pytest.raises(InvalidStatus):
            await connect(
                server.ws_url,
                origin="http://evil.example:80",  # type: ignore[arg-type]
                additional_headers={"Host": "evil.example"},
                open_timeout=10,
            )

    run(go())


def test_same_origin_and_localhost_alias_work(server: LiveServer) -> None:
    async def go() -> None:
        for origin in (server.origin, f"http://localhost:{server.port}"):
            ws = await connect(
                server.ws_url.replace("127.0.0.1", "localhost")
                if "localhost" in origin
                else server.ws_url,
                origin=origin,
                compression=None,  # type: ignore[arg-type]
            )
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello"
            await ws.close()

    run(go())


def test_oversized_message_closes_1009(server: LiveServer) -> None:
    async def go() -> None:
        ws = await _open(server)
        await ws.recv()
        await ws.send(json.dumps({"type": "configure", "pad": "x" * 70_000}))
        with pytest.raises(ConnectionClosed) as info:
            for _ in range(5):
                await asyncio.wait_for(ws.recv(), timeout=10)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1009

    run(go())


def test_bad_messages_then_a_valid_configure(server: LiveServer) -> None:
    async def go() -> None:
        ws = await _open(server)
        await ws.recv()
        for text, code in (
            ("{oops", "bad_json"),
            ('{"type": "configure", "lab": "layers", "config": {"scale": NaN}}', "invalid"),
            ('{"type": "warp"}', "invalid"),
            ('{"type": "configure", "lab": "quantum"}', "invalid"),
        ):
            await ws.send(text)
            err = await _until(ws, "error")
            assert err["code"] == code, (text, err)
        await ws.send(json.dumps(LAYERS))
        frame = await _until(ws, "frame")
        assert frame["lab"] == "layers"
        await ws.close()

    run(go())


def test_slider_storm_ends_in_a_current_frame(server: LiveServer) -> None:
    async def go() -> None:
        ws = await _open(server)
        await ws.recv()
        for i in range(300):
            config = {**LAYERS["config"], "scale": 0.01 + 0.001 * i}  # type: ignore[dict-item]
            await ws.send(json.dumps({**LAYERS, "config": config}))
        frames = 0
        while True:
            frame = await _until(ws, "frame")
            frames += 1
            if frame["config_seq"] == 300:
                break
        assert frames < 300
        await ws.close()

    run(go())


def _server_process(server: LiveServer) -> psutil.Process:
    return psutil.Process(server.process.pid)


def test_a_client_that_never_reads_is_dropped_and_memory_stays_bounded(server: LiveServer) -> None:
    server.settle()  # the start-up pre-warming's memory is not this test's subject

    async def go() -> None:
        proc = _server_process(server)
        ws = await _open(server, max_queue=None)
        await ws.recv()
        await ws.send(
            json.dumps(
                {
                    "type": "configure",
                    "lab": "train",
                    "config": {"steps": 20_000, "hidden": [64, 64], "n_samples": 2000},
                    "options": {"fps": 30, "view_fps": 30, "boundary": 100, "weights": True},
                }
            )
        )
        first = await _until(ws, "frame")
        assert len(json.dumps(first)) > 50_000  # big frames, to fill the socket quickly
        await ws.send(json.dumps({"type": "play"}))
        await _until(ws, "frame")
        before = proc.memory_info().rss
        # Stop reading: frames pile up in the socket, then the server's sends block.
        ws.transport.pause_reading()  # type: ignore[attr-defined]
        samples = []
        for _ in range(4):
            await asyncio.sleep(1.5)
            samples.append(proc.memory_info().rss)
        # Queued frames (~170 kB at 30 frames/s) would add ~7 MB every 1.5 s; the
        # allocator may grow an arena once at any moment, so what is asked is that
        # the server is not growing steadily, and stays bounded.
        steps = [b - a for a, b in itertools.pairwise(samples)]
        assert min(steps) < 2 * 2**20, steps  # frames are dropped, not queued
        assert samples[-1] - before < 40 * 2**20
        ws.transport.resume_reading()  # type: ignore[attr-defined]
        with pytest.raises(ConnectionClosed) as info:
            while True:
                await asyncio.wait_for(ws.recv(), timeout=10)
        # Disconnected: with a close frame (1008) if it still fitted in the socket,
        # else the server dropped the TCP connection.
        assert info.value.rcvd is None or info.value.rcvd.code == 1008
        assert len(psutil.Process(server.process.pid).net_connections()) <= 2  # the listener

    run(go())


def test_session_cap_closes_1013(tmp_path: Path) -> None:
    async def go(server: LiveServer) -> None:
        held = [await _open(server), await _open(server)]
        for ws in held:
            await ws.recv()
        extra = await _open(server)
        with pytest.raises(ConnectionClosed) as info:
            while True:
                await asyncio.wait_for(extra.recv(), timeout=10)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1013
        assert "class full" in info.value.rcvd.reason
        for ws in held:
            await ws.close()

    with live_server("--max-sessions", "2", tmp=tmp_path) as server:
        run(go(server))


def test_two_workers_serve_independent_sessions(tmp_path: Path) -> None:
    async def go(server: LiveServer) -> None:
        async def one() -> tuple[ClientConnection, int]:
            ws = await _open(server)
            return ws, json.loads(await ws.recv())["worker"]

        # Connections opened together spread over the workers (the kernel hands each
        # accept to one of them), once both have started: /healthz answering proves
        # only one. Try batches for up to 60 s until both have some.
        sockets: list[tuple[ClientConnection, int]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for ws, pid in await asyncio.gather(*(one() for _ in range(12))):
                if len(sockets) < 6 or pid not in {p for _, p in sockets}:
                    sockets.append((ws, pid))
                else:
                    await ws.close()
            if len({pid for _, pid in sockets}) == 2:
                break
            await asyncio.sleep(0.5)
        assert len({pid for _, pid in sockets}) == 2
        for i, (ws, _) in enumerate(sockets):
            await ws.send(
                json.dumps(
                    {
                        "type": "configure",
                        "lab": "descend",
                        "config": {
                            "surface": "quadratic_1d",
                            "start": [float(i)],
                            "steps": 1,
                            "runs": [{"optimizer": "gd", "lr": 0.5}],
                        },
                    }
                )
            )
        for i, (ws, _) in enumerate(sockets):
            frame = await _until(ws, "frame")
            assert frame["data"]["runs"][0]["points"] == [[float(i)]]  # its own, not another's
            await ws.close()

    with live_server("--workers", "2", tmp=tmp_path) as server:
        run(go(server))


def test_sigterm_closes_every_socket_with_1012_and_exits_cleanly(tmp_path: Path) -> None:
    async def go(server: LiveServer) -> None:
        sockets = [await _open(server) for _ in range(3)]
        for ws in sockets:
            await ws.recv()
            await ws.send(
                json.dumps(
                    {
                        "type": "configure",
                        "lab": "descend",
                        "config": {
                            "surface": "rosenbrock",
                            "steps": 100_000,
                            "runs": [{"optimizer": "adam"}],
                        },
                    }
                )
            )
            await _until(ws, "frame")
            await ws.send(json.dumps({"type": "play"}))
        await _until(sockets[0], "frame")
        server.process.send_signal(signal.SIGTERM)
        for ws in sockets:
            with pytest.raises(ConnectionClosed) as info:
                while True:
                    await asyncio.wait_for(ws.recv(), timeout=15)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1012

    with live_server(tmp=tmp_path) as server:
        run(go(server))
        assert server.process.wait(timeout=20) == 0  # (a hang raises TimeoutExpired)
