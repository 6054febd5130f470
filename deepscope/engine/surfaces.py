"""Loss surfaces for the optimizer lab: 1-D and 2-D, built-in or typed by a user.

Every surface is a formula in our expression language (``expressions``), so
its gradient and Hessian are derived symbolically and are exact; all three
broadcast over arrays (a contour grid, or the K points of a race). Each surface
knows its domain (the plot window), a default start, and its critical points,
located by Newton's method on the gradient from known or searched candidates
and classified by the Hessian's eigenvalues (minimum / maximum / saddle /
degenerate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from .expressions import Compiled, ExpressionError, compile_expression, to_text
from .knobs import Knob
from .linalg import pinv_small, symmetric

Array = NDArray[np.float64]
Kind = Literal["minimum", "maximum", "saddle", "degenerate"]

# The contour grid of /api/surface: fine enough for Rosenbrock's narrow valley on a
# chart, coarse enough to compute (one vectorized call) and send at once.
RESOLUTION = Knob(128, "sharp contours at a chart's size", ge=8, le=512, integer=True)
DIVERGENCE_MARGIN = 10.0  # a run is diverged beyond the domain widened by this × its size


@dataclass(frozen=True)
class SurfaceParam:
    name: str
    default: float
    low: float
    high: float
    doc: str = ""

    @property
    def step(self) -> float:
        """A slider's increment: two hundred stops across the range."""
        return (self.high - self.low) / 200


@dataclass(frozen=True)
class CriticalPoint:
    point: tuple[float, ...]
    value: float
    kind: Kind
    eigenvalues: tuple[float, ...]


@dataclass(frozen=True)
class Surface:
    """A ready-to-use surface: formula, calculus, window, start and critical points."""

    name: str
    formula: str
    compiled: Compiled
    domain: tuple[tuple[float, float], ...]
    start: tuple[float, ...]
    critical_points: tuple[CriticalPoint, ...]

    @property
    def dims(self) -> int:
        return len(self.domain)

    @property
    def minima(self) -> tuple[CriticalPoint, ...]:
        return tuple(c for c in self.critical_points if c.kind == "minimum")

    @property
    def bound(self) -> tuple[tuple[float, float], ...]:
        """Beyond this box a run counts as diverged."""
        out = []
        for lo, hi in self.domain:
            pad = DIVERGENCE_MARGIN * (hi - lo)
            out.append((lo - pad, hi + pad))
        return tuple(out)

    def _columns(self, points: Array) -> list[Array]:
        return [points[..., i] for i in range(self.dims)]

    def value(self, points: Array) -> Array:
        """f at points (..., d) -> (...)."""
        return self.compiled.value(*self._columns(points))[0]

    def gradient(self, points: Array) -> Array:
        """∇f at points (..., d) -> (..., d)."""
        return np.stack(self.compiled.gradient(*self._columns(points)), axis=-1)

    def value_and_gradient(self, points: Array) -> tuple[Array, Array]:
        f, *g = self.compiled.value_and_gradient(*self._columns(points))
        return f, np.stack(g, axis=-1)

    def hessian(self, points: Array) -> Array:
        """∇²f at points (..., d) -> (..., d, d)."""
        upper = self.compiled.hessian(*self._columns(points))
        return symmetric(upper, points.shape[:-1], self.dims)

    def grid(self, resolution: int) -> tuple[list[Array], Array]:
        """Axes and f on a resolution (× resolution) grid over the domain: one vectorized call."""
        axes = [np.linspace(lo, hi, resolution) for lo, hi in self.domain]
        if self.dims == 1:
            return axes, self.value(axes[0][:, None])
        X, Y = np.meshgrid(axes[0], axes[1])  # Z[i, j] = f(x_j, y_i), as plotly expects
        return axes, self.compiled.value(X, Y)[0]


def classify(eigenvalues: Array, scale: float = 1.0) -> Kind:
    """min / max / saddle from the Hessian's eigenvalues; degenerate if any is ~0."""
    tol = 1e-8 * max(scale, 1.0)
    if np.any(np.abs(eigenvalues) <= tol):
        return "degenerate"
    if np.all(eigenvalues > 0):
        return "minimum"
    if np.all(eigenvalues < 0):
        return "maximum"
    return "saddle"


def refine_critical_points(
    surface_calc: Compiled,
    candidates: Array,
    domain: Sequence[tuple[float, float]],
    iterations: int = 60,
) -> tuple[CriticalPoint, ...]:
    """Newton's method on ∇f = 0 from every candidate at once; keep, dedupe, classify."""
    d = len(domain)
    x = np.array(candidates, dtype=np.float64).reshape(-1, d)
    if x.size == 0:
        return ()

    def grad(p: Array) -> Array:
        return np.stack(surface_calc.gradient(*[p[:, i] for i in range(d)]), axis=-1)

    def hess(p: Array) -> Array:
        upper = surface_calc.hessian(*[p[:, i] for i in range(d)])
        H = np.empty((p.shape[0], d, d))
        k = 0
        for i in range(d):
            for j in range(i, d):
                H[:, i, j] = H[:, j, i] = upper[k]
                k += 1
        return H

    with np.errstate(all="ignore"):
        for _ in range(iterations):
            step = (pinv_small(hess(x)) @ grad(x)[:, :, None])[:, :, 0]
            x = x - np.where(np.isfinite(step), step, np.nan)
        g = grad(x)
        ok = np.all(np.isfinite(x), axis=1) & (np.linalg.norm(g, axis=1) < 1e-7)
    spans = [hi - lo for lo, hi in domain]
    inside = np.all(
        [
            (x[:, i] >= lo - 1e-9 * spans[i]) & (x[:, i] <= hi + 1e-9 * spans[i])
            for i, (lo, hi) in enumerate(domain)
        ],
        axis=0,
    )
    found: list[Array] = []
    for p in x[ok & inside]:
        if all(np.max(np.abs(p - q) / np.array(spans)) > 1e-6 for q in found):
            found.append(p)
    points = np.array(found).reshape(-1, d)
    if points.size == 0:
        return ()
    values = surface_calc.value(*[points[:, i] for i in range(d)])[0]
    H = hess(points)
    out = []
    for p, v, h in zip(points, values, H, strict=True):
        if not (np.all(np.isfinite(h)) and math.isfinite(float(v))):
            continue
        eig = np.linalg.eigvalsh(h)
        scale = float(np.max(np.abs(h))) if np.all(np.isfinite(h)) else 1.0
        clean = tuple(round(float(c), 12) + 0.0 for c in p)
        out.append(
            CriticalPoint(clean, float(v), classify(eig, scale), tuple(float(e) for e in eig))
        )
    out.sort(key=lambda c: (c.value, c.point))
    return tuple(out)


DEFAULT_SEARCH = 7  # seeds per axis for a surface that names no candidates


def search_candidates(domain: Sequence[tuple[float, float]], per_axis: int) -> Array:
    """A grid of Newton seeds over the domain (for surfaces typed by a user)."""
    axes = [np.linspace(lo, hi, per_axis) for lo, hi in domain]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=-1)


# --- the built-in surfaces ---------------------------------------------------------


@dataclass(frozen=True)
class SurfaceSpec:
    """A registry entry: builds a Surface from parameter values (its title and notes:
    ``surface.<name>.title`` / ``.notes.<i>`` in ``static/i18n/<lang>.json``)."""

    name: str
    expr: str  # in x (and y), may use the parameter names and derived constants
    domain: tuple[tuple[float, float], ...]
    start: tuple[float, ...]
    candidates: Callable[[Mapping[str, float]], Sequence[Sequence[float]]] | None = None
    params: tuple[SurfaceParam, ...] = ()
    constants: Callable[[Mapping[str, float]], dict[str, float]] | None = None
    # grid-search this many seeds per axis for further critical points (0: none, but
    # a surface with no candidates either searches DEFAULT_SEARCH per axis)
    search: int = 0
    group: Literal["lecture", "classic"] = "classic"

    @property
    def dims(self) -> int:
        return len(self.domain)

    def resolve(self, given: Mapping[str, float] | None) -> dict[str, float]:
        given = dict(given or {})
        unknown = set(given) - {p.name for p in self.params}
        if unknown:
            raise ValueError(f"surface {self.name} has no parameter {sorted(unknown)[0]!r}")
        out = {}
        for p in self.params:
            value = float(given.get(p.name, p.default))
            if not (math.isfinite(value) and p.low <= value <= p.high):
                raise ValueError(f"surface {self.name} {p.name} must be in [{p.low}, {p.high}]")
            out[p.name] = value
        return out

    def build(self, given: Mapping[str, float] | None = None) -> Surface:
        params = self.resolve(given)
        constants = dict(params)
        if self.constants is not None:
            constants.update(self.constants(params))
        variables = ("x", "y")[: self.dims]
        compiled = compile_expression(self.expr, variables, constants)
        seeds: list[Sequence[float]] = list(self.candidates(params)) if self.candidates else []
        pool = np.array(seeds, dtype=np.float64).reshape(-1, self.dims)
        per_axis = self.search or (0 if self.candidates else DEFAULT_SEARCH)
        if per_axis:
            pool = np.concatenate([pool, search_candidates(self.domain, per_axis)])
        critical = refine_critical_points(compiled, pool, self.domain)
        return Surface(
            name=self.name,
            formula=to_text(compiled.f, FORMULA_DIGITS) if self.params else self.expr,
            compiled=compiled,
            domain=self.domain,
            start=self.start,
            critical_points=critical,
        )


def _bowl_constants(p: Mapping[str, float]) -> dict[str, float]:
    t = math.radians(p["rotation"])
    return {"c": math.cos(t), "s": math.sin(t), "k": p["condition"]}


# Significant digits of the numbers in a parameterised surface's formula (display only).
FORMULA_DIGITS = 4

# The lectures' own examples, listed first in the menu.
_LECTURE: Literal["lecture", "classic"] = "lecture"
SURFACE_SPECS: dict[str, SurfaceSpec] = {
    s.name: s
    for s in (
        SurfaceSpec(
            "quadratic_1d",
            "x**2 - 10*x + 1",
            ((-10.0, 20.0),),
            (-5.0,),
            candidates=lambda p: [[0.0]],
            group=_LECTURE,
        ),
        SurfaceSpec(
            "quartic_1d",
            "x**4 - 50*x**3 - x + 1",
            ((-25.0, 50.0),),
            (-20.0,),
            candidates=lambda p: [[40.0], [0.0], [-10.0]],
            group=_LECTURE,
        ),
        SurfaceSpec(
            "parabola_1d",
            "x**2",
            ((-25.0, 25.0),),
            (20.0,),
            candidates=lambda p: [[1.0]],
            group=_LECTURE,
        ),
        SurfaceSpec(
            "shifted_bowl",
            "(x - 5)**2 + y**2",
            ((-10.0, 10.0), (-8.0, 8.0)),
            (-9.0, 6.0),
            candidates=lambda p: [[0.0, 0.0]],
            group=_LECTURE,
        ),
        SurfaceSpec(
            "ill_conditioned",
            "0.1*x**2 + y**2",
            ((-10.0, 10.0), (-6.0, 6.0)),
            (-8.0, 5.0),
            candidates=lambda p: [[1.0, 1.0]],
            group=_LECTURE,
        ),
        SurfaceSpec(
            "saddle",
            "y**2 - x**2",
            ((-3.0, 3.0), (-3.0, 3.0)),
            (0.0, 2.0),
            candidates=lambda p: [[0.5, 0.5]],
            group=_LECTURE,
        ),
        SurfaceSpec(
            "three_saddles",
            "x**2 + x - 4*x*y + x**3*y",
            ((-3.0, 3.0), (-1.5, 1.5)),
            (1.0, 1.0),
            candidates=lambda p: [[0.0, 0.3], [-2.1, 0.4], [2.1, -0.6]],
            group=_LECTURE,
        ),
        SurfaceSpec(
            "bowl",
            "0.5*((c*x + s*y)**2 + k*(-s*x + c*y)**2)",
            ((-5.0, 5.0), (-5.0, 5.0)),
            (-4.0, 3.0),
            params=(
                SurfaceParam("condition", 10.0, 1.0, 100.0, "ratio of the curvatures"),
                SurfaceParam("rotation", 30.0, 0.0, 180.0, "rotation of the axes, degrees"),
            ),
            constants=_bowl_constants,
            candidates=lambda p: [[0.5, 0.5]],
        ),
        SurfaceSpec(
            "rosenbrock",
            "(a - x)**2 + b*(y - x**2)**2",
            ((-2.0, 2.0), (-1.0, 3.0)),
            (-1.5, 2.0),
            params=(SurfaceParam("a", 1.0, -2.0, 2.0), SurfaceParam("b", 100.0, 0.0, 1000.0)),
            candidates=lambda p: [[p["a"], p["a"] ** 2]],
        ),
        SurfaceSpec(
            "beale",
            "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
            ((-4.5, 4.5), (-4.5, 4.5)),
            (1.0, 1.5),
            candidates=lambda p: [[3.0, 0.5]],
            search=9,
        ),
        SurfaceSpec(
            "himmelblau",
            "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
            ((-5.0, 5.0), (-5.0, 5.0)),
            (0.0, 0.0),
            search=9,
        ),
        SurfaceSpec(
            "booth",
            "(x + 2*y - 7)**2 + (2*x + y - 5)**2",
            ((-10.0, 10.0), (-10.0, 10.0)),
            (-8.0, -8.0),
            candidates=lambda p: [[0.0, 0.0]],
        ),
        SurfaceSpec(
            "six_hump_camel",
            "(4 - 2.1*x**2 + x**4/3)*x**2 + x*y + (-4 + 4*y**2)*y**2",
            ((-3.0, 3.0), (-2.0, 2.0)),
            (-1.5, 1.2),
            search=11,
        ),
        SurfaceSpec(
            "rastrigin",
            "20 + x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y)",
            ((-5.12, 5.12), (-5.12, 5.12)),
            (3.3, -2.6),
            candidates=lambda p: [[0.01, 0.01]],
        ),
        SurfaceSpec(
            "ackley",
            "-20*exp(-0.2*sqrt(0.5*(x**2 + y**2) + 1e-12)) - exp(0.5*(cos(2*pi*x) + cos(2*pi*y)))"
            " + e + 20",
            ((-5.0, 5.0), (-5.0, 5.0)),
            (3.5, -3.0),
            candidates=lambda p: [[0.0, 0.0]],
        ),
        SurfaceSpec(
            "styblinski_tang",
            "0.5*(x**4 - 16*x**2 + 5*x + y**4 - 16*y**2 + 5*y)",
            ((-5.0, 5.0), (-5.0, 5.0)),
            (4.5, 4.5),
            candidates=lambda p: [[a, b] for a in (-2.9, 0.16, 2.75) for b in (-2.9, 0.16, 2.75)],
        ),
        SurfaceSpec(
            "monkey_saddle",
            "x**3 - 3*x*y**2",
            ((-2.0, 2.0), (-2.0, 2.0)),
            (1.0, 0.5),
            candidates=lambda p: [[0.0, 0.0]],
        ),
        SurfaceSpec(
            "plateau",
            "1 - exp(-(x**2 + y**2)/4)",
            ((-6.0, 6.0), (-6.0, 6.0)),
            (-4.5, 4.0),
            candidates=lambda p: [[0.1, 0.1]],
        ),
    )
}


_BUILT: dict[tuple[str, tuple[tuple[str, float], ...]], Surface] = {}


def get_spec(name: str) -> SurfaceSpec:
    try:
        return SURFACE_SPECS[name]
    except KeyError:
        raise ValueError(f"unknown surface {name!r}; choose from {sorted(SURFACE_SPECS)}") from None


def build(name: str, params: Mapping[str, float] | None = None) -> Surface:
    """The named surface with these parameters (built once, then cached)."""
    spec = get_spec(name)
    resolved = spec.resolve(params)
    key = (name, tuple(sorted(resolved.items())))
    surface = _BUILT.get(key)
    if surface is None:
        surface = spec.build(resolved)
        if len(_BUILT) > 256:
            _BUILT.clear()
        _BUILT[key] = surface
    return surface


class DomainError(ValueError):
    """A typed surface's domain has the wrong number of ranges for its variables."""

    def __init__(self, dims: int) -> None:
        self.dims = dims
        variables = "x only" if dims == 1 else "x and y"
        super().__init__(
            f"domain needs {dims} range(s) for a {dims}-D surface (the expression uses {variables})"
        )


@dataclass(frozen=True)
class CustomSurface:
    """A surface typed by a user."""

    expr: str
    domain: tuple[tuple[float, float], ...] | None = None
    start: tuple[float, ...] | None = None
    dims: int | None = None  # 1 or 2; by default 2 if y appears, else 1
    extra: dict[str, float] = field(default_factory=dict)


def build_custom(custom: CustomSurface) -> Surface:
    """Parse, differentiate and locate the critical points of a typed surface."""
    probe = compile_expression(custom.expr, ("x", "y"))
    uses_y = "y" in _variables(probe)
    dims = custom.dims or (2 if uses_y else 1)
    if dims == 1 and uses_y:
        raise ExpressionError("one_dimension_x")
    variables = ("x", "y")[:dims]
    compiled = probe if dims == 2 else compile_expression(custom.expr, variables)
    domain = custom.domain or ((-5.0, 5.0),) * dims
    if len(domain) != dims:
        raise DomainError(dims)
    start = custom.start or tuple(lo + 0.8 * (hi - lo) for lo, hi in domain)
    critical = refine_critical_points(
        compiled, search_candidates(domain, 25 if dims == 1 else 9), domain
    )
    return Surface(
        name="custom",
        formula=custom.expr,
        compiled=compiled,
        domain=tuple(domain),
        start=tuple(start),
        critical_points=critical[:32],
    )


def _variables(compiled: Compiled) -> set[str]:
    from .expressions import variables_in

    return variables_in(compiled.f)
