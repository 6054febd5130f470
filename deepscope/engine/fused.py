"""The shared optimizer rule, the one fast implementation of every optimizer.

The rule is written down in ``optimizers``' docstring (and docs/numerics.md); each
optimizer's plain textbook form is its reference function there, which the tests
hold this rule to. ``FusedRule`` steps K runs on d coordinates at once with
in-place calls on preallocated buffers, in one dtype, skipping every term no run
uses, with AdaDelta and Newton folded in with as few calls as they allow:

- the race (``race.Race``) steps K different optimizers on a surface (float64,
  d = 1 or 2), where each NumPy call costs far more than its arithmetic;
- the training lab (``training.Trainer``) steps one run, K = 1, over the network's
  whole parameter vector (d up to millions), in the network's dtype: a float32
  network keeps float32 state, buffers and coefficients, so nothing is upcast.

Stacking changes nothing: each run of a race gets, to the last bit, the numbers it
gets alone (``tests/engine/test_fused.py``).

AdaDelta is folded into the shared rule with s = √(u + ε_u):

    den   = √(B2·v̄ + ε_in) + E
    scale = lr·B1·s / den                  (the effective learning rate)
    step  = scale·(a_m·m + a_g·g)
    u     ← β_u·u + c_u·(s/den · (a_m·m + a_g·g))²

AdaDelta runs have ε_in = ε_u = ε, E = 0, β_u = ρ, c_u = 1 − ρ, which is its
Δ = √(E[Δ²] + ε)/√(E[g²] + ε)·g; the others have ε_in = 0, ε_u = 1 and
β_u = c_u = 0, so u stays 0 and s = 1: (lr·B1·1)/den is their own lr·B1/den
to the last bit. Newton's H⁻¹·g is solved in closed form for 1-D and 2-D
surfaces, from the Hessian's entries as the surface program returns them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from .linalg import pinv_small, symmetric
from .optimizers import Coefficients

Array = NDArray[np.floating]

# A race's coefficients are stored as whole (K, d) blocks, not (K, 1) columns, while d is
# at most this: NumPy iterates a column broadcast over a short row as K inner loops of d
# elements (2.4 µs per call for K = 200, d = 2, against 0.65 µs for two whole blocks), and
# a step is some thirty such calls. The training lab's vector (K = 1, d up to millions)
# keeps its (1, 1) coefficients: one inner loop over d, and no copies of d floats.
BLOCK_WIDTH = 64


class FusedRule:
    """The stacked rule for K runs on d coordinates, with its state (m, v, v̄, u).

    ``c`` holds floats (one optimizer, for every run) or (K, 1) columns
    (``optimizers.stack``); state, buffers and coefficients are of ``dtype``. The
    coefficients are kept as (K, d) blocks when K > 1 and d ≤ ``BLOCK_WIDTH`` (each
    row its run's value repeated: the same numbers, fewer cycles), else as (K, 1).
    """

    def __init__(
        self, c: Coefficients, shape: tuple[int, int], dtype: npt.DTypeLike = np.float64
    ) -> None:
        K, d = shape
        self.shape = shape
        self.dtype = dt = np.dtype(dtype)
        width = d if K > 1 and d <= BLOCK_WIDTH else 1

        def col(name: str) -> Array:
            value = np.asarray(getattr(c, name), dtype=np.float64)  # (a float → every run)
            return np.broadcast_to(value, (K, width)).astype(dt)

        self.mu, self.c_m = col("mu"), col("c_m")
        self.beta, self.c_v = col("beta"), col("c_v")
        self.a_m, self.a_g = col("a_m"), col("a_g")
        # The runs whose numerator is a_g·g alone, no m (GD, AdaGrad, RMSProp, AdaDelta,
        # Newton, a stopped run), and that a_g (``decide`` may fold it into m).
        self._plain = (self.a_m == 0) & (self.c_m == 0) & (self.mu == 0)
        self._a_g_plain = np.where(self._plain, self.a_g, 0.0).astype(dt)
        self.wd, self.wd_decoupled = col("wd"), col("wd_decoupled")
        self.adadelta = col("adadelta") > 0
        eps = col("eps")
        self.E_given = col("E")
        self.E = np.where(self.adadelta, 0.0, self.E_given)
        self.eps_in = np.where(self.adadelta, eps, 0.0)
        self.eps_u = np.where(self.adadelta, eps, 1.0)
        self.beta_u = np.where(self.adadelta, self.beta, 0.0)
        self.c_u = np.where(self.adadelta, self.c_v, 0.0)
        self.amsgrad = col("amsgrad") > 0
        self.newton = col("newton") > 0
        self.uses_bias2 = bool(np.any(col("bias2")))

        # State and buffers only for the parts of the rule some run uses (the training
        # lab's vector may hold millions of entries); an unused state reads as zeros.
        v0 = col("v0")
        nothing = np.broadcast_to(np.zeros((), dtype=dt), shape)  # read-only, no memory

        def state(on: bool, start: Array | float = 0.0) -> Array:
            return np.zeros(shape, dtype=dt) + start if on else nothing

        def buffer(on: bool) -> Array:
            return np.empty(shape, dtype=dt) if on else nothing

        adaptive = bool(np.any(self.c_v) or np.any(v0) or np.any(self.E_given != 1.0))
        self.m = state(bool(np.any(self.c_m) or np.any(self.a_m)))
        self.v = state(adaptive, v0)
        self.vmax = state(bool(np.any(self.amsgrad)), self.v)
        self.u = state(bool(np.any(self.adadelta)))
        self.decide()
        self._tmp = buffer(True)
        self._step: Array | None = None  # (made at the first call that passes no ``out``)
        self._den = buffer(self.adaptive)
        self._s = buffer(self.uses_adadelta)
        self._scale_buffer = buffer(self.uses_adadelta)  # AdaDelta's, when no scale is asked
        self._newton_step = buffer(self.uses_newton)
        self._newton_scale = buffer(self.uses_newton)
        self._newton_cols = [self._newton_step[:, j] for j in range(d)]
        self._scale_cols = [self._newton_scale[:, j] for j in range(d)]

    def decide(self) -> None:
        """Which optional parts of the rule any run uses: decided here, not every step.

        When some runs use m and others' numerator is a_g·g alone, those keep a_g·g in m
        (μ = 0, c_m = a_g, a_m = 1: m = 0·m + a_g·g, to the last bit a_g·g while m is
        finite, and a run whose m is not has diverged), so that every run's numerator is
        m — the step is m·scale, three calls fewer — instead of a_m·m + a_g·g. Only runs
        that use m for themselves decide that m is used: once they have all stopped, the
        others go back to a_g·g.
        """
        plain = self._plain
        own_m = bool(np.any(self.c_m[~plain]) or np.any(self.a_m[~plain]))
        fold = own_m and bool(plain.any())
        np.copyto(self.c_m, self._a_g_plain if fold else 0.0, where=plain)
        np.copyto(self.a_m, 1.0 if fold else 0.0, where=plain)
        np.copyto(self.a_g, 0.0 if fold else self._a_g_plain, where=plain)
        self.uses_m = own_m
        # Not adaptive: v stays 0 and E = 1 for every run, so the scale is lr·B1.
        self.adaptive = bool(np.any(self.c_v) or np.any(self.v) or np.any(self.E_given != 1.0))
        self.uses_wd = bool(np.any(self.wd))
        self.uses_wd_decoupled = bool(np.any(self.wd_decoupled))
        self.uses_amsgrad = bool(np.any(self.amsgrad))
        self.all_amsgrad = bool(np.all(self.amsgrad))
        self.uses_adadelta = bool(np.any(self.adadelta))
        self.uses_newton = bool(np.any(self.newton))
        self.uses_a_g = bool(np.any(self.a_g))
        self.numerator_is_m = self.uses_m and not self.uses_a_g and bool(np.all(self.a_m == 1))

    def parts(self) -> tuple[tuple[str, bool], ...]:
        """Which optional parts of the rule a step takes or skips (every flag of the rule:
        those ``decide`` sets and v's bias correction). Rules with equal parts run the
        same sequence of element-wise operations, so their rows stacked into one rule get,
        to the last bit, what each gets alone (``race.advance_together``)."""
        return tuple(sorted((k, v) for k, v in vars(self).items() if isinstance(v, bool)))

    def retire(self, k: int, decide: bool = True) -> None:
        """Run k has stopped: from now on it is plain GD with its state cleared.

        With the race's zero learning rate for it, its step is 0; and once every
        run using a part of the rule (Newton's solve, AdaDelta's accumulator, the
        moments …) has stopped, that part is no longer computed — Newton usually
        converges in a handful of steps, and the rest of a race need not pay for
        its Hessian.
        """
        for a in (self.m, self.v, self.vmax, self.u):
            if a.flags.writeable:  # (an unused state is zeros already)
                a[k] = 0.0
        neutral = {"mu": 0.0, "c_m": 0.0, "beta": 0.0, "c_v": 0.0, "a_m": 0.0, "a_g": 1.0}
        neutral |= {"wd": 0.0, "wd_decoupled": 0.0, "E_given": 1.0, "E": 1.0, "eps_in": 0.0}
        neutral |= {"eps_u": 1.0, "beta_u": 0.0, "c_u": 0.0}
        for name, value in neutral.items():
            getattr(self, name)[k] = value
        self._plain[k], self._a_g_plain[k] = True, 1.0  # (``decide`` may fold it into m)
        for mask in (self.adadelta, self.amsgrad, self.newton):
            mask[k] = False
        if decide:  # (``decide=False``: the caller retires several, then calls decide)
            self.decide()

    def look_ahead(self, theta: Array, lr_mu: Any, out: Array) -> None:
        """Nesterov's evaluation point θ − (lr·μ)·m into ``out`` (θ itself where lr_mu is 0)."""
        np.multiply(lr_mu, self.m, out=self._tmp)
        np.subtract(theta, self._tmp, out=out)

    def step(
        self,
        g: NDArray[np.floating],
        theta: Array,
        lr_b1: Any,
        b2: Any,
        lr: Array,
        scale: Array | None,
        hessian: Sequence[Any] | Array | None = None,
        out: Array | None = None,
    ) -> Array:
        """One step for every run; writes the effective learning rate into ``scale``.

        ``lr`` is lr_t (K, 1), ``lr_b1`` is lr_t·B1_t and ``b2`` is B2_t (a float or
        (K, 1)), all of the rule's dtype (a race passes them as (K, d) blocks, each row
        repeated, which NumPy steps through faster than columns); ``scale`` may be None
        when the caller does not want the effective learning rate (the training lab).
        ``hessian`` holds the upper triangle H_ij (i ≤ j) when a run is Newton's (a
        surface program's output), or the full (K, d, d) matrices. Returns the step,
        θ ← θ − step, in ``out`` if given (K, d), else in a buffer of the rule reused
        next call.
        """
        tmp = self._tmp
        if self.uses_wd:  # (a new g: the caller's is left as it was)
            np.multiply(self.wd, theta, out=tmp)
            g = g + tmp
        m = self.m
        if self.uses_m:  # m ← μ·m + c_m·g
            m *= self.mu
            np.multiply(self.c_m, g, out=tmp)
            m += tmp
        den = self._den
        # the scale's buffer: lr·B1/den may overwrite den when no scale is asked (but
        # AdaDelta's needs den after)
        eff = scale if scale is not None else self._scale_buffer if self.uses_adadelta else den
        if self.adaptive:  # v ← β·v + c_v·g², den = √(B2·v̄ + ε_in) + E
            v = self.v
            v *= self.beta
            np.multiply(g, g, out=tmp)
            tmp *= self.c_v
            v += tmp
            v_use = v
            if self.uses_amsgrad:
                np.maximum(self.vmax, v, out=self.vmax)
                v_use = self.vmax if self.all_amsgrad else np.where(self.amsgrad, self.vmax, v)
            src = v_use
            if self.uses_bias2:
                np.multiply(v_use, b2, out=den)
                src = den
            if self.uses_adadelta:
                np.add(src, self.eps_in, out=den)
                src = den
            np.sqrt(src, out=den)
            den += self.E
            if self.uses_adadelta:
                s = self._s
                np.add(self.u, self.eps_u, out=s)
                np.sqrt(s, out=s)
                np.multiply(lr_b1, s, out=eff)
                eff /= den
            else:
                np.divide(lr_b1, den, out=eff)
        elif scale is not None:  # v stays 0 and E = 1: the scale is lr·B1
            np.copyto(scale, lr_b1)
        # The numerator a_m·m + a_g·g, in the step's buffer, then scaled in place (the
        # fewer arrays a pass touches, the faster a long vector goes).
        if out is None:
            if self._step is None:
                self._step = np.empty(self.shape, dtype=self.dtype)
            out = self._step
        step = num = out
        if self.numerator_is_m:  # (a_m = 1 for every run: the numerator is m itself)
            num = m
        elif self.uses_m:
            np.multiply(self.a_m, m, out=num)
            if self.uses_a_g:
                np.multiply(self.a_g, g, out=tmp)
                num += tmp
        else:
            np.multiply(self.a_g, g, out=num)
        if self.uses_adadelta:  # u ← β_u·u + c_u·(s/den·num)²
            delta = self._s
            delta /= den
            delta *= num
            np.square(delta, out=delta)
            delta *= self.c_u
            self.u *= self.beta_u
            self.u += delta
        # (not adaptive: lr·B1·num, the same numbers as scale·num)
        np.multiply(num, eff if self.adaptive else lr_b1, out=step)
        if self.uses_newton:
            if hessian is None:
                raise ValueError("Newton's method needs the Hessian")
            self._newton(g, lr, hessian)
            np.copyto(step, self._newton_step, where=self.newton)
            if scale is not None:
                np.copyto(scale, self._newton_scale, where=self.newton)
        if self.uses_wd_decoupled:
            np.multiply(lr * self.wd_decoupled, theta, out=tmp)
            step += tmp
        return step

    def _newton(self, g: NDArray[np.floating], lr: Array, upper: Sequence[Any] | Array) -> None:
        """lr·H⁻¹·g and lr·diag(H⁻¹) into the Newton buffers (pseudo-inverse if singular)."""
        K, d = self.shape
        out, diag = self._newton_step, self._newton_scale
        if isinstance(upper, np.ndarray) and upper.ndim == 3:  # full matrices (K, d, d)
            inverse = pinv_small(upper)
            np.multiply(lr, (inverse @ g[..., None])[..., 0], out=out)
            np.multiply(lr, np.diagonal(inverse, axis1=-2, axis2=-1), out=diag)
            return
        if d == 2:
            a, b, e = upper
            bb = b * b
            det = a * e - bb
            size2 = np.maximum(np.maximum(a * a, e * e), bb)  # the largest entry, squared
            regular = np.abs(det) > 1e-12 * size2  # False for NaN too
            if np.count_nonzero(regular) == np.size(regular):  # (cheaper than .all())
                inv_det = 1.0 / det
                i00, p, i11 = e * inv_det, b * inv_det, a * inv_det  # H⁻¹ = [[i00, −p], [−p, i11]]
                gx, gy = g[:, 0], g[:, 1]
                np.subtract(i00 * gx, p * gy, out=self._newton_cols[0])
                np.subtract(i11 * gy, p * gx, out=self._newton_cols[1])
                out *= lr
                lr1 = lr[:, 0]
                np.multiply(i00, lr1, out=self._scale_cols[0])
                np.multiply(i11, lr1, out=self._scale_cols[1])
                return
        elif d == 1:
            (h,) = upper
            h = np.broadcast_to(h, (K,))
            tiny = np.abs(h) <= 1e-300
            inv = np.where(tiny, 0.0, 1.0 / np.where(tiny, 1.0, h))[:, None]
            np.multiply(inv, g, out=out)
            out *= lr
            np.multiply(lr, inv, out=diag)
            return
        inverse = pinv_small(symmetric(list(upper), (K,), d))  # the general case, singular 2-D ones
        np.multiply(lr, (inverse @ g[..., None])[..., 0], out=out)
        np.multiply(lr, np.diagonal(inverse, axis1=-2, axis2=-1), out=diag)
