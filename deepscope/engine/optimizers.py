"""Optimizers as pure (init, update) pairs over arrays of any shape.

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
decay λ added to g first. AdaDelta and Newton have their own steps (below).
Conventions (docs/numerics.md): ε outside the square root (as PyTorch; AdaDelta keeps
its defining ε inside), β1 is the first moment, accumulators are per
coordinate, Nesterov evaluates the gradient at θ − lr·μ·m.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .knobs import knob
from .linalg import pinv_small

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
    equations: tuple[str, ...]
    hyper: tuple[HyperParam, ...]
    coefficients: Any  # (hyper-parameter values) -> Coefficients
    needs_hessian: bool = False

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


OPTIMIZERS: dict[str, OptimizerSpec] = {
    s.name: s
    for s in (
        OptimizerSpec(
            "gd",
            ("θ ← θ − lr·g",),
            (_lr(0.01), _WD),
            _gd,
        ),
        OptimizerSpec(
            "momentum",
            ("v ← ρ·v + g", "θ ← θ − lr·v"),
            (_lr(0.01), _MOMENTUM, _WD),
            _momentum,
        ),
        OptimizerSpec(
            "nesterov",
            ("g ← ∇f(θ − lr·ρ·v)", "v ← ρ·v + g", "θ ← θ − lr·v"),
            (_lr(0.01), _MOMENTUM, _WD),
            _nesterov,
        ),
        OptimizerSpec(
            "adagrad",
            ("G ← G + g²", "θ ← θ − lr·g / (√G + ε)"),
            (
                _lr(0.5),
                replace(_EPS, default=1e-10),
                HyperParam("initial_accumulator", 0.0, 0.0, 10.0, doc="G at t = 0"),
                _WD,
            ),
            _adagrad,
        ),
        OptimizerSpec(
            "rmsprop",
            ("E ← ρ·E + (1 − ρ)·g²", "θ ← θ − lr·g / (√E + ε)"),
            (_lr(0.01), _RHO, _EPS, _WD),
            _rmsprop,
        ),
        OptimizerSpec(
            "adadelta",
            (
                "E[g²] ← ρ·E[g²] + (1 − ρ)·g²",
                "Δ = √(E[Δ²] + ε) / √(E[g²] + ε) · g",
                "E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²",
                "θ ← θ − lr·Δ",
            ),
            (_lr(1.0), _RHO, replace(_EPS, default=1e-6), _WD),
            _adadelta,
        ),
        OptimizerSpec(
            "adam",
            (
                "m ← β1·m + (1 − β1)·g",
                "v ← β2·v + (1 − β2)·g²",
                "m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ)",
                "θ ← θ − lr·m̂ / (√v̂ + ε)",
            ),
            (_lr(0.01), _BETA1, _BETA2, _EPS, _BC, _WD),
            _adam,
        ),
        OptimizerSpec(
            "adamw",
            ("θ ← θ − lr·λ·θ  (decoupled)", "then the Adam step"),
            (
                _lr(0.01),
                _BETA1,
                _BETA2,
                _EPS,
                _BC,
                replace(_WD, default=0.01, doc="decoupled weight decay λ"),
            ),
            _adamw,
        ),
        OptimizerSpec(
            "nadam",
            ("m, v as Adam", "θ ← θ − lr·(β1·m̂ + (1 − β1)·g/(1 − β1ᵗ)) / (√v̂ + ε)"),
            (_lr(0.01), _BETA1, _BETA2, _EPS, _BC, _WD),
            _nadam,
        ),
        OptimizerSpec(
            "amsgrad",
            ("m, v as Adam", "v̄ ← max(v̄, v)", "θ ← θ − lr·m̂ / (√(v̄/(1 − β2ᵗ)) + ε)"),
            (_lr(0.01), _BETA1, _BETA2, _EPS, _BC, _WD),
            _amsgrad,
        ),
        OptimizerSpec(
            "newton",
            ("θ ← θ − lr·H⁻¹·g",),
            (_lr(1.0),),
            _newton,
            needs_hessian=True,
        ),
    )
}


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


# --- state and the update ----------------------------------------------------------


@dataclass
class State:
    m: Array
    v: Array
    vmax: Array
    u: Array  # AdaDelta's E[Δ²]
    t: int = 0
    scratch: Array | None = field(default=None, repr=False)  # update_inplace's buffer


@dataclass(frozen=True)
class Optimizer:
    """An (init, update) pair bound to its coefficients (floats or stacked (K, 1) arrays)."""

    name: str
    c: Coefficients

    @cached_property
    def _uses(self) -> dict[str, bool]:
        """Which optional parts of the rule any run uses (checked once, not every step)."""
        names = ("wd", "amsgrad", "adadelta", "newton", "wd_decoupled", "nesterov")
        return {n: bool(np.any(getattr(self.c, n))) for n in names}

    def init(self, params: Array) -> State:
        zeros = np.zeros_like(params)
        v = zeros + np.asarray(self.c.v0, dtype=params.dtype)
        return State(m=zeros.copy(), v=v, vmax=v.copy(), u=zeros.copy(), t=0)

    def eval_point(self, params: Array, state: State, lr_t: Coef) -> Array:
        """Where to take the gradient: θ − lr·μ·m for Nesterov runs, θ otherwise."""
        if not self._uses["nesterov"]:
            return params
        out: Array = params - (lr_t * self.c.mu * self.c.nesterov) * state.m
        return out

    def bias_corrections(self, t: NDArray[np.int64]) -> tuple[Coef, Coef]:
        """(B1, B2) for steps t (1-based): 1/(1 − βᵗ) where bias correction is on, else 1.

        With stacked coefficients the results are (n, K, 1) tables, so a race can
        look them up instead of computing powers every step.
        """
        if np.ndim(self.c.mu):
            steps = np.asarray(t)[:, None]
            b1, b2 = (1.0 if d is None else _bias_table(*d, steps) for d in self._distinct_betas)
            return b1, b2
        t = np.asarray(t)
        return _bias(self.c.mu, self.c.bias1, t), _bias(self.c.beta, self.c.bias2, t)

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

    def update(
        self,
        grads: Array,
        state: State,
        params: Array,
        lr_t: Coef,
        hessian: Array | None = None,
        bias: tuple[Coef, Coef] | None = None,
    ) -> tuple[Array, State, Array]:
        """Returns (step, new state, effective lr per coordinate); apply θ ← θ − step.

        ``bias`` gives precomputed (B1, B2) for this step (see ``bias_corrections``).
        """
        c, uses = self.c, self._uses
        t = state.t + 1
        g = grads + c.wd * params if uses["wd"] else grads
        m = c.mu * state.m + c.c_m * g
        v = c.beta * state.v + c.c_v * (g * g)
        vmax, v_use = state.vmax, v
        if uses["amsgrad"]:
            vmax = np.maximum(state.vmax, v)
            v_use = np.where(c.amsgrad > 0, vmax, v)
        b1, b2 = bias if bias is not None else (_bias(c.mu, c.bias1, t), _bias(c.beta, c.bias2, t))
        scale = lr_t * b1 / (np.sqrt(v_use * b2) + c.E)  # the effective learning rate
        step = scale * (c.a_m * m + c.a_g * g)
        u = state.u
        if uses["adadelta"]:
            root_u, root_v = np.sqrt(state.u + c.eps), np.sqrt(v + c.eps)
            delta = root_u / root_v  # Δ = delta·g
            u_new = c.beta * state.u + c.c_v * (delta * g) ** 2
            u = np.where(c.adadelta > 0, u_new, state.u)
            lr_delta = lr_t * root_u / root_v
            step = np.where(c.adadelta > 0, lr_delta * g, step)
            scale = np.where(c.adadelta > 0, lr_delta, scale)
        if uses["newton"]:
            if hessian is None:
                raise ValueError("Newton's method needs the Hessian")
            inverse = pinv_small(hessian)  # (…, d, d)
            newton_step = lr_t * (inverse @ grads[..., None])[..., 0]
            step = np.where(c.newton > 0, newton_step, step)
            diag = np.diagonal(inverse, axis1=-2, axis2=-1)
            scale = np.where(c.newton > 0, lr_t * diag, scale)
        if uses["wd_decoupled"]:
            step = step + lr_t * c.wd_decoupled * params
        return step, State(m=m, v=v, vmax=vmax, u=u, t=t), scale

    def update_inplace(self, grads: Array, state: State, params: Array, lr_t: float) -> Array:
        """The same rule for one optimizer (float coefficients), updating ``state`` in place.

        A network's parameter vector can hold millions of entries: here every
        pass writes into a buffer of the state instead of allocating, and terms
        whose coefficient is 0 are skipped. Returns the step (θ ← θ − step).
        Newton and AdaDelta take the general ``update``.
        """
        c, uses = self.c, self._uses
        if uses["newton"] or uses["adadelta"] or np.ndim(c.mu):
            step, new, _ = self.update(grads, state, params, lr_t)
            state.m, state.v, state.vmax, state.u, state.t = new.m, new.v, new.vmax, new.u, new.t
            return step
        state.t += 1
        t = state.t
        tmp = state.scratch
        if tmp is None or tmp.shape != params.shape or tmp.dtype != params.dtype:
            tmp = state.scratch = np.empty_like(params)
        dt = params.dtype.type
        g = grads
        if uses["wd"]:
            g = grads + dt(c.wd) * params
        if c.mu or c.c_m:  # m ← μ·m + c_m·g
            state.m *= dt(c.mu)
            np.multiply(g, dt(c.c_m), out=tmp)
            state.m += tmp
        adaptive = bool(c.c_v) or bool(c.v0)
        den = None
        if adaptive:  # v ← β·v + c_v·g², den = √(B2·v̄) + E
            if c.c_v:
                np.multiply(g, g, out=tmp)
                tmp *= dt(c.c_v)
                state.v *= dt(c.beta)
                state.v += tmp
            v_use = state.v
            if uses["amsgrad"]:
                np.maximum(state.vmax, state.v, out=state.vmax)
                v_use = state.vmax
            b2 = float(_bias(c.beta, c.bias2, t))
            den = np.multiply(v_use, dt(b2))
            np.sqrt(den, out=den)
            den += dt(c.E)
        b1 = float(_bias(c.mu, c.bias1, t))
        if not c.a_g:
            step = np.multiply(state.m, dt(c.a_m))
        elif not c.a_m:
            step = np.multiply(g, dt(c.a_g))
        else:
            step = np.multiply(state.m, dt(c.a_m))
            np.multiply(g, dt(c.a_g), out=tmp)
            step += tmp
        if den is not None:
            step /= den
            step *= dt(lr_t * b1)
        else:  # not adaptive: the denominator is E = 1
            step *= dt(lr_t * b1 / float(c.E))
        if uses["wd_decoupled"]:
            np.multiply(params, dt(lr_t * c.wd_decoupled), out=tmp)
            step += tmp
        return step


def _bias(beta: Coef, on: Coef, t: Any) -> Coef:
    """1/(1 − βᵗ) where bias correction is on, else 1."""
    if not np.any(on):
        return 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = 1.0 / (1.0 - np.power(beta, t))
    return np.where(np.asarray(on) > 0, corr, 1.0)


def _bias_table(distinct: Array, inverse: NDArray[np.intp], steps: NDArray[Any]) -> Array:
    """(n, K, 1) table of 1/(1 − βᵗ) for steps (n, 1), from a stack's distinct β."""
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
    """Clip by value (each coordinate to ±clip_value), then by norm (over the last axis)."""
    g = grads
    if np.any(np.isfinite(clip_value)):
        g = np.clip(g, -clip_value, clip_value)
    if np.any(np.isfinite(clip_norm)):
        norm = np.linalg.norm(g, axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.minimum(1.0, clip_norm / norm)
        g = g * np.where(norm > 0, factor, 1.0)
    return g


SCHEDULES = ("constant", "inv_sqrt", "step", "exponential", "cosine")


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
        if self.name == "constant":
            return np.ones_like(t)
        if self.name == "inv_sqrt":
            out: Array = 1.0 / np.sqrt(t + 1.0)
            return out
        if self.name == "step":
            return np.power(self.gamma, np.floor(t / self.step_size))
        if self.name == "exponential":
            return np.power(self.gamma, t)
        if self.name == "cosine":
            return 0.5 * (1.0 + np.cos(np.pi * np.minimum(t, self.period) / self.period))
        raise ValueError(f"unknown schedule {self.name!r}; choose from {SCHEDULES}")
