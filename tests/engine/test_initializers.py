"""Initialisers: the variance each scheme promises, and the lectures' worked numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepscope.engine import initializers
from deepscope.engine.initializers import INITIALIZERS


@pytest.mark.parametrize("name", [n for n in INITIALIZERS if n not in ("zeros", "constant")])
@pytest.mark.parametrize("scale", [0.01, 1.0, 3.0])
def test_variance_matches_the_formula(name: str, scale: float) -> None:
    rng = np.random.default_rng(1)
    fan_in, fan_out = 300, 200
    W = initializers.init_weight(name, fan_in, fan_out, scale, rng, np.float64)
    assert W.shape == (fan_in, fan_out)
    expected = initializers.weight_variance(name, fan_in, fan_out, scale)
    # 60 000 samples: the sample variance is within a few percent.
    assert float(np.var(W)) == pytest.approx(expected, rel=0.03)
    assert abs(float(np.mean(W))) < 0.05 * math.sqrt(expected)


def test_scale_is_the_std_for_normal_and_uniform() -> None:
    rng = np.random.default_rng(2)
    for name in ("normal", "uniform"):
        W = initializers.init_weight(name, 400, 400, 0.01, rng, np.float64)
        assert float(np.std(W)) == pytest.approx(0.01, rel=0.02)


def test_zeros_and_constant() -> None:
    rng = np.random.default_rng(0)
    assert not initializers.init_weight("zeros", 3, 4, 5.0, rng).any()
    np.testing.assert_array_equal(initializers.init_weight("constant", 3, 4, 0.5, rng), 0.5)


@pytest.mark.parametrize(("fan_in", "fan_out"), [(30, 20), (20, 30), (25, 25)])
def test_orthogonal(fan_in: int, fan_out: int) -> None:
    W = initializers.init_weight(
        "orthogonal", fan_in, fan_out, 2.0, np.random.default_rng(3), np.float64
    )
    small = min(fan_in, fan_out)
    gram = W.T @ W if fan_in >= fan_out else W @ W.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)  # drawn in float32


def test_xavier_worked_numbers() -> None:
    """The lectures' numbers: Xavier for 32 → 64 → 128, and the averaged value for 64 → 128."""
    assert initializers.weight_variance("xavier_normal", 32, 64, 1.0) == pytest.approx(2 / 96)
    assert initializers.weight_variance("xavier_normal", 64, 128, 1.0) == pytest.approx(2 / 192)
    assert pytest.approx(0.02083, abs=1e-5) == 2 / 96
    assert pytest.approx(0.01042, abs=1e-5) == 2 / 192
    # U(−√(6/(fan_in+fan_out)), +…) bounds
    for (fi, fo), bound in (((32, 64), 0.25), ((64, 128), 0.17678)):
        W = initializers.init_weight(
            "xavier_uniform", fi, fo, 1.0, np.random.default_rng(0), np.float64
        )
        assert np.abs(W).max() <= bound + 1e-5
        assert np.abs(W).max() > 0.95 * bound
    # One slide averages the two variances 1/fan_in and 1/fan_out for 64 → 128: that is
    # (1/64 + 1/128)/2 = 0.01172, not the slide's 0.00586 (half of it).
    averaged = (1 / 64 + 1 / 128) / 2
    assert averaged == pytest.approx(0.01172, abs=1e-5)
    assert averaged != pytest.approx(0.00586, abs=1e-4)


def test_uniform_one_over_sqrt_n_has_n_var_one_third() -> None:
    """U(−1/√n, 1/√n) has n·Var = 1/3 (as in the lectures): our `uniform` with scale = 1/√(3n)."""
    n = 256
    W = initializers.init_weight(
        "uniform", n, n, 1 / math.sqrt(3 * n), np.random.default_rng(4), np.float64
    )
    assert np.abs(W).max() <= 1 / math.sqrt(n) + 1e-12
    assert n * float(np.var(W)) == pytest.approx(1 / 3, rel=0.02)


def test_he_is_twice_lecun() -> None:
    assert initializers.weight_variance("he_normal", 500, 500, 1.0) == pytest.approx(2 / 500)
    assert initializers.weight_variance("lecun_normal", 500, 500, 1.0) == pytest.approx(1 / 500)


def test_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown init"):
        initializers.get("glorot")


@pytest.mark.parametrize("name", list(INITIALIZERS))
@pytest.mark.parametrize(("fan_in", "fan_out"), [(300, 200), (150, 400)])
def test_the_numpy_snippet_is_the_scheme(name: str, fan_in: int, fan_out: int) -> None:
    """The "Reproduce in NumPy" expression of every scheme draws the lab's weights: the
    shape, the variance (E[w²] for constant) and the family's range."""
    init = INITIALIZERS[name]
    rng = np.random.default_rng(7)
    env = {"np": np, "rng": rng, "fan_in": fan_in, "fan_out": fan_out}
    W = np.asarray(eval(init.numpy, env))
    assert W.shape == (fan_in, fan_out)
    expected = init.variance(fan_in, fan_out, 1.0)
    second = float(np.mean(W * W)) if name == "constant" else float(np.var(W))
    assert second == pytest.approx(expected, rel=0.03, abs=1e-12)
    lab = initializers.init_weight(name, fan_in, fan_out, 1.0, rng, np.float64)
    if init.family == "uniform":  # bounded alike: ±√3·std
        assert np.max(np.abs(W)) <= np.max(np.abs(lab)) * 1.01
        assert np.max(np.abs(W)) >= np.max(np.abs(lab)) * 0.99
    if init.family == "orthogonal":
        small = min(fan_in, fan_out)
        gram = W.T @ W if fan_in >= fan_out else W @ W.T
        np.testing.assert_allclose(gram, np.eye(small), atol=1e-10)
