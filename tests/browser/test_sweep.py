"""The optimizer lab's sweep mode in a real browser: the sweep view draws, its curves
fill in while it streams, and one click races each optimizer at its best learning rate."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.conftest import Watched
from tests.browser.test_lecture_charts import card, wait_drawn, wait_lab

pytestmark = pytest.mark.browser

CONFIG = {
    "surface": "rosenbrock",
    "steps": 400,
    "runs": [
        {"optimizer": "gd", "lr": 0.001},
        {"optimizer": "momentum", "lr": 0.001},
        {"optimizer": "adam", "lr": 0.05},
    ],
}
SWEEP = "Learning-rate sweep"


def _traces(page: Any, selector: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.evaluate(
        """(s) => document.querySelector(s).data.map((t) => ({
            name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || []),
            symbol: t.marker && t.marker.symbol, axis: t.yaxis || 'y' }))""",
        selector,
    )
    return result


def test_the_sweep_view_draws_fills_in_and_races_each_at_its_best_lr(watched: Watched) -> None:
    options = {"steps_per_frame": 10}
    page = watched.open(
        f"?lab=descend&config={quote(json.dumps(CONFIG))}&options={quote(json.dumps(options))}"
    )
    wait_lab(page, "descend", "l.runsData.length === 3 && l.grid !== null")
    sweep_card = page.locator(f'section.card[aria-label="{SWEEP}"]')
    assert sweep_card.is_hidden()  # a race until asked

    page.get_by_label("Sweep each run's learning rate").check()
    assert sweep_card.is_visible()
    assert page.locator('section.card[aria-label="Loss"]').is_hidden()
    gd_lr = page.locator('input[data-catalog="optimizers.gd.hyper.lr"]')
    assert gd_lr.is_disabled()  # the sweep sets the learning rates
    wait_lab(page, "descend", "l.sweepData !== null && l.sweepData.step === 0")
    plot = card(SWEEP)
    wait_drawn(page, plot)
    first = _traces(page, plot)
    curves = [t for t in first if t["name"] in ("gd", "momentum", "adam")]
    assert [t["name"] for t in curves] == ["gd", "momentum", "adam"]
    count = page.evaluate("window.deepscope.catalog.labs.descend.sweep_fields.lr_count.default")
    assert all(len(t["x"]) == count for t in curves)
    watched.shot("sweep-start")

    # the curves fill in while the sweep streams
    page.get_by_role("button", name="Play").click()
    wait_lab(page, "descend", "l.sweepData.step > 0 && l.sweepData.step < 400", 20_000)
    middle = page.evaluate("window.deepscope.labs.descend.sweepData.step")
    wait_lab(page, "descend", "l.sweepData.step === 400", 60_000)
    assert 0 < middle < 400
    drawn = wait_drawn(page, plot)
    final = _traces(page, plot)
    gd = next(t for t in final if t["name"] == "gd")
    assert gd["y"] != next(t for t in first if t["name"] == "gd")["y"]
    # diverged runs are marked in the strip above, at their learning rate
    strip = [t for t in final if t["axis"] == "y2" and t["name"].startswith("gd")]
    assert strip and strip[0]["symbol"] == "x-thin-open"
    data = page.evaluate("window.deepscope.labs.descend.sweepData.optimizers")
    gd_curve = data[0]
    marked = {round(x, 12) for x in strip[0]["x"]}
    diverged = {
        round(lr, 12)
        for lr, s in zip(gd_curve["lrs"], gd_curve["status"], strict=True)
        if s == "diverged"
    }
    assert marked == diverged and diverged
    # each optimizer's best learning rate is marked ◆ (★ is the contour's start)
    bests = [t for t in final if t["symbol"] == "diamond" and t["x"] != [None]]
    assert len(bests) == 3 and not [t for t in final if t["symbol"] == "star"]
    for best, curve in zip(bests, data, strict=True):
        assert best["x"] == [curve["best_lr"]]
    # the screen reader's line ends at the sweep's last step, not at an earlier frame
    page.wait_for_function(
        "() => document.getElementById('live').textContent.startsWith('Step 400.')"
    )
    # and its best run's path is on the contour
    paths = card("Paths on the surface")
    wait_drawn(page, paths)
    names = [t["name"] for t in _traces(page, paths)]
    assert any((n or "").startswith("adam @ lr") for n in names)
    assert drawn > 0
    watched.shot("sweep-finished")

    # one click: the race, each at its best learning rate
    best = [c["best_lr"] for c in data]
    assert all(b is not None for b in best)
    page.get_by_role("button", name="Race each at its best learning rate").click()
    wait_lab(page, "descend", "l.view.mode === 'race' && l.runsData.length === 3")
    assert sweep_card.is_hidden() and gd_lr.is_enabled()
    lrs = page.evaluate("window.deepscope.labs.descend.config.runs.map((r) => r.lr)")
    assert lrs == best
    page.wait_for_function(
        "(best) => { const u = new URL(location.href); const c = JSON.parse("
        "u.searchParams.get('config')); return JSON.stringify(c.runs.map((r) => r.lr))"
        " === JSON.stringify(best); }",
        arg=best,
    )
    page.get_by_role("button", name="Play").click()
    wait_lab(page, "descend", "l.runsData[2].points.length > 100", 30_000)
    watched.shot("sweep-race-at-best")
    watched.check_clean()


def test_a_sweep_preset_opens_in_sweep_mode_in_chinese(watched: Watched) -> None:
    page = watched.open("?preset=sweep-adagrad-adam&lang=zh")
    wait_lab(page, "descend", "l.sweepData !== null")
    assert page.locator('section.card[aria-label="学习率扫描"]').is_visible()
    page.get_by_role("button", name="让每个优化器以其最佳学习率比赛").wait_for()
    watched.check_clean()


def _set_slider(page: Any, catalog: str, position: float) -> None:
    page.evaluate(
        """([c, v]) => { const e = document.querySelector(`input[data-catalog='${c}']`);
        e.value = String(v); e.dispatchEvent(new Event('input', {bubbles: true}));
        e.dispatchEvent(new Event('change', {bubbles: true})); }""",
        [catalog, position],
    )


def test_the_sweep_marks_its_start_and_explains_its_marks(watched: Watched) -> None:
    # steps to a tolerance GD never reaches: GD has no best run, and so no path
    view = {
        "mode": "sweep",
        "sweep": {"lr_count": 5, "criterion": "steps_to_tolerance", "tolerance": 1e-6},
    }
    config = {**CONFIG, "steps": 200}
    page = watched.open(
        f"?lab=descend&config={quote(json.dumps(config))}&view={quote(json.dumps(view))}"
    )
    wait_lab(page, "descend", "l.sweepData !== null && l.sweepData.step === 0 && !!l.grid")
    start = page.evaluate("window.deepscope.labs.descend.surface.start")
    paths = card("Paths on the surface")
    sweep = card(SWEEP)
    page.wait_for_function(
        "(s) => { const e = document.querySelector(s);"
        " return !!e && !!e.data && e.data.some((t) => t.name === 'start'); }",
        arg=paths,
    )
    stars = [t for t in _traces(page, paths) if t["name"] == "start"]
    assert [[x, y] for x, y in zip(stars[0]["x"], stars[0]["y"], strict=True)] == [start]
    # a short log axis labels its decades, not 2…9 between them
    wait_drawn(page, sweep)
    ticks = page.evaluate(
        "(s) => [...document.querySelectorAll(s + ' .ytick text')].map((e) => e.textContent)",
        sweep,
    )
    assert ticks and not [t for t in ticks if t in list("23456789")]
    # the key: one entry per mark, with the mark's own symbol
    key = {t["name"]: t["symbol"] for t in _traces(page, sweep) if t["x"] == [None]}
    assert key == {"best lr": "diamond", "diverged": "x-thin-open", "not yet": "circle-open"}

    page.get_by_role("button", name="Play").click()
    wait_lab(page, "descend", "l.sweepData.step === 200", 60_000)
    assert page.evaluate("window.deepscope.labs.descend.sweepData.optimizers[0].best_lr") is None
    drawn = wait_drawn(page, paths)
    wait_drawn(page, paths, drawn - 1)
    stars = [t for t in _traces(page, paths) if t["name"] == "start"]
    assert stars and [stars[0]["x"][0], stars[0]["y"][0]] == start
    key = {t["name"] for t in _traces(page, sweep) if t["x"] == [None]}
    assert key == {"best lr", "diverged", "never"}

    # one learning rate: the box says the largest is not used, and lr_min = lr_max is
    # what the server accepts then
    hint = page.get_by_test_id("one-rate")
    assert hint.is_hidden()
    _set_slider(page, "labs.descend.sweep_fields.lr_count", 1)
    assert hint.is_visible()
    _set_slider(page, "labs.descend.sweep_fields.lr_min", -2)
    _set_slider(page, "labs.descend.sweep_fields.lr_max", -2)
    wait_lab(
        page,
        "descend",
        "l.sweepData.step === 0 && l.sweepData.optimizers[0].lrs.length === 1"
        " && Math.abs(l.sweepData.optimizers[0].lrs[0] - 0.01) < 1e-12",
    )
    assert page.locator("#banner").is_hidden()
    watched.check_clean()
