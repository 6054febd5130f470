"""The fused race rule gives every run the numbers of the reference ``update``."""

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


def _reference_and_fused(
    variants: list[tuple[str, dict[str, Any]]], d: int, steps: int, seed: int = 0
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Step both rules on the same random gradients, points and Hessians."""
    rng = np.random.default_rng(seed)
    K = len(variants)
    opt = optimizers.stack([optimizers.make(n, h) for n, h in variants])
    rule = FusedRule(opt.c, (K, d))
    state = opt.init(np.zeros((K, d)))
    ref_out, fused_out = [], []
    lr0 = np.asarray(opt.c.lr)
    for t in range(1, steps + 1):
        g = rng.normal(size=(K, d)) * 3
        theta = rng.normal(size=(K, d))
        A = rng.normal(size=(K, d, d))
        H = A @ A.transpose(0, 2, 1) + np.eye(d)  # symmetric, invertible
        upper = [H[:, i, j].copy() for i in range(d) for j in range(i, d)]
        lr = lr0 * (0.9**t)  # a schedule
        B1, B2 = opt.bias_corrections(np.array([t]))
        b1, b2 = (B1, B2) if np.ndim(B1) == 0 else (B1[0], B2[0])
        look = np.empty((K, d))
        rule.look_ahead(theta, (lr * opt.c.mu) * opt.c.nesterov, look)
        np.testing.assert_array_equal(look, opt.eval_point(theta, state, lr))
        step, state, scale = opt.update(g, state, theta, lr, H, (b1, b2))
        fused_scale = np.empty((K, d))
        fused_step = rule.step(g, theta, lr * b1, b2, lr, fused_scale, upper)
        ref_out += [step, scale, state.m, state.v, state.u]
        fused_out += [fused_step.copy(), fused_scale, rule.m.copy(), rule.v.copy(), rule.u.copy()]
    return ref_out, fused_out


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize(("name", "hyper"), VARIANTS)
def test_each_optimizer_alone_matches_update(name: str, hyper: dict[str, Any], d: int) -> None:
    ref, fused = _reference_and_fused([(name, hyper)], d, steps=12)
    for a, b in zip(ref, fused, strict=True):
        if name == "newton":
            np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-15)
        else:
            np.testing.assert_array_equal(b, a)  # the same numbers, to the last bit


@pytest.mark.parametrize("d", [1, 2])
def test_every_optimizer_together_matches_update(d: int) -> None:
    ref, fused = _reference_and_fused(VARIANTS, d, steps=12, seed=1)
    newton = np.array([name == "newton" for name, _ in VARIANTS])
    for a, b in zip(ref, fused, strict=True):
        np.testing.assert_array_equal(b[~newton], a[~newton])
        np.testing.assert_allclose(b[newton], a[newton], rtol=1e-13, atol=1e-15)


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
