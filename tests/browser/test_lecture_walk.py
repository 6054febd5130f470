"""Walking through a lecture: presets open their view and compare mode, keys walk the
presets across labs, the notice sits above the chart it is about (above the fold at
1366 × 768 and on a 1920 × 1080 projector), shared links of a streaming lab play, one
step is one step, and a newcomer is told what to do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from deepscope import i18n
from deepscope.presets import PRESETS
from tests.browser.conftest import Watched
from tests.live import LiveServer

pytestmark = pytest.mark.browser

WALK = [p for p in PRESETS if p["lab"] in ("layers", "descend", "train")]
LAPTOP = {"width": 1366, "height": 768}
PROJECTOR = {"width": 1920, "height": 1080}


@pytest.fixture
def laptop(browser: Browser, server: LiveServer) -> Iterator[Watched]:
    context = browser.new_context(viewport=LAPTOP)
    w = Watched(context.new_page(), server)
    yield w
    context.close()


def wait_lab(page: Page, lab: str, predicate: str, timeout: float = 30_000) -> None:
    page.wait_for_function(
        # (window.deepscope is there only once the page has started: a reload's new page
        # may be asked before)
        "() => { const d = window.deepscope; "
        f"const l = d && d.labs['{lab}']; return !!l && ({predicate}); }}",
        timeout=timeout,
    )


def query(page: Page) -> dict[str, str]:
    page.evaluate("async () => (await import('/static/js/state.js')).flushUrl()")
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def preset(pid: str) -> dict:  # type: ignore[type-arg]
    return next(p for p in PRESETS if p["id"] == pid)


# --- presets open their view and compare mode ------------------------------------------


def test_a_preset_opens_its_view_and_the_next_one_its_own(laptop: Watched) -> None:
    page = laptop.open("?lab=layers")
    wait_lab(page, "layers", "l.frame !== null")
    # tanh N(0, 1): its text is about the backward signal growing toward the input
    assert preset("tanh-big")["view"] == {"quantity": "gradient"}
    page.locator("#preset").select_option("tanh-big")
    expect(page.get_by_label("Histograms of")).to_have_value("gradient")
    wait_lab(page, "layers", "l.frame && l.frame.layers[0].hist.gradient.counts !== null")
    expect(page.locator(".card", has_text="upstream gradient ∂L/∂h").first).to_be_visible()
    assert json.loads(query(page)["view"])["quantity"] == "gradient"
    # tanh-small: the moments on a log axis (the std falls 0.22× per layer: a line)
    assert preset("tanh-small")["view"]["logy"] is True
    page.locator("#preset").select_option("tanh-small")
    expect(page.get_by_label("Log scale for the moments")).to_be_checked()
    expect(page.get_by_label("Histograms of")).to_have_value("activation")
    page.wait_for_function(
        "() => { const el = window.deepscope.labs.layers.plots.moments.el;"
        " return el._fullLayout && el._fullLayout.yaxis.type === 'log'; }"
    )
    # a preset without a view gets the lab's default view, not the previous preset's
    page.locator("#preset").select_option("relu-he")
    expect(page.get_by_label("Log scale for the moments")).not_to_be_checked()
    laptop.check_clean()


def test_a_preset_s_focus_puts_its_chart_first_under_the_notice(laptop: Watched) -> None:
    page = laptop.open("?lab=layers")
    wait_lab(page, "layers", "l.frame !== null")
    assert preset("relu-xavier")["view"]["focus"] == "moments"
    page.locator("#preset").select_option("relu-xavier")
    first = "document.querySelector('.charts > .card')"
    page.wait_for_function(f"() => {first}.dataset.chart === 'moments'")
    box = page.evaluate(f"{first}.getBoundingClientRect().bottom")
    assert box <= LAPTOP["height"]
    # the next preset has no focus: the histograms come first again
    page.locator("#preset").select_option("relu-he")
    page.wait_for_function(f"() => {first}.dataset.chart === 'histograms'")
    laptop.check_clean()


def test_a_compare_preset_draws_both_sides_and_its_link_reopens_them(laptop: Watched) -> None:
    page = laptop.open("?lab=layers")
    wait_lab(page, "layers", "l.frame !== null")
    bn = preset("bn-small")
    assert bn["config"]["batchnorm"] == "train" and bn["compare"].get("batchnorm", "off") == "off"
    page.locator("#preset").select_option("bn-small")
    expect(page.get_by_label("Compare two configurations")).to_be_checked()
    expect(page.locator(".side-tag")).to_have_text(["A: with batch norm", "B: without"] * 2)
    wait_lab(
        page,
        "layers",
        "l.frames.a && l.frames.b && l.frames.a.layers.length === 10 && "
        "l.frames.a.layers[9].hist.activation.std > 0.5",
    )
    # Side A (batch norm) keeps std ≈ 0.628; side B (none) collapses towards 0.
    stds = page.evaluate(
        "() => { const f = window.deepscope.labs.layers.frames;"
        " return [f.a.layers[9].hist.activation.std, f.b.layers[9].hist.activation.std]; }"
    )
    assert stds[0] == pytest.approx(0.628, abs=0.03)
    assert stds[1] < 0.01
    # Two histograms, and the moments of both sides on one axis: B dashed.
    page.wait_for_function(
        "() => { const el = window.deepscope.labs.layers.plots.moments.el;"
        " return el.data && el.data.some((t) => t.line && t.line.dash === 'dash'); }"
    )
    assert page.locator(".card", has_text="Per-layer histograms").count() == 2
    gradnorm = page.evaluate(
        "window.deepscope.labs.layers.plots.gradnorm.el.data.map((t) => [t.name, t.line.dash])"
    )
    assert gradnorm == [["‖∂L/∂W‖ · A: with batch norm", "solid"], ["‖∂L/∂W‖ · B: without", "dash"]]
    q = query(page)
    assert json.loads(q["compare"])["batchnorm"] == "off"
    assert json.loads(q["labels"])["en"] == ["with batch norm", "without"]
    # The shared link opens compare mode again, with both sides.
    page.goto(page.url)
    wait_lab(page, "layers", "l.frames.a && l.frames.b && l.configs.b.batchnorm === 'off'")
    expect(page.locator(".side-tag").first).to_have_text("A: with batch norm")
    expect(page.locator("#preset")).to_have_value("bn-small")
    laptop.check_clean()


def test_compare_mode_copies_a_edits_either_side_and_closes(laptop: Watched) -> None:
    page = laptop.open("?lab=layers")
    wait_lab(page, "layers", "l.frame !== null")
    page.get_by_label("Compare two configurations").check()
    wait_lab(page, "layers", "l.frames.b !== null")
    assert page.evaluate(
        "() => { const c = window.deepscope.labs.layers.configs;"
        " return JSON.stringify(c.a) === JSON.stringify(c.b); }"
    )
    # Edit B: the controls now show and change side B only.
    page.get_by_label("B", exact=True).check()
    page.get_by_label("Activation", exact=True).select_option("relu")
    wait_lab(page, "layers", "l.configs.b.activation === 'relu'")
    assert page.evaluate("window.deepscope.labs.layers.configs.a.activation") == "tanh"
    wait_lab(
        page,
        "layers",
        "l.frames.b && l.frames.b.layers[0].hist.activation.mean > 0.001",  # relu: h ≥ 0
    )
    assert json.loads(query(page)["compare"])["activation"] == "relu"
    assert json.loads(query(page)["config"])["activation"] == "tanh"
    # Back to A: its controls again.
    page.get_by_label("A", exact=True).check()
    expect(page.get_by_label("Activation", exact=True)).to_have_value("tanh")
    # The second session goes when compare mode closes.
    page.get_by_label("Compare two configurations").uncheck()
    assert page.evaluate("window.deepscope.socketB") is None
    assert page.locator(".card", has_text="Per-layer histograms").count() == 1
    assert "compare" not in query(page)
    laptop.check_clean()


def test_compare_mode_is_translated(laptop: Watched) -> None:
    page = laptop.open("?lab=layers&lang=zh&preset=bn-small")
    wait_lab(page, "layers", "l.frames.b !== null")
    expect(page.get_by_label("对比两种配置")).to_be_checked()
    expect(page.locator(".side-tag").first).to_have_text("A: 有批归一化")
    page.locator("#lang").click()
    expect(page.locator(".side-tag").first).to_have_text("A: with batch norm")
    laptop.check_clean()


def test_training_compare_runs_two_nets_and_the_player_drives_both(laptop: Watched) -> None:
    page = laptop.open("?lab=train")
    wait_lab(page, "train", "l.latest !== null")
    dl = preset("deep-linear")
    assert dl["config"]["activation"] == "linear" and dl["compare"]["activation"] == "tanh"
    page.locator("#preset").select_option("deep-linear")  # a preset that plays
    expect(page.locator(".side-tag").first).to_have_text("A: linear")
    wait_lab(page, "train", "l.runs.a.latest && l.runs.b.latest && l.runs.b.latest.step > 300")
    # The tanh net bends around the moons, the linear one's straight line cannot.
    wait_lab(page, "train", "l.runs.b.latest.accuracy >= 0.98")
    assert page.evaluate("window.deepscope.labs.train.runs.a.latest.accuracy") < 0.95
    names = page.evaluate(
        "window.deepscope.labs.train.charts.loss.plot.el.data.map((t) => [t.name, t.line.dash])"
    )
    assert ["training loss · A: linear", "solid"] in names
    assert ["training loss · B: tanh", "dash"] in names
    assert page.locator(".card", has_text="Decision boundary").count() == 2
    # Pause, step, reset: both runs.
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_test_id("play-state")).to_have_attribute("data-state", "paused")
    page.wait_for_timeout(800)
    a, b = page.evaluate(
        "() => { const r = window.deepscope.labs.train.runs;"
        " return [r.a.latest.step, r.b.latest.step]; }"
    )
    page.get_by_role("button", name="Step", exact=True).click()
    wait_lab(page, "train", f"l.runs.a.latest.step === {a + 1} && l.runs.b.latest.step === {b + 1}")
    page.get_by_role("button", name="Reset", exact=True).click()
    wait_lab(page, "train", "l.runs.a.latest.step === 0 && l.runs.b.latest.step === 0")
    laptop.check_clean()


def test_training_compare_toggle_copies_a_and_edits_b_only(laptop: Watched) -> None:
    page = laptop.open('?lab=train&config={"steps":100000}')  # a run that outlasts the test
    wait_lab(page, "train", "l.latest !== null")
    page.get_by_label("Compare two configurations").check()
    wait_lab(page, "train", "l.runs.b.latest !== null")
    page.get_by_role("button", name="Play", exact=True).click()
    wait_lab(page, "train", "l.runs.a.latest.step > 100 && l.runs.b.latest.step > 100")
    page.get_by_label("B", exact=True).check()
    before = page.evaluate("window.deepscope.labs.train.runs.a.latest.step")
    page.get_by_label("Activation", exact=True).select_option("relu")
    wait_lab(page, "train", "l.configs.b.activation === 'relu'")
    assert page.evaluate("window.deepscope.labs.train.configs.a.activation") == "tanh"
    # An edit of B restarts both runs (in step), and they go on playing.
    wait_lab(page, "train", f"l.runs.a.latest.step < {before}")
    wait_lab(page, "train", "l.runs.a.latest.step > 50 && l.runs.b.latest.step > 50")
    page.get_by_role("button", name="Pause", exact=True).click()
    assert json.loads(query(page)["compare"])["activation"] == "relu"
    page.get_by_label("Compare two configurations").uncheck()
    assert page.evaluate("window.deepscope.socketB") is None
    assert page.locator(".card", has_text="Decision boundary").count() == 1
    laptop.check_clean()


# --- walking through a lecture with keys ------------------------------------------------


def test_pagedown_and_pageup_walk_every_preset_across_labs(laptop: Watched) -> None:
    page = laptop.open("?lab=layers")
    wait_lab(page, "layers", "l.frame !== null")
    ids = [p["id"] for p in WALK]
    # The dropdown lists the presets in the walk's order.
    options = "[...document.querySelectorAll('#preset option')].map(o => o.value).filter(Boolean)"
    assert page.evaluate(options) == ids
    page.locator("main").click(position={"x": 5, "y": 5})
    # Everything the live region says, as it says it: a playing lab's next figures may
    # replace a preset's words 2 s later, before a busy test gets to read them.
    page.evaluate(
        """() => { window.saidLive = [];
          new MutationObserver(() => window.saidLive.push(document.getElementById('live')
            .textContent)).observe(document.getElementById('live'),
            {childList: true, characterData: true, subtree: true}); }"""
    )
    for i, p in enumerate(WALK):
        page.keyboard.press("PageDown")
        expect(page.locator("#preset")).to_have_value(p["id"])
        expect(page.locator(f"#tab-{p['lab']}")).to_have_attribute("aria-selected", "true")
        title = i18n.text(f"preset.{p['id']}.title")
        expect(page.locator("#notice-title")).to_have_text(title)
        said = f"Preset {i + 1} of {len(WALK)}: {title}"
        page.wait_for_function("s => window.saidLive.some(t => t.includes(s))", arg=said)
    page.keyboard.press("PageDown")  # past the end: stays, and says so
    expect(page.locator("#live")).to_have_text("That was the last preset.")
    expect(page.locator("#preset")).to_have_value(ids[-1])
    page.keyboard.press("PageUp")
    expect(page.locator("#preset")).to_have_value(ids[-2])
    page.keyboard.press("p")
    expect(page.locator("#preset")).to_have_value(ids[-3])
    page.keyboard.press("n")
    expect(page.locator("#preset")).to_have_value(ids[-2])
    laptop.check_clean()


def test_a_clicker_walks_even_from_a_slider_and_the_walk_starts_at_the_lab(
    laptop: Watched,
) -> None:
    page = laptop.open("?lab=train")
    wait_lab(page, "train", "l.latest !== null")
    first_train = next(p for p in WALK if p["lab"] == "train")
    page.get_by_label("Noise").focus()
    page.keyboard.press("PageDown")  # no preset yet: the training lab's first one
    expect(page.locator("#preset")).to_have_value(first_train["id"])
    # n typed into a text field stays there
    hidden = page.get_by_label("Hidden widths (e.g. 8, 8)")
    hidden.fill("8")
    hidden.press("n")
    expect(page.locator("#preset")).to_have_value(first_train["id"])
    laptop.check_clean()


def test_the_notice_sits_right_above_the_first_chart(laptop: Watched) -> None:
    page = laptop.open("?lab=layers")
    wait_lab(page, "layers", "l.frame !== null")
    for pid in ("tanh-small", "race-rosenbrock", "zero-init"):
        page.locator("#preset").select_option(pid)
        expect(page.locator("#notice")).to_be_visible()
        boxes = page.evaluate(
            """() => {
            const n = document.getElementById('notice');
            const charts = n.parentElement;
            const card = charts.querySelector('.card');
            return { inCharts: charts.classList.contains('charts'),
                     notice: n.getBoundingClientRect().toJSON(),
                     card: card.getBoundingClientRect().toJSON() };
          }"""
        )
        assert boxes["inCharts"]
        gap = boxes["card"]["top"] - boxes["notice"]["bottom"]
        assert 0 <= gap < 30
    laptop.check_clean()


# --- shared links that play, one step, the dropdown, the welcome -------------------------


def test_a_link_copied_while_training_plays_at_the_same_preset(laptop: Watched) -> None:
    page = laptop.open("?preset=zero-init")
    wait_lab(page, "train", "l.latest !== null && l.latest.step > 20")
    expect(page.get_by_test_id("play-state")).to_have_attribute("data-state", "running")
    q = query(page)
    assert q["play"] == "1" and q["preset"] == "zero-init"
    url = page.url
    page.goto(url)
    page.wait_for_function("() => window.deepscope && window.deepscope.active")
    expect(page.locator("#preset")).to_have_value("zero-init")
    expect(page.locator("#notice-title")).to_have_text(i18n.text("preset.zero-init.title"))
    wait_lab(page, "train", "l.latest !== null && l.latest.step > 20")
    expect(page.get_by_test_id("play-state")).to_have_attribute("data-state", "running")
    # Paused, the link opens paused.
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_test_id("play-state")).to_have_attribute("data-state", "paused")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('play')")
    page.goto(page.url)
    wait_lab(page, "train", "l.latest !== null")
    page.wait_for_timeout(1000)
    assert page.evaluate("window.deepscope.labs.train.latest.step") == 0
    expect(page.locator("#preset")).to_have_value("zero-init")
    laptop.check_clean()


def test_a_link_copied_during_a_race_plays(laptop: Watched) -> None:
    page = laptop.open("?preset=race-rosenbrock")
    wait_lab(page, "descend", "l.runsData.length > 0 && l.grid !== null")
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('play') === '1'")
    page.goto(page.url)
    page.wait_for_function("() => window.deepscope && window.deepscope.active")
    expect(page.locator("#preset")).to_have_value("race-rosenbrock")
    expect(page.locator("#notice")).to_be_visible()
    wait_lab(page, "descend", "l.runsData.length > 0 && l.runsData[0].points.length > 30")
    laptop.check_clean()


def test_step_and_the_arrow_advance_exactly_one_step(laptop: Watched) -> None:
    page = laptop.open("?lab=train")
    wait_lab(page, "train", "l.latest !== null && l.latest.step === 0")
    assert page.evaluate("window.deepscope.labs.train.options.steps_per_frame") > 1
    page.get_by_role("button", name="Step", exact=True).click()
    wait_lab(page, "train", "l.latest.step === 1")
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("ArrowRight")
    wait_lab(page, "train", "l.latest.step === 2")
    page.wait_for_timeout(500)
    assert page.evaluate("window.deepscope.labs.train.latest.step") == 2
    laptop.check_clean()


def test_a_tab_change_resets_the_dropdown(laptop: Watched) -> None:
    page = laptop.open("?lab=layers")
    wait_lab(page, "layers", "l.frame !== null")
    page.locator("#preset").select_option("relu-he")
    expect(page.locator("#notice")).to_be_visible()
    page.locator("#tab-descend").click()
    expect(page.locator("#preset")).to_have_value("")
    expect(page.locator("#notice")).to_be_hidden()
    assert "preset" not in query(page)
    laptop.check_clean()


def test_a_newcomer_is_told_what_to_do(laptop: Watched) -> None:
    page = laptop.open("")
    expect(page.locator("#notice-title")).to_have_text("Welcome to DeepScope")
    expect(page.locator("#notice-text")).to_contain_text("Pick a lecture preset")
    expect(page.locator("#notice-text")).to_contain_text("PageDown")
    page.locator("#lang").click()
    expect(page.locator("#notice-title")).to_have_text("欢迎使用 DeepScope")
    # A link with a state is no first visit.
    page.goto(f"{laptop.server.url}/?lab=layers&config=%7B%22depth%22%3A3%7D")
    page.wait_for_function("() => window.deepscope && window.deepscope.active")
    expect(page.locator("#notice")).to_be_hidden()
    laptop.check_clean()


# --- every preset, above the fold, on a laptop and on a projector -----------------------


def first_chart_drawn(page: Page, p: dict) -> None:  # type: ignore[type-arg]
    lab = p["lab"]
    ready = {
        "layers": "l.frames.a !== null && (!l.comparing || l.frames.b !== null)",
        "descend": "l.runsData.length > 0 || l.sweepData !== null",
        "train": "l.latest !== null && (!l.comparing || l.runs.b.latest !== null)",
    }[lab]
    wait_lab(page, lab, ready)
    page.wait_for_function(
        "() => { const c = document.querySelector('.charts > .card .plot');"
        " return c && Number(c.dataset.drawn || 0) > 0; }",
        timeout=30_000,
    )


@pytest.mark.parametrize(
    ("mode", "viewport"),
    [("laptop", LAPTOP), ("projector", PROJECTOR)],
    ids=["1366x768", "1920x1080"],
)
def test_every_preset_draws_with_its_notice_above_the_fold(
    browser: Browser, server: LiveServer, mode: str, viewport: dict[str, int]
) -> None:
    context = browser.new_context(viewport=viewport)
    watched = Watched(context.new_page(), server)
    try:
        page = watched.open("?projector=1" if mode == "projector" else "")
        for p in WALK:
            page.locator("#preset").select_option(p["id"])
            first_chart_drawn(page, p)
            page.wait_for_timeout(300)  # let a streaming preset draw a few frames
            expect(page.locator("#notice-title")).to_have_text(i18n.text(f"preset.{p['id']}.title"))
            box = page.evaluate(
                """() => {
                const n = document.getElementById('notice').getBoundingClientRect();
                const c = document.querySelector('.charts > .card').getBoundingClientRect();
                return { top: n.top, bottom: n.bottom, chartTop: c.top, chartBottom: c.bottom,
                         scrolled: window.scrollY, height: window.innerHeight };
              }"""
            )
            assert box["scrolled"] == 0
            assert 0 <= box["top"] < box["bottom"] <= box["height"], p["id"]
            # the chart below it starts on screen and shows most of itself
            assert box["chartTop"] < box["height"] * 0.5, p["id"]
            assert box["chartBottom"] <= box["height"] + 1, (p["id"], box)
            watched.shot(f"preset-{mode}-{p['id']}", full_page=False)
            assert watched.errors == [], (p["id"], watched.errors)
        watched.check_clean()
    finally:
        context.close()
