"""The fused rule follows every optimizer's reference, and stacking changes no bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from deepscope.engine import optimizers
from deepscope.engine.fused import FusedRule
from deepscope.engine.optimizers import OPTIMIZERS

# Every optimizer, and the options that switch on the rule's optional terms.
VARIANTS: list[tuple[str, dict[str, Any]]] = [(name, {}) for name in OPTIMIZERS] + [
    ("gd", {"lr": 0.05, "weight_decay": 0.1}),
    ("momentum", {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.01}),
    ("nesterov", {"lr": 0.03, "momentum": 0.95}),
    ("adagrad", {"lr": 0.3, "initial_accumulator": 0.5}),
    ("rmsprop", {"lr": 0.02, "rho": 0.5, "eps": 1e-3}),
    ("adadelta", {"lr": 2.0, "rho": 0.7, "eps": 1e-4, "weight_decay": 0.05}),
    ("adam", {"lr": 0.1, "bias_correction": False}),
    ("adamw", {"lr": 0.05, "weight_decay": 0.2}),
    ("nadam", {"lr": 0.05, "beta1": 0.8}),
    ("amsgrad", {"lr": 0.05, "beta2": 0.9}),
    ("newton", {"lr": 0.5}),
]


def _quadratic(K: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """K random well-posed quadratics ½θᵀHθ + bᵀθ in d dimensions: (H (K, d, d), b (K, d))."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(K, d, d))
    return A @ A.transpose(0, 2, 1) / d + np.eye(d), rng.normal(size=(K, d))


def _fused_path(
    variants: list[tuple[str, dict[str, Any]]], d: int, steps: int, seed: int = 0
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Race-style steps of the stacked rule on each run's quadratic: the iterates
    (steps + 1, K, d) and, per step, the step, scale and state (m, v, v̄, u)."""
    K = len(variants)
    H, b = _quadratic(K, d, seed)
    opt = optimizers.stack([optimizers.make(n, h) for n, h in variants])
    rule = FusedRule(opt.c, (K, d))
    theta = np.random.default_rng(seed + 1).normal(size=(K, d))
    lr0 = np.asarray(opt.c.lr)
    path, record = [theta.copy()], []
    B1, B2 = opt.bias_corrections(np.arange(1, steps + 1))
    for t in range(1, steps + 1):
        lr = lr0 * (0.9**t)  # a schedule
        b1, b2 = (B1, B2) if np.ndim(B1) == 0 else (B1[t - 1], B2[t - 1])
        look = np.empty((K, d))
        rule.look_ahead(theta, (lr * opt.c.mu) * opt.c.nesterov, look)
        g = np.einsum("kij,kj->ki", H, look) + b
        upper = [H[:, i, j].copy() for i in range(d) for j in range(i, d)]
        scale = np.empty((K, d))
        step = rule.step(g, theta, lr * b1, b2, lr, scale, upper)
        record += [
            step.copy(),
            scale,
            rule.m.copy(),
            rule.v.copy(),
            rule.vmax.copy(),
            rule.u.copy(),
        ]
        theta = theta - step
        path.append(theta.copy())
    return np.array(path), record


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize(("name", "hyper"), VARIANTS)
def test_each_optimizer_matches_its_reference(name: str, hyper: dict[str, Any], d: int) -> None:
    """The fast rule follows the plain reference function step by step."""
    steps = 12
    path, record = _fused_path([(name, hyper)], d, steps)
    H, b = _quadratic(1, d, 0)
    problem = optimizers.Problem(lambda p: H[0] @ p + b[0], lambda p: H[0])
    spec = OPTIMIZERS[name]
    h = spec.resolve(hyper)
    theta, state = path[0, 0], {}
    for t in range(1, steps + 1):
        lr = h["lr"] * 0.9**t
        expected = spec.reference(theta.copy(), problem, lr, t, h, state)
        np.testing.assert_allclose(path[t, 0], expected, rtol=1e-12, atol=1e-13)
        step, scale = record[6 * (t - 1)], record[6 * (t - 1) + 1]
        np.testing.assert_allclose(step[0], theta - expected, rtol=1e-11, atol=1e-14)
        if name in ("gd", "adagrad", "rmsprop", "adadelta"):  # the step is scale·g
            g = problem.gradient(theta) + h.get("weight_decay", 0.0) * theta
            np.testing.assert_allclose(step[0], scale[0] * g, rtol=1e-12, atol=1e-15)
        elif name == "newton":  # the scale is lr·diag(H⁻¹)
            np.testing.assert_allclose(scale[0], lr * np.diag(np.linalg.inv(H[0])), rtol=1e-12)
        theta = path[t, 0]


@pytest.mark.parametrize("d", [1, 2])
def test_a_stack_gives_each_run_its_numbers_alone_to_the_last_bit(d: int) -> None:
    """K different optimizers in one rule: every number of every run (iterates, step,
    scale, state) equals what the run gets alone, bit for bit."""
    together, record = _fused_path(VARIANTS, d, steps=12, seed=1)
    H, b = _quadratic(len(VARIANTS), d, 1)
    for k, variant in enumerate(VARIANTS):
        alone, alone_record = _alone(variant, H[k], b[k], together[0, k], steps=12)
        np.testing.assert_array_equal(together[:, k], alone[:, 0], err_msg=str(variant))
        for i, (a, b_) in enumerate(zip(record, alone_record, strict=True)):
            if i % 6 == 4 and variant[0] != "amsgrad":
                continue  # v̄ is AMSGrad's alone (a stack tracks it for every run, unread)
            if i % 6 == 2 and _without_m(*variant):
                continue  # m: beside runs with m, one without keeps its a_g·g there (below)
            np.testing.assert_array_equal(a[k], b_[0], err_msg=f"{variant} {i}")


def _without_m(name: str, hyper: dict[str, Any]) -> bool:
    c = optimizers.make(name, hyper).c
    return c.a_m == 0 and c.c_m == 0 and c.mu == 0


def test_beside_runs_with_m_a_run_without_keeps_its_gradient_term_in_m() -> None:
    """GD beside momentum: GD's numerator a_g·g is kept in m (to the last bit), so that
    the rule computes one numerator, m, for both; once momentum stops, GD's numerator is
    a_g·g again and m is no longer computed."""
    opt = optimizers.stack([optimizers.make("gd"), optimizers.make("momentum")])
    rule = FusedRule(opt.c, (2, 2))
    assert rule.uses_m and rule.numerator_is_m and not rule.uses_a_g
    g = np.array([[0.3, -1.7], [2.0, 0.5]])
    theta = np.zeros((2, 2))
    lr = np.full((2, 2), 0.1)
    for _ in range(3):
        step = rule.step(g, theta, lr, 1.0, lr, None).copy()
        np.testing.assert_array_equal(rule.m[0], 1.0 * g[0])  # GD's a_g·g
        np.testing.assert_array_equal(step[0], g[0] * 0.1)  # its own step, lr·g
    rule.retire(1)
    assert not rule.uses_m and rule.uses_a_g and not rule.numerator_is_m
    step = rule.step(g, theta, lr, 1.0, lr, None)
    np.testing.assert_array_equal(step[0], g[0] * 0.1)
    np.testing.assert_array_equal(step[1], g[1] * 0.1)  # (stopped: plain GD; a race gives lr 0)


def _alone(
    variant: tuple[str, dict[str, Any]],
    H: np.ndarray,
    b: np.ndarray,
    theta0: np.ndarray,
    steps: int,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """One run of the rule on its own quadratic (as ``_fused_path`` with K = 1)."""
    opt = optimizers.make(*variant)
    d = b.size
    rule = FusedRule(opt.c, (1, d))
    theta = theta0[None].copy()
    path, record = [theta.copy()], []
    lr0 = np.full((1, 1), float(opt.c.lr))
    B1, B2 = optimizers.stack([opt]).bias_corrections(np.arange(1, steps + 1))
    for t in range(1, steps + 1):
        lr = lr0 * (0.9**t)
        b1, b2 = (B1, B2) if np.ndim(B1) == 0 else (B1[t - 1], B2[t - 1])
        look = np.empty((1, d))
        rule.look_ahead(theta, (lr * opt.c.mu) * opt.c.nesterov, look)
        g = np.einsum("kij,kj->ki", H[None], look) + b  # (as the stack computes it)
        upper = [np.array([H[i, j]]) for i in range(d) for j in range(i, d)]
        scale = np.empty((1, d))
        step = rule.step(g, theta, lr * b1, b2, lr, scale, upper)
        record += [
            step.copy(),
            scale,
            rule.m.copy(),
            rule.v.copy(),
            rule.vmax.copy(),
            rule.u.copy(),
        ]
        theta = theta - step
        path.append(theta.copy())
    return np.array(path), record


def test_newton_on_a_singular_hessian_takes_the_pseudo_inverse() -> None:
    opt = optimizers.stack([optimizers.make("newton"), optimizers.make("newton")])
    rule = FusedRule(opt.c, (2, 2))
    g = np.array([[1.0, 2.0], [3.0, -1.0]])
    # Run 0: [[2, 0], [0, 0]] (a valley's floor); run 1: [[1, 1], [1, 1]] (rank one).
    upper = [np.array([2.0, 1.0]), np.array([0.0, 1.0]), np.array([0.0, 1.0])]
    scale = np.empty((2, 2))
    step = rule.step(g, np.zeros((2, 2)), np.ones((2, 1)), 1.0, np.ones((2, 1)), scale, upper)
    H = np.array([[[2.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]])
    expected = np.einsum("kij,kj->ki", np.linalg.pinv(H), g)
    np.testing.assert_allclose(step, expected, atol=1e-12)
    assert np.all(np.isfinite(scale))


def test_constant_hessian_entries_broadcast() -> None:
    """A surface program returns a constant Hessian entry as a float."""
    opt = optimizers.stack([optimizers.make("newton")] * 3)
    rule = FusedRule(opt.c, (3, 2))
    g = np.array([[2.0, 4.0], [1.0, 1.0], [0.0, -2.0]])
    scale = np.empty((3, 2))
    step = rule.step(
        g, np.zeros((3, 2)), np.ones((3, 1)), 1.0, np.ones((3, 1)), scale, [2.0, 0.0, 4.0]
    )
    np.testing.assert_allclose(step, g / [2.0, 4.0])
    np.testing.assert_allclose(scale, np.broadcast_to([0.5, 0.25], (3, 2)))
