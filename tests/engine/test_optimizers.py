"""Every optimizer: hand-computed steps, an independent reference, a convergence matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepscope.engine import optimizers, surfaces
from deepscope.engine.fused import FusedRule
from deepscope.engine.optimizers import OPTIMIZERS, Schedule, make
from deepscope.engine.race import RunConfig, descend

BOWL = surfaces.build("shifted_bowl")  # (x − 5)² + y², from (−9, 6): ∇f = (−28, 12)


def _steps(name: str, hyper: dict[str, object], n: int = 2) -> np.ndarray:
    return descend(BOWL, [RunConfig(name, hyper)], n)[0].points


# θ after the first (and second) step from (−9, 6), worked out by hand.
HAND = {
    ("gd", 0.1): [(-6.2, 4.8), (-3.96, 3.84)],
    ("momentum", 0.1): [(-6.2, 4.8), (-1.44, 2.76)],
    ("nesterov", 0.1): [(-6.2, 4.8), (-1.944, 2.976)],
    ("adagrad", 0.5): [
        (-8.5, 5.5),
        (-8.5 + 0.5 * 27 / math.sqrt(1513), 5.5 - 0.5 * 11 / math.sqrt(265)),
    ],
    ("rmsprop", 0.01): [(-9 + 0.01 * math.sqrt(10), 6 - 0.01 * math.sqrt(10))],
    ("adadelta", 1.0): [
        (-9 + 1e-3 * 28 / math.sqrt(78.4 + 1e-6), 6 - 1e-3 * 12 / math.sqrt(14.4 + 1e-6))
    ],
    ("adam", 0.1): [(-8.9, 5.9)],
    ("adamw", 0.1): [(-8.891, 5.894)],
    ("nadam", 0.1): [(-8.81, 5.81)],
    ("amsgrad", 0.1): [(-8.9, 5.9)],
    ("newton", 1.0): [(5.0, 0.0)],
}


@pytest.mark.parametrize(("name", "lr"), list(HAND))
def test_hand_computed_first_steps(name: str, lr: float) -> None:
    expected = HAND[name, lr]
    hyper: dict[str, object] = {"lr": lr}
    if name == "adadelta":
        hyper |= {"rho": 0.9, "eps": 1e-6}
    if name == "adamw":
        hyper |= {"weight_decay": 0.01}
    points = _steps(name, hyper, len(expected))
    # The hand values leave out ε (1e-8 next to |g| ≈ 10): agreement to 1e-8.
    np.testing.assert_allclose(points[1 : len(expected) + 1], expected, rtol=1e-8, atol=1e-12)


def test_adam_first_step_with_and_without_bias_correction() -> None:
    """Without bias correction Adam's first step is (1 − β1)/√(1 − β2) ≈ 3.16 × lr."""
    lr = 0.001
    with_bc = _steps("adam", {"lr": lr}, 1)
    without = _steps("adam", {"lr": lr, "bias_correction": False}, 1)
    step_with = np.abs(with_bc[1] - with_bc[0])
    step_without = np.abs(without[1] - without[0])
    np.testing.assert_allclose(step_with, [lr, lr], rtol=1e-6)
    np.testing.assert_allclose(step_without / lr, 0.1 / math.sqrt(0.001), rtol=1e-6)
    assert step_without[0] / lr == pytest.approx(3.16, abs=0.01)


def test_nesterov_differs_from_momentum_by_the_look_ahead() -> None:
    m = _steps("momentum", {"lr": 0.05}, 5)
    n = _steps("nesterov", {"lr": 0.05}, 5)
    np.testing.assert_array_equal(m[1], n[1])  # the first look-ahead is θ₀ itself
    assert not np.allclose(m[2:], n[2:])


# --- the references: each optimizer written out plainly (optimizers.ref_*) -----------


def _bowl_gradient(p: np.ndarray) -> np.ndarray:
    return np.array([2 * (p[0] - 5), 2 * p[1]])


BOWL_PROBLEM = optimizers.Problem(_bowl_gradient, lambda p: np.diag([2.0, 2.0]))


def reference(name: str, h: dict[str, object], theta0: np.ndarray, steps: int) -> np.ndarray:
    """The optimizer's reference function in the engine, on (x − 5)² + y²."""
    return optimizers.reference(name, h, BOWL_PROBLEM, theta0, steps)


def _moved(spec: optimizers.OptimizerSpec) -> dict[str, object]:
    """Every hyper-parameter but lr away from its default (half-way to its upper
    bound, a log one ×100 toward it), every switch flipped."""
    out: dict[str, object] = {}
    for h in spec.hyper:
        if h.name == "lr":
            continue
        if h.is_bool:
            out[h.name] = not h.default
        elif h.log:
            out[h.name] = min(float(h.default) * 100, h.high)
        else:
            out[h.name] = float(h.default) + (h.high - float(h.default)) / 2
    return out


# Every optimizer of the registry at its defaults and moved off them (a new one is
# tested with no edit here), then settings picked by hand.
VARIANTS: list[tuple[str, dict[str, object]]] = [(name, {}) for name in OPTIMIZERS]
VARIANTS += [(name, _moved(spec)) for name, spec in OPTIMIZERS.items()]
VARIANTS += [
    ("gd", {"lr": 0.07, "weight_decay": 0.1}),
    ("momentum", {"lr": 0.02, "momentum": 0.8}),
    ("nesterov", {"lr": 0.03, "momentum": 0.95}),
    ("adagrad", {"lr": 0.7, "eps": 1e-10, "initial_accumulator": 0.5}),
    ("rmsprop", {"lr": 0.05, "rho": 0.8, "eps": 1e-6}),
    ("adadelta", {"lr": 2.0, "rho": 0.7, "eps": 1e-4}),
    ("adam", {"lr": 0.2, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8, "bias_correction": True}),
    ("adam", {"lr": 0.2, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "bias_correction": False}),
    (
        "adamw",
        {
            "lr": 0.2,
            "beta1": 0.9,
            "beta2": 0.999,
            "eps": 1e-8,
            "bias_correction": True,
            "weight_decay": 0.05,
        },
    ),
    ("nadam", {"lr": 0.1, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "bias_correction": True}),
    ("amsgrad", {"lr": 0.3, "beta1": 0.9, "beta2": 0.9, "eps": 1e-8, "bias_correction": True}),
    ("momentum", {"lr": 0.02, "momentum": 0.8, "weight_decay": 0.05}),
    ("nesterov", {"lr": 0.03, "momentum": 0.9, "weight_decay": 0.05}),
    ("rmsprop", {"lr": 0.05, "rho": 0.8, "eps": 1e-6, "weight_decay": 0.02}),
    ("adadelta", {"lr": 2.0, "rho": 0.7, "eps": 1e-4, "weight_decay": 0.05}),
    ("adam", {"lr": 0.2, "weight_decay": 0.05}),
    ("nadam", {"lr": 0.1, "bias_correction": False, "weight_decay": 0.05}),
    ("amsgrad", {"lr": 0.3, "beta2": 0.9, "bias_correction": False}),
    ("newton", {"lr": 0.5}),
]


def test_every_optimizer_has_its_reference_and_is_tested_against_it() -> None:
    """One registry entry and its reference function beside it, named after it."""
    for spec in OPTIMIZERS.values():
        assert spec.reference.__name__ == f"ref_{spec.name}"
        assert spec.equations  # the page's lines: the reference's docstring


@pytest.mark.parametrize(("name", "hyper"), VARIANTS)
def test_matches_the_reference_for_many_steps(name: str, hyper: dict[str, object]) -> None:
    ours = descend(BOWL, [RunConfig(name, hyper)], 40)[0].points
    ref = reference(name, hyper, np.array([-9.0, 6.0]), 40)[: ours.shape[0]]
    assert ours.shape[0] > 1
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10)


def test_a_race_equals_every_run_alone() -> None:
    """Stacking K different optimizers into one update changes nothing."""
    runs = [RunConfig(name, {}) for name in OPTIMIZERS]
    runs += [
        RunConfig("adam", {"lr": 0.05}, start=(1.0, -2.0), schedule=Schedule("cosine", period=50))
    ]
    s = surfaces.build("rosenbrock")
    together = descend(s, runs, 60)
    for run, res in zip(runs, together, strict=True):
        alone = descend(s, [run], 60)[0]
        np.testing.assert_allclose(res.points, alone.points, rtol=1e-12, atol=1e-14)
        assert (res.status, res.stopped_at) == (alone.status, alone.stopped_at)


HP = {
    "gd": {"lr": 0.1},
    "momentum": {"lr": 0.05},
    "nesterov": {"lr": 0.05},
    "adagrad": {"lr": 1.0},
    "rmsprop": {"lr": 0.01},
    "adadelta": {"lr": 1.0, "rho": 0.95},
    "adam": {"lr": 0.05},
    "adamw": {"lr": 0.05, "weight_decay": 0.0},
    "nadam": {"lr": 0.05},
    "amsgrad": {"lr": 0.05},
    "newton": {},
}
ADAPTIVE_DECAY = Schedule("step", step_size=1000, gamma=0.3)


@pytest.mark.parametrize(
    ("surface", "lr_scale", "tolerance"),
    [
        ("shifted_bowl", 1.0, 1e-3),
        ("bowl", 0.15, 0.06),
        ("six_hump_camel", 0.5, 0.05),
        ("rosenbrock", 0.01, 0.03),
    ],
)
def test_convergence_matrix(surface: str, lr_scale: float, tolerance: float) -> None:
    s = surfaces.build(surface)
    runs = []
    for name, hyper in HP.items():
        h = dict(hyper)
        if name in ("gd", "momentum", "nesterov"):
            h["lr"] *= lr_scale
        adaptive = name in ("rmsprop", "adam", "adamw", "nadam", "amsgrad")
        runs.append(RunConfig(name, h, schedule=ADAPTIVE_DECAY if adaptive else Schedule()))
    results = {r.optimizer: r for r in descend(s, runs, 5000)}
    slow = {"gd", "adagrad", "adadelta"} if surface == "rosenbrock" else set()
    for name, r in results.items():
        assert r.status != "diverged", name
        assert r.distance is not None
        if name in slow:  # the valley: known to crawl, but they do make progress
            assert r.distance[-1] < 0.7 * r.distance[0], name
        else:
            assert r.distance[-1] < tolerance, name


def test_clipping_and_noise() -> None:
    g = np.array([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(optimizers.clip(g, clip_norm=1.0), [[0.6, 0.8], [0.3, 0.4]])
    np.testing.assert_allclose(optimizers.clip(g, clip_value=0.35), [[0.35, 0.35], [0.3, 0.35]])
    a = descend(BOWL, [RunConfig("gd", {"lr": 0.05}, noise=1.0)], 20, seed=3)[0]
    b = descend(BOWL, [RunConfig("gd", {"lr": 0.05}, noise=1.0)], 20, seed=3)[0]
    c = descend(BOWL, [RunConfig("gd", {"lr": 0.05}, noise=1.0)], 20, seed=4)[0]
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.allclose(a.points, c.points)
    clipped = descend(BOWL, [RunConfig("gd", {"lr": 0.1}, clip_norm=1.0)], 1)[0]
    assert np.linalg.norm(clipped.points[1] - clipped.points[0]) == pytest.approx(0.1)


def test_schedules() -> None:
    t = np.arange(6)
    np.testing.assert_allclose(Schedule("constant").factor(t), 1.0)
    np.testing.assert_allclose(Schedule("inv_sqrt").factor(t), 1 / np.sqrt(t + 1))
    np.testing.assert_allclose(
        Schedule("step", step_size=2, gamma=0.5).factor(t), [1, 1, 0.5, 0.5, 0.25, 0.25]
    )
    np.testing.assert_allclose(Schedule("exponential", gamma=0.9).factor(t), 0.9**t)
    np.testing.assert_allclose(
        Schedule("cosine", period=4).factor(t), [1, 0.8535534, 0.5, 0.1464466, 0, 0], atol=1e-7
    )


def test_adagrad_effective_step_decays_rmsprop_levels_off() -> None:
    """As the lectures say: AdaGrad's effective step decays toward 0; RMSProp's doesn't."""
    # A constant gradient (1, 2): AdaGrad's G grows like t, RMSProp's E settles at g².
    ramp = surfaces.build_custom(surfaces.CustomSurface("x + 2*y", ((-1e4, 1e4), (-1e4, 1e4))))
    res = descend(ramp, [RunConfig("adagrad", {"lr": 0.1}), RunConfig("rmsprop", {"lr": 0.1})], 400)
    ada, rms = (r.effective_lr[:, 0] for r in res)
    assert ada[400] == pytest.approx(0.1 / math.sqrt(400), rel=1e-6)
    assert ada[100] == pytest.approx(2 * ada[400], rel=1e-3)  # ∝ 1/√t, toward 0
    assert rms[100] == pytest.approx(0.1, rel=1e-3)
    assert rms[400] == pytest.approx(0.1, rel=1e-6)  # levels off at lr/|g|


def test_hyper_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="no hyper-parameter 'beta1'"):
        make("gd", {"beta1": 0.9})
    with pytest.raises(ValueError, match="lr"):
        make("adam", {"lr": 100.0})
    with pytest.raises(ValueError, match="true or false"):
        make("adam", {"bias_correction": 1.0})
    with pytest.raises(ValueError, match="unknown optimizer"):
        make("lbfgs")


def test_the_training_rule_equals_the_reference_in_either_dtype() -> None:
    """The training lab's rule (K = 1 over a parameter vector) follows every reference,
    and a float32 network keeps float32 state, buffers and steps (no silent upcast)."""
    rng = np.random.default_rng(5)
    P = 50
    A = rng.standard_normal((P, P))
    H = A @ A.T / P + np.eye(P)  # f(θ) = ½θᵀHθ + bᵀθ: a well-posed quadratic
    b = rng.standard_normal(P)
    problem = optimizers.Problem(lambda p: H @ p + b, lambda p: H)
    theta0 = rng.standard_normal(P)
    schedule = Schedule("exponential", gamma=0.97)
    for name, hyper in VARIANTS:
        lr = float(OPTIMIZERS[name].resolve(hyper)["lr"])
        hyper = {**hyper, "lr": min(lr, 0.05)} if name != "newton" else hyper
        expected = optimizers.reference(name, hyper, problem, theta0, 12, schedule)
        opt = make(name, hyper)
        for dtype, rtol in ((np.float64, 1e-12), (np.float32, 2e-4)):
            rule = FusedRule(opt.c, (1, P), dtype)
            theta = theta0.astype(dtype)[None]
            lr_col = np.empty((1, 1), dtype=dtype)
            for t in range(1, 13):
                lr = float(opt.c.lr) * float(schedule.factor(np.array([t - 1]))[0])
                lr_col[0, 0] = lr
                look = np.empty_like(theta)
                rule.look_ahead(theta, dtype(lr * opt.c.mu * opt.c.nesterov), look)
                g = (problem.gradient(look[0].astype(np.float64)))[None].astype(dtype)
                b1, b2 = opt.bias_corrections(t)
                hess = H[None] if name == "newton" else None
                step = rule.step(g, theta, dtype(lr * b1), dtype(b2), lr_col, None, hess)
                assert step.dtype == dtype, (name, dtype)
                theta = theta - step
                assert theta.dtype == dtype, (name, dtype)
                np.testing.assert_allclose(
                    theta[0], expected[t], rtol=rtol, atol=rtol, err_msg=f"{name} {dtype}"
                )
            # every coefficient column, state and buffer of the rule: an array of
            # another float type would upcast each operation it takes part in
            arrays = [a for a in vars(rule).values() if isinstance(a, np.ndarray)]
            floats = [a for a in arrays if np.issubdtype(a.dtype, np.floating)]
            assert len(floats) > 20 and all(a.dtype == dtype for a in floats), (name, dtype)
