"""Optimizers: the registry, each as a setting of one update rule, with its reference.

Every optimizer here is one setting of a single update rule, which makes the
family resemblance explicit (Adam = momentum + RMSProp + bias correction) and
lets a race step K *different* optimizers with one set of array operations:
their coefficients are stacked into (K, 1) arrays. Per step t = 1, 2, …, with
gradient g (evaluated at the look-ahead point for Nesterov):

    m ← μ·m + c_m·g                         first moment / velocity
    v ← β·v + c_v·g²                        second moment / accumulator (element-wise)
    v̄ ← max(v̄, v)                           AMSGrad only
    step = lr_t · B1_t·(a_m·m + a_g·g) / (√(B2_t·v) + E)
    θ ← θ − step − lr_t·λ_d·θ               (λ_d: AdamW's decoupled decay)

with B1_t = 1/(1 − β1ᵗ), B2_t = 1/(1 − β2ᵗ) when bias correction is on (else 1),
E = ε for adaptive methods and 1 otherwise (their v stays 0), coupled weight
decay λ added to g first. AdaDelta and Newton have their own steps (``fused``).
Conventions (docs/numerics.md): ε outside the square root (as PyTorch; AdaDelta keeps
its defining ε inside), β1 is the first moment, accumulators are per
coordinate, Nesterov evaluates the gradient at θ − lr·μ·m.

Each optimizer is written twice, on purpose, and only twice: its *reference* (one
short function per optimizer below, the textbook form with its equations in the
docstring — what the page shows — and what the tests hold the rule to), and the
one fast implementation of the shared rule, ``fused.FusedRule``, which the race
steps K runs with and the training lab one run (K = 1, in the network's dtype).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .knobs import knob

Array = NDArray[np.floating]
Coef = Any  # a float, or a (K, 1) array for a race
_Distinct = tuple[NDArray[np.floating], NDArray[np.intp]]  # distinct values, each row's index


@dataclass(frozen=True)
class HyperParam:
    name: str
    default: float | bool
    low: float = 0.0
    high: float = 1.0
    log: bool = False  # a log-scale slider
    doc: str = ""

    @property
    def is_bool(self) -> bool:
        return isinstance(self.default, bool)

    @property
    def step(self) -> float | None:
        """A linear slider's increment: a thousand stops across the range."""
        return None if self.log or self.is_bool else (self.high - self.low) / 1000


@dataclass(frozen=True)
class Coefficients:
    """One optimizer's place in the shared rule (floats, or stacked (K, 1) arrays)."""

    lr: Coef = 0.01
    mu: Coef = 0.0  # decay of m
    c_m: Coef = 0.0  # weight of g in m
    beta: Coef = 0.0  # decay of v
    c_v: Coef = 0.0  # weight of g² in v
    a_m: Coef = 0.0  # numerator weight of m
    a_g: Coef = 1.0  # numerator weight of g
    E: Coef = 1.0  # added outside the root: ε (adaptive) or 1
    eps: Coef = 1e-8
    v0: Coef = 0.0  # initial accumulator
    bias1: Coef = 0.0  # 1.0 = bias-correct m (with β1 = mu)
    bias2: Coef = 0.0  # 1.0 = bias-correct v (with β2 = beta)
    nesterov: Coef = 0.0
    amsgrad: Coef = 0.0
    adadelta: Coef = 0.0
    newton: Coef = 0.0
    wd: Coef = 0.0  # coupled (L2) weight decay, added to g
    wd_decoupled: Coef = 0.0  # AdamW


@dataclass(frozen=True)
class OptimizerSpec:
    """A registry entry (its title and notes: ``optimizer.<name>.title`` / ``.notes.<i>``
    in ``static/i18n/<lang>.json``)."""

    name: str
    hyper: tuple[HyperParam, ...]
    coefficients: Any  # (hyper-parameter values) -> Coefficients
    reference: Reference  # the plain form: one step, the equations in its docstring
    needs_hessian: bool = False

    def __post_init__(self) -> None:
        if not self.equations:
            raise ValueError(f"{self.name}'s reference needs its equations in its docstring")

    @property
    def equations(self) -> tuple[str, ...]:
        """The lines the page shows: the reference's docstring after its first line."""
        lines = inspect.cleandoc(self.reference.__doc__ or "").splitlines()[1:]
        return tuple(line.strip() for line in lines if line.strip())

    def resolve(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        given = dict(given or {})
        known = {h.name for h in self.hyper}
        unknown = set(given) - known
        if unknown:
            raise ValueError(f"{self.name} has no hyper-parameter {sorted(unknown)[0]!r}")
        out: dict[str, Any] = {}
        for h in self.hyper:
            value = given.get(h.name, h.default)
            if h.is_bool:
                if not isinstance(value, bool):
                    raise ValueError(f"{self.name} {h.name} must be true or false")
                out[h.name] = value
                continue
            value = float(value)
            if not (math.isfinite(value) and h.low <= value <= h.high):
                raise ValueError(f"{self.name} {h.name} must be in [{h.low:g}, {h.high:g}]")
            out[h.name] = value
        return out


# --- hyper-parameters ------------------------------------------------------------


def _lr(default: float) -> HyperParam:
    # 1e-6: below it a float32 step of an O(1) weight rounds away (its ε is 1.2e-7);
    # 10: far past where every method here diverges on every surface
    return HyperParam("lr", default, 1e-6, 10.0, log=True, doc="learning rate")


_MOMENTUM = HyperParam("momentum", 0.9, 0.0, 0.9999, doc="velocity decay ρ")
_RHO = HyperParam("rho", 0.9, 0.0, 0.9999, doc="decay of the squared-gradient average")
_BETA1 = HyperParam("beta1", 0.9, 0.0, 0.9999, doc="decay of the first moment")
_BETA2 = HyperParam("beta2", 0.999, 0.0, 0.99999, doc="decay of the second moment")
_EPS = HyperParam("eps", 1e-8, 1e-12, 1.0, log=True, doc="added outside the square root")
_WD = HyperParam("weight_decay", 0.0, 0.0, 1.0, doc="L2 penalty λ added to the gradient")
_BC = HyperParam("bias_correction", True, doc="divide the moments by 1 − βᵗ")


def _gd(h: Mapping[str, Any]) -> Coefficients:
    return Coefficients(lr=h["lr"], wd=h["weight_decay"])


def _momentum(h: Mapping[str, Any]) -> Coefficients:
    return Coefficients(
        lr=h["lr"], mu=h["momentum"], c_m=1.0, a_m=1.0, a_g=0.0, wd=h["weight_decay"]
    )


def _nesterov(h: Mapping[str, Any]) -> Coefficients:
    return replace(_momentum(h), nesterov=1.0)


def _adagrad(h: Mapping[str, Any]) -> Coefficients:
    return Coefficients(
        lr=h["lr"],
        beta=1.0,
        c_v=1.0,
        E=h["eps"],
        eps=h["eps"],
        v0=h["initial_accumulator"],
        wd=h["weight_decay"],
    )


def _rmsprop(h: Mapping[str, Any]) -> Coefficients:
    return Coefficients(
        lr=h["lr"],
        beta=h["rho"],
        c_v=1.0 - h["rho"],
        E=h["eps"],
        eps=h["eps"],
        wd=h["weight_decay"],
    )


def _adadelta(h: Mapping[str, Any]) -> Coefficients:
    return Coefficients(
        lr=h["lr"],
        beta=h["rho"],
        c_v=1.0 - h["rho"],
        eps=h["eps"],
        adadelta=1.0,
        wd=h["weight_decay"],
    )


def _adam(h: Mapping[str, Any]) -> Coefficients:
    bc = 1.0 if h["bias_correction"] else 0.0
    return Coefficients(
        lr=h["lr"],
        mu=h["beta1"],
        c_m=1.0 - h["beta1"],
        beta=h["beta2"],
        c_v=1.0 - h["beta2"],
        a_m=1.0,
        a_g=0.0,
        E=h["eps"],
        eps=h["eps"],
        bias1=bc,
        bias2=bc,
        wd=h.get("weight_decay", 0.0),
    )


def _adamw(h: Mapping[str, Any]) -> Coefficients:
    return replace(_adam({**h, "weight_decay": 0.0}), wd_decoupled=h["weight_decay"])


def _nadam(h: Mapping[str, Any]) -> Coefficients:
    # step = lr·(β1·m̂ + (1 − β1)·g/(1 − β1ᵗ))/(√v̂ + ε) = lr·B1·(β1·m + (1 − β1)·g)/(…)
    return replace(_adam(h), a_m=h["beta1"], a_g=1.0 - h["beta1"])


def _amsgrad(h: Mapping[str, Any]) -> Coefficients:
    return replace(_adam(h), amsgrad=1.0)


def _newton(h: Mapping[str, Any]) -> Coefficients:
    return Coefficients(lr=h["lr"], newton=1.0)


# --- the references: each optimizer as it is written in its paper ------------------
#
# One step each, on plain arrays (the tests run them on 1-D θ): θ the point, ``f`` the
# problem (its gradient, and its Hessian for Newton), lr the step's learning rate (the
# schedule applied), t = 1, 2, … the step, h the hyper-parameters (every one given,
# ``OptimizerSpec.resolve``) and s the optimizer's state, a dict it fills as it goes.
# The docstring's lines after the first are the equations the page shows. g is ∇f(θ)
# plus the coupled weight decay λ·θ where an optimizer has one.


@dataclass(frozen=True)
class Problem:
    """What a reference step may ask of the function it minimizes."""

    gradient: Callable[[Array], Array]
    hessian: Callable[[Array], Array] | None = None


State = dict[str, Any]
Reference = Callable[[Array, Problem, float, int, Mapping[str, Any], State], Array]


def _grad(theta: Array, f: Problem, h: Mapping[str, Any]) -> Array:
    """g = ∇f(θ) + λ·θ (coupled L2 weight decay, 0 where the optimizer has none)."""
    return np.asarray(f.gradient(theta) + h.get("weight_decay", 0.0) * theta)


def ref_gd(theta: Array, f: Problem, lr: float, t: int, h: Mapping[str, Any], s: State) -> Array:
    """Gradient descent.

    θ ← θ − lr·g
    """
    return theta - lr * _grad(theta, f, h)


def ref_momentum(
    theta: Array, f: Problem, lr: float, t: int, h: Mapping[str, Any], s: State
) -> Array:
    """Heavy-ball momentum (as PyTorch's SGD).

    v ← ρ·v + g
    θ ← θ − lr·v
    """
    s["v"] = h["momentum"] * s.get("v", 0.0) + _grad(theta, f, h)
    return np.asarray(theta - lr * s["v"])


def ref_nesterov(
    theta: Array, f: Problem, lr: float, t: int, h: Mapping[str, Any], s: State
) -> Array:
    """Nesterov momentum: the gradient at the look-ahead point.

    g ← ∇f(θ − lr·ρ·v)
    v ← ρ·v + g
    θ ← θ − lr·v
    """
    v = s.get("v", 0.0)
    g = f.gradient(theta - lr * h["momentum"] * v) + h["weight_decay"] * theta
    s["v"] = h["momentum"] * v + g
    return np.asarray(theta - lr * s["v"])


def ref_adagrad(
    theta: Array, f: Problem, lr: float, t: int, h: Mapping[str, Any], s: State
) -> Array:
    """AdaGrad (Duchi et al. 2011).

    G ← G + g²
    θ ← θ − lr·g / (√G + ε)
    """
    g = _grad(theta, f, h)
    s["G"] = s.get("G", h["initial_accumulator"]) + g * g
    return np.asarray(theta - lr * g / (np.sqrt(s["G"]) + h["eps"]))


def ref_rmsprop(
    theta: Array, f: Problem, lr: float, t: int, h: Mapping[str, Any], s: State
) -> Array:
    """RMSProp (Hinton's lecture 6e).

    E ← ρ·E + (1 − ρ)·g²
    θ ← θ − lr·g / (√E + ε)
    """
    g = _grad(theta, f, h)
    s["E"] = h["rho"] * s.get("E", 0.0) + (1 - h["rho"]) * g * g
    return np.asarray(theta - lr * g / (np.sqrt(s["E"]) + h["eps"]))


def ref_adadelta(
    theta: Array, f: Problem, lr: float, t: int, h: Mapping[str, Any], s: State
) -> Array:
    """AdaDelta (Zeiler 2012), ε inside both roots as defined.

    E[g²] ← ρ·E[g²] + (1 − ρ)·g²
    Δ = √(E[Δ²] + ε) / √(E[g²] + ε) · g
    E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²
    θ ← θ − lr·Δ
    """
    g, rho, eps = _grad(theta, f, h), h["rho"], h["eps"]
    s["g2"] = rho * s.get("g2", 0.0) + (1 - rho) * g * g
    delta = np.sqrt(s.get("d2", 0.0) + eps) / np.sqrt(s["g2"] + eps) * g
    s["d2"] = rho * s.get("d2", 0.0) + (1 - rho) * delta * delta
    return np.asarray(theta - lr * delta)


def _adam_moments(g: Array, t: int, h: Mapping[str, Any], s: State) -> tuple[Array, Array]:
    """Adam's m and v updated in s, and the bias corrections (1 − β1ᵗ, 1 − β2ᵗ) or (1, 1)."""
    b1, b2 = h["beta1"], h["beta2"]
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    on = h["bias_correction"]
    return np.asarray((1 - b1**t) if on else 1.0), np.asarray((1 - b2**t) if on else 1.0)


def ref_adam(theta: Array, f: Problem, lr: float, t: int, h: Mapping[str, Any], s: State) -> Array:
    """Adam (Kingma & Ba 2015), ε outside the root.

    m ← β1·m + (1 − β1)·g
    v ← β2·v + (1 − β2)·g²
    m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ)
    θ ← θ − lr·m̂ / (√v̂ + ε)
    """
    c1, c2 = _adam_moments(_grad(theta, f, h), t, h, s)
    return np.asarray(theta - lr * (s["m"] / c1) / (np.sqrt(s["v"] / c2) + h["eps"]))


def ref_adamw(theta: Array, f: Problem, lr: float, t: int, h: Mapping[str, Any], s: State) -> Array:
    """AdamW (Loshchilov & Hutter 2019): weight decay apart from the gradient.

    θ ← θ − lr·λ·θ  (decoupled)
    then the Adam step
    """
    c1, c2 = _adam_moments(f.gradient(theta), t, h, s)
    decayed = theta - lr * h["weight_decay"] * theta
    return np.asarray(decayed - lr * (s["m"] / c1) / (np.sqrt(s["v"] / c2) + h["eps"]))


def ref_nadam(theta: Array, f: Problem, lr: float, t: int, h: Mapping[str, Any], s: State) -> Array:
    """NAdam (Dozat 2016): Adam with Nesterov's look-ahead in the first moment.

    m, v as Adam
    θ ← θ − lr·(β1·m̂ + (1 − β1)·g/(1 − β1ᵗ)) / (√v̂ + ε)
    """
    g = _grad(theta, f, h)
    c1, c2 = _adam_moments(g, t, h, s)
    b1 = h["beta1"]
    return np.asarray(
        theta - lr * (b1 * s["m"] / c1 + (1 - b1) * g / c1) / (np.sqrt(s["v"] / c2) + h["eps"])
    )


def ref_amsgrad(
    theta: Array, f: Problem, lr: float, t: int, h: Mapping[str, Any], s: State
) -> Array:
    """AMSGrad (Reddi et al. 2018): Adam with the largest v so far.

    m, v as Adam
    v̄ ← max(v̄, v)
    θ ← θ − lr·m̂ / (√(v̄/(1 − β2ᵗ)) + ε)
    """
    c1, c2 = _adam_moments(_grad(theta, f, h), t, h, s)
    s["vmax"] = np.maximum(s.get("vmax", 0.0), s["v"])
    return np.asarray(theta - lr * (s["m"] / c1) / (np.sqrt(s["vmax"] / c2) + h["eps"]))


def ref_newton(
    theta: Array, f: Problem, lr: float, t: int, h: Mapping[str, Any], s: State
) -> Array:
    """Newton's method (the pseudo-inverse where H is singular).

    θ ← θ − lr·H⁻¹·g
    """
    if f.hessian is None:
        raise ValueError("Newton's method needs the Hessian")
    out: Array = theta - lr * np.linalg.pinv(f.hessian(theta)) @ f.gradient(theta)
    return out


OPTIMIZERS: dict[str, OptimizerSpec] = {
    s.name: s
    for s in (
        OptimizerSpec("gd", (_lr(0.01), _WD), _gd, ref_gd),
        OptimizerSpec("momentum", (_lr(0.01), _MOMENTUM, _WD), _momentum, ref_momentum),
        OptimizerSpec("nesterov", (_lr(0.01), _MOMENTUM, _WD), _nesterov, ref_nesterov),
        OptimizerSpec(
            "adagrad",
            (
                _lr(0.5),
                replace(_EPS, default=1e-10),
                HyperParam("initial_accumulator", 0.0, 0.0, 10.0, doc="G at t = 0"),
                _WD,
            ),
            _adagrad,
            ref_adagrad,
        ),
        OptimizerSpec("rmsprop", (_lr(0.01), _RHO, _EPS, _WD), _rmsprop, ref_rmsprop),
        OptimizerSpec(
            "adadelta",
            (_lr(1.0), _RHO, replace(_EPS, default=1e-6), _WD),
            _adadelta,
            ref_adadelta,
        ),
        OptimizerSpec("adam", (_lr(0.01), _BETA1, _BETA2, _EPS, _BC, _WD), _adam, ref_adam),
        OptimizerSpec(
            "adamw",
            (
                _lr(0.01),
                _BETA1,
                _BETA2,
                _EPS,
                _BC,
                replace(_WD, default=0.01, doc="decoupled weight decay λ"),
            ),
            _adamw,
            ref_adamw,
        ),
        OptimizerSpec("nadam", (_lr(0.01), _BETA1, _BETA2, _EPS, _BC, _WD), _nadam, ref_nadam),
        OptimizerSpec(
            "amsgrad", (_lr(0.01), _BETA1, _BETA2, _EPS, _BC, _WD), _amsgrad, ref_amsgrad
        ),
        OptimizerSpec("newton", (_lr(1.0),), _newton, ref_newton, needs_hessian=True),
    )
}

# The race on one network (the training lab's race card) starts with these three, each at
# its own default learning rate: plain descent, its momentum, and an adaptive method — the
# lectures' three families, whose paths part visibly on the common plane.
RACE_CARD: tuple[str, ...] = ("gd", "momentum", "adam")


def hyper_ranges() -> dict[str, tuple[float, float]]:
    """{name: (low, high)} of every numeric hyper-parameter: one range per name, whichever
    optimizer has it (the protocol's OptimizerChoice takes its bounds from here)."""
    out: dict[str, tuple[float, float]] = {}
    for spec in OPTIMIZERS.values():
        for h in spec.hyper:
            if h.is_bool:
                continue
            if out.setdefault(h.name, (h.low, h.high)) != (h.low, h.high):
                raise ValueError(f"{spec.name} gives {h.name} another range than the others")
    return out


def get_spec(name: str) -> OptimizerSpec:
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose from {sorted(OPTIMIZERS)}") from None


def reference(
    name: str,
    hyper: Mapping[str, Any] | None,
    f: Problem,
    theta0: Sequence[float] | Array,
    steps: int,
    schedule: Schedule | None = None,
) -> Array:
    """The iterates θ₀ … θ_steps of optimizer ``name`` by its reference (the tests' oracle)."""
    spec = get_spec(name)
    h = spec.resolve(hyper)
    lr = h["lr"] * (schedule or Schedule()).factor(np.arange(steps))
    theta: Array = np.array(theta0, dtype=np.float64)
    state: State = {}
    out = [theta]
    for t in range(1, steps + 1):
        theta = spec.reference(theta, f, float(lr[t - 1]), t, h, state)
        out.append(theta)
    return np.array(out)


# --- an optimizer's place in the rule --------------------------------------------------


@dataclass(frozen=True)
class Optimizer:
    """An optimizer bound to its coefficients in the shared rule (floats, or stacked
    (K, 1) arrays); ``fused.FusedRule(opt.c, (K, d), dtype)`` steps it."""

    name: str
    c: Coefficients

    def bias_corrections(self, t: NDArray[np.int64] | int) -> tuple[Coef, Coef]:
        """(B1, B2) for steps t (1-based): 1/(1 − βᵗ) where bias correction is on, else 1.

        With stacked coefficients the results are (n, K, 1) tables, so a race can
        look them up instead of computing powers every step; for one step (an int)
        of one optimizer, Python floats (the training lab's every step).
        """
        if isinstance(t, int) and not np.ndim(self.c.mu):
            c = self.c
            first = 1.0 / (1.0 - float(c.mu) ** t) if c.bias1 else 1.0
            return first, 1.0 / (1.0 - float(c.beta) ** t) if c.bias2 else 1.0
        if np.ndim(self.c.mu):
            steps = np.asarray(t)[:, None]
            b1, b2 = (1.0 if d is None else _bias_table(*d, steps) for d in self._distinct_betas)
            return b1, b2
        t = np.asarray(t)
        return _bias(self.c.mu, self.c.bias1, t), _bias(self.c.beta, self.c.bias2, t)

    def bias_corrections_per_run(self, t: NDArray[np.int64]) -> tuple[Coef, Coef]:
        """``bias_corrections`` for a stack whose runs are at different steps: ``t`` is
        (n, K), run k's steps in column k (several races stepped as one,
        ``race.advance_together``). The same numbers as each run's own table."""
        K = t.shape[1]

        def table(beta: Coef, on: Coef) -> Coef:
            if not np.any(on):
                return 1.0
            every = np.where(np.asarray(on) > 0, beta, np.nan)[:, 0]  # (as _distinct_betas)
            return _bias_table(every, np.arange(K), t)

        c = self.c
        return table(c.mu, c.bias1), table(c.beta, c.bias2)

    @cached_property
    def _distinct_betas(self) -> tuple[_Distinct | None, _Distinct | None]:
        """A stack's β1 and β2 as (distinct values, each run's index), NaN where bias
        correction is off (None if it is off for every run): a grid of K Adam runs
        then takes one power per step, not K."""

        def split(beta: Coef, on: Coef) -> _Distinct | None:
            if not np.any(on):
                return None
            keys = np.where(np.asarray(on) > 0, beta, np.nan)[:, 0]
            distinct, inverse = np.unique(keys, return_inverse=True)
            return distinct, inverse.reshape(-1)

        return split(self.c.mu, self.c.bias1), split(self.c.beta, self.c.bias2)


def _bias(beta: Coef, on: Coef, t: Any) -> Coef:
    """1/(1 − βᵗ) where bias correction is on, else 1."""
    if not np.any(on):
        return 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = 1.0 / (1.0 - np.power(beta, t))
    return np.where(np.asarray(on) > 0, corr, 1.0)


def _bias_table(distinct: Array, inverse: NDArray[np.intp], steps: NDArray[Any]) -> Array:
    """(n, K, 1) table of 1/(1 − βᵗ) for steps (n, 1), from a stack's distinct β (or for
    steps (n, K), from every run's β)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = 1.0 / (1.0 - np.power(distinct, steps))  # (n, distinct)
    corr = np.where(np.isnan(distinct), 1.0, corr)
    out: Array = corr[:, inverse][:, :, None]
    return out


def make(name: str, hyper: Mapping[str, Any] | None = None) -> Optimizer:
    """The optimizer ``name`` with these hyper-parameters (defaults for the rest)."""
    spec = get_spec(name)
    return Optimizer(name, spec.coefficients(spec.resolve(hyper)))


def stack(optimizers: Sequence[Optimizer]) -> Optimizer:
    """K optimizers as one whose coefficients are (K, 1) arrays: a race in one update."""
    distinct: dict[int, int] = {}  # the same Optimizer object repeated: one row each
    for o in optimizers:
        distinct.setdefault(id(o), len(distinct))
    rows = np.array([distinct[id(o)] for o in optimizers])
    unique = list({id(o): o for o in optimizers}.values())
    columns = {
        f.name: np.array([[float(getattr(o.c, f.name))] for o in unique])[rows]
        for f in fields(Coefficients)
    }
    return Optimizer("+".join(o.name for o in optimizers), Coefficients(**columns))


# --- gradient transformations and schedules ------------------------------------------


def clip(grads: Array, clip_norm: Coef = math.inf, clip_value: Coef = math.inf) -> Array:
    """Clip by value (each coordinate to ±clip_value), then by norm (over the last axis).

    The one clipping of the project (the race's K runs, the training lab's parameter
    vector). Keeps the gradient's dtype: float32 stays float32. A bound of ∞ (or
    None) is no clipping; ``grads`` itself is returned when nothing is clipped.
    """
    g = grads
    dtype = grads.dtype
    if clip_value is not None and np.any(np.isfinite(clip_value)):
        bound = np.asarray(clip_value, dtype=dtype)
        g = np.clip(g, -bound, bound)
    if clip_norm is not None and np.any(np.isfinite(clip_norm)):
        norm = np.linalg.norm(g, axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.minimum(1.0, np.asarray(clip_norm, dtype=dtype) / norm)
        g = g * np.where(norm > 0, factor, dtype.type(1.0))
    return g


def _constant(s: Schedule, t: Array) -> Array:
    return np.ones_like(t)


def _inv_sqrt(s: Schedule, t: Array) -> Array:
    out: Array = 1.0 / np.sqrt(t + 1.0)
    return out


def _step(s: Schedule, t: Array) -> Array:
    return np.power(s.gamma, np.floor(t / s.step_size))


def _exponential(s: Schedule, t: Array) -> Array:
    return np.power(s.gamma, t)


def _cosine(s: Schedule, t: Array) -> Array:
    return 0.5 * (1.0 + np.cos(np.pi * np.minimum(t, s.period) / s.period))


# The schedules: name → s(t) for step t = 0, 1, … (lr_t = lr · s(t)), reading its
# parameters from the ``Schedule`` (a new parameter is a knob field of it).
SCHEDULES: dict[str, Callable[[Schedule, Array], Array]] = {
    "constant": _constant,
    "inv_sqrt": _inv_sqrt,
    "step": _step,
    "exponential": _exponential,
    "cosine": _cosine,
}


@dataclass(frozen=True)
class Schedule:
    """lr_t = lr · s(t) for step t = 0, 1, …"""

    name: str = "constant"
    step_size: int = knob(
        100, "step: halve every 100 steps, visible within a race", ge=1, le=1_000_000, integer=True
    )
    gamma: float = knob(
        0.5, "step / exponential: the factor (a halving is easy to read off)", gt=0, le=1, step=0.01
    )
    period: int = knob(
        1000, "cosine: decays to 0 over about a race's length", ge=1, le=1_000_000, integer=True
    )

    def factor(self, steps: NDArray[Any]) -> Array:
        t: Array = np.asarray(steps, dtype=np.float64)
        try:
            s = SCHEDULES[self.name]
        except KeyError:
            raise ValueError(
                f"unknown schedule {self.name!r}; choose from {tuple(SCHEDULES)}"
            ) from None
        return s(self, t)
