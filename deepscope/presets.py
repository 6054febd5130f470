"""The lecture presets: one click puts a lab in the state of a figure from the lectures.

Each preset is a lab, a complete configuration (validated against the protocol
by a test), the view it opens (``view``: the lab's view state — which histograms,
log axes) and the ``claims`` its text makes, as checks from ``deepscope.claims`` that
``tests/test_presets.py`` runs on this very configuration: a preset cannot say what
its picture does not show.

Its words live in the catalogs (``static/i18n/<lang>.json``): ``preset.<id>.title``
and ``preset.<id>.notice`` (what to notice), and with ``compare`` (a second
configuration of the same lab that the page draws beside the first, before / after)
``preset.<id>.labels.0`` / ``.1`` for the two sides. Numbers quoted in a text are the
ones its claims check; every language quotes the same numbers (a test compares them).
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


def _sweep_best(run: str, lo: float, hi: float) -> dict[str, Any]:
    return {"check": "sweep_best", "run": run, "between": [lo, hi]}


def _sweep_values(run: str, lrs: tuple[float, float], lo: float, hi: float) -> dict[str, Any]:
    """At every swept lr in ``lrs`` the criterion lies in [lo, hi]."""
    return {"check": "sweep_values", "run": run, "lrs": list(lrs), "between": [lo, hi]}


def _sweep_status(run: str, lrs: tuple[float, float], equals: str) -> dict[str, Any]:
    return {"check": "sweep_status", "run": run, "lrs": list(lrs), "equals": equals}


PRESETS: list[dict[str, Any]] = [
    {
        "id": "tanh-small",
        "lab": L,
        "config": _layers(),
        "view": {"quantity": "activation", "logy": True},
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
        "play": True,
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
        "id": "landscape-xor",
        "lab": T,
        "config": {
            "dataset": "xor",
            "hidden": [4],
            "optimizer": {"optimizer": "adam", "lr": 0.03},
            "steps": 1500,
        },
        "options": {
            "steps_per_frame": 10,
            "landscape": {"directions": "pca", "every": 20, "span": 1.25},
        },
        "play": True,
        "claims": [
            {"check": "landscape", "what": "center_loss", "frame": 0, "between": [0.715, 0.725]},
            {"check": "landscape", "what": "center_loss", "between": [0.015, 0.025]},
            {"check": "landscape", "what": "explained_variance", "between": [0.99, 1.0]},
            {"check": "landscape", "what": "lowest_ratio", "between": [0.0, 0.8]},
            {"check": "metric", "what": "accuracy", "between": [0.955, 0.965]},
        ],
    },
    {
        "id": "momentum-vs-adam",
        "lab": T,
        "config": {
            "dataset": "spiral",
            "hidden": [8, 8],
            "optimizer": {"optimizer": "momentum", "lr": 0.1, "momentum": 0.9},
            "steps": 3000,
        },
        "compare": {
            "dataset": "spiral",
            "hidden": [8, 8],
            "optimizer": {"optimizer": "adam", "lr": 0.03},
            "steps": 3000,
        },
        "options": {
            "steps_per_frame": 10,
            "landscape": {"center": "start", "span": 2.5, "resolution": 31},
        },
        "play": True,
        "claims": [
            # (bands, not points: in float32 the last steps' rounding moves 100 test
            # points' accuracy by ±2 %: Adam 0.91 or 0.89, 0.87 in float64; momentum 0.80)
            {"check": "metric", "what": "accuracy", "between": [0.775, 0.825]},
            {
                "check": "metric",
                "what": "accuracy",
                "between": [0.865, 0.925],
                "on": {"optimizer": {"optimizer": "adam", "lr": 0.03}},
            },
            {
                "check": "shared_landscape",
                "other": {"optimizer": {"optimizer": "adam", "lr": 0.03}},
                "apart": 1.0,
            },
            {"check": "landscape", "what": "reach", "between": [0.5, 2.5]},
            {
                "check": "landscape",
                "what": "reach",
                "between": [0.5, 2.5],
                "on": {"optimizer": {"optimizer": "adam", "lr": 0.03}},
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
    # Learning-rate sweeps (the optimizer lab's sweep mode: the view's ``sweep`` is the
    # configure's sweep section; the runs are the optimizers swept).
    {
        "id": "sweep-rosenbrock",
        "lab": D,
        "config": {
            "surface": "rosenbrock",
            "steps": 2000,
            "runs": [
                {"optimizer": "gd"},
                {"optimizer": "momentum"},
                {"optimizer": "adagrad"},
                {"optimizer": "rmsprop"},
                {"optimizer": "adam"},
            ],
        },
        "options": {"steps_per_frame": 20},
        "view": {
            "mode": "sweep",
            "sweep": {"lr_min": 1e-5, "lr_max": 10.0, "lr_count": 25, "criterion": "final"},
        },
        "claims": [
            _sweep_best("gd", 0.0017, 0.0018),
            _sweep_values("gd", (0.0017, 0.0018), 0.01, 0.02),
            _sweep_status("gd", (0.003, 10.0), "diverged"),
            _sweep_values("adam", (0.09, 1.01), 0.0, 0.0),  # f* to machine precision …
            _sweep_best("adam", 0.99, 1.01),  # … soonest at 1
            _sweep_best("adagrad", 1.7, 1.8),
        ],
    },
    {
        "id": "sweep-adagrad-adam",
        "lab": D,
        "config": {
            "surface": "ill_conditioned",
            "steps": 500,
            "runs": [{"optimizer": "adagrad"}, {"optimizer": "adam"}],
        },
        "options": {"steps_per_frame": 5},
        "view": {
            "mode": "sweep",
            "sweep": {
                "lr_min": 1e-3,
                "lr_max": 10.0,
                "lr_count": 25,
                "criterion": "steps_to_tolerance",
                "tolerance": 1e-6,
            },
        },
        "claims": [
            {"check": "sweep_never", "run": "adagrad", "lrs": [0.001, 0.5]},
            _sweep_values("adagrad", (0.67, 0.69), 312, 312),
            _sweep_values("adagrad", (6.8, 6.9), 7, 7),
            _sweep_best("adagrad", 6.8, 6.9),
            _sweep_values("adam", (0.068, 10.0), 0, 500),
            _sweep_values("adam", (0.15, 10.0), 155, 166),
            {"check": "sweep_never", "run": "adam", "lrs": [0.001, 0.05]},
        ],
    },
]
