"""Weight initialisers, each a function of (fan_in, fan_out, scale, rng).

``scale`` multiplies the scheme's standard deviation (SPEC §1.1):

============== ======================================= ==========================
scheme         distribution                            std before ``scale``
============== ======================================= ==========================
zeros          0                                       —
constant       every weight = scale                    —
normal         N(0, 1)                                 1   (so scale = std)
uniform        U(−√3, √3)                              1   (so scale = std)
lecun_normal   N(0, 1/fan_in)                          √(1/fan_in)
xavier_normal  N(0, 2/(fan_in+fan_out))                √(2/(fan_in+fan_out))
xavier_uniform U(−√(6/(fan_in+fan_out)), +…)           √(2/(fan_in+fan_out))
he_normal      N(0, 2/fan_in)                          √(2/fan_in)
he_uniform     U(−√(6/fan_in), +…)                     √(2/fan_in)
orthogonal     a random orthogonal matrix (QR)         gain 1
============== ======================================= ==========================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import DTypeLike, NDArray

Sampler = Callable[[int, int, float, np.random.Generator], NDArray[np.float64]]


@dataclass(frozen=True)
class Initializer:
    name: str
    formula: str
    sample: Sampler
    # Var(w) before ``scale`` as a function of (fan_in, fan_out); None if degenerate.
    base_variance: Callable[[int, int], float] | None


def _zeros(
    fan_in: int, fan_out: int, scale: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    return np.zeros((fan_in, fan_out))


def _constant(
    fan_in: int, fan_out: int, scale: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    return np.full((fan_in, fan_out), scale)


def _normal_with(std: Callable[[int, int], float]) -> Sampler:
    def sample(
        fan_in: int, fan_out: int, scale: float, rng: np.random.Generator
    ) -> NDArray[np.float64]:
        return rng.standard_normal((fan_in, fan_out)) * (scale * std(fan_in, fan_out))

    return sample


def _uniform_with(std: Callable[[int, int], float]) -> Sampler:
    # U(−a, a) has std a/√3, so a = √3·std.
    def sample(
        fan_in: int, fan_out: int, scale: float, rng: np.random.Generator
    ) -> NDArray[np.float64]:
        bound = math.sqrt(3.0) * scale * std(fan_in, fan_out)
        return rng.uniform(-bound, bound, (fan_in, fan_out))

    return sample


def _orthogonal(
    fan_in: int, fan_out: int, scale: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    big, small = max(fan_in, fan_out), min(fan_in, fan_out)
    a = rng.standard_normal((big, small))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # make the distribution uniform (Haar)
    w = q if fan_in >= fan_out else q.T
    return np.asarray(w * scale, dtype=np.float64)


def _unit(fan_in: int, fan_out: int) -> float:
    return 1.0


def _lecun(fan_in: int, fan_out: int) -> float:
    return math.sqrt(1.0 / fan_in)


def _xavier(fan_in: int, fan_out: int) -> float:
    return math.sqrt(2.0 / (fan_in + fan_out))


def _he(fan_in: int, fan_out: int) -> float:
    return math.sqrt(2.0 / fan_in)


def _squared(std: Callable[[int, int], float]) -> Callable[[int, int], float]:
    return lambda fan_in, fan_out: std(fan_in, fan_out) ** 2


INITIALIZERS: dict[str, Initializer] = {
    i.name: i
    for i in (
        Initializer("zeros", "W = 0", _zeros, None),
        Initializer("constant", "W = scale", _constant, None),
        Initializer("normal", "W ~ N(0, scale²)", _normal_with(_unit), _squared(_unit)),
        Initializer("uniform", "W ~ U(−√3·scale, √3·scale)", _uniform_with(_unit), _squared(_unit)),
        Initializer(
            "lecun_normal", "W ~ N(0, scale²/fan_in)", _normal_with(_lecun), _squared(_lecun)
        ),
        Initializer(
            "xavier_normal",
            "W ~ N(0, scale²·2/(fan_in+fan_out))",
            _normal_with(_xavier),
            _squared(_xavier),
        ),
        Initializer(
            "xavier_uniform",
            "W ~ U(±scale·√(6/(fan_in+fan_out)))",
            _uniform_with(_xavier),
            _squared(_xavier),
        ),
        Initializer("he_normal", "W ~ N(0, scale²·2/fan_in)", _normal_with(_he), _squared(_he)),
        Initializer("he_uniform", "W ~ U(±scale·√(6/fan_in))", _uniform_with(_he), _squared(_he)),
        Initializer(
            "orthogonal",
            "W = scale·Q, Q orthogonal",
            _orthogonal,
            lambda fan_in, fan_out: 1.0 / max(fan_in, fan_out),
        ),
    )
}


def get(name: str) -> Initializer:
    try:
        return INITIALIZERS[name]
    except KeyError:
        raise ValueError(f"unknown init {name!r}; choose from {sorted(INITIALIZERS)}") from None


def weight_variance(name: str, fan_in: int, fan_out: int, scale: float) -> float:
    """The expected Var(w) of the scheme, or E[w²] for the degenerate ones."""
    init = get(name)
    if init.base_variance is None:
        return 0.0 if name == "zeros" else scale * scale
    return init.base_variance(fan_in, fan_out) * scale * scale


def init_weight(
    name: str,
    fan_in: int,
    fan_out: int,
    scale: float,
    rng: np.random.Generator,
    dtype: DTypeLike = np.float32,
) -> NDArray[np.floating]:
    """A (fan_in, fan_out) weight matrix, sampled in float64 then cast."""
    return get(name).sample(fan_in, fan_out, scale, rng).astype(dtype)
