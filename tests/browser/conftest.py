"""Playwright (the Python package) driving Debian's Chromium against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.live import CHROMIUM, ROOT, LiveServer, live_server
from tests.live import CHROMIUM_FLAGS as FLAGS

ARTIFACTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module: the sync API keeps an asyncio loop running in this thread while open,
    and the WebSocket tests elsewhere need asyncio.run()."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp=tmp_path_factory.mktemp("browser")) as s:
        yield s


class Watched:
    """A page with every console error and every request it made."""

    def __init__(self, page: Page, server: LiveServer) -> None:
        self.page = page
        self.server = server
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))

    def open(self, query: str = "") -> Page:
        self.page.goto(f"{self.server.url}/{query}")
        self.page.wait_for_function("() => window.deepscope && window.deepscope.active")
        return self.page

    def check_clean(self, expected: tuple[str, ...] = ()) -> None:
        """No console errors (but the ``expected`` ones) and no request off localhost."""
        assert [e for e in self.errors if not any(x in e for x in expected)] == []
        foreign = [
            u
            for u in self.requests
            if urlsplit(u).hostname not in ("127.0.0.1",) and not u.startswith(("data:", "blob:"))
        ]
        assert foreign == [], f"requests left localhost: {foreign}"

    def frame_count(self) -> Any:
        return self.page.evaluate("window.deepscope.frameTimes.length")

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        """A PNG in artifacts/screenshots/: the whole page, or (full_page=False) what
        the viewport shows, to see what is above the fold."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def watched(browser: Browser, server: LiveServer) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    w = Watched(page, server)
    yield w
    context.close()


def wait_frame(page: Page, lab: str, predicate: str = "true", timeout: float = 30_000) -> None:
    """Until ``lab`` exists and ``predicate`` (over ``l``, the lab) holds. It asks for
    ``window.deepscope`` first: right after a ``goto`` or a reload the new page may be
    asked before it has started, and a TypeError would fail the wait instead of retrying."""
    page.wait_for_function(
        "() => { const l = window.deepscope && window.deepscope.labs['" + lab + "'];"
        f" return !!l && ({predicate}); }}",
        timeout=timeout,
    )
