"""The lecture presets: one click puts a lab in the state of a figure from the lectures.

Each preset is a lab, a complete configuration (validated against the protocol
by a test), a short "what to notice" in English and Chinese, the view it opens
(``view``: the lab's view state — which histograms, log axes) and the ``claims``
its text makes, as checks from ``server.claims`` that ``tests/test_presets.py``
runs on this very configuration: a preset cannot say what its picture does not
show. Numbers quoted in a text are the ones its claims check; both languages
quote the same numbers (a test compares them).

``compare`` (optional) is a second configuration of the same lab that the page
draws beside the first (before / after), with ``labels`` for the two sides.
"""

from __future__ import annotations

from typing import Any

L = "layers"
D = "descend"
T = "train"


def _layers(**kw: Any) -> dict[str, Any]:
    return {
        "depth": 10,
        "width": 500,
        "input_dim": 500,
        "batch": 1000,
        "activation": "tanh",
        "init": "normal",
        "scale": 0.01,
        **kw,
    }


def _gd(*lrs: float) -> list[dict[str, Any]]:
    return [{"optimizer": "gd", "lr": lr, "label": f"GD lr {lr:g}"} for lr in lrs]


def _in(what: str, lo: float, hi: float, layers: tuple[int, int] | None = None) -> dict[str, Any]:
    """Every layer (or layers lo..hi) has ``what`` in [lo, hi]."""
    claim: dict[str, Any] = {"check": "each_layer", "what": what, "between": [lo, hi]}
    if layers:
        claim["layers"] = list(layers)
    return claim


def _ratio(
    what: str, lo: float, hi: float, layers: tuple[int, int] | None = None
) -> dict[str, Any]:
    """value(k) / value(k − 1), deeper over shallower, in [lo, hi]."""
    claim: dict[str, Any] = {"check": "layer_ratio", "what": what, "between": [lo, hi]}
    if layers:
        claim["layers"] = list(layers)
    return claim


def _same(what: str, other: dict[str, Any], lo: float, hi: float) -> dict[str, Any]:
    """Per layer, ``what`` / the same configuration with ``other``'s changes, in [lo, hi]."""
    return {"check": "same_as", "what": what, "other": other, "between": [lo, hi]}


def _final(run: str, what: str, lo: float, hi: float) -> dict[str, Any]:
    return {"check": "final", "run": run, "what": what, "between": [lo, hi]}


def _at(run: str, what: str, step: int, near: float, tol: float = 1e-9) -> dict[str, Any]:
    return {"check": "value_at", "run": run, "what": what, "step": step, "near": near, "tol": tol}


def _status(run: str, equals: str, by: int | None = None) -> dict[str, Any]:
    claim: dict[str, Any] = {"check": "status", "run": run, "equals": equals}
    if by is not None:
        claim["by"] = by
    return claim


PRESETS: list[dict[str, Any]] = [
    {
        "id": "tanh-small",
        "lab": L,
        "config": _layers(),
        "view": {"quantity": "activation", "logy": True},
        "title": {"en": "tanh, N(0, 0.01²), 10 × 500", "zh": "tanh，N(0, 0.01²)，10 层 × 500"},
        "notice": {
            "en": "Activations collapse to 0: each layer's std is ≈ 0.01·√500 ≈ 0.22 times the "
            "last (0.21 in layer 1, 3·10⁻⁷ in layer 10; the log axis makes it a straight line). "
            "The backward signal ∂L/∂h shrinks ≈ 4× per layer toward the input, and "
            "‖∂L/∂W‖ is ≈ 10⁻¹¹ at every layer: ∂L/∂W is the layer's input times its upstream "
            "gradient, and one of the two is tiny everywhere.",
            "zh": "激活值塌缩到 0：每层的标准差约为上一层的 0.01·√500 ≈ 0.22 倍（第 1 层 0.21，第 10 层 3·10⁻⁷；"
            "对数坐标下是一条直线）。反向信号 ∂L/∂h 朝输入方向每层缩小约 4 倍，每层的 ‖∂L/∂W‖ 都约为 10⁻¹¹："
            "∂L/∂W 是该层输入与上游梯度之积，而两者之一处处都很小。",
        },
        "claims": [
            _in("activation.mean", -0.01, 0.01),
            _ratio("activation.std", 0.18, 0.26),
            _in("activation.std", 0.19, 0.23, (1, 1)),
            _in("activation.std", 2e-7, 4e-7, (10, 10)),
            _ratio("gradient.std", 3.5, 4.5, (2, 9)),
            _in("grad_norm", 1e-11 / 3, 1e-11 * 6),
        ],
    },
    {
        "id": "tanh-big",
        "lab": L,
        "config": _layers(scale=1.0),
        "view": {"quantity": "gradient"},
        "title": {
            "en": "tanh, N(0, 1): saturated, yet the gradient grows",
            "zh": "tanh，N(0, 1)：饱和，梯度却在增大",
        },
        "notice": {
            "en": "About 90 % of units sit at ±1 (|h| > 0.99), where tanh′ ≈ 0: each saturated "
            "unit barely learns. Yet the backward signal does not vanish: ∂L/∂h grows ≈ 3.5× "
            "per layer toward the input, and ‖∂L/∂W‖ rises from ≈ 1 in layer 10 to ≈ 8·10⁴ in "
            "layer 1. The large weights (n·Var(w) = 500) amplify it more than the flat "
            "derivatives damp it. The slides' “saturated, so the gradients vanish” holds unit "
            "by unit, not for the gradient as a whole.",
            "zh": "约 90% 的单元停在 ±1（|h| > 0.99），此处 tanh′ ≈ 0：每个饱和单元几乎学不动。"
            "但反向信号并没有消失：∂L/∂h 朝输入方向每层增大约 3.5 倍，‖∂L/∂W‖ 从第 10 层的约 1 "
            "增大到第 1 层的约 8·10⁴。大权重（n·Var(w) = 500）对它的放大超过了平坦导数的衰减。"
            "课件中“饱和，所以梯度消失”对单个单元成立，对整体梯度并不成立。",
        },
        "claims": [
            _in("saturated_fraction", 0.85, 0.95),
            _in("derivative.mean", 0.0, 0.1),
            _ratio("gradient.std", 1 / 4.2, 1 / 2.9, (2, 9)),
            _in("grad_norm", 0.5, 2.0, (10, 10)),
            _in("grad_norm", 6e4, 1e5, (1, 1)),
        ],
    },
    {
        "id": "tanh-xavier",
        "lab": L,
        "config": _layers(init="lecun_normal", scale=1.0),
        "view": {"quantity": "activation"},
        "title": {"en": "tanh, 1/√fan_in (Xavier)", "zh": "tanh，1/√fan_in（Xavier）"},
        "notice": {
            "en": "Healthy: n·Var(w) = 1, the std shrinks only slowly (0.63 → 0.23 over 10 "
            "layers) and almost nothing saturates (under 1 % in layer 1, none deeper). With "
            "fan_in = fan_out Xavier gives exactly the same.",
            "zh": "健康：n·Var(w) = 1，标准差只缓慢下降（10 层内 0.63 → 0.23），几乎没有饱和"
            "（第 1 层不到 1%，更深的层没有）。fan_in = fan_out 时 Xavier 给出完全相同的结果。",
        },
        "claims": [
            _in("activation.std", 0.6, 0.66, (1, 1)),
            _in("activation.std", 0.21, 0.25, (10, 10)),
            _ratio("activation.std", 0.7, 1.0),
            _in("saturated_fraction", 0.0, 0.01, (1, 1)),
            _in("saturated_fraction", 0.0, 1e-4, (2, 10)),
            _same("activation.std", {"init": "xavier_normal"}, 0.9999, 1.0001),
        ],
    },
    {
        "id": "relu-xavier",
        "lab": L,
        "config": _layers(activation="relu", init="xavier_normal", scale=1.0),
        "view": {"quantity": "preactivation", "logy": True, "focus": "moments"},
        "title": {"en": "ReLU, Xavier: variance halves", "zh": "ReLU，Xavier：方差逐层减半"},
        "notice": {
            "en": "ReLU zeroes half of each pre-activation, so with n·Var(w) = 1 the variance "
            "halves at every layer: the std falls ≈ 0.71× per layer (compare the theory curve, "
            "with its ½ per layer).",
            "zh": "ReLU 把一半的预激活置零，所以 n·Var(w) = 1 时方差每层减半：标准差每层约乘以 0.71"
            "（对照带 ½ 因子的理论曲线）。",
        },
        "claims": [
            _ratio("preactivation.std", 0.6, 0.8),
            _in("zero_fraction", 0.45, 0.55),
        ],
    },
    {
        "id": "relu-he",
        "lab": L,
        "config": _layers(activation="relu", init="he_normal", scale=1.0),
        "view": {"quantity": "activation"},
        "title": {"en": "ReLU, He: stable", "zh": "ReLU，He：稳定"},
        "notice": {
            "en": "n·Var(w) = 2 compensates the ½: the activation std stays ≈ 0.8 at every layer. "
            "About half the values are 0 for any one input — that is normal, not dead. A few "
            "units are dead already at init (0 for all 1000 inputs: 41 of 500 in layer 10): "
            "with depth a ReLU net's inputs grow alike, and a unit whose weights point away from "
            "all of them stays off.",
            "zh": "n·Var(w) = 2 抵消了 ½：每层激活标准差保持约 0.8。对每个输入约一半的值为 0——这是正常的，"
            "不是死亡。少数单元在初始化时就已死亡（对全部 1000 个输入都为 0：第 10 层 500 个中有 41 个）："
            "随着深度增加，ReLU 网络各输入的表示越来越相似，权重背离它们全体的单元就一直不激活。",
        },
        "claims": [
            _in("activation.std", 0.7, 0.95),
            _in("zero_fraction", 0.45, 0.55),
            _in("dead_units", 0, 0, (1, 1)),
            _in("dead_units", 41, 41, (10, 10)),
        ],
    },
    {
        "id": "sigmoid-small",
        "lab": L,
        "config": _layers(activation="sigmoid"),
        "view": {"quantity": "activation"},
        "title": {"en": "sigmoid, small init", "zh": "sigmoid，小初始化"},
        "notice": {
            "en": "Activations collapse toward 0.5, not 0 (sigmoid is not zero-centred): from "
            "layer 2 on they sit at 0.5 ± 0.03. σ′ ≤ 0.25 — and here the small weights too — "
            "shrink the backward signal ≈ 18× per layer toward the input: ‖∂L/∂W‖ falls from "
            "≈ 30 in layer 10 to ≈ 10⁻¹¹ in layer 1.",
            "zh": "激活值塌缩到 0.5 而不是 0（sigmoid 不以零为中心）：从第 2 层起它们停在 0.5 ± 0.03。"
            "σ′ ≤ 0.25——这里再加上很小的权重——使反向信号朝输入方向每层缩小约 18 倍：‖∂L/∂W‖ 从第 10 层的"
            "约 30 降到第 1 层的约 10⁻¹¹。",
        },
        "claims": [
            _in("activation.mean", 0.49, 0.51),
            _in("activation.std", 0.02, 0.035, (2, 10)),
            _ratio("gradient.std", 14, 22, (2, 9)),
            _in("grad_norm", 20, 40, (10, 10)),
            _in("grad_norm", 1e-11 / 3, 3e-11, (1, 1)),
        ],
    },
    {
        "id": "sigmoid-big",
        "lab": L,
        "config": _layers(activation="sigmoid", scale=1.0),
        "view": {"quantity": "gradient"},
        "title": {
            "en": "sigmoid, N(0, 1): saturated, the gradient does not vanish",
            "zh": "sigmoid，N(0, 1)：饱和，梯度并未消失",
        },
        "notice": {
            "en": "Most units saturate (h < 0.01 or h > 0.99: about 75 %), where σ′ ≈ 0. Yet, as "
            "with tanh, the backward signal does not vanish: ∂L/∂h grows ≈ 1.5× per layer "
            "toward the input, because the weights amplify it more than σ′ damps it.",
            "zh": "大多数单元饱和（h < 0.01 或 h > 0.99：约 75%），此处 σ′ ≈ 0。但与 tanh 一样，"
            "反向信号并没有消失：∂L/∂h 朝输入方向每层增大约 1.5 倍，因为权重对它的放大超过了 σ′ 的衰减。",
        },
        "claims": [
            _in("saturated_fraction", 0.7, 0.86),
            _ratio("gradient.std", 1 / 1.8, 1 / 1.3),
        ],
    },
    {
        "id": "sigmoid-lecun",
        "lab": L,
        "config": _layers(activation="sigmoid", init="lecun_normal", scale=1.0),
        "view": {"quantity": "gradient"},
        "title": {"en": "sigmoid, 1/√n", "zh": "sigmoid，1/√n"},
        "notice": {
            "en": "Even with a sensible init the backward signal shrinks ≈ 4× per layer toward "
            "the input: σ′ peaks at 0.25. ‖∂L/∂W‖ falls from ≈ 30 in layer 10 to ≈ 4·10⁻⁶ in "
            "layer 1.",
            "zh": "即使初始化合理，反向信号仍朝输入方向每层缩小约 4 倍：σ′ 的最大值只有 0.25。"
            "‖∂L/∂W‖ 从第 10 层的约 30 降到第 1 层的约 4·10⁻⁶。",
        },
        "claims": [
            _ratio("gradient.std", 3.5, 4.6, (2, 9)),
            _in("grad_norm", 20, 40, (10, 10)),
            _in("grad_norm", 2e-6, 8e-6, (1, 1)),
        ],
    },
    {
        "id": "bn-small",
        "lab": L,
        "config": _layers(batchnorm="train"),
        "view": {"quantity": "activation"},
        "compare": _layers(),
        "labels": {"en": ["with batch norm", "without"], "zh": ["有批归一化", "无批归一化"]},
        "title": {"en": "Batch norm rescues N(0, 0.01²)", "zh": "批归一化拯救 N(0, 0.01²)"},
        "notice": {
            "en": "Each layer's pre-activations are normalised, so the distributions no longer "
            "depend on the init scale: tanh activation std ≈ 0.628 at every layer (without "
            "batch norm it collapses to 3·10⁻⁷ by layer 10). Try scale = 1 too.",
            "zh": "每层的预激活被归一化，分布不再依赖初始化尺度：每层 tanh 激活标准差约 0.628"
            "（没有批归一化时到第 10 层塌缩到 3·10⁻⁷）。也试试 scale = 1。",
        },
        "claims": [
            _in("activation.std", 0.62, 0.64),
            {**_in("activation.std", 2e-7, 4e-7, (10, 10)), "on": {"batchnorm": "off"}},
        ],
    },
    {
        "id": "bn-big",
        "lab": L,
        "config": _layers(batchnorm="train", scale=1.0),
        "view": {"quantity": "activation"},
        "compare": _layers(batchnorm="train"),
        "labels": {"en": ["N(0, 1)", "N(0, 0.01²)"], "zh": ["N(0, 1)", "N(0, 0.01²)"]},
        "title": {"en": "Batch norm rescues N(0, 1)", "zh": "批归一化拯救 N(0, 1)"},
        "notice": {
            "en": "The same activations as with N(0, 0.01²): batch norm removes the init scale "
            "from the forward pass. Not from the backward one: ‖∂L/∂W‖ is 100× smaller, because "
            "a layer followed by batch norm gives the same output for W and c·W, so its gradient "
            "scales as 1/c.",
            "zh": "激活值与 N(0, 0.01²) 时相同：批归一化从前向传播中消除了初始化尺度。反向传播中却没有："
            "‖∂L/∂W‖ 小了 100 倍，因为后接批归一化的层对 W 和 c·W 给出相同的输出，所以其梯度按 1/c 缩放。",
        },
        "claims": [
            _same("activation.std", {"scale": 0.01}, 0.999, 1.001),
            _same("grad_norm", {"scale": 0.01}, 0.0099, 0.0101),
        ],
    },
    {
        "id": "zero-init",
        "lab": T,
        "config": {
            "dataset": "circle",
            "hidden": [6, 6],
            "activation": "sigmoid",
            "init": "zeros",
            "optimizer": {"optimizer": "gd", "lr": 1.0},
            "steps": 2000,
        },
        "play": True,
        "title": {"en": "Zero init: identical hidden units", "zh": "零初始化：隐藏单元完全相同"},
        "notice": {
            "en": "Every hidden unit gets the same gradient, so all of them stay identical (the "
            "weight traces lie on top of each other) and the net is no better than one unit "
            "per layer: on the circle it stays at chance, ≈ 50 %. With tanh or ReLU the hidden "
            "weights get exactly zero gradient and never move.",
            "zh": "每个隐藏单元得到相同的梯度，因此它们始终相同（权重轨迹重合），网络并不比每层一个单元更好："
            "在圆形数据上它一直停在随机水平，约 50%。tanh 或 ReLU 时隐藏层权重的梯度恰好为零，从不改变。",
        },
        "claims": [
            {"check": "identical_units", "layers": [1, 2]},
            {"check": "metric", "what": "accuracy", "between": [0.4, 0.6]},
            {"check": "zero_gradient", "layers": [1, 2], "on": {"activation": "tanh"}},
            {"check": "zero_gradient", "layers": [1, 2], "on": {"activation": "relu"}},
        ],
    },
    {
        "id": "dead-relu",
        "lab": T,
        "config": {
            "dataset": "circle",
            "hidden": [32, 32],
            "activation": "relu",
            "init": "he_normal",
            "batch_size": 20,
            "seed": 0,
            "optimizer": {"optimizer": "gd", "lr": 5.0},
            "steps": 400,
        },
        "play": True,
        "title": {"en": "Too high a learning rate kills ReLUs", "zh": "学习率过高杀死 ReLU"},
        "notice": {
            "en": "At init no unit is dead. Then, step by step, large updates push ReLUs to 0 for "
            "every input: dead. A dead unit of the first hidden layer gets exactly zero gradient "
            "and never comes back; by the end almost all 64 are dead and the net is at chance. "
            "About half the outputs being 0 for one input is normal; 0 for every input is dead. "
            "Switch to leaky_relu: it never dies.",
            "zh": "初始化时没有死亡单元。随后，一步步的大幅更新把 ReLU 推到对所有输入都输出 0：死亡。"
            "第一隐藏层的死亡单元梯度恰好为零，再也不会恢复；最后 64 个单元几乎全部死亡，网络只有随机水平。"
            "对单个输入约一半为 0 是正常的；对所有输入都为 0 才是死亡。换成 leaky_relu：它不会死。",
        },
        "claims": [
            {"check": "dead_share", "frame": 0, "between": [0, 0]},
            {"check": "dead_share", "frame": 5, "between": [0.1, 0.6]},
            {"check": "dead_share", "frame": -1, "between": [0.9, 1.0]},
            {"check": "never_recover", "layer": 1},
            {"check": "metric", "what": "accuracy", "between": [0.4, 0.6]},
            {
                "check": "dead_share",
                "frame": -1,
                "between": [0, 0],
                "on": {"activation": "leaky_relu"},
            },
        ],
    },
    {
        "id": "deep-linear",
        "lab": T,
        "config": {
            "dataset": "moons",
            "hidden": [8, 8, 8, 8],
            "activation": "linear",
            "optimizer": {"optimizer": "adam", "lr": 0.03},
            "steps": 1000,
        },
        "compare": {
            "dataset": "moons",
            "hidden": [8, 8, 8, 8],
            "activation": "tanh",
            "optimizer": {"optimizer": "adam", "lr": 0.03},
            "steps": 1000,
        },
        "labels": {"en": ["linear", "tanh"], "zh": ["线性", "tanh"]},
        "play": True,
        "title": {"en": "A deep linear net draws a straight line", "zh": "深层线性网络只能画直线"},
        "notice": {
            "en": "Four layers of linear units are still one linear map: the boundary is a straight "
            "line, and the two moons need a curve (accuracy stays ≈ 90 %). Switch to tanh: the "
            "boundary bends and reaches 100 %.",
            "zh": "四层线性单元仍是一个线性映射：决策边界是直线，而两个月牙需要曲线（准确率停在约 90%）。"
            "换成 tanh：边界弯曲，准确率达到 100%。",
        },
        "claims": [
            {"check": "straight_boundary"},
            {"check": "metric", "what": "accuracy", "between": [0.85, 0.93]},
            {
                "check": "metric",
                "what": "accuracy",
                "between": [1.0, 1.0],
                "on": {"activation": "tanh"},
            },
        ],
    },
    {
        "id": "gd-quadratic",
        "lab": D,
        "config": {
            "surface": "quadratic_1d",
            "start": [0.0],
            "steps": 60,
            "runs": _gd(0.01, 0.1, 0.5, 0.9, 1.0, 1.1),
        },
        "title": {"en": "GD on x² − 10x + 1", "zh": "在 x² − 10x + 1 上做梯度下降"},
        "notice": {
            "en": "x ← (1 − 2γ)x + 10γ: lr 0.5 lands on the minimum x = 5 in one step; 0.1 and 0.9 "
            "converge with the same loss curve (|1 − 2γ| = 0.8 for both: 0.1 creeps up from one "
            "side, 0.9 jumps across, to 9 first); 0.01 is still on its way after 60 steps; lr 1 "
            "oscillates forever between 0 and 10, and 1.1 diverges.",
            "zh": "x ← (1 − 2γ)x + 10γ：lr 0.5 一步到达最小值 x = 5；0.1 和 0.9 收敛且损失曲线相同"
            "（两者都有 |1 − 2γ| = 0.8：0.1 从一侧慢慢靠近，0.9 来回跳过，第一步先到 9）；0.01 走了 60 步还在路上；"
            "lr 1 在 0 和 10 之间永远振荡，1.1 发散。",
        },
        "claims": [
            _at("GD lr 0.5", "x", 1, 5.0),
            _status("GD lr 0.5", "converged", by=1),
            {"check": "same_curve", "run": "GD lr 0.1", "other": "GD lr 0.9", "what": "loss"},
            _at("GD lr 0.9", "x", 1, 9.0),
            _final("GD lr 0.9", "x", 4.999, 5.001),
            _final("GD lr 0.01", "x", 2.0, 4.5),
            {"check": "cycles", "run": "GD lr 1", "what": "x", "values": [0.0, 10.0]},
            _status("GD lr 1.1", "diverged"),
        ],
    },
    {
        "id": "gd-quartic",
        "lab": D,
        "config": {
            "surface": "quartic_1d",
            "start": [-20.0],
            "steps": 3000,
            "runs": _gd(1e-5, 3e-4, 4e-4),
        },
        "options": {"steps_per_frame": 10},
        "title": {"en": "GD on x⁴ − 50x³ − x + 1", "zh": "在 x⁴ − 50x³ − x + 1 上做梯度下降"},
        "notice": {
            "en": "From −20: lr 1e-5 crawls along the flat shoulder near 0 (it is no local "
            "minimum — the slope never reaches 0 there), 3e-4 converges to x* ≈ 37.5, 4e-4 "
            "ends in a 2-cycle around it (between ≈ 31.5 and ≈ 41).",
            "zh": "从 −20 出发：lr 1e-5 在 0 附近的平坦肩部缓慢爬行（那里不是局部最小值——斜率从未变为 0），"
            "3e-4 收敛到 x* ≈ 37.5，4e-4 最终在其两侧形成 2 周期振荡（约在 31.5 与 41 之间）。",
        },
        "claims": [
            _final("GD lr 1e-05", "x", -1.0, 0.0),
            _status("GD lr 0.0003", "converged"),
            _final("GD lr 0.0003", "x", 37.49, 37.51),
            {"check": "two_cycle", "run": "GD lr 0.0004", "what": "x"},
            _final("GD lr 0.0004", "x", 31.0, 42.0),
        ],
    },
    {
        "id": "gd-shifted",
        "lab": D,
        "config": {"surface": "shifted_bowl", "start": [-9.0, 6.0], "steps": 50, "runs": _gd(0.1)},
        "title": {"en": "GD on (x₁ − 5)² + x₂²", "zh": "在 (x₁ − 5)² + x₂² 上做梯度下降"},
        "notice": {
            "en": "From (−9, 6) with lr 0.1: ∇f = (−28, 12), so x₁ = (−6.2, 4.8); step through and "
            "check the iterate table.",
            "zh": "从 (−9, 6) 出发，lr 0.1：∇f = (−28, 12)，所以 x₁ = (−6.2, 4.8)；单步执行并对照迭代表。",
        },
        "claims": [
            _at("GD lr 0.1", "grad_x", 0, -28.0),
            _at("GD lr 0.1", "grad_y", 0, 12.0),
            _at("GD lr 0.1", "x", 1, -6.2),
            _at("GD lr 0.1", "y", 1, 4.8),
        ],
    },
    {
        "id": "gd-ill",
        "lab": D,
        "config": {
            "surface": "ill_conditioned",
            "start": [-8.0, 5.0],
            "steps": 100,
            "runs": _gd(0.9, 0.5, 1.0),
        },
        "title": {"en": "0.1x₁² + x₂²: zig-zags", "zh": "0.1x₁² + x₂²：之字形"},
        "notice": {
            "en": "One learning rate for two curvatures: from f = 31.4, lr 0.9 zig-zags across the "
            "valley but converges, 0.5 zeroes x₂ in one step, 1 oscillates in x₂ forever.",
            "zh": "两个曲率只用一个学习率：从 f = 31.4 出发，lr 0.9 在谷中之字形前进但收敛，0.5 一步把 x₂ 归零，"
            "1 在 x₂ 方向永远振荡。",
        },
        "claims": [
            _at("GD lr 0.9", "loss", 0, 31.4),
            _at("GD lr 0.9", "y", 1, -4.0),
            _final("GD lr 0.9", "loss", 0.0, 1e-12),
            _at("GD lr 0.5", "y", 1, 0.0),
            {"check": "cycles", "run": "GD lr 1", "what": "y", "values": [5.0, -5.0]},
        ],
    },
    {
        "id": "saddle",
        "lab": D,
        "config": {
            "surface": "saddle",
            "steps": 80,
            "runs": [
                {"optimizer": "gd", "lr": 0.1, "start": [0.0, 2.0], "label": "start (0, 2)"},
                {"optimizer": "gd", "lr": 0.1, "start": [0.001, 2.0], "label": "start (0.001, 2)"},
            ],
        },
        "title": {"en": "The saddle x₂² − x₁²", "zh": "鞍点 x₂² − x₁²"},
        "notice": {
            "en": "Started exactly on x₁ = 0, GD slides into the saddle point (0, 0) and stays: its "
            "gradient there is 0, though it is no minimum. A start 0.001 off takes the same path "
            "at first — for ≈ 20 steps the two paths lie on top of each other — then escapes "
            "along x₁, 1.2× farther from x₁ = 0 at every step, and runs off the surface. It has "
            "no minimum, so there is no distance to one to chart.",
            "zh": "恰好从 x₁ = 0 出发时，梯度下降滑进鞍点 (0, 0) 并停在那里：那里梯度为 0，但它不是最小值。"
            "偏离 0.001 的起点起初走同一条路——约 20 步内两条路径重合——随后沿 x₁ 逃离，每步离 x₁ = 0 远 1.2 倍，"
            "最终跑出曲面。这个曲面没有最小值，所以没有到最小值的距离可画。",
        },
        "claims": [
            _final("start (0, 2)", "x", 0.0, 0.0),
            _final("start (0, 2)", "y", -1e-6, 1e-6),
            {
                "check": "same_curve",
                "run": "start (0, 2)",
                "other": "start (0.001, 2)",
                "what": "y",
            },
            _at("start (0.001, 2)", "x", 20, 0.001 * 1.2**20),
            _status("start (0.001, 2)", "diverged"),
        ],
    },
    {
        "id": "race-rosenbrock",
        "lab": D,
        "config": {
            "surface": "rosenbrock",
            "steps": 2000,
            "runs": [
                {"optimizer": "gd", "lr": 0.001},
                {"optimizer": "momentum", "lr": 0.001},
                {"optimizer": "nesterov", "lr": 0.001},
                {"optimizer": "adagrad", "lr": 0.5},
                {"optimizer": "rmsprop", "lr": 0.01},
                {"optimizer": "adam", "lr": 0.05},
                {"optimizer": "newton"},
            ],
        },
        "options": {"steps_per_frame": 10},
        "title": {"en": "Optimizer race on Rosenbrock", "zh": "Rosenbrock 上的优化器竞赛"},
        "notice": {
            "en": "The valley is easy to find and hard to follow. In 2000 steps GD crawls along it "
            "(f ≈ 0.2 left), AdaGrad's ever-shrinking steps stall it there too (f ≈ 0.14), "
            "RMSProp gets close (f ≈ 0.02), momentum, Nesterov and Adam reach the minimum "
            "(1, 1), and Newton, using the curvature, arrives in 7 steps.",
            "zh": "山谷容易找到却难以沿着前进。2000 步内：GD 沿谷缓慢爬行（还剩 f ≈ 0.2），AdaGrad "
            "越来越小的步长也让它停在谷中（f ≈ 0.14），RMSProp 接近终点（f ≈ 0.02），动量法、Nesterov 和 "
            "Adam 到达最小值 (1, 1)，牛顿法利用曲率 7 步就到达。",
        },
        "claims": [
            _final("gd", "loss", 0.15, 0.25),
            _final("adagrad", "loss", 0.1, 0.18),
            _final("rmsprop", "loss", 0.01, 0.04),
            _final("momentum", "loss", 0.0, 1e-6),
            _final("nesterov", "loss", 0.0, 1e-6),
            _final("adam", "loss", 0.0, 1e-6),
            _status("newton", "converged", by=7),
            _final("newton", "x", 0.999999, 1.000001),
        ],
    },
    {
        "id": "race-beale",
        "lab": D,
        "config": {
            "surface": "beale",
            "start": [1.0, 1.5],
            "steps": 2000,
            "runs": [
                {"optimizer": "gd", "lr": 0.001},
                {"optimizer": "momentum", "lr": 0.001},
                {"optimizer": "adagrad", "lr": 0.5},
                {"optimizer": "rmsprop", "lr": 0.01},
                {"optimizer": "adam", "lr": 0.01},
                {"optimizer": "adadelta"},
            ],
        },
        "options": {"steps_per_frame": 10},
        "title": {"en": "Optimizer race on Beale", "zh": "Beale 函数上的优化器竞赛"},
        "notice": {
            "en": "Steep walls and flat plateaus. In 2000 steps momentum and AdaGrad reach the "
            "minimum (3, 0.5); RMSProp circles close to it; Adam and AdaDelta are still on their "
            "way, and GD is far behind (f ≈ 0.02).",
            "zh": "陡峭的墙和平坦的高原。2000 步内动量法和 AdaGrad 到达最小值 (3, 0.5)；RMSProp 在它附近"
            "打转；Adam 和 AdaDelta 还在路上，GD 远远落后（f ≈ 0.02）。",
        },
        "claims": [
            _final("momentum", "loss", 0.0, 1e-6),
            _final("adagrad", "loss", 0.0, 1e-6),
            _final("rmsprop", "loss", 1e-4, 5e-3),
            _final("adam", "loss", 1e-4, 0.01),
            _final("adadelta", "loss", 0.005, 0.1),
            _final("gd", "loss", 0.01, 0.03),
        ],
    },
    {
        "id": "newton",
        "lab": D,
        "config": {
            "surface": "bowl",
            "surface_params": {"condition": 20, "rotation": 30},
            "steps": 20,
            "runs": [{"optimizer": "newton"}, {"optimizer": "gd", "lr": 0.09}],
        },
        "title": {"en": "Newton: one step on a quadratic", "zh": "牛顿法：二次函数一步到位"},
        "notice": {
            "en": "θ ← θ − H⁻¹g lands on the minimum of a quadratic in one step, with no learning "
            "rate to tune (its step scale stays at 1, the full step); GD needs many steps on "
            "this ill-conditioned bowl (after 20 it is still at f ≈ 0.07).",
            "zh": "θ ← θ − H⁻¹g 在二次函数上一步到达最小值，无需调学习率（步长系数保持为 1，即完整的一步）；"
            "在这个病态碗上 GD 需要很多步（20 步后仍在 f ≈ 0.07）。",
        },
        "claims": [
            _status("newton", "converged", by=1),
            _at("newton", "loss", 1, 0.0, tol=1e-12),
            _final("gd", "loss", 0.05, 0.1),
        ],
    },
    {
        "id": "adaptive",
        "lab": D,
        "config": {
            "surface": "ill_conditioned",
            "start": [-8.0, 5.0],
            "steps": 500,
            "runs": [
                {"optimizer": "adagrad", "lr": 0.1},
                {"optimizer": "rmsprop", "lr": 0.1},
                {"optimizer": "adam", "lr": 0.1, "label": "adam"},
                {
                    "optimizer": "adam",
                    "lr": 0.1,
                    "bias_correction": False,
                    "label": "adam, no bias correction",
                },
            ],
        },
        "options": {"steps_per_frame": 5},
        "title": {
            "en": "AdaGrad stalls, RMSProp doesn't; Adam's bias correction",
            "zh": "AdaGrad 停滞，RMSProp 不会；Adam 的偏差修正",
        },
        "notice": {
            "en": "The same lr 0.1 for all. AdaGrad divides by the root of the sum of every g² so "
            "far: that sum only grows, so its effective learning rate only decays and it stalls "
            "halfway (f ≈ 4 after 500 steps). RMSProp divides by a moving average of recent g², "
            "so its steps stay ≈ lr and it arrives (step 130). Without bias correction Adam's "
            "first step is ≈ 3.16 × lr instead of lr.",
            "zh": "所有方法都用同一个 lr 0.1。AdaGrad 除以迄今所有 g² 之和的平方根：这个和只增不减，"
            "所以它的有效学习率只会衰减，走到半路就停滞（500 步后 f ≈ 4）。RMSProp 除以近期 g² 的滑动平均，"
            "步长保持在 lr 左右，于是能到达终点（第 130 步）。没有偏差修正时 Adam 的第一步约为 3.16 × lr，而不是 lr。",
        },
        "claims": [
            _final("adagrad", "loss", 3.0, 5.0),
            {"check": "decay", "run": "adagrad", "what": "effective_lr", "between": [0.0, 0.1]},
            {"check": "converged_at", "run": "rmsprop", "step": 130},
            {
                "check": "first_step",
                "run": "adam, no bias correction",
                "lr": 0.1,
                "between": [3.15, 3.17],
            },
            {"check": "first_step", "run": "adam", "lr": 0.1, "between": [0.999, 1.001]},
        ],
    },
]
