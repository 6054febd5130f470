"""Activation functions, each with its derivative defined beside it.

Every function takes the pre-activation ``z`` (any shape) and a mapping of its
parameters and returns an array of the same shape and dtype. All of them are
numerically stable: no overflow warnings at z = ±1000.

Maxout is the one non-element-wise unit: in a network its pre-activation has a
trailing axis of ``k`` pieces and it returns the maximum over that axis. For the
1-D gallery (``curve``) it is drawn as the maximum of ``k`` lines tangent to
softplus — a picture of how maxout approximates any convex activation with
pieces, and of why it neither saturates nor dies.

Conventions (docs/numerics.md): ReLU′(0) = 0; leaky ReLU α defaults to 0.01; ELU is
α(eᶻ − 1) for z ≤ 0; GELU is the exact z·Φ(z) with the normal CDF Φ.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]
Params = Mapping[str, float]
ElementFn = Callable[[Array, Params], Array]

# ln(0.01): beyond this a flat-tailed unit's output is within 1 % of its floor.
FLAT_TAIL = math.log(0.01)

SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


@dataclass(frozen=True)
class Param:
    """A numeric parameter of an activation (shown as a slider)."""

    name: str
    default: float
    low: float
    high: float
    integer: bool = False
    doc: str = ""

    @property
    def step(self) -> float:
        """A slider's increment: whole numbers, or hundredths."""
        return 1.0 if self.integer else 0.01


@dataclass(frozen=True)
class Activation:
    """One registry entry: the function, its derivative and what the UI needs (its
    words — the notes, and when a unit counts as saturated — are
    ``activation.<name>.notes.<i>`` and ``activation.<name>.saturation`` in
    ``static/i18n/<lang>.json``)."""

    name: str
    formula: str
    f: ElementFn
    df: ElementFn
    output_range: tuple[float, float]
    derivative_range: tuple[float, float]
    # The unit in plain NumPy, for the layers lab's "Reproduce in NumPy" snippet: an
    # expression of the pre-activations ``a`` (N, units·pieces), ``np`` and ``math``,
    # with each parameter as ``{name}`` (tests/engine/test_activations.py runs it).
    numpy: str
    params: tuple[Param, ...] = ()
    # The parameter that counts a unit's pre-activations (maxout's k); None: one each.
    pieces: str | None = None
    # Boolean mask of saturated units from (z, h), or None if it never saturates (the
    # rule in words: activation.<name>.saturation).
    saturated: Callable[[Array, Array], NDArray[np.bool_]] | None = None
    # Whether f is 0 on a whole interval for these parameters (ReLU; leaky ReLU and ELU
    # with α = 0), None if never: otherwise a layer of exact zeros is an underflow.
    zero_on_interval: Callable[[Params], bool] | None = None
    # E[f(s)²] / Var(s) for small zero-mean symmetric s; None = no simple law.
    variance_gain: Callable[[Params], float] | None = None
    # Gallery curve (f, df) on 1-D points; defaults to (f, df).
    curve: Callable[[Array, Params], tuple[Array, Array]] | None = None
    # (f, f′) computed together where f′ is cheap from f (tanh: 1 − h²); else f then df.
    fdf: Callable[[Array, Params], tuple[Array, Array]] | None = None
    # f written over z in place, where f is one ufunc (the same bits as f): the loss
    # landscape's batched grid spares a pass of allocation. None: f makes a new array.
    in_place: Callable[[Array], object] | None = None

    def resolve(self, given: Params | None) -> dict[str, float]:
        """Defaults merged with the given parameters, each checked against its range."""
        given = dict(given or {})
        unknown = set(given) - {p.name for p in self.params}
        if unknown:
            raise ValueError(f"{self.name} has no parameter {sorted(unknown)[0]!r}")
        out: dict[str, float] = {}
        for p in self.params:
            value = float(given.get(p.name, p.default))
            if not (math.isfinite(value) and p.low <= value <= p.high):
                raise ValueError(f"{self.name} {p.name} must be in [{p.low}, {p.high}]")
            if p.integer:
                if value != int(value):
                    raise ValueError(f"{self.name} {p.name} must be an integer")
                value = int(value)
            out[p.name] = value
        return out

    def value_and_derivative(self, z: Array, params: Params) -> tuple[Array, Array]:
        """(f(z), f′(z)), sharing work between the two where the unit allows."""
        if self.fdf is not None:
            return self.fdf(z, params)
        return self.f(z, params), self.df(z, params)

    def target_gain(self, params: Params) -> float | None:
        """The n·Var(w) that keeps the variance constant through depth (1 tanh, 2 ReLU)."""
        if self.variance_gain is None:
            return None
        return 1.0 / self.variance_gain(params)


# --- the normal CDF, for GELU ------------------------------------------------
# NumPy has no vectorized erf. For z ≤ 0 we write Φ(z) = R(z)·φ(z), where the
# ratio R = Φ/φ is smooth and slowly varying (≈ 1/|z| in the tail) and obeys
# R′ = 1 + zR. R is tabulated once from math.erfc (exact to double precision)
# and evaluated by cubic Hermite interpolation with those exact slopes, so Φ has
# a relative error near 1e-12 even far in the tail, and Φ(z) = 1 − Φ(−z) for z > 0.
_R_LO, _R_STEP = -37.0, 1.0 / 256.0
_R_X = np.arange(_R_LO, _R_STEP / 2, _R_STEP)
_R_VAL = np.array(
    [
        0.5 * math.erfc(-x / math.sqrt(2.0)) / (math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))
        for x in _R_X
    ]
)
_R_SLOPE = (1.0 + _R_X * _R_VAL) * _R_STEP
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def normal_pdf(z: Array) -> Array:
    """φ(z) = exp(−z²/2)/√(2π)."""
    return np.exp(-0.5 * np.square(z)) * z.dtype.type(_INV_SQRT_2PI)


def _mills_ratio(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """R(u) = Φ(u)/φ(u) for u ≤ 0 (float64)."""
    nan = np.isnan(u)
    t = (np.maximum(np.where(nan, 0.0, u), _R_LO) - _R_LO) / _R_STEP  # NaN in, NaN out (below)
    i = np.minimum(np.floor(t).astype(np.intp), _R_X.size - 2)
    s = t - i
    s2 = s * s
    s3 = s2 * s
    r: NDArray[np.float64] = (
        (2 * s3 - 3 * s2 + 1) * _R_VAL[i]
        + (s3 - 2 * s2 + s) * _R_SLOPE[i]
        + (-2 * s3 + 3 * s2) * _R_VAL[i + 1]
        + (s3 - s2) * _R_SLOPE[i + 1]
    )
    # Far tail: the asymptotic series −1/u·(1 − 1/u² + 3/u⁴ − 15/u⁶).
    far = u < _R_LO
    if np.any(far):
        v = 1.0 / np.square(u[far])
        r[far] = -1.0 / u[far] * (1 - v + 3 * v * v - 15 * v * v * v)
    if nan.any():
        r[nan] = np.nan
    return r


def normal_cdf(z: Array) -> Array:
    """Φ(z), the standard normal CDF, with small relative error in both tails."""
    z64 = z.astype(np.float64, copy=False)
    u = -np.abs(z64)
    tail = _mills_ratio(u) * np.exp(-0.5 * u * u) * _INV_SQRT_2PI  # Φ(−|z|)
    out = np.where(z64 <= 0, tail, 1.0 - tail)
    return out.astype(z.dtype, copy=False)


# --- element-wise units -------------------------------------------------------


def _one(x: float, like: Array) -> np.floating:
    return like.dtype.type(x)


def linear(z: Array, p: Params) -> Array:
    return z.copy()


def d_linear(z: Array, p: Params) -> Array:
    return np.ones_like(z)


def sigmoid(z: Array, p: Params) -> Array:
    # σ(z) = 1/(1 + e^−z), which keeps its relative precision in the left tail: the
    # former (1 + tanh(z/2))/2 rounded every σ(z) < ~6e-8 to exactly 0 in float32 (18 %
    # "zeros" for a sigmoid, which is never 0). e^−z overflows to inf for z < −88
    # (float32) and σ is then 0: a true underflow, below float32's smallest normal.
    with np.errstate(over="ignore", under="ignore"):
        h = np.negative(np.asarray(z))
        np.exp(h, out=h)
        h += 1
        np.reciprocal(h, out=h)
    return h


def d_sigmoid(z: Array, p: Params) -> Array:
    s = sigmoid(z, p)
    return s * (1 - s)


def tanh(z: Array, p: Params) -> Array:
    return np.tanh(z)


def d_tanh(z: Array, p: Params) -> Array:
    h = np.tanh(z)
    return 1 - h * h


def tanh_fdf(z: Array, p: Params) -> tuple[Array, Array]:
    h = np.tanh(z)
    d = np.square(h)
    np.subtract(1, d, out=d)
    return h, d


def sigmoid_fdf(z: Array, p: Params) -> tuple[Array, Array]:
    s = sigmoid(z, p)
    d = 1 - s
    d *= s
    return s, d


def relu_fdf(z: Array, p: Params) -> tuple[Array, Array]:
    return np.maximum(z, 0), d_relu(z, p)


def relu(z: Array, p: Params) -> Array:
    return np.maximum(z, 0)


def d_relu(z: Array, p: Params) -> Array:
    return (z > 0).astype(z.dtype)  # ReLU′(0) = 0


def leaky_relu(z: Array, p: Params) -> Array:
    return np.where(z > 0, z, z * _one(p["alpha"], z))


def d_leaky_relu(z: Array, p: Params) -> Array:
    return np.where(z > 0, _one(1.0, z), _one(p["alpha"], z))


def elu(z: Array, p: Params) -> Array:
    # α(eᶻ − 1) for z ≤ 0 (the slide's "αeˣ − 1" is a typo); expm1 of min(z, 0) never overflows.
    return np.where(z > 0, z, _one(p["alpha"], z) * np.expm1(np.minimum(z, 0)))


def d_elu(z: Array, p: Params) -> Array:
    return np.where(z > 0, _one(1.0, z), _one(p["alpha"], z) * np.exp(np.minimum(z, 0)))


_SELU_P = {"alpha": SELU_ALPHA}


def selu(z: Array, p: Params) -> Array:
    return _one(SELU_LAMBDA, z) * elu(z, _SELU_P)


def d_selu(z: Array, p: Params) -> Array:
    return _one(SELU_LAMBDA, z) * d_elu(z, _SELU_P)


def gelu(z: Array, p: Params) -> Array:
    return z * normal_cdf(z)


def d_gelu(z: Array, p: Params) -> Array:
    return normal_cdf(z) + z * normal_pdf(z)


def silu(z: Array, p: Params) -> Array:
    return z * sigmoid(z, p)


def d_silu(z: Array, p: Params) -> Array:
    s = sigmoid(z, p)
    return s * (1 + z * (1 - s))


def softplus(z: Array, p: Params) -> Array:
    # log(1 + eᶻ) = max(z, 0) + log1p(e^−|z|): stable for any z.
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def d_softplus(z: Array, p: Params) -> Array:
    return sigmoid(z, p)


# --- maxout -------------------------------------------------------------------


def maxout(z: Array, p: Params) -> Array:
    """max over the trailing axis of k pieces: (..., k) -> (...)."""
    out: Array = np.max(z, axis=-1)
    return out


def d_maxout(z: Array, p: Params) -> Array:
    """One-hot of the winning piece: (..., k) -> (..., k) (first index on ties)."""
    winner = np.argmax(z, axis=-1)[..., None]
    out: Array = (np.arange(z.shape[-1]) == winner).astype(z.dtype)
    return out


def _maxout_lines(k: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Slopes and intercepts of k lines tangent to softplus at points in [−3, 3]."""
    t = np.linspace(-3.0, 3.0, k)
    slope = 1.0 / (1.0 + np.exp(-t))
    intercept = np.log1p(np.exp(t)) - slope * t
    return slope, intercept


def maxout_curve(x: Array, p: Params) -> tuple[Array, Array]:
    """Gallery form: max of k lines tangent to softplus (k = 2 is a leaky ReLU)."""
    slope, intercept = _maxout_lines(int(p["k"]))
    pieces = x[..., None] * slope + intercept  # (..., k)
    best = np.argmax(pieces, axis=-1)
    return np.max(pieces, axis=-1).astype(x.dtype), slope[best].astype(x.dtype)


# --- saturation rules -----------------------------------------------------------


def _sat_tanh(z: Array, h: Array) -> NDArray[np.bool_]:
    return np.abs(h) > 0.99


def _sat_sigmoid(z: Array, h: Array) -> NDArray[np.bool_]:
    return (h < 0.01) | (h > 0.99)


def _sat_left_tail(z: Array, h: Array) -> NDArray[np.bool_]:
    return z < FLAT_TAIL


def _always(p: Params) -> bool:
    return True


def _alpha_zero(p: Params) -> bool:
    return p["alpha"] == 0


def _gain_one(p: Params) -> float:
    return 1.0


def _gain_relu(p: Params) -> float:
    return 0.5


def _gain_leaky(p: Params) -> float:
    return 0.5 * (1.0 + p["alpha"] ** 2)


_ALPHA_LEAKY = Param("alpha", 0.01, 0.0, 1.0, doc="slope for z < 0")
_ALPHA_PRELU = Param("alpha", 0.25, 0.0, 1.0, doc="slope for z < 0 (learned in training)")
_ALPHA_ELU = Param("alpha", 1.0, 0.0, 5.0, doc="negative saturation value −α")
_K_MAXOUT = Param("k", 2, 2, 8, integer=True, doc="pieces per unit")
ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "linear",
            "f(z) = z",
            linear,
            d_linear,
            (-4.0, 4.0),
            (0.0, 1.25),
            numpy="a",
            variance_gain=_gain_one,
            in_place=lambda z: None,
        ),
        Activation(
            "sigmoid",
            "σ(z) = 1 / (1 + e^−z)",
            sigmoid,
            d_sigmoid,
            (0.0, 1.0),
            (0.0, 0.3125),
            numpy="1 / (1 + np.exp(-a))",
            saturated=_sat_sigmoid,
            fdf=sigmoid_fdf,
        ),
        Activation(
            "tanh",
            "tanh(z)",
            tanh,
            d_tanh,
            (-1.0, 1.0),
            (0.0, 1.25),
            numpy="np.tanh(a)",
            saturated=_sat_tanh,
            variance_gain=_gain_one,
            fdf=tanh_fdf,
            in_place=lambda z: np.tanh(z, out=z),
        ),
        Activation(
            "relu",
            "max(0, z)",
            relu,
            d_relu,
            (-4.0, 4.0),
            (0.0, 1.25),
            numpy="np.maximum(a, 0)",
            zero_on_interval=_always,
            variance_gain=_gain_relu,
            fdf=relu_fdf,
            in_place=lambda z: np.maximum(z, 0, out=z),
        ),
        Activation(
            "leaky_relu",
            "max(αz, z)",
            leaky_relu,
            d_leaky_relu,
            (-4.0, 4.0),
            (0.0, 1.25),
            numpy="np.where(a > 0, a, {alpha} * a)",
            params=(_ALPHA_LEAKY,),
            zero_on_interval=_alpha_zero,
            variance_gain=_gain_leaky,
        ),
        Activation(
            "prelu",
            "max(αz, z), α learned",
            leaky_relu,
            d_leaky_relu,
            (-4.0, 4.0),
            (0.0, 1.25),
            numpy="np.where(a > 0, a, {alpha} * a)",
            params=(_ALPHA_PRELU,),
            zero_on_interval=_alpha_zero,
            variance_gain=_gain_leaky,
        ),
        Activation(
            "elu",
            "z if z > 0, else α(e^z − 1)",
            elu,
            d_elu,
            (-4.0, 4.0),
            (0.0, 1.25),
            numpy="np.where(a > 0, a, {alpha} * np.expm1(np.minimum(a, 0)))",
            params=(_ALPHA_ELU,),
            saturated=_sat_left_tail,
            zero_on_interval=_alpha_zero,
        ),
        Activation(
            "selu",
            "λ·elu_α(z), λ ≈ 1.0507, α ≈ 1.6733",
            selu,
            d_selu,
            (-4.0, 4.0),
            (0.0, 1.875),
            numpy=(
                f"{SELU_LAMBDA!r} * np.where(a > 0, a, {SELU_ALPHA!r} * np.expm1(np.minimum(a, 0)))"
            ),
            saturated=_sat_left_tail,
        ),
        Activation(
            "gelu",
            "z·Φ(z)",
            gelu,
            d_gelu,
            (-4.0, 4.0),
            (-0.25, 1.25),
            numpy="a * (1 + np.vectorize(math.erf)(a / math.sqrt(2))) / 2",
            saturated=_sat_left_tail,
        ),
        Activation(
            "silu",
            "z·σ(z)",
            silu,
            d_silu,
            (-4.0, 4.0),
            (-0.25, 1.25),
            numpy="a / (1 + np.exp(-a))",
            saturated=_sat_left_tail,
        ),
        Activation(
            "softplus",
            "log(1 + e^z)",
            softplus,
            d_softplus,
            (-4.0, 4.0),
            (0.0, 1.25),
            numpy="np.logaddexp(0, a)",
            saturated=_sat_left_tail,
        ),
        Activation(
            "maxout",
            "max(w₁ᵀx + b₁, …, w_kᵀx + b_k)",
            maxout,
            d_maxout,
            (-4.0, 4.0),
            (0.0, 1.25),
            numpy="a.reshape(len(a), -1, {k}).max(axis=-1)",
            params=(_K_MAXOUT,),
            pieces="k",
            curve=maxout_curve,
        ),
    )
}


def get(name: str) -> Activation:
    """The registry entry for ``name`` (ValueError naming the choices otherwise)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}"
        ) from None


def pieces(name: str, params: Params) -> int:
    """How many pre-activations each unit has (k for maxout, else 1)."""
    act = get(name)
    return 1 if act.pieces is None else int(params[act.pieces])


def curve(name: str, x: Array, params: Params | None = None) -> tuple[Array, Array]:
    """The activation and its derivative at 1-D points (the gallery's data)."""
    act = get(name)
    p = act.resolve(params)
    if act.curve is not None:
        return act.curve(x, p)
    return act.f(x, p), act.df(x, p)
