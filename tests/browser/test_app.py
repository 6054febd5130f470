"""The page in a real browser: every lab draws, controls work, presets and URLs
round-trip, the language switches, keys play and step, bad input is explained."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from deepscope import i18n
from deepscope.engine import activations, datasets, initializers, optimizers, surfaces
from tests.browser.conftest import FLAGS, Watched, wait_frame
from tests.live import live_server

pytestmark = pytest.mark.browser


def drawn(page: Page, selector: str = ".plot") -> int:
    return int(
        page.evaluate(
            f"[...document.querySelectorAll('{selector}')]"
            ".filter(e => Number(e.dataset.drawn || 0) > 0).length"
        )
    )


def test_layers_lab_draws_the_lecture_experiment(watched: Watched) -> None:
    page = watched.open("?lab=layers")
    wait_frame(page, "layers", "l.frame !== null")
    page.wait_for_function("() => document.querySelectorAll('.plot[data-drawn]').length >= 4")
    std = page.evaluate("window.deepscope.labs.layers.frame.layers[0].hist.activation.std")
    assert std == pytest.approx(0.2136, abs=0.01)
    assert drawn(page) >= 4
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    watched.shot("layers")
    watched.check_clean()


def test_moving_a_slider_changes_the_plot(watched: Watched) -> None:
    page = watched.open("?lab=layers")
    wait_frame(page, "layers", "l.frame !== null")
    before = page.evaluate("window.deepscope.labs.layers.frame.layers[9].hist.activation.std")
    scale = page.get_by_label("Init scale (× the scheme's std)")
    scale.focus()
    for _ in range(100):  # 100 × 0.01 decades = 10× the scale
        page.keyboard.press("ArrowRight")
    wait_frame(
        page,
        "layers",
        f"l.config.scale > 0.05 && l.frame.layers[9].hist.activation.std > 10 * {before}",
    )
    # The address bar follows a quarter second after the slider settles.
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('config') === "
        "JSON.stringify(window.deepscope.labs.layers.config)"
    )
    in_url = json.loads(parse_qs(urlsplit(page.url).query)["config"][0])["scale"]
    assert in_url == page.evaluate("window.deepscope.labs.layers.config.scale") > 0.05
    watched.check_clean()


def test_a_presets_notice_says_when_its_settings_were_changed(watched: Watched) -> None:
    """The notice speaks of the preset's own settings: changed, it says so (in both
    languages) and offers the preset back; a view change is not a change of settings."""
    page = watched.open("?preset=tanh-small")
    wait_frame(page, "layers", "l.frame !== null")
    edited = page.locator("#notice-edited")
    expect(page.locator("#notice")).to_be_visible()
    expect(edited).to_be_hidden()
    page.get_by_label("Histograms of").select_option("gradient")
    page.wait_for_timeout(300)
    expect(edited).to_be_hidden()  # the quantity on screen is the view, not a setting
    scale = page.get_by_label("Init scale (× the scheme's std)")
    scale.focus()
    page.keyboard.press("ArrowRight")
    expect(edited).to_be_visible()
    expect(edited).to_contain_text("changed the settings since this preset")
    page.click("#lang")
    expect(edited).to_contain_text("你已改动了这个预设的设置")
    page.click("#lang")
    page.click("#notice-back")
    expect(edited).to_be_hidden()
    wait_frame(page, "layers", "l.config.scale === 0.01")
    watched.check_clean()


def test_dragging_the_init_scale_redraws_coarse_frames_then_the_complete_one(
    watched: Watched,
) -> None:
    """While the thumb moves the server computes only coarse frames (1/8 of the batch),
    drawn with a mark; on release the complete frame replaces them and the mark goes."""
    page = watched.open("?lab=layers")
    wait_frame(page, "layers", "l.frame !== null && l.frame.detail === 'complete'")
    page.wait_for_function("() => document.querySelectorAll('.plot[data-drawn]').length >= 4")
    page.evaluate(
        """() => {
        const l = window.deepscope.labs.layers, onFrame = l.onFrame.bind(l);
        const chart = l.charts.histograms.a, update = chart.update;
        chart.update = (model) => { l.drawnData = model.data; update(model); };
        l.log = [];
        l.onFrame = (f, side) => {
          onFrame(f, side);
          const mark = document.querySelector('[data-testid=detail-a]');
          l.log.push({ detail: f.data.detail, samples: f.data.samples, seq: f.config_seq,
            drawn: Number(l.plots.histograms.el.dataset.drawn), marked: !mark.hidden,
            mark: mark.textContent, dead: f.data.layers[0].dead_units });
        };
      }"""
    )
    box = page.get_by_label("Init scale (× the scheme's std)").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    x0 = box["x"] + box["width"] * 0.30  # the thumb is at 0.01 of 1e-4…1e2: a third along
    page.mouse.move(x0, y)
    page.mouse.down()
    for k in range(1, 13):
        page.mouse.move(x0 + k * box["width"] * 0.02, y)
        page.wait_for_timeout(120)
    page.mouse.up()
    wait_frame(page, "layers", "l.log.length > 0 && l.log[l.log.length - 1].detail === 'complete'")
    log = page.evaluate("window.deepscope.labs.layers.log")
    coarse = [e for e in log if e["detail"] == "coarse"]
    assert len(coarse) >= 2, log  # the histograms were redrawn while the thumb moved
    assert all(e["marked"] and "125 of 1000" in e["mark"] for e in coarse)
    assert all(e["samples"] == 125 and e["dead"] is None for e in coarse)
    assert [e["detail"] for e in log].count("complete") == 1  # only for the resting slider
    last = log[-1]
    assert not last["marked"] and last["samples"] == 1000 and last["dead"] is not None
    assert last["seq"] == max(e["seq"] for e in log)
    drawn_counts = [e["drawn"] for e in log]
    assert drawn_counts == sorted(drawn_counts) and drawn_counts[-1] > drawn_counts[0]
    # The picture on screen is the complete frame's: the histograms' last data is it.
    assert page.evaluate(
        "(() => { const l = window.deepscope.labs.layers; "
        "return l.drawnData === l.frame && l.frame.detail === 'complete'; })()"
    )
    watched.check_clean()


def test_optimizer_lab_races_and_keys_play_pause_step_reset(watched: Watched) -> None:
    page = watched.open("?lab=descend")
    wait_frame(page, "descend", "l.runsData.length === 3 && l.grid !== null")
    page.locator("main").click(position={"x": 5, "y": 5})  # focus the page, not a control
    page.keyboard.press(" ")
    wait_frame(page, "descend", "l.runsData[0].points.length > 30")
    page.keyboard.press(" ")
    expect(page.get_by_test_id("play-state")).to_have_attribute("data-state", "paused")
    rows = page.evaluate("window.deepscope.labs.descend.runsData[0].points.length")
    page.keyboard.press("ArrowRight")
    wait_frame(page, "descend", f"l.runsData[0].points.length === {rows} + 1")
    page.keyboard.press("r")
    wait_frame(page, "descend", "l.runsData[0].points.length === 1")
    watched.shot("optimizer")
    watched.check_clean()


def test_a_streaming_race_draws_its_paths_and_the_page_keeps_up(watched: Watched) -> None:
    page = watched.open("?lab=descend")
    wait_frame(page, "descend", "l.runsData.length === 3 && l.grid !== null")
    drawn_points = (
        "() => { const el = document.querySelector('.js-plotly-plot');"
        " return el.calcdata ? el.calcdata[1].length : 0; }"
    )
    page.get_by_role("button", name="Play").click()
    wait_frame(page, "descend", "l.runsData[0].points.length > 100")
    # what is drawn follows the data (the paths, not only the contour, are redrawn)
    page.wait_for_function(f"() => ({drawn_points})() > 100")
    first = page.evaluate(drawn_points)
    page.wait_for_function(f"(n) => ({drawn_points})() > n", arg=first)
    # (How promptly the page's own timers fire meanwhile is a row of make bench:
    # bench/e2e.py, browser_timer_lag.)
    watched.check_clean()


def test_a_click_on_the_contour_moves_every_runners_start(watched: Watched) -> None:
    page = watched.open("?lab=descend")
    wait_frame(page, "descend", "l.runsData.length === 3 && l.grid !== null")
    page.wait_for_function("() => document.querySelector('.js-plotly-plot .nsewdrag') !== null")
    box = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    assert box is not None
    # Rosenbrock's domain is [−2, 2] × [−1, 3]: a quarter in from the left, half way up
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.5)
    wait_frame(page, "descend", "l.config.start && l.runsData[0].points[0][0] !== -1.5")
    start = page.evaluate("window.deepscope.labs.descend.config.start")
    assert start[0] == pytest.approx(-1.0, abs=0.05)
    assert start[1] == pytest.approx(1.0, abs=0.05)
    wait_frame(page, "descend", f"l.runsData.every(r => r.points[0][0] === {start[0]})")
    page.wait_for_function("() => decodeURIComponent(location.search).includes('\"start\"')")
    watched.check_clean()


def test_a_bad_custom_expression_shows_its_error(watched: Watched) -> None:
    page = watched.open("?lab=descend")
    wait_frame(page, "descend", "l.grid !== null")
    page.get_by_label("Surface", exact=True).select_option("custom")
    box = page.get_by_label("f(x, y) =")
    box.fill("x.real + __import__('os')")
    page.get_by_role("button", name="Apply").click()
    error = page.get_by_test_id("expr-error")
    expect(error).to_contain_text("surface.expr")
    expect(error).to_contain_text("unexpected character")
    box.fill("x**2 + 10*y**2")
    page.get_by_role("button", name="Apply").click()
    expect(error).to_have_text("")
    wait_frame(page, "descend", "l.surface && l.surface.name === 'custom'")
    watched.check_clean(expected=("status of 422",))  # the refused expression


def test_the_parsers_reason_is_in_the_pages_language(watched: Watched) -> None:
    """A Chinese page words the parser's refusal in Chinese (its sentence and where), the
    English page in English — from the same problem."""
    root = Path(__file__).resolve().parents[2]
    zh = json.loads((root / "static" / "i18n" / "zh.json").read_text())
    page = watched.open("?lab=descend&lang=zh")
    wait_frame(page, "descend", "l.grid !== null")
    page.get_by_label(zh["f.surface"], exact=True).select_option("custom")
    page.get_by_label(zh["f.expr"]).fill("x**2 + ")
    page.get_by_role("button", name=zh["apply"]).click()
    error = page.get_by_test_id("expr-error")
    expect(error).to_contain_text("应为数字、变量或 '('，表达式却已结束（第 8 个字符）")
    assert "expected" not in (error.text_content() or "")
    watched.check_clean(expected=("status of 422",))


def test_training_lab_trains_and_draws(watched: Watched) -> None:
    page = watched.open("?lab=train")
    wait_frame(page, "train", "l.latest !== null")
    page.get_by_role("button", name="Play").click()
    wait_frame(page, "train", "l.latest.step >= 300")
    assert page.evaluate("window.deepscope.labs.train.latest.accuracy") > 0.6
    assert drawn(page) >= 5
    watched.shot("training")
    watched.check_clean()


def test_gallery_draws_every_checked_activation(watched: Watched) -> None:
    page = watched.open("?lab=gallery")
    page.wait_for_function("() => Object.keys(window.deepscope.labs.gallery.curves).length === 3")
    page.get_by_label("gelu").check()
    page.wait_for_function("() => Object.keys(window.deepscope.labs.gallery.curves).length === 4")
    watched.shot("gallery")
    watched.check_clean()


@pytest.mark.parametrize(
    "query",
    [
        "?lab=layers",
        '?lab=layers&config={"activation":"relu","init":"he_normal","scale":1,"depth":6}',
        # a parameter filled in, an activation the page's own table never had, and maxout's
        # pieces (the expressions come from the registries, none falls back to tanh)
        '?lab=layers&config={"activation":"elu","activation_params":{"alpha":2.5},"depth":4}',
        '?lab=layers&config={"activation":"gelu","init":"he_normal","depth":4}',
        '?lab=layers&config={"activation":"maxout","activation_params":{"k":3},"depth":4}',
        # and every init from the registry too: a uniform one, the orthogonal one
        '?lab=layers&config={"activation":"relu","init":"he_uniform","depth":4}',
        '?lab=layers&config={"activation":"tanh","init":"orthogonal","scale":1.2,"depth":4}',
    ],
)
def test_the_numpy_snippet_reproduces_the_lab(watched: Watched, query: str) -> None:
    """The "reproduce in NumPy" snippet, run as a student would, gives the lab's stds."""
    page = watched.open(query)
    wait_frame(page, "layers", "l.frame !== null")
    code = page.locator("pre.snippet").text_content() or ""
    assert "import numpy as np" in code
    assert "leaves out" not in code  # (a plain net: the snippet is the lab's)
    stds = page.evaluate(
        "window.deepscope.labs.layers.frame.layers.map(l => l.hist.activation.std)"
    )
    # as pasted (matplotlib is not installed here: the snippet must still run)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    mine = [float(v) for v in re.findall(r"'([0-9.e+-]+)'", out)]
    assert len(mine) == len(stds)
    # Different random draws (the engine's float32 streams): agreement within sampling
    # noise — tight at the first layer, looser deeper down, where each layer's random
    # scale (a few % at width 500) compounds along the net.
    assert mine[0] == pytest.approx(stds[0], rel=0.03)
    for theirs, ours in zip(mine, stds, strict=True):
        assert theirs == pytest.approx(ours, rel=0.2)


def test_presets_apply_and_their_url_reloads_to_the_same_state(watched: Watched) -> None:
    page = watched.open("?lab=layers")
    wait_frame(page, "layers", "l.frame !== null")
    page.locator("#preset").select_option("relu-he")
    expect(page.locator("#notice-title")).to_have_text("ReLU, He: stable")
    wait_frame(
        page,
        "layers",
        "l.config.activation === 'relu' && l.frame.layers[0].hist.activation.std > 0.7",
    )
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('config') === "
        "JSON.stringify(window.deepscope.labs.layers.config)"
    )
    url = page.url
    config = page.evaluate("JSON.stringify(window.deepscope.labs.layers.config)")
    page.goto(url)
    wait_frame(page, "layers", "l.frame !== null && l.config.activation === 'relu'")
    assert json.loads(
        page.evaluate("JSON.stringify(window.deepscope.labs.layers.config)")
    ) == json.loads(config)
    expect(page.locator("#notice-title")).to_have_text("ReLU, He: stable")
    # A training preset that plays by itself
    page.locator("#preset").select_option("zero-init")
    wait_frame(page, "train", "l.latest !== null && l.latest.step > 50")
    watched.check_clean()


def test_the_language_switch_changes_the_text(watched: Watched) -> None:
    page = watched.open("?lab=layers")
    wait_frame(page, "layers", "l.frame !== null")
    expect(page.locator("#tab-layers")).to_have_text("Layers")
    page.locator("#lang").click()
    expect(page.locator("#tab-layers")).to_have_text("逐层")
    expect(page.get_by_text("深度（层数）")).to_be_visible()
    page.wait_for_function("() => location.search.includes('lang=zh')")
    page.reload()
    page.wait_for_function("() => window.deepscope && window.deepscope.active")
    expect(page.locator("#tab-descend")).to_have_text("优化器")
    page.locator("#lang").click()
    expect(page.locator("#tab-layers")).to_have_text("Layers")
    watched.check_clean()


REGISTRY_NAMES = {
    *activations.ACTIVATIONS,
    *optimizers.OPTIMIZERS,
    *surfaces.SURFACE_SPECS,
    *datasets.DATASETS,
    *initializers.INITIALIZERS,
}


def shown_texts(page: Page) -> dict[str, list[Any]]:
    """Every text node of the page (an <option>'s included) and every element marked
    data-i18n with what it says."""
    return page.evaluate(
        """() => {
          const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          const texts = [];
          for (let n = walk.nextNode(); n; n = walk.nextNode()) {
            const text = n.textContent.trim();
            if (text && !n.parentElement.closest('script, style')) texts.push(text);
          }
          const marked = [...document.querySelectorAll('[data-i18n]')]
            .filter((e) => e.dataset.i18n).map((e) => [e.dataset.i18n, e.textContent]);
          const options = [...document.querySelectorAll('option')]
            .map((o) => [o.value, o.textContent, o.dataset.i18n || '']);
          return {texts, marked, options};
        }"""
    )


def untranslated(page: Page) -> list[str]:
    """What a page in Chinese shows in English: a marked element whose words are not its
    keys' Chinese, an <option> worded neither by a key nor by its registry name, and a
    text node that is (or, for a sentence, contains) an English text of the catalog."""
    en, zh = i18n.catalog("en"), i18n.catalog("zh")
    english = {v for k, v in en.items() if v != zh[k] and v not in REGISTRY_NAMES}
    sentences = {v for v in english if len(v) >= 25}
    seen = shown_texts(page)
    wrong = []
    for spec, text in seen["marked"]:
        words = zh["sep.sentence"].join(zh[k] for k in spec.split(" "))
        if text != words:
            wrong.append(f"[data-i18n={spec}] says {text!r}")
    for value, text, key in seen["options"]:
        if not key and text != value and re.search("[A-Za-z]", text):  # a layer: "1"
            wrong.append(f"<option value={value}> says {text!r} without a key")
    for text in seen["texts"]:
        if text in english or any(s in text for s in sentences):
            wrong.append(f"English on a Chinese page: {text!r}")
    return wrong


def test_every_text_a_chinese_page_shows_is_chinese(watched: Watched) -> None:
    """Every lab, compare mode and a preset's notice, <option> texts included: worded
    from zh.json by key (a missing key is a console error, which check_clean fails on)."""
    page = watched.open("?lab=gallery&lang=zh")
    assert untranslated(page) == []
    for lab in ("layers", "descend", "train"):
        page.locator(f"#tab-{lab}").click()
        page.wait_for_function(
            f"() => window.deepscope.active === window.deepscope.labs['{lab}']"
            " && document.querySelectorAll('.plot[data-drawn]').length > 0"
        )
        assert untranslated(page) == [], lab
    page = watched.open("?preset=bn-small&lang=zh")  # compare mode: labels, both notes
    wait_frame(page, "layers", "l.frame !== null")
    expect(page.locator("#notice-title")).to_have_text(i18n.text("preset.bn-small.title", "zh"))
    assert untranslated(page) == []
    # the test can fail: the same page in English is full of English
    page.locator("#lang").click()
    expect(page.locator("#tab-layers")).to_have_text("Layers")
    assert len(untranslated(page)) > 50
    page.locator("#lang").click()
    expect(page.locator("#tab-layers")).to_have_text("逐层")
    watched.check_clean()


def test_a_missing_key_is_a_console_error_and_shows_the_key(watched: Watched) -> None:
    page = watched.open("?lab=gallery&lang=zh")
    said = page.evaluate("async () => (await import('/static/js/i18n.js')).t('f.no_such_field')")
    assert said == "f.no_such_field"
    assert any('no text "f.no_such_field" in static/i18n/zh.json' in e for e in watched.errors)


def test_the_server_s_texts_are_shown_translated_by_key(watched: Watched) -> None:
    page = watched.open("?lab=gallery&lang=zh")
    # and they are shown translated: the gallery's notes, the optimizer lab's surface note
    expect(page.get_by_text("以零为中心，但在 ±1 处饱和", exact=False)).to_be_visible()
    page.locator("#tab-descend").click()
    expect(page.get_by_text("一条弯曲、底部平坦的山谷", exact=False)).to_be_visible()
    watched.check_clean()


VISIBLE_TEXT = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const text = n.textContent.trim();
    const el = n.parentElement;
    if (!text || !el || el.closest("script, style, .sr-only, pre, option")) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    out.push(text);
  }
  return out;
}"""


@pytest.mark.parametrize("lab", ["layers", "descend", "train", "gallery"])
def test_the_chinese_ui_shows_no_english_sentences(watched: Watched, lab: str) -> None:
    page = watched.open(f"?lab={lab}&lang=zh")
    page.wait_for_function("() => window.deepscope && window.deepscope.active")
    page.wait_for_function("() => document.querySelectorAll('.plot[data-drawn]').length >= 1")
    page.wait_for_timeout(500)
    texts = page.evaluate(VISIBLE_TEXT)
    # Two English words in a row (names such as tanh, momentum or leaky_relu are
    # identifiers and stay as they are, and so do formulas such as "relu: max(0, z)").
    two_words = re.compile(r"[A-Za-z]{3,}[ ,;:]+[A-Za-z]{3,}(?![A-Za-z(])")
    english = sorted({t for t in texts if two_words.search(t)})
    assert english == []
    watched.check_clean()


def test_every_control_is_labelled_and_tabs_work_by_keyboard(watched: Watched) -> None:
    page = watched.open("?lab=train")
    wait_frame(page, "train", "l.latest !== null")
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input, select')].filter(e => !(e.labels && e.labels.length)"
        " && !e.getAttribute('aria-label')).map(e => e.outerHTML)"
    )
    assert unlabelled == []
    page.locator("#tab-train").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-gallery")).to_have_attribute("aria-selected", "true")
    assert page.locator("#live").get_attribute("aria-live") == "polite"


def test_projector_mode_and_palette_round_trip(watched: Watched) -> None:
    page = watched.open("?lab=layers&projector=1&cvd=0")
    wait_frame(page, "layers", "l.frame !== null")
    assert page.evaluate("document.body.classList.contains('projector')")
    expect(page.locator("#projector")).to_be_checked()
    expect(page.locator("#cvd")).not_to_be_checked()
    watched.shot("projector")


def test_class_full_message(browser: Browser, tmp_path: Path) -> None:
    with live_server("--max-sessions", "1", tmp=tmp_path) as server:
        context = browser.new_context()
        first, second = context.new_page(), context.new_page()
        first.goto(server.url)
        first.wait_for_function("() => document.getElementById('conn').dataset.state === 'open'")
        second.goto(server.url)
        expect(second.locator("#banner")).to_contain_text("class is full")
        expect(second.locator("#conn")).to_have_attribute("data-state", "full")
        context.close()


def test_flags_include_the_offline_ones() -> None:
    assert "--disable-background-networking" in FLAGS and "--headless" in FLAGS


def test_a_divergence_is_explained_in_the_page_s_language(watched: Watched) -> None:
    """The server names why a run diverged by key (reason_text); the page words it."""
    config = '{"activation":"linear","scale":3,"steps":500,"optimizer":{"optimizer":"gd","lr":5}}'
    page = watched.open(f"?lab=train&lang=zh&config={config}")
    page.locator("#tab-train").click()
    page.get_by_role("button", name="播放").first.click()
    status = page.get_by_test_id("train-status")
    expect(status).to_contain_text("已发散：")
    expect(status).to_contain_text("步溢出：学习率（5）对这个网络来说太高了")
    expect(page.locator("#banner")).to_contain_text("学习率（5）")
    page.locator("#lang").click()
    expect(status).to_contain_text("overflowed at step")
    expect(status).to_contain_text("the learning rate (5) is too high for this network")
    watched.check_clean()
