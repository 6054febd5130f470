"""Issue 13 in the browser: errors in the page's language, the size ceiling, the
optimizer lab's small defects, blow-ups and float32's limits."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Page, expect

from tests.browser.conftest import Watched

LAYERS = "window.deepscope.labs.layers"
DESCEND = "window.deepscope.labs.descend"


def wait_frame(page: Page, lab: str, predicate: str = "true", timeout: float = 30_000) -> None:
    page.wait_for_function(
        f"() => {{ const l = window.deepscope && window.deepscope.labs['{lab}'];"
        f" return !!l && ({predicate}); }}",
        timeout=timeout,
    )


def slide(page: Page, label: str, value: float) -> None:
    """Move a range input as a student's drag does (an input event)."""
    page.get_by_label(label).evaluate(
        "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input')); }", value
    )


def banner(page: Page) -> Any:
    return page.evaluate(
        "(() => { const b = document.getElementById('banner');"
        " return { hidden: b.hidden, text: b.textContent }; })()"
    )


# --- 1. the size ceiling and the errors ------------------------------------------------


def test_depth_past_the_ceiling_lowers_the_batch_and_says_so(watched: Watched) -> None:
    page = watched.open("?lab=layers")
    wait_frame(page, "layers", "l.frame !== null")
    slide(page, "Depth (layers)", 30)
    wait_frame(page, "layers", "l.frame.layers.length === 30")
    # 10,000,000 / (30 × 500) = 666 samples fit under the ceiling
    assert page.evaluate(f"{LAYERS}.config.batch") == 666
    note = page.get_by_test_id("size-note")
    expect(note).to_have_text(
        "Batch reduced to 666 (you asked for 1000) to fit depth 30 × width 500 under the "
        "ceiling of 10,000,000 values."
    )
    expect(page.locator("output", has_text="666")).to_have_count(1)  # the batch slider
    assert banner(page)["hidden"]
    watched.shot("lecture-errors-depth30")
    # back to 10 layers: the batch the student asked for returns and the note goes
    slide(page, "Depth (layers)", 10)
    wait_frame(page, "layers", "l.frame.layers.length === 10")
    assert page.evaluate(f"{LAYERS}.config.batch") == 1000
    expect(note).to_be_hidden()
    # too many weights: the width that moved stops where the network fits
    slide(page, "Depth (layers)", 40)
    slide(page, "Width (units per layer)", 1000)
    wait_frame(page, "layers", "l.frame.layers.length === 40")
    width = page.evaluate(f"{LAYERS}.config.width")
    assert width < 1000 and 500 * width + 39 * width * width <= 25_000_000
    expect(note).to_contain_text(f"Width limited to {width}")
    watched.check_clean()


def test_the_note_is_translated(watched: Watched) -> None:
    page = watched.open("?lab=layers&lang=zh")
    wait_frame(page, "layers", "l.frame !== null")
    slide(page, "深度（层数）", 30)
    wait_frame(page, "layers", "l.frame.layers.length === 30")
    expect(page.get_by_test_id("size-note")).to_have_text(
        "批大小已减到 666（你选的是 1000），以便深度 30 × 宽度 500 不超过 10,000,000 个数值的上限。"
    )
    page.locator("#lang").click()
    expect(page.get_by_test_id("size-note")).to_contain_text("Batch reduced to 666")
    watched.check_clean()


def test_a_refused_configuration_is_worded_in_the_page_language_and_then_cleared(
    watched: Watched,
) -> None:
    page = watched.open("?lab=layers&lang=zh")
    wait_frame(page, "layers", "l.frame !== null")
    # what an old link or another client could still send: over the ceiling
    page.evaluate(
        "window.deepscope.socket.configure('layers', {depth: 30, width: 500, batch: 1000}, {})"
    )
    page.wait_for_function("() => !document.getElementById('banner').hidden")
    text = banner(page)["text"]
    assert text == (
        "服务器提示: batch: depth × width × batch = 15,000,000，超过上限 10,000,000："
        "请减小深度、宽度或批大小"
    )
    # the language button re-words it (once the English catalog has loaded)
    page.locator("#lang").click()
    expect(page.locator("#tab-layers")).to_have_text("Layers")
    assert banner(page)["text"] == (
        "Server says: batch: depth × width × batch = 15,000,000 exceeds the ceiling "
        "10,000,000: reduce depth, width or batch"
    )
    # a good frame of a newer configuration clears it
    slide(page, "Depth (layers)", 4)
    wait_frame(page, "layers", "l.frame.layers.length === 4")
    page.wait_for_function("() => document.getElementById('banner').hidden")
    watched.check_clean()


def test_error_codes_are_worded_from_the_catalog_or_fall_back_to_english(
    watched: Watched,
) -> None:
    page = watched.open("?lab=gallery&lang=zh")
    words = page.evaluate(
        """async () => {
          const i18n = await import('/static/js/i18n.js');
          const known = {code: 'invalid', message: 'config.depth: Input should be …', problems: [
            {field: 'config.depth', code: 'less_than_equal', params: {le: 50, value: 300},
             message: 'Input should be less than or equal to 50'}]};
          const unknown = {code: 'invalid', message: 'x: something new', problems: [
            {field: 'config.x', code: 'a_code_the_page_does_not_know', params: {},
             message: 'something new'}]};
          const bare = {code: 'internal', message: 'the lab failed to start; try other settings'};
          const rest = {error: 'surface.domain: …', problems: [{field: 'surface.domain',
            code: 'domain_dims', params: {dims: 1}, message: 'domain needs 1 range(s)'}]};
          const out = [i18n.errorText(known), i18n.errorText(unknown), i18n.errorText(bare),
                       i18n.errorText(rest)];
          await i18n.setLang('en');
          out.push(i18n.errorText(known), i18n.errorText(rest));
          await i18n.setLang('zh');
          return out;
        }"""
    )
    assert words == [
        "depth: 不能大于 50",
        "x: something new",
        "实验出错了；请换一组设置",
        "surface.domain: 需要 1 个区间：表达式用到的变量是 x",
        "depth: must be at most 50",
        "surface.domain: needs 1 range(s): the expression uses x only",
    ]


# --- 2. and 3. the optimizer lab --------------------------------------------------------


def test_a_custom_expression_in_x_only_is_a_1d_surface(watched: Watched) -> None:
    page = watched.open("?lab=descend")
    wait_frame(page, "descend", "l.grid !== null && l.runsData.length > 0")
    surface = page.get_by_label("Surface", exact=True)
    surface.select_option("bowl")
    wait_frame(page, "descend", "l.surface && l.surface.name === 'bowl'")
    expect(page.get_by_label("condition number")).to_have_count(1)
    # the rotated bowl's formula, to a few significant digits
    expect(page.locator(".card .sub", has_text="f = 0.5*((0.866*x + 0.5*y)**2")).to_have_count(1)
    surface.select_option("custom")
    # the bowl's sliders go with the bowl
    expect(page.get_by_label("condition number")).to_have_count(0)
    expect(page.get_by_label("rotation (°)")).to_have_count(0)
    page.get_by_label("f(x, y) =").fill("x**4 - 3*x**2 + x")
    page.get_by_role("button", name="Apply").click()
    wait_frame(page, "descend", "l.surface && l.surface.name === 'custom' && l.surface.dims === 1")
    expect(page.get_by_test_id("expr-error")).to_have_text("")
    expect(page.get_by_label("f(x) =")).to_have_value("x**4 - 3*x**2 + x")
    expect(page.get_by_label("Domain [[x₀, x₁]]")).to_have_count(1)
    page.get_by_role("button", name="Play").click()
    wait_frame(page, "descend", "l.runsData[0].points.length > 20")
    assert page.evaluate(f"{DESCEND}.runsData.every(r => r.points[0].length === 1)")
    # a 2-D domain for it is explained, not sent
    page.get_by_label("Domain [[x₀, x₁]]").fill("[[-5, 5], [-5, 5]]")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("expr-error")).to_contain_text("This expression uses x only")
    page.get_by_label("Domain [[x₀, x₁]]").fill("[-3, 3]")
    page.get_by_role("button", name="Apply").click()
    wait_frame(page, "descend", "l.surface.domain[0][0] === -3")
    expect(page.get_by_test_id("expr-error")).to_have_text("")
    watched.shot("lecture-errors-custom-1d")
    watched.check_clean()


def test_a_new_surface_gives_untouched_runs_their_optimizer_default_lr(
    watched: Watched,
) -> None:
    page = watched.open("?lab=descend")
    wait_frame(page, "descend", "l.grid !== null && l.runsData.length > 0")
    assert page.evaluate(f"{DESCEND}.config.runs.map(r => r.lr)") == [0.001, 0.001, 0.05]
    # the student sets the third run's lr; the other two keep Rosenbrock's 0.001
    page.locator(".run").nth(2).get_by_label("Learning rate").evaluate(
        "el => { el.value = String(Math.log10(0.2)); el.dispatchEvent(new Event('input')); }"
    )
    page.get_by_label("Surface", exact=True).select_option("quadratic_1d")
    wait_frame(page, "descend", "l.surface && l.surface.name === 'quadratic_1d'")
    gd = next(o for o in page.evaluate("window.deepscope.catalog.optimizers") if o["name"] == "gd")
    lr_default = next(h["default"] for h in gd["hyper"] if h["name"] == "lr")
    runs = page.evaluate(f"{DESCEND}.config.runs")
    assert "lr" not in runs[0] and "lr" not in runs[1] and runs[2]["lr"] == 0.2
    expect(page.locator(".run").first.locator("output").first).to_have_text(str(lr_default))
    watched.check_clean()


def test_newtons_lr_is_named_for_what_it_does(watched: Watched) -> None:
    page = watched.open("?lab=descend&lang=zh")
    wait_frame(page, "descend", "l.grid !== null && l.runsData.length > 0")
    page.locator(".run select").first.select_option("newton")
    run = page.locator(".run").first
    expect(run.get_by_label("步长缩放 lr（1 = 完整的牛顿步）")).to_have_count(1)
    expect(run.locator("output").first).to_have_text("1")
    page.locator(".run").first.get_by_role("button", name="显示").click()
    equation = page.locator(".equation")
    expect(equation).to_contain_text("牛顿法会走向鞍点")
    assert "*" not in equation.text_content().replace("H⁻¹·g", "")
    watched.check_clean()


def test_the_training_lab_names_newtons_lr_too(watched: Watched) -> None:
    page = watched.open("?lab=train")
    wait_frame(page, "train", "l.latest !== null")
    # (the lab's own optimizer, not the race box's runners below it)
    group = page.locator("fieldset", has=page.locator('legend[data-i18n="g.optimizer"]'))
    expect(group.get_by_text("Learning rate", exact=True)).to_have_count(1)
    group.get_by_label("Optimizer", exact=True).select_option("newton")
    expect(group.get_by_text("Step scale lr (1 = the full Newton step)", exact=True)).to_have_count(
        1
    )
    expect(group.get_by_text("Learning rate", exact=True)).to_have_count(0)
    watched.check_clean()


# --- 4. a blow-up that stays finite -------------------------------------------------------


def train_url(optimizer: dict[str, Any], lang: str = "en") -> str:
    config = json.dumps({"optimizer": optimizer, "steps": 400})
    return f"?lab=train&lang={lang}&config={quote(config)}"


def test_gd_at_lr_10_on_the_circle_is_explained_and_goes_on(watched: Watched) -> None:
    page = watched.open(train_url({"optimizer": "gd", "lr": 10}))
    wait_frame(page, "train", "l.latest !== null")
    status = page.get_by_test_id("train-status")
    expect(status).to_have_text("")
    page.get_by_role("button", name="Play").click()
    wait_frame(page, "train", "l.latest.step >= 400")
    warning = page.evaluate("window.deepscope.labs.train.latest.warning")
    assert warning["units"] == "saturated" and warning["unit_layer"] == 2
    expect(status).to_contain_text(f"Blew up: the loss spiked at step {warning['step']} to ")
    expect(status).to_contain_text("Each update is 0.33× the weights")
    expect(status).to_contain_text("100 % of layer 2's units are saturated")
    expect(status).to_contain_text("The learning rate (10) is too high for this network: try 1.")
    # it ran to the end: finished, and the explanation stays
    expect(page.get_by_test_id("play-state")).to_have_text("finished")
    expect(status).to_contain_text("Blew up")
    watched.shot("lecture-errors-blowup")
    page.locator("#lang").click()
    expect(status).to_contain_text("损失爆炸: 损失在第")
    expect(status).to_contain_text("第 2 层有 100% 的单元饱和")
    watched.check_clean()


def test_a_healthy_run_shows_no_warning(watched: Watched) -> None:
    page = watched.open(train_url({"optimizer": "adam", "lr": 0.01}))
    wait_frame(page, "train", "l.latest !== null")
    page.get_by_role("button", name="Play").click()
    wait_frame(page, "train", "l.latest.step >= 400")
    assert page.evaluate("window.deepscope.labs.train.latest.warning") is None
    expect(page.get_by_test_id("train-status")).to_have_text("")
    watched.check_clean()


# --- 5. float32's limits -----------------------------------------------------------------


def test_depth_50_says_where_float32_underflows_and_float64_shows_it(watched: Watched) -> None:
    page = watched.open("?lab=layers")
    wait_frame(page, "layers", "l.frame !== null")
    slide(page, "Depth (layers)", 50)
    wait_frame(page, "layers", "l.frame.layers.length === 50 && l.frame.layers[0].flags.length")
    grad = page.get_by_test_id("flags-gradnorm")
    expect(grad).to_have_text(
        "Layers 1–50: every value of the weight gradient ∂L/∂W is exactly 0 in float32. It "
        "underflowed: its true values are below float32's smallest number (1.4·10⁻⁴⁵). Switch "
        "the precision to float64 to see them. A log axis cannot show 0, so those layers have "
        "nothing to draw here."
    )
    # the histogram of ∂L/∂h names the layers where it is exactly 0
    page.get_by_label("Histograms of").select_option("gradient")
    wait_frame(page, "layers", "l.frame.layers[0].hist.gradient.counts !== null")
    hist = page.get_by_test_id("flags-histograms")
    expect(hist).to_contain_text("upstream gradient ∂L/∂h is exactly 0 in float32")
    under = page.evaluate(
        f"{LAYERS}.frame.layers.filter(l => l.flags.some(f => f.quantity === 'gradient'))"
        ".map(l => l.index)"
    )
    assert under == list(range(1, len(under) + 1)) and 20 < len(under) < 45
    expect(hist).to_contain_text(f"Layers 1–{len(under)}:")
    watched.shot("lecture-errors-float32")
    # float64: the same network, every gradient on the chart, no flag
    page.get_by_label("Precision").select_option("float64")
    wait_frame(
        page,
        "layers",
        "l.config.dtype === 'float64' && l.frame.layers.length === 50 && "
        "l.frame.layers.every(x => x.grad_norm > 0)",
        timeout=60_000,
    )
    expect(grad).to_be_hidden()
    expect(hist).to_be_hidden()
    assert "float64" in page.evaluate("decodeURIComponent(location.search)")
    watched.check_clean()


def test_the_flags_and_the_zeros_definition_in_chinese(watched: Watched) -> None:
    page = watched.open("?lab=layers&lang=zh")
    wait_frame(page, "layers", "l.frame !== null")
    expect(page.locator(".card").nth(2)).to_contain_text("每个样本的零值比例：某层")
    slide(page, "深度（层数）", 50)
    wait_frame(page, "layers", "l.frame.layers.length === 50 && l.frame.layers[0].flags.length")
    expect(page.get_by_test_id("flags-gradnorm")).to_contain_text(
        "第 1–50 层：权重梯度 ∂L/∂W 在 float32 中全部恰好为 0。"
    )
    expect(page.get_by_label("精度")).to_have_value("float32")
    watched.check_clean()


def test_a_sigmoid_reports_no_zeros(watched: Watched) -> None:
    config = json.dumps({"activation": "sigmoid", "scale": 1})
    page = watched.open(f"?lab=layers&config={quote(config)}")
    wait_frame(page, "layers", "l.frame !== null && l.config.activation === 'sigmoid'")
    zeros = page.evaluate(f"{LAYERS}.frame.layers.map(l => l.zero_fraction)")
    assert max(zeros) < 1e-3  # it was 18 %: σ(z) < 6e-8 rounded to 0
    watched.check_clean()
