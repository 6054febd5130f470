"""The ``deepscope`` command: flags, settings through the environment, LAN mode."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deepscope import cli
from deepscope.api.security import HostPolicy
from deepscope.protocol import MAX_UPLOAD_MESSAGE_BYTES
from deepscope.settings import Settings


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: dict[str, Any] = {}
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **kw: calls.update(app=app, **kw))
    monkeypatch.setattr(cli.signal, "signal", lambda *a: None)
    for key in list(__import__("os").environ):
        if key.startswith("DEEPSCOPE_"):
            monkeypatch.delenv(key)
    return calls


def test_local_start(started: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(
        [
            "--port",
            "8123",
            "--workers",
            "2",
            "--max-sessions",
            "40",
            "--allow-origin",
            "https://class.example.org",
        ]
    )
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123" in out
    assert started["app"] == "deepscope.app:app" and started["workers"] == 2
    assert started["ws_per_message_deflate"] is False
    # a dataset message may carry a whole file; the session holds every other one to 64 KiB
    assert started["ws_max_size"] == max(65536, MAX_UPLOAD_MESSAGE_BYTES)
    settings = Settings()
    assert settings.max_sessions == 40
    assert settings.allow_origins == ["https://class.example.org"]


def test_lan_mode_prints_the_address_and_allows_its_origin(
    started: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "lan_addresses", lambda: ["192.168.1.23"])
    cli.main(["--host", "0.0.0.0", "--port", "8000"])
    out = capsys.readouterr().out
    assert "Students on the same network open:" in out
    assert "http://192.168.1.23:8000" in out
    settings = Settings()
    assert json.loads(__import__("os").environ["DEEPSCOPE_LAN_ORIGINS"]) == [
        "http://192.168.1.23:8000"
    ]
    policy = HostPolicy(settings)
    assert policy.origin_ok("http://192.168.1.23:8000", "192.168.1.23:8000")
    assert policy.host_ok("192.168.1.23:8000")
    assert not policy.origin_ok("http://192.168.1.23:8000.evil.example", "192.168.1.23:8000")


def test_lan_addresses_are_not_loopback() -> None:
    for address in cli.lan_addresses():
        assert not address.startswith("127.")


def test_help_lists_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for flag in ("--host", "--port", "--open", "--workers", "--allow-origin", "--max-sessions"):
        assert flag in out
