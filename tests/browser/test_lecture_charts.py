"""Issue 13's charts and projector items, in a real browser: what each chart shows for
the lectures' settings (the theory clipped, distinct ticks, the bin under the pointer,
the no-minimum message, the rounding floor, twelve distinct activation styles), the
user's zoom across streamed frames, and projector mode growing every text."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Watched

pytestmark = pytest.mark.browser

TANH_N01 = '?lab=layers&config={"activation":"tanh","init":"normal","scale":1}'


def wait_lab(page: Page, lab: str, predicate: str, timeout: float = 30_000) -> None:
    page.wait_for_function(
        f"() => {{ const l = window.deepscope && window.deepscope.labs['{lab}'];"
        f" return !!l && ({predicate}); }}",
        timeout=timeout,
    )


def card(title: str) -> str:
    """The plot element of the card whose heading is ``title``."""
    return f'section.card[aria-label="{title}"] .js-plotly-plot'


def wait_drawn(page: Page, selector: str, more_than: int = 0) -> int:
    page.wait_for_function(
        "([s, n]) => { const e = document.querySelector(s);"
        " return !!e && Number(e.dataset.drawn || 0) > n && !!e._fullLayout; }",
        arg=[selector, more_than],
        timeout=30_000,
    )
    return int(page.evaluate("(s) => Number(document.querySelector(s).dataset.drawn)", selector))


def figure(page: Page, selector: str) -> Any:
    """The drawn figure: the traces' names/colours/dashes/ys, the axes' ranges, the
    annotations' texts and the tick labels on screen."""
    return page.evaluate(
        """(s) => {
          const e = document.querySelector(s);
          const fl = e._fullLayout;
          return {
            traces: e.data.map((t) => ({ name: t.name, y: t.y ? Array.from(t.y) : [],
              colour: t.line && t.line.color, dash: t.line && t.line.dash })),
            yrange: fl.yaxis.range, ytype: fl.yaxis.type, xrange: fl.xaxis.range,
            font: fl.font.size, hoverFont: fl.hoverlabel.font.size, plotHeight: fl._size.h,
            annotations: (fl.annotations || []).map((a) => a.text),
            yticks: [...e.querySelectorAll('.ytick text')].map((t) => t.textContent),
            xticks: [...e.querySelectorAll('.xtick text')].map((t) => t.textContent),
            x2ticks: [...e.querySelectorAll('.x2tick text')].map((t) => t.textContent),
          };
        }""",
        selector,
    )


# --- 1. the moments chart -------------------------------------------------------------


def test_the_moments_axis_follows_the_measured_std_and_marks_the_clipped_theory(
    watched: Watched,
) -> None:
    page = watched.open(TANH_N01)
    wait_lab(page, "layers", "l.frame !== null")
    sel = card("Mean and std per layer")
    wait_drawn(page, sel)
    fig = figure(page, sel)
    # the measured pre-activation std is √500 ≈ 22 at every layer; the theory
    # √(500^k) reaches 3·10¹³ at layer 10 — the axis follows the former
    measured = [v for t in fig["traces"][:3] for v in t["y"] if v is not None]
    assert max(measured) == pytest.approx(22.4, rel=0.05)
    lo, hi = fig["yrange"]
    assert max(measured) <= hi < 2 * max(measured)
    assert lo <= 0
    theory = next(t for t in fig["traces"] if t["name"] == "theory √Var(z)")
    assert all(v is None or v <= hi * 1.0001 for v in theory["y"])  # clipped at the edge
    note = [a for a in fig["annotations"] if "theory leaves the chart" in a]
    assert note == ["▲ theory leaves the chart: 3.1·10¹³ at layer 10"]
    # the mark at the edge where it leaves
    assert any(t["name"] == "theory-clipped" for t in fig["traces"])
    watched.shot("lecture-moments-clipped")

    # log-y: the range still follows the measured values (in decades), the theory is
    # clipped above them
    drawn = wait_drawn(page, sel)
    page.get_by_label("Log scale for the moments").check()
    wait_drawn(page, sel, drawn)
    page.wait_for_function(
        "(s) => document.querySelector(s)._fullLayout.yaxis.type === 'log'", arg=sel
    )
    fig = figure(page, sel)
    lo, hi = fig["yrange"]
    assert hi < math.log10(22.4) + 1  # decades, not 13
    assert any("theory leaves the chart" in a for a in fig["annotations"])
    watched.check_clean()


def test_a_theory_that_stays_close_is_drawn_whole(watched: Watched) -> None:
    """At the lecture's good init the theory is near the measured std: nothing clipped."""
    page = watched.open('?lab=layers&config={"activation":"tanh","init":"lecun_normal","scale":1}')
    wait_lab(page, "layers", "l.frame !== null")
    sel = card("Mean and std per layer")
    wait_drawn(page, sel)
    fig = figure(page, sel)
    assert not any("theory leaves" in a for a in fig["annotations"])
    theory = next(t for t in fig["traces"] if t["name"] == "theory √Var(z)")
    assert None not in theory["y"] and len(theory["y"]) == 10
    assert max(theory["y"]) <= fig["yrange"][1]
    watched.check_clean()


# --- 2. projector mode ----------------------------------------------------------------

TEXTS = {
    "brand": ".brand",
    "tab": "#tab-layers",
    "preset label": ".tool span",
    "button": "#share",
    "select": "#preset",
    "readout": ".readout",
    "field label": ".field > label",
    "fieldset legend": ".controls legend",
    "hint": ".hint",
    "card title": ".card h3",
    "card subtitle": ".card .sub",
    "banner": "#banner",
    "notice": "#notice-text",
}

FONT_SIZES = """(sels) => Object.fromEntries(Object.entries(sels).map(([k, s]) =>
  [k, parseFloat(getComputedStyle(document.querySelector(s)).fontSize)]))"""


def test_projector_mode_grows_every_text_not_only_the_plots(watched: Watched) -> None:
    page = watched.open(TANH_N01)
    wait_lab(page, "layers", "l.frame !== null")
    sel = card("Mean and std per layer")
    wait_drawn(page, sel)
    before = page.evaluate(FONT_SIZES, TEXTS)
    plot_font = figure(page, sel)["font"]
    hover_font = figure(page, sel)["hoverFont"]
    drawn = wait_drawn(page, sel)
    page.locator("#projector").check()
    wait_drawn(page, sel, drawn)
    after = page.evaluate(FONT_SIZES, TEXTS)
    small = {k: (before[k], after[k]) for k in TEXTS if after[k] < 1.3 * before[k]}
    assert small == {}, f"texts that did not grow: {small}"
    assert figure(page, sel)["font"] > 1.3 * plot_font
    assert figure(page, sel)["hoverFont"] > 1.3 * hover_font
    assert page.evaluate("document.documentElement.classList.contains('projector')")
    watched.shot("lecture-projector-layers")
    # and back
    page.locator("#projector").uncheck()
    assert page.evaluate(FONT_SIZES, TEXTS) == before
    watched.check_clean()


def test_a_long_legend_does_not_squeeze_its_plot(watched: Watched) -> None:
    """Twelve activations (24 legend entries, several rows in projector mode): the plot
    area keeps its height, the chart grows instead."""
    page = watched.open('?lab=gallery&projector=1&config={"show":["tanh"]}')
    sel = card("Activations and their derivatives")
    page.wait_for_function("() => Object.keys(window.deepscope.labs.gallery.curves).length === 1")
    wait_drawn(page, sel)
    page.wait_for_timeout(300)
    one = figure(page, sel)["plotHeight"]
    for box in page.locator(".gallery-list input[type=checkbox]").all():
        box.check()
    page.wait_for_function("() => Object.keys(window.deepscope.labs.gallery.curves).length === 12")
    page.wait_for_function(
        "(s) => document.querySelector(s).data.length >= 24", arg=sel, timeout=30_000
    )
    page.wait_for_timeout(500)
    legend_rows = page.evaluate(
        "(s) => new Set([...document.querySelectorAll(s + ' .legend .traces')]"
        ".map((e) => Math.round(e.getBoundingClientRect().top))).size",
        sel,
    )
    assert legend_rows >= 3
    assert figure(page, sel)["plotHeight"] >= 0.95 * one
    watched.shot("lecture-projector-gallery")
    watched.check_clean()


# --- 3. zoom across streamed frames ------------------------------------------------------


def drag(page: Page, selector: str, a: tuple[float, float], b: tuple[float, float]) -> None:
    """A zoom box drawn with the mouse, from a to b (fractions of the plot area)."""
    box = page.locator(f"{selector} .nsewdrag").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * a[0], box["y"] + box["height"] * a[1])
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * b[0], box["y"] + box["height"] * b[1], steps=6)
    page.mouse.up()


def ranges(page: Page, selector: str) -> Any:
    return page.evaluate(
        "(s) => { const fl = document.querySelector(s)._fullLayout;"
        " return [fl.xaxis.range.slice(), fl.yaxis.range.slice()]; }",
        selector,
    )


def test_the_users_zoom_survives_a_streaming_race_and_a_new_surface_autoranges(
    watched: Watched,
) -> None:
    page = watched.open("?lab=descend")
    wait_lab(page, "descend", "l.runsData.length === 3 && l.grid !== null")
    paths = card("Paths on the surface")
    loss = card("Loss")
    wait_drawn(page, paths)
    wait_drawn(page, loss)
    assert ranges(page, paths)[0] == [-2, 2]  # Rosenbrock's domain
    drag(page, paths, (0.3, 0.3), (0.5, 0.5))
    drag(page, loss, (0.0, 0.2), (0.5, 0.8))
    zoomed_paths = ranges(page, paths)
    zoomed_loss = ranges(page, loss)
    assert zoomed_paths[0] != [-2, 2]
    drawn = wait_drawn(page, paths)
    drawn_loss = wait_drawn(page, loss)
    page.get_by_role("button", name="Play").click()
    wait_lab(page, "descend", "l.runsData[0].points.length > 150")
    wait_drawn(page, paths, drawn + 3)
    wait_drawn(page, loss, drawn_loss + 3)
    assert ranges(page, paths) == zoomed_paths
    assert ranges(page, loss) == zoomed_loss
    watched.shot("lecture-zoomed-race")
    page.get_by_role("button", name="Pause").click()
    # another surface: its own domain, whatever the zoom was
    page.get_by_label("Surface", exact=True).select_option("booth")
    wait_lab(page, "descend", "l.surface && l.surface.name === 'booth'")
    page.wait_for_function(
        "(s) => { const r = document.querySelector(s)._fullLayout.xaxis.range;"
        " return r[0] === -10 && r[1] === 10; }",
        arg=paths,
    )
    watched.check_clean()


def test_the_users_zoom_survives_a_training_run(watched: Watched) -> None:
    page = watched.open('?lab=train&config={"steps":100000}')  # it streams till paused
    wait_lab(page, "train", "l.latest !== null")
    loss = card("Loss and accuracy")
    boundary = card("Decision boundary")
    page.get_by_role("button", name="Play").click()
    wait_lab(page, "train", "l.latest.step >= 100")
    points_range = ranges(page, boundary)
    drag(page, loss, (0.1, 0.1), (0.6, 0.7))
    drag(page, boundary, (0.2, 0.2), (0.5, 0.5))
    zoomed = ranges(page, loss)
    zoomed_boundary = ranges(page, boundary)
    assert zoomed[0][0] > 0  # the zoom box, not the autorange from 0
    assert zoomed_boundary[0][0] > points_range[0][0]
    drawn = wait_drawn(page, loss)
    wait_drawn(page, loss, drawn + 3)
    wait_drawn(page, boundary, wait_drawn(page, boundary) + 3)
    assert ranges(page, loss) == zoomed
    assert ranges(page, boundary) == zoomed_boundary
    page.get_by_role("button", name="Pause").click()
    watched.check_clean()


# --- 4. histograms ------------------------------------------------------------------------


def test_histogram_ticks_are_distinct_and_the_hover_names_the_bin(watched: Watched) -> None:
    # 100 bins of a ReLU net's pre-activations at 1.35 × He: shares of at most ≈ 2.5%,
    # where ".0%" ticks read "0%, 1%, 1%, 2%, 2%, 3%"
    page = watched.open(
        '?lab=layers&config={"activation":"relu","init":"he_normal","scale":1.35,"bins":100}'
        '&view={"quantity":"preactivation"}'
    )
    wait_lab(page, "layers", "l.frame !== null")
    sel = card("Per-layer histograms")
    wait_drawn(page, sel)
    fig = figure(page, sel)
    assert fig["yrange"][1] < 0.06
    assert len(fig["yticks"]) >= 3
    assert len(set(fig["yticks"])) == len(fig["yticks"]), fig["yticks"]
    # value ticks under the panels (−6 … 6 here) and the layer numbers on top
    assert {"-5", "0", "5"} <= set(fig["xticks"])
    assert fig["x2ticks"] == [str(n) for n in range(1, 11)]
    # the pointer over layer 3's panel, low down: its bin, share and count
    box = page.locator(f"{sel} .nsewdrag").first.bounding_box()
    assert box is not None
    x_range = fig["xrange"]
    centre = 2 + 0.43  # panel 3 spans [2, 2.86]
    fx = (centre - x_range[0]) / (x_range[1] - x_range[0])
    page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * 0.95)
    page.wait_for_function(f"() => document.querySelector('{sel} .hoverlayer').textContent !== ''")
    text = page.locator(f"{sel} .hoverlayer").text_content() or ""
    assert re.search(r"layer 3: \[-?[\d.]+, -?[\d.]+\)", text), text
    assert re.search(r"[\d.]+% · [\d,]+ of [\d,]+", text), text
    watched.check_clean()


def test_log_histogram_panels_have_magnitude_ticks(watched: Watched) -> None:
    page = watched.open(
        '?lab=layers&config={"activation":"tanh","init":"normal","scale":0.01}'
        '&view={"quantity":"gradient"}'
    )
    wait_lab(page, "layers", "l.frame !== null")
    sel = card("Per-layer histograms")
    wait_drawn(page, sel)
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{sel} .xtick text')]"
        ".some((t) => t.textContent.startsWith('10'))"
    )
    fig = figure(page, sel)
    powers = [t for t in fig["xticks"] if re.fullmatch(r"10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+|1|10", t)]
    assert len(powers) >= 10  # at least one under each of the ten panels
    assert len(set(powers)) >= 2  # and more than one magnitude
    watched.shot("lecture-log-histograms")
    watched.check_clean()


# --- 5. the optimizer lab's distance and loss -------------------------------------------


@pytest.mark.parametrize(
    ("lang", "title", "words"),
    [
        ("en", "Distance to the nearest minimum", "no minimum: no distance to show"),
        ("zh", "到最近极小点的距离", "没有极小点"),
    ],
)
def test_the_distance_chart_says_when_the_surface_has_no_minimum(
    watched: Watched, lang: str, title: str, words: str
) -> None:
    page = watched.open(f'?lab=descend&lang={lang}&config={{"surface":"saddle"}}')
    wait_lab(page, "descend", "l.surface && l.surface.name === 'saddle' && l.runsData.length === 3")
    sel = card(title)
    page.wait_for_function(
        "([s, w]) => { const e = document.querySelector(s); return !!e && !!e._fullLayout"
        " && (e._fullLayout.annotations || []).some((a) => a.text.includes(w)); }",
        arg=[sel, words],
    )
    assert words in (page.locator(f"{sel} .annotation-text").first.text_content() or "")
    # on Rosenbrock (a minimum at (1, 1)) the distances are drawn, no message
    page.get_by_label("Surface" if lang == "en" else "曲面", exact=True).select_option("rosenbrock")
    page.wait_for_function(
        "(s) => { const e = document.querySelector(s);"
        " return e.data.length === 3 && !(e._fullLayout.annotations || []).length; }",
        arg=sel,
    )
    watched.check_clean()


def test_the_loss_and_the_distance_are_floored_at_machine_precision(watched: Watched) -> None:
    # Newton lands on Booth's minimum (f* = 0) in one step, up to rounding: f − f* ≈
    # 1e-27, which a log axis would draw as a plunge of 30 decades
    page = watched.open(
        '?lab=descend&config={"surface":"booth","steps":40,'
        '"runs":[{"optimizer":"newton","lr":1},{"optimizer":"gd","lr":0.05}]}'
    )
    wait_lab(page, "descend", "l.runsData.length === 2 && l.grid !== null")
    page.get_by_role("button", name="Play").click()
    wait_lab(page, "descend", "l.runsData[1].points.length > 30")
    sel = card("Loss")
    page.wait_for_function(
        "(s) => (document.querySelector(s)._fullLayout.annotations || [])"
        ".some((a) => a.text === 'machine precision')",
        arg=sel,
    )
    fig = figure(page, sel)
    newton = next(t for t in fig["traces"] if t["name"].startswith("newton"))
    assert min(newton["y"]) == pytest.approx(1e-15)
    assert all(v >= 1e-15 for t in fig["traces"] for v in t["y"] if v is not None)
    # GD with lr 0.5 on x² lands exactly on 0 in one step: the distance (and the loss)
    # is 0 there, drawn at the floor, not as a plunge
    page = watched.open(
        '?lab=descend&config={"surface":"parabola_1d","steps":20,"runs":[{"optimizer":"gd","lr":0.5}]}'
    )
    wait_lab(page, "descend", "l.runsData.length === 1 && l.grid !== null")
    page.get_by_role("button", name="Play").click()
    wait_lab(page, "descend", "l.runsData[0].status !== 'running'")
    dist = card("Distance to the nearest minimum")
    page.wait_for_function(
        "(s) => (document.querySelector(s)._fullLayout.annotations || [])"
        ".some((a) => a.text === 'machine precision')",
        arg=dist,
    )
    assert page.evaluate("window.deepscope.labs.descend.runsData[0].distance[1]") == 0
    gd = figure(page, dist)["traces"][0]
    assert gd["y"][1] == pytest.approx(1e-15)
    watched.check_clean()


# --- 6. the activation gallery ----------------------------------------------------------

ALL = (
    '["linear","sigmoid","tanh","relu","leaky_relu","prelu","elu","selu","gelu","silu",'
    '"softplus","maxout"]'
)


@pytest.mark.parametrize("cvd", ["1", "0"])
def test_every_activation_has_its_own_style_and_elus_asymptote_shows(
    watched: Watched, cvd: str
) -> None:
    page = watched.open(
        f'?lab=gallery&cvd={cvd}&config={{"show":{ALL},"params":{{"elu":{{"alpha":5}}}}}}'
    )
    page.wait_for_function("() => Object.keys(window.deepscope.labs.gallery.curves).length === 12")
    sel = card("Activations and their derivatives")
    page.wait_for_function(
        "(s) => { const e = document.querySelector(s);"
        " return !!e && !!e.data && e.data.length >= 24; }",
        arg=sel,
    )
    fig = figure(page, sel)
    styles = [(t["colour"], t["dash"]) for t in fig["traces"]]
    assert len(styles) == 24  # f and f′ of each
    assert len(set(styles)) == 24
    colours = {t["name"]: t["colour"] for t in fig["traces"] if not t["name"].endswith("′")}
    assert len(colours) == 12
    # ELU with α = 5 tends to −5: the whole tail is in view
    elu = next(t for t in fig["traces"] if t["name"] == "elu")
    assert min(elu["y"]) < -4.9
    assert fig["yrange"][0] < min(elu["y"])
    # and the growing curves (linear, relu) are not what sets the range
    assert fig["yrange"][1] < 3
    if cvd == "1":
        watched.shot("lecture-gallery-twelve")
    watched.check_clean()
