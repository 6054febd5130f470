"""Seeded 2-D binary datasets for the training lab.

Every generator returns points in roughly [−1, 1]² and labels in {0, 1}; ``noise``
(0 … 1) jitters the points (or, for the Gaussians, widens the blobs).
``logic`` is the lectures' 4-point truth table of a gate on inputs {0, 1}².
``uploaded`` is a teacher's own table (``owndata``): split like the others, noise not
applied, optionally standardised, the decision boundary's axes fitted to its points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .owndata import Table

Array = NDArray[np.float64]
Generator = Callable[[int, float, np.random.Generator, Mapping[str, str]], tuple[Array, Array]]

GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "xor": (0, 1, 1, 0),
    "xnor": (1, 0, 0, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
}


def _jitter(X: Array, noise: float, rng: np.random.Generator, scale: float = 0.15) -> Array:
    return X + rng.normal(0.0, noise * scale, X.shape) if noise > 0 else X


def circle(
    n: int, noise: float, rng: np.random.Generator, p: Mapping[str, str]
) -> tuple[Array, Array]:
    """A disk (label 1) inside a ring (label 0)."""
    inner = n // 2
    r = np.concatenate([rng.uniform(0.0, 0.45, inner), rng.uniform(0.65, 1.0, n - inner)])
    a = rng.uniform(0.0, 2 * math.pi, n)
    X = np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
    y = np.concatenate([np.ones(inner), np.zeros(n - inner)])
    return _jitter(X, noise, rng), y


def xor(
    n: int, noise: float, rng: np.random.Generator, p: Mapping[str, str]
) -> tuple[Array, Array]:
    """The four quadrants: label 1 where x·y > 0."""
    X = rng.uniform(-1.0, 1.0, (n, 2))
    X += np.sign(X) * 0.05  # a small gap along the axes
    y = (X[:, 0] * X[:, 1] > 0).astype(np.float64)
    return _jitter(X, noise, rng), y


def gaussians(
    n: int, noise: float, rng: np.random.Generator, p: Mapping[str, str]
) -> tuple[Array, Array]:
    """Two Gaussian blobs; noise widens them until they overlap."""
    half = n // 2
    std = 0.15 + 0.35 * noise
    X = np.concatenate(
        [
            rng.normal((0.45, 0.45), std, (half, 2)),
            rng.normal((-0.45, -0.45), std, (n - half, 2)),
        ]
    )
    y = np.concatenate([np.ones(half), np.zeros(n - half)])
    return X, y


def spiral(
    n: int, noise: float, rng: np.random.Generator, p: Mapping[str, str]
) -> tuple[Array, Array]:
    """Two interleaved spirals."""
    half = n // 2
    out, labels = [], []
    for label, offset in ((1.0, 0.0), (0.0, math.pi)):
        m = half if label == 1.0 else n - half
        t = rng.uniform(0.0, 1.0, m)
        r = 0.05 + 0.95 * t
        a = 1.75 * 2 * math.pi * t + offset
        out.append(np.stack([r * np.cos(a), r * np.sin(a)], axis=1))
        labels.append(np.full(m, label))
    return _jitter(np.concatenate(out), noise, rng, 0.08), np.concatenate(labels)


def moons(
    n: int, noise: float, rng: np.random.Generator, p: Mapping[str, str]
) -> tuple[Array, Array]:
    """Two interleaving half moons."""
    half = n // 2
    a = rng.uniform(0.0, math.pi, half)
    b = rng.uniform(0.0, math.pi, n - half)
    upper = np.stack([np.cos(a), np.sin(a)], axis=1)
    lower = np.stack([1.0 - np.cos(b), 0.5 - np.sin(b)], axis=1)
    X = (np.concatenate([upper, lower]) - (0.5, 0.25)) * 0.7
    y = np.concatenate([np.ones(half), np.zeros(n - half)])
    return _jitter(X, noise, rng, 0.12), y


def linear(
    n: int, noise: float, rng: np.random.Generator, p: Mapping[str, str]
) -> tuple[Array, Array]:
    """Separable by the line y = 0.5·x + 0.1."""
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = (X[:, 1] > 0.5 * X[:, 0] + 0.1).astype(np.float64)
    return _jitter(X, noise, rng), y


_TRUTH_TABLE_INPUTS = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))


def logic(
    n: int, noise: float, rng: np.random.Generator, p: Mapping[str, str]
) -> tuple[Array, Array]:
    """The 4-point truth table of a gate on {0, 1}² (n and noise do not apply)."""
    X = np.array(_TRUTH_TABLE_INPUTS)
    gate = p["gate"]
    return X, np.array(GATES[gate], dtype=np.float64)


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry (its title and notes: ``dataset.<name>.title`` / ``.notes.<i>``
    in ``static/i18n/<lang>.json``)."""

    name: str
    make: Generator | None  # None: the points come with the request (uploaded)
    params: Mapping[str, tuple[str, ...]]  # string choices (e.g. gate)
    fixed: bool = False  # a fixed table: n_samples, noise and train_share do not apply
    rows: int | None = None  # a fixed table's size (a full batch is all of it)
    defaults: Mapping[str, str] = field(default_factory=dict)  # else a choice list's first
    free: tuple[str, ...] = ()  # parameters without choices (the upload's id), required


DATASETS: dict[str, DatasetSpec] = {
    d.name: d
    for d in (
        DatasetSpec("circle", circle, {}),
        DatasetSpec("xor", xor, {}),
        DatasetSpec("gaussians", gaussians, {}),
        DatasetSpec("spiral", spiral, {}),
        DatasetSpec("moons", moons, {}),
        DatasetSpec("linear", linear, {}),
        DatasetSpec(
            "logic",
            logic,
            {"gate": tuple(GATES)},
            fixed=True,
            rows=len(_TRUTH_TABLE_INPUTS),
            defaults={"gate": "xor"},  # the gate a linear model cannot learn
        ),
        DatasetSpec("uploaded", None, {"standardize": ("off", "on")}, free=("id",)),
    )
}


@dataclass(frozen=True)
class Split:
    X_train: Array
    y_train: Array
    X_test: Array
    y_test: Array
    domain: tuple[tuple[float, float], tuple[float, float]]  # for the decision-boundary grid


def get(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; choose from {sorted(DATASETS)}") from None


def resolve_params(name: str, given: Mapping[str, str] | None) -> dict[str, str]:
    spec = get(name)
    given = dict(given or {})
    unknown = set(given) - set(spec.params) - set(spec.free)
    if unknown:
        raise ValueError(f"dataset {name} has no parameter {sorted(unknown)[0]!r}")
    out = {}
    for key in spec.free:
        if not given.get(key):
            raise ValueError(f"dataset {name} needs {key} (POST /api/datasets gives it)")
        out[key] = given[key]
    for key, choices in spec.params.items():
        value = given.get(key, spec.defaults.get(key, choices[0]))
        if value not in choices:
            raise ValueError(f"dataset {name} {key} must be one of {', '.join(choices)}")
        out[key] = value
    return out


def make(
    name: str,
    n_samples: int,
    noise: float,
    train_share: float,
    seed: int,
    params: Mapping[str, str] | None = None,
) -> Split:
    """A seeded train/test split of the dataset."""
    spec = get(name)
    p = resolve_params(name, params)
    if spec.make is None:
        raise ValueError(f"dataset {name} is made from its points: use from_table")
    rng = np.random.default_rng([seed, 17])
    X, y = spec.make(n_samples, noise, rng, p)
    if spec.fixed:
        X_train, y_train, X_test, y_test = X, y, X, y
        domain = ((-0.5, 1.5), (-0.5, 1.5))
    else:
        order = rng.permutation(len(y))
        n_train = min(max(1, round(train_share * len(y))), len(y) - 1)
        tr, te = order[:n_train], order[n_train:]
        X_train, y_train, X_test, y_test = X[tr], y[tr], X[te], y[te]
        lim = max(1.2, float(np.max(np.abs(X))) * 1.05)
        domain = ((-lim, lim), (-lim, lim))
    return Split(X_train, y_train, X_test, y_test, domain)


MARGIN = 0.1  # of each axis's span, around an uploaded dataset's points


def from_table(
    table: Table, train_share: float, seed: int, params: Mapping[str, str] | None = None
) -> Split:
    """An uploaded table as a seeded train/test split (as ``make`` splits the others).

    ``standardize: on`` centres each coordinate and divides it by its standard
    deviation (over all points; a constant coordinate is only centred). The domain
    is the points' bounding box grown by ``MARGIN`` of its span on every side.
    """
    p = resolve_params("uploaded", params)
    X = table.X.copy()
    if p["standardize"] == "on":
        std = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    rng = np.random.default_rng([seed, 17])
    order = rng.permutation(len(table.y))
    n_train = min(max(1, round(train_share * len(order))), len(order) - 1)
    tr, te = order[:n_train], order[n_train:]
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = hi - lo
    pad = np.where(span > 0, span * MARGIN, np.maximum(np.abs(lo), 1.0) * MARGIN)
    domain = (
        (float(lo[0] - pad[0]), float(hi[0] + pad[0])),
        (float(lo[1] - pad[1]), float(hi[1] + pad[1])),
    )
    return Split(X[tr], table.y[tr], X[te], table.y[te], domain)
