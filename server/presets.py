"""The lecture presets: one click puts a lab in the state of a figure from the lectures.

Each preset is a lab, a complete configuration (validated against the protocol
at import by a test) and a short "what to notice" in English and Chinese.
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


PRESETS: list[dict[str, Any]] = [
    {
        "id": "tanh-small",
        "lab": L,
        "config": _layers(),
        "view": {"quantity": "activation", "logy": True},
        "title": {"en": "tanh, N(0, 0.01²), 10 × 500", "zh": "tanh，N(0, 0.01²)，10 层 × 500"},
        "notice": {
            "en": "Activations collapse to 0: each layer's std is ≈ 0.01·√500 ≈ 0.22 times the "
            "last. Weight gradients vanish too, because ∂L/∂W is proportional to the "
            "layer's input.",
            "zh": "激活值塌缩到 0：每层的标准差约为上一层的 0.01·√500 ≈ 0.22 倍。权重梯度也随之消失，"
            "因为 ∂L/∂W 与该层的输入成正比。",
        },
    },
    {
        "id": "tanh-big",
        "lab": L,
        "config": _layers(scale=1.0),
        "view": {"quantity": "derivative"},
        "title": {"en": "tanh, N(0, 1): saturation", "zh": "tanh，N(0, 1)：饱和"},
        "notice": {
            "en": "About 90 % of units sit at ±1 (|h| > 0.99) where tanh′ ≈ 0: the derivative "
            "histogram piles up at 0 and gradients die.",
            "zh": "约 90% 的单元停在 ±1（|h| > 0.99），此处 tanh′ ≈ 0：导数直方图堆在 0 附近，梯度消失。",
        },
    },
    {
        "id": "tanh-xavier",
        "lab": L,
        "config": _layers(init="lecun_normal", scale=1.0),
        "title": {"en": "tanh, 1/√fan_in (Xavier)", "zh": "tanh，1/√fan_in（Xavier）"},
        "notice": {
            "en": "Healthy: n·Var(w) = 1, the std shrinks only slowly (0.63 → 0.23 over 10 "
            "layers) and nothing saturates. With fan_in = fan_out Xavier gives the same.",
            "zh": "健康：n·Var(w) = 1，标准差只缓慢下降（10 层内 0.63 → 0.23），没有饱和。"
            "fan_in = fan_out 时 Xavier 与之相同。",
        },
    },
    {
        "id": "relu-xavier",
        "lab": L,
        "config": _layers(activation="relu", init="xavier_normal", scale=1.0),
        "view": {"focus": "moments", "logy": True},
        "title": {"en": "ReLU, Xavier: variance halves", "zh": "ReLU，Xavier：方差逐层减半"},
        "notice": {
            "en": "ReLU zeroes half of each pre-activation, so with n·Var(w) = 1 the variance "
            "halves at every layer (compare the theory curve, with its ½ per layer).",
            "zh": "ReLU 把一半的预激活置零，所以 n·Var(w) = 1 时方差每层减半（对照带 ½ 因子的理论曲线）。",
        },
    },
    {
        "id": "relu-he",
        "lab": L,
        "config": _layers(activation="relu", init="he_normal", scale=1.0),
        "title": {"en": "ReLU, He: stable", "zh": "ReLU，He：稳定"},
        "notice": {
            "en": "n·Var(w) = 2 compensates the ½: the activation std stays ≈ 0.8 at every layer. "
            "About half the values are 0 for any one input — that is normal, not dead.",
            "zh": "n·Var(w) = 2 抵消了 ½：每层激活标准差保持约 0.8。对每个输入约一半的值为 0——"
            "这是正常的，不是死亡。",
        },
    },
    {
        "id": "sigmoid-small",
        "lab": L,
        "config": _layers(activation="sigmoid"),
        "title": {"en": "sigmoid, small init", "zh": "sigmoid，小初始化"},
        "notice": {
            "en": "Activations collapse toward 0.5, not 0 (sigmoid is not zero-centred), and "
            "σ′ ≤ 0.25 shrinks the gradient at least 4× per layer.",
            "zh": "激活值塌缩到 0.5 而不是 0（sigmoid 不以零为中心），且 σ′ ≤ 0.25 使梯度每层至少缩小 4 倍。",
        },
    },
    {
        "id": "sigmoid-big",
        "lab": L,
        "config": _layers(activation="sigmoid", scale=1.0),
        "title": {"en": "sigmoid, N(0, 1)", "zh": "sigmoid，N(0, 1)"},
        "notice": {
            "en": "Most units saturate at 0 or 1, where σ′ ≈ 0.",
            "zh": "大多数单元饱和在 0 或 1，此处 σ′ ≈ 0。",
        },
    },
    {
        "id": "sigmoid-lecun",
        "lab": L,
        "config": _layers(activation="sigmoid", init="lecun_normal", scale=1.0),
        "title": {"en": "sigmoid, 1/√n", "zh": "sigmoid，1/√n"},
        "notice": {
            "en": "Even with a sensible init the gradient shrinks ≈ 4× per layer: σ′ peaks at 0.25.",
            "zh": "即使初始化合理，梯度仍每层缩小约 4 倍：σ′ 的最大值只有 0.25。",
        },
    },
    {
        "id": "bn-small",
        "lab": L,
        "config": _layers(batchnorm="train"),
        "compare": _layers(batchnorm="off"),
        "labels": {"en": ["with batch norm", "without"], "zh": ["有批归一化", "无批归一化"]},
        "title": {"en": "Batch norm rescues N(0, 0.01²)", "zh": "批归一化拯救 N(0, 0.01²)"},
        "notice": {
            "en": "Each layer's pre-activations are normalised, so the distributions no longer "
            "depend on the init scale: tanh activation std ≈ 0.628 at every layer. Try "
            "scale = 1 too.",
            "zh": "每层的预激活被归一化，分布不再依赖初始化尺度：每层 tanh 激活标准差约 0.628。也试试 scale = 1。",
        },
    },
    {
        "id": "bn-big",
        "lab": L,
        "config": _layers(batchnorm="train", scale=1.0),
        "title": {"en": "Batch norm rescues N(0, 1)", "zh": "批归一化拯救 N(0, 1)"},
        "notice": {
            "en": "The same picture as with N(0, 0.01²): batch norm removes the init scale.",
            "zh": "与 N(0, 0.01²) 时相同：批归一化消除了初始化尺度的影响。",
        },
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
            "per layer. With tanh or ReLU the hidden weights get exactly zero gradient.",
            "zh": "每个隐藏单元得到相同的梯度，因此它们始终相同（权重轨迹重合），网络并不比每层一个单元更好。"
            "tanh 或 ReLU 时隐藏层权重的梯度恰好为零。",
        },
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
            "seed": 3,
            "optimizer": {"optimizer": "gd", "lr": 10.0},
            "steps": 1000,
        },
        "play": True,
        "title": {"en": "Too high a learning rate kills ReLUs", "zh": "学习率过高杀死 ReLU"},
        "notice": {
            "en": "After a few large steps many ReLUs are zero for every input: dead, they never "
            "recover. Switch to leaky_relu: it never dies.",
            "zh": "几次大步更新后许多 ReLU 对所有输入都输出 0：它们死了，再也不会恢复。换成 leaky_relu：它不会死。",
        },
    },
    {
        "id": "deep-linear",
        "lab": T,
        "config": {
            "dataset": "circle",
            "hidden": [8, 8, 8, 8],
            "activation": "linear",
            "optimizer": {"optimizer": "adam", "lr": 0.03},
            "steps": 2000,
        },
        "compare": {
            "dataset": "circle",
            "hidden": [8, 8, 8, 8],
            "activation": "tanh",
            "optimizer": {"optimizer": "adam", "lr": 0.03},
            "steps": 2000,
        },
        "labels": {"en": ["linear", "tanh"], "zh": ["线性", "tanh"]},
        "play": True,
        "title": {"en": "A deep linear net draws a straight line", "zh": "深层线性网络只能画直线"},
        "notice": {
            "en": "Four layers of linear units are still one linear map: the boundary is a straight "
            "line and the circle cannot be separated. Switch to tanh.",
            "zh": "四层线性单元仍是一个线性映射：决策边界是直线，圆形数据无法分开。换成 tanh 试试。",
        },
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
            "en": "x ← (1 − 2γ)x + 10γ: lr 0.5 lands on the minimum x = 5 in one step, 0.9 "
            "overshoots but converges, lr 1 oscillates forever between 0 and 10, and 1.1 "
            "diverges.",
            "zh": "x ← (1 − 2γ)x + 10γ：lr 0.5 一步到达最小值 x = 5，0.9 越过但收敛，lr 1 在 0 和 10 之间永远振荡，1.1 发散。",
        },
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
        "title": {"en": "GD on x⁴ − 50x³ − x + 1", "zh": "在 x⁴ − 50x³ − x + 1 上做梯度下降"},
        "notice": {
            "en": "From −20: lr 1e-5 crawls along the flat shoulder near 0 (it is no local "
            "minimum — the slope never reaches 0 there), 3e-4 converges to x* ≈ 37.5, 4e-4 "
            "ends in a 2-cycle around it.",
            "zh": "从 −20 出发：lr 1e-5 在 0 附近的平坦肩部缓慢爬行（那里不是局部最小值——斜率从未变为 0），"
            "3e-4 收敛到 x* ≈ 37.5，4e-4 最终在其两侧形成 2 周期振荡。",
        },
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
            "en": "One learning rate for two curvatures: lr 0.9 zig-zags across the valley but "
            "converges, 0.5 zeroes x₂ in one step, 1 oscillates in x₂ forever.",
            "zh": "两个曲率只用一个学习率：lr 0.9 在谷中之字形前进但收敛，0.5 一步把 x₂ 归零，1 在 x₂ 方向永远振荡。",
        },
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
            "en": "Started exactly on x₁ = 0, GD slides into the saddle and stops there (its "
            "gradient is 0). A start 0.001 off escapes.",
            "zh": "恰好从 x₁ = 0 出发时，梯度下降滑进鞍点并停住（梯度为 0）。偏离 0.001 的起点则能逃离。",
        },
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
            "en": "The valley is easy to find and hard to follow: GD crawls, momentum overshoots "
            "and recovers, adaptive methods rescale each coordinate, Newton uses the "
            "curvature and arrives in a few steps.",
            "zh": "山谷容易找到却难以沿着前进：GD 缓慢爬行，动量法冲过头再回来，自适应方法按坐标缩放，"
            "牛顿法利用曲率几步就到达。",
        },
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
            "en": "Steep walls and flat plateaus: watch which methods reach (3, 0.5).",
            "zh": "陡峭的墙和平坦的高原：看看哪些方法能到达 (3, 0.5)。",
        },
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
            "rate; GD needs many steps on this ill-conditioned bowl.",
            "zh": "θ ← θ − H⁻¹g 在二次函数上一步到达最小值，不需要学习率；在这个病态碗上 GD 需要很多步。",
        },
    },
    {
        "id": "adaptive",
        "lab": D,
        "config": {
            "surface": "plateau",
            "steps": 600,
            "runs": [
                {"optimizer": "adagrad", "lr": 0.1},
                {"optimizer": "rmsprop", "lr": 0.01},
                {"optimizer": "adam", "lr": 0.01, "label": "adam"},
                {
                    "optimizer": "adam",
                    "lr": 0.01,
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
            "en": "AdaGrad's effective learning rate only decays (its accumulator only grows); "
            "RMSProp's levels off. Without bias correction Adam's first step is ≈ 3.16 × lr.",
            "zh": "AdaGrad 的有效学习率只会衰减（累加器只增不减）；RMSProp 的会趋于平稳。"
            "没有偏差修正时 Adam 的第一步约为 3.16 × lr。",
        },
    },
]
