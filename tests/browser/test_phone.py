"""The page on a phone (390 × 844) and the language switch: no lab is wider than the
screen, the player comes before the charts, Plotly's mode bar is not over them; and a
switch to 中文 on the page words again what was built in English."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import Watched
from tests.browser.test_lecture_charts import wait_lab
from tests.live import ROOT, LiveServer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LABS = ("layers", "descend", "train", "gallery")


def _texts(lang: str) -> dict[str, str]:
    result: dict[str, str] = json.loads((ROOT / "static" / "i18n" / f"{lang}.json").read_text())
    return result


def _layout(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        """() => {
          const first = document.querySelector('#lab .charts > .card:not([hidden])');
          const player = document.querySelector('#lab .player');
          const label = document.querySelector('label.tool > span[data-i18n="presets"]');
          const box = label.getBoundingClientRect();
          return {
            width: document.documentElement.scrollWidth, screen: innerWidth,
            player: player ? player.getBoundingClientRect().top : null,
            inPanel: player ? !!player.closest('.controls') : null,
            chart: first.getBoundingClientRect().top,
            modebars: document.querySelectorAll('#lab .modebar').length,
            label: [box.width, box.height],
          };
        }"""
    )
    return result


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_lab_fits_a_phone_with_its_player_first(
    browser: Browser, server: LiveServer, lang: str
) -> None:
    context = browser.new_context(viewport=PHONE)
    w = Watched(context.new_page(), server)
    try:
        for lab in LABS:
            page = w.open(f"?lab={lab}&lang={lang}")
            page.wait_for_function(
                "() => [...document.querySelectorAll('#lab .js-plotly-plot')]"
                ".some((e) => Number(e.dataset.drawn || 0) > 0)"
            )
            at = _layout(page)
            assert at["width"] <= at["screen"], (lab, at)
            assert at["modebars"] == 0, lab  # (it covered the top of the charts)
            width, height = at["label"]
            assert height < width, (lab, at["label"])  # 课程预设 on one line
            if lab in ("descend", "train"):
                assert at["player"] < at["chart"] and not at["inPanel"], (lab, at)
            w.shot(f"phone-{lang}-{lab}", full_page=False)
        # a wider window: the player back in its panel
        page = w.open(f"?lab=descend&lang={lang}")
        page.wait_for_function("() => !!document.querySelector('#lab .player-slot .player')")
        page.set_viewport_size({"width": 1400, "height": 900})
        page.wait_for_function("() => !!document.querySelector('#lab .controls .player')")
        assert page.locator("#lab .player-slot").count() == 0
        w.check_clean()
    finally:
        context.close()


def test_switching_to_chinese_words_again_what_was_built_in_english(watched: Watched) -> None:
    en, zh = _texts("en"), _texts("zh")
    page = watched.open("?lab=descend")
    page.wait_for_function("() => !!document.querySelector('#lab .badge.minimum')")
    page.locator("#lab .controls select").first.select_option("custom")
    page.locator('#lab .controls input[type="text"]').first.fill("x**2 + 10*y*")
    page.get_by_role("button", name="Apply").click()
    wait_lab(page, "descend", "l.exprError.textContent !== ''")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=play-state]').dataset.state === 'paused'"
    )
    assert page.get_by_test_id("play-state").text_content() == en["state.paused"]
    page.click("#lang")
    page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
    assert page.get_by_test_id("play-state").text_content() == zh["state.paused"]
    assert zh["expr.help"] in page.locator("#lab .controls").inner_text()
    # (the badge of the minimum drawn before the switch, under the contour)
    assert page.locator("#lab .badge.minimum").first.text_content() == zh["kind.minimum"]
    error = page.get_by_test_id("expr-error").text_content() or ""
    assert error.startswith("surface.expr: ") and zh["err.expression"].split("{")[0] in error
    # no text of the page's own catalog is left in English (where the languages differ)
    shown = page.locator("body").inner_text()
    left = [
        text
        for key, text in en.items()
        if text != zh[key] and " " in text.strip() and "{" not in text and text in shown
    ]
    assert left == []
    # nor in the names a screen reader reads (a card's, a panel's, "Remove run 2")
    english = {text for key, text in en.items() if text != zh[key] and text.strip().isascii()}
    names = page.evaluate(
        "() => [...document.querySelectorAll('[aria-label]')].map((e) => e.ariaLabel)"
    )
    numbered = [re.sub(r" \d+$", "", n) for n in names]  # ("Remove run 2")
    assert names and [n for n in numbered if n in english] == []
    watched.check_clean(expected=("status of 422",))  # (the typo's probe)
