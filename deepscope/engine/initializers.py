"""Weight initialisers: a base draw of one of three families, times scale × std.

``scale`` multiplies the scheme's standard deviation (docs/numerics.md):

============== ======================================= ==========================
scheme         distribution                            std before ``scale``
============== ======================================= ==========================
zeros          0                                       —
constant       every weight = scale                    —
normal         N(0, 1)                                 1   (so scale = std)
uniform        U(−√3, √3)                              1   (so scale = std)
lecun_normal   N(0, 1/fan_in)                          √(1/fan_in)
xavier_normal  N(0, 2/(fan_in+fan_out))                √(2/(fan_in+fan_out))
xavier_uniform U(±√(6/(fan_in+fan_out)))               √(2/(fan_in+fan_out))
he_normal      N(0, 2/fan_in)                          √(2/fan_in)
he_uniform     U(±√(6/fan_in))                         √(2/fan_in)
orthogonal     a random orthogonal matrix Q (QR)       gain 1
============== ======================================= ==========================

Splitting a scheme into a unit-variance base draw and a multiplier lets a lab
reuse the draw when only the scheme or the scale changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import DTypeLike, NDArray

Family = Literal["zeros", "ones", "normal", "uniform", "orthogonal"]


@dataclass(frozen=True)
class Initializer:
    name: str
    formula: str
    family: Family  # the unit base draw
    std: Callable[[int, int], float]  # the multiplier before ``scale``, from (fan_in, fan_out)
    # The scheme in plain NumPy before ``scale`` (the layers lab's "Reproduce in NumPy"): an
    # expression of ``rng``, ``fan_in``, ``fan_out`` and ``np`` (tests/engine/test_initializers.py)
    numpy: str

    def variance(self, fan_in: int, fan_out: int, scale: float) -> float:
        """Var(w) of the scheme (E[w²] for the constant one)."""
        base = {"zeros": 0.0, "ones": 1.0, "normal": 1.0, "uniform": 1.0}.get(self.family)
        if base is None:  # orthogonal: unit-norm rows or columns
            base = 1.0 / max(fan_in, fan_out)
        return base * (scale * self.std(fan_in, fan_out)) ** 2


def base_draw(
    family: Family, fan_in: int, fan_out: int, rng: np.random.Generator
) -> NDArray[np.float32]:
    """A unit draw of the family, float32, shape (fan_in, fan_out)."""
    shape = (fan_in, fan_out)
    if family == "zeros":
        return np.zeros(shape, dtype=np.float32)
    if family == "ones":
        return np.ones(shape, dtype=np.float32)
    if family == "normal":
        return rng.standard_normal(shape, dtype=np.float32)
    if family == "uniform":  # U(−√3, √3): unit variance
        u = rng.random(shape, dtype=np.float32)
        u -= np.float32(0.5)
        u *= np.float32(2.0 * math.sqrt(3.0))
        return u
    big, small = max(fan_in, fan_out), min(fan_in, fan_out)
    q, r = np.linalg.qr(rng.standard_normal((big, small)))
    q *= np.sign(np.diag(r))  # Haar-distributed
    return np.ascontiguousarray(q if fan_in >= fan_out else q.T, dtype=np.float32)


def _unit(fan_in: int, fan_out: int) -> float:
    return 1.0


def _lecun(fan_in: int, fan_out: int) -> float:
    return math.sqrt(1.0 / fan_in)


def _xavier(fan_in: int, fan_out: int) -> float:
    return math.sqrt(2.0 / (fan_in + fan_out))


def _he(fan_in: int, fan_out: int) -> float:
    return math.sqrt(2.0 / fan_in)


_SHAPE = "(fan_in, fan_out)"
_NORMAL = f"rng.standard_normal({_SHAPE})"
_UNIFORM = f"rng.uniform(-1, 1, {_SHAPE})"
_Q = "np.linalg.qr(rng.standard_normal((max(fan_in, fan_out), min(fan_in, fan_out))))[0]"

INITIALIZERS: dict[str, Initializer] = {
    i.name: i
    for i in (
        Initializer("zeros", "W = 0", "zeros", _unit, f"np.zeros({_SHAPE})"),
        Initializer("constant", "W = scale", "ones", _unit, f"np.ones({_SHAPE})"),
        Initializer("normal", "W ~ N(0, scale²)", "normal", _unit, _NORMAL),
        Initializer(
            "uniform",
            "W ~ U(−√3·scale, √3·scale)",
            "uniform",
            _unit,
            f"rng.uniform(-np.sqrt(3), np.sqrt(3), {_SHAPE})",
        ),
        Initializer(
            "lecun_normal",
            "W ~ N(0, scale²/fan_in)",
            "normal",
            _lecun,
            f"{_NORMAL} * np.sqrt(1 / fan_in)",
        ),
        Initializer(
            "xavier_normal",
            "W ~ N(0, scale²·2/(fan_in+fan_out))",
            "normal",
            _xavier,
            f"{_NORMAL} * np.sqrt(2 / (fan_in + fan_out))",
        ),
        Initializer(
            "xavier_uniform",
            "W ~ U(±scale·√(6/(fan_in+fan_out)))",
            "uniform",
            _xavier,
            f"{_UNIFORM} * np.sqrt(6 / (fan_in + fan_out))",
        ),
        Initializer(
            "he_normal",
            "W ~ N(0, scale²·2/fan_in)",
            "normal",
            _he,
            f"{_NORMAL} * np.sqrt(2 / fan_in)",
        ),
        Initializer(
            "he_uniform",
            "W ~ U(±scale·√(6/fan_in))",
            "uniform",
            _he,
            f"{_UNIFORM} * np.sqrt(6 / fan_in)",
        ),
        Initializer(
            "orthogonal",
            "W = scale·Q, Q orthogonal",
            "orthogonal",
            _unit,
            f"(lambda q: q if fan_in >= fan_out else q.T)({_Q})",
        ),
    )
}


def get(name: str) -> Initializer:
    try:
        return INITIALIZERS[name]
    except KeyError:
        raise ValueError(f"unknown init {name!r}; choose from {sorted(INITIALIZERS)}") from None


def weight_variance(name: str, fan_in: int, fan_out: int, scale: float) -> float:
    """The expected Var(w) of the scheme (E[w²] for ``constant``)."""
    return get(name).variance(fan_in, fan_out, scale)


def init_weight(
    name: str,
    fan_in: int,
    fan_out: int,
    scale: float,
    rng: np.random.Generator,
    dtype: DTypeLike = np.float32,
    base: NDArray[np.float32] | None = None,
) -> NDArray[np.floating]:
    """A (fan_in, fan_out) weight matrix; ``base`` reuses an earlier draw of the family."""
    init = get(name)
    if base is None:
        base = base_draw(init.family, fan_in, fan_out, rng)
    factor = scale * init.std(fan_in, fan_out)
    out: NDArray[np.floating] = base.astype(dtype) if np.dtype(dtype) != base.dtype else base.copy()
    out *= out.dtype.type(factor)
    return out
