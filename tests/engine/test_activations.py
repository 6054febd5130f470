"""Every activation against its own derivative, its definition and at ±1000."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

from deepscope.engine import activations, layers, layers_lab
from deepscope.engine.activations import ACTIVATIONS
from tests.conftest import derivative_1d, relative_error

ELEMENTWISE = [name for name in ACTIVATIONS if name != "maxout"]
# Points away from the kink at 0 of the piecewise-linear units.
POINTS = np.array([-7.3, -3.1, -1.7, -0.9, -0.31, -0.05, 0.05, 0.27, 0.8, 1.6, 2.9, 6.2])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_centred_difference(name: str) -> None:
    act = ACTIVATIONS[name]
    p = act.resolve({})
    numeric = derivative_1d(lambda x: act.f(x, p), POINTS)
    analytic = act.df(POINTS, p)
    assert relative_error(numeric, analytic, floor=1e-9) < 1e-6


@pytest.mark.parametrize("name", ["leaky_relu", "prelu", "elu"])
def test_derivative_with_non_default_alpha(name: str) -> None:
    act = ACTIVATIONS[name]
    p = act.resolve({"alpha": 0.37})
    numeric = derivative_1d(lambda x: act.f(x, p), POINTS)
    assert relative_error(numeric, act.df(POINTS, p), floor=1e-9) < 1e-6


def test_maxout_derivative_is_one_hot_of_winner() -> None:
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 4, 3))  # (N, H, k)
    p = ACTIVATIONS["maxout"].resolve({"k": 3})
    h = ACTIVATIONS["maxout"].f(z, p)
    d = ACTIVATIONS["maxout"].df(z, p)
    assert h.shape == (5, 4)
    np.testing.assert_array_equal(h, z.max(axis=-1))
    np.testing.assert_array_equal(d.sum(axis=-1), np.ones((5, 4)))
    np.testing.assert_array_equal((d * z).sum(axis=-1), h)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_maxout_gallery_curve_is_convex_and_consistent(k: int) -> None:
    x = np.linspace(-6, 6, 241) + 0.013
    f, df = activations.curve("maxout", x, {"k": k})
    numeric = np.gradient(f, x)
    assert np.all(np.diff(df) >= 0)  # slopes never decrease: convex
    inner = slice(2, -2)
    assert np.mean(np.isclose(numeric[inner], df[inner], atol=1e-9)) > 0.9


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_stable_at_plus_minus_1000(name: str) -> None:
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            f, df = activations.curve(name, z)
            f32, df32 = activations.curve(name, z.astype(np.float32))
    for arr in (f, df, f32, df32):
        assert np.all(np.isfinite(arr))


def test_definitions() -> None:
    z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    p = {"alpha": 1.0}
    np.testing.assert_allclose(activations.sigmoid(z, {}), 1 / (1 + np.exp(-z)), rtol=1e-15)
    np.testing.assert_allclose(activations.elu(z, p), np.where(z > 0, z, np.exp(z) - 1))
    np.testing.assert_allclose(
        activations.elu(z, {"alpha": 2.0}), np.where(z > 0, z, 2.0 * (np.exp(z) - 1))
    )
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(
        activations.gelu(z, {}), z * 0.5 * (1 + erf(z / math.sqrt(2))), rtol=1e-13, atol=1e-15
    )
    np.testing.assert_allclose(activations.softplus(z, {}), np.log1p(np.exp(z)), rtol=1e-14)
    np.testing.assert_allclose(activations.silu(z, {}), z / (1 + np.exp(-z)), rtol=1e-14)
    np.testing.assert_allclose(
        activations.selu(np.array([1.0]), {}), [activations.SELU_LAMBDA], rtol=1e-15
    )


def test_normal_cdf_matches_erf_everywhere() -> None:
    z = np.concatenate([np.linspace(-37, 12, 20001), [-36.99, 37.5]])
    exact = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in z])
    np.testing.assert_allclose(activations.normal_cdf(z), exact, rtol=1e-11, atol=0)
    far = np.array([-37.6, -37.3, -37.01])  # beyond the table: the asymptotic series
    exact_far = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in far])
    np.testing.assert_allclose(activations.normal_cdf(far), exact_far, rtol=1e-9)


def test_conventions() -> None:
    """Our conventions: ReLU′(0) = 0, leaky α = 0.01, σ′ peaks at 0.25."""
    zero = np.array([0.0])
    assert activations.d_relu(zero, {})[0] == 0.0
    assert ACTIVATIONS["leaky_relu"].resolve({})["alpha"] == 0.01
    z = np.linspace(-10, 10, 2001)
    d = activations.d_sigmoid(z, {})
    assert d.max() == pytest.approx(0.25)
    assert z[np.argmax(d)] == pytest.approx(0.0)
    # "sigmoid is flat outside [−5, 5]": σ′ < 0.01 there.
    assert np.all(d[np.abs(z) > 5] < 0.01)


def test_relu_sum_makes_a_bump() -> None:
    """max(0, x+1) − max(0, x−1): the ReLU-sum the gallery overlays (a clipped ramp)."""
    x = np.linspace(-3, 3, 61)
    bump = activations.relu(x + 1, {}) - activations.relu(x - 1, {})
    np.testing.assert_allclose(bump, np.clip(x + 1, 0, 2))


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="alpha"):
        ACTIVATIONS["leaky_relu"].resolve({"alpha": 7.0})
    with pytest.raises(ValueError, match="beta"):
        ACTIVATIONS["elu"].resolve({"beta": 1.0})
    with pytest.raises(ValueError, match="integer"):
        ACTIVATIONS["maxout"].resolve({"k": 2.5})
    with pytest.raises(ValueError, match="unknown activation"):
        activations.get("swishy")


def test_target_gains() -> None:
    """n·Var(w) that keeps the variance: 1 for tanh, 2 for ReLU."""
    assert ACTIVATIONS["tanh"].target_gain({}) == 1.0
    assert ACTIVATIONS["relu"].target_gain({}) == 2.0
    assert ACTIVATIONS["sigmoid"].target_gain({}) is None


@pytest.mark.parametrize("name", [n for n, a in ACTIVATIONS.items() if a.fdf is not None])
def test_fused_value_and_derivative_equal_the_separate_ones(name: str) -> None:
    act = ACTIVATIONS[name]
    p = act.resolve({})
    z = np.linspace(-8, 8, 401)
    f, df = act.value_and_derivative(z, p)
    np.testing.assert_allclose(f, act.f(z, p), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(df, act.df(z, p), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_non_finite_inputs_give_non_finite_or_limit_outputs_without_raising(name: str) -> None:
    """A diverged layer feeds inf and NaN forward: that is reported, never a crash."""
    z = np.array([np.nan, np.inf, -np.inf, 0.5])
    with np.errstate(all="ignore"):
        f, df = activations.curve(name, z)
    assert f.shape == df.shape == (4,)
    assert np.isnan(f[0]) or name == "maxout"


def numpy_snippet(name: str, params: dict[str, float]) -> str:
    """The registry's NumPy expression with its parameters filled in (as the page does)."""
    act = ACTIVATIONS[name]
    return re.sub(r"\{(\w+)\}", lambda m: repr(params[m.group(1)]), act.numpy)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_the_numpy_snippet_is_the_activation(name: str) -> None:
    """The "Reproduce in NumPy" expression of every activation computes the lab's unit
    (defaults and every parameter at another value), pieces included."""
    act = ACTIVATIONS[name]
    slots = set(re.findall(r"\{(\w+)\}", act.numpy))
    assert slots <= {p.name for p in act.params}, slots
    assert act.pieces is None or act.pieces in {p.name for p in act.params}
    rng = np.random.default_rng(3)
    variants = [act.resolve({})] + [
        act.resolve({p.name: p.high if p.default != p.high else p.low}) for p in act.params
    ]
    for params in variants:
        k = activations.pieces(name, params)
        a = rng.normal(0.0, 3.0, (64, 5 * k))
        ours, _ = layers.activation_forward(a, name, params)
        with np.errstate(over="ignore"):
            theirs = eval(numpy_snippet(name, params), {"np": np, "math": math, "a": a})
        assert theirs.shape == ours.shape == (64, 5)
        np.testing.assert_allclose(theirs, ours, rtol=1e-9, atol=1e-12, err_msg=str(params))


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_zero_on_an_interval_is_declared(name: str) -> None:
    """A unit that is exactly 0 on a whole interval says so in the registry (the layers
    lab tells such zeros from an underflow), at its defaults and with α = 0 or moved."""
    act = ACTIVATIONS[name]
    variants = [act.resolve({})] + [
        act.resolve({p.name: value}) for p in act.params for value in (p.low, p.high)
    ]
    for params in variants:
        k = activations.pieces(name, params)
        a = np.repeat(np.linspace(-5.0, 5.0, 1001)[:, None], k, axis=1)
        h, _ = layers.activation_forward(a, name, params)
        zeros = int(np.count_nonzero(h == 0))
        assert (zeros > 1) == (not layers_lab.zero_only_at_zero(act, params)), (params, zeros)


@pytest.mark.parametrize("name", sorted(n for n, a in ACTIVATIONS.items() if a.in_place))
def test_in_place_is_f_bit_for_bit(name: str) -> None:
    unit = ACTIVATIONS[name]
    z = np.random.default_rng(3).standard_normal((7, 5)).astype(np.float32) * 3
    expected = unit.f(z.copy(), unit.resolve(None))
    written = z.copy()
    assert unit.in_place is not None
    unit.in_place(written)
    assert written.dtype == np.float32 and np.array_equal(written, expected)
