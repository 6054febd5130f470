"""Every built-in surface: gradient and Hessian against centred differences, critical points."""

from __future__ import annotations

import numpy as np
import pytest

from deepscope.engine import surfaces
from deepscope.engine.expressions import ExpressionError
from deepscope.engine.surfaces import SURFACE_SPECS, CustomSurface, build, build_custom
from tests.conftest import derivative_1d


def _sample_points(surface: surfaces.Surface, n: int = 6) -> np.ndarray:
    rng = np.random.default_rng(len(surface.name))
    lo = np.array([a for a, _ in surface.domain])
    hi = np.array([b for _, b in surface.domain])
    return lo + (hi - lo) * (0.1 + 0.8 * rng.random((n, surface.dims)))


@pytest.mark.parametrize("name", list(SURFACE_SPECS))
def test_gradient_and_hessian_match_centred_differences(name: str) -> None:
    s = build(name)
    pts = _sample_points(s)
    g = s.gradient(pts)
    H = s.hessian(pts)
    span = max(hi - lo for lo, hi in s.domain)
    h = 1e-4 * span
    for i in range(s.dims):

        def f_along(t: np.ndarray, i: int = i) -> np.ndarray:
            p = pts.copy()
            p[:, i] = t
            return s.value(p)

        def g_along(t: np.ndarray, i: int = i) -> np.ndarray:
            p = pts.copy()
            p[:, i] = t
            return s.gradient(p)

        numeric_g = derivative_1d(f_along, pts[:, i], h=h)
        scale = 1 + np.abs(numeric_g).max()
        assert np.max(np.abs(g[:, i] - numeric_g)) <= 1e-7 * scale
        numeric_h = derivative_1d(g_along, pts[:, i], h=h)  # (n, d): ∂g/∂x_i
        scale = 1 + np.abs(numeric_h).max()
        assert np.max(np.abs(H[:, :, i] - numeric_h)) <= 1e-6 * scale
    np.testing.assert_allclose(H, np.swapaxes(H, -1, -2))


@pytest.mark.parametrize("name", list(SURFACE_SPECS))
def test_critical_points_are_critical_and_classified(name: str) -> None:
    s = build(name)
    assert s.critical_points, f"{name} has no critical point"
    for c in s.critical_points:
        p = np.array([c.point])
        assert np.linalg.norm(s.gradient(p)) < 1e-6
        eig = np.linalg.eigvalsh(s.hessian(p)[0])
        if c.kind == "minimum":
            assert np.all(eig > 0)
        elif c.kind == "maximum":
            assert np.all(eig < 0)
        elif c.kind == "saddle":
            assert eig.min() < 0 < eig.max()
    assert len(s.start) == s.dims
    for x, (lo, hi) in zip(s.start, s.domain, strict=True):
        assert lo <= x <= hi


def test_the_lectures_worked_numbers() -> None:
    q = build("quadratic_1d")
    assert [c.point for c in q.critical_points] == [(5.0,)]
    assert q.critical_points[0].value == -24.0
    assert q.hessian(np.array([[0.0]]))[0, 0, 0] == 2.0
    b = build("shifted_bowl")
    np.testing.assert_allclose(b.gradient(np.array([[-9.0, 6.0]])), [[-28.0, 12.0]])
    assert build("ill_conditioned").value(np.array([[-8.0, 5.0]]))[0] == pytest.approx(31.4)
    three = build("three_saddles")
    found = {(round(c.point[0], 6), round(c.point[1], 6)): c for c in three.critical_points}
    assert set(found) == {(0.0, 0.25), (-2.0, 0.375), (2.0, -0.625)}
    assert [found[k].value for k in ((0.0, 0.25), (-2.0, 0.375), (2.0, -0.625))] == pytest.approx(
        [0.0, 2.0, 6.0]
    )
    assert all(c.kind == "saddle" for c in three.critical_points)
    saddle = build("saddle").critical_points
    assert len(saddle) == 1 and saddle[0].kind == "saddle"


def test_quartic_has_one_minimum_and_no_local_minimum_near_zero() -> None:
    quartic = build("quartic_1d")
    assert [c.kind for c in quartic.critical_points] == ["minimum"]
    assert quartic.critical_points[0].point[0] == pytest.approx(37.5, abs=0.01)
    # The slide's "local minimum" near 0 is a flat shoulder: f′ < 0 there.
    xs = np.linspace(-5, 5, 101)[:, None]
    assert np.all(quartic.gradient(xs) < 0)


def test_known_minima_of_the_classics() -> None:
    def minima(name: str, **params: float) -> list[tuple[float, ...]]:
        return [tuple(round(v, 4) for v in c.point) for c in build(name, params).minima]

    assert minima("rosenbrock") == [(1.0, 1.0)]
    assert minima("rosenbrock", a=0.5, b=10) == [(0.5, 0.25)]
    assert (3.0, 0.5) in minima("beale")
    assert len(minima("himmelblau")) == 4
    assert minima("booth") == [(1.0, 3.0)]
    assert sorted(minima("six_hump_camel"))[:2] == [(-1.7036, 0.7961), (-1.6071, -0.5687)]
    assert len(minima("six_hump_camel")) == 6
    assert minima("styblinski_tang")[0] == (-2.9035, -2.9035)
    assert [c.kind for c in build("monkey_saddle").critical_points] == ["degenerate"]
    kinds = sorted(c.kind for c in build("styblinski_tang").critical_points)
    assert kinds == ["maximum"] + ["minimum"] * 4 + ["saddle"] * 4


def test_bowl_condition_and_rotation() -> None:
    bowl = build("bowl", {"condition": 25.0, "rotation": 45.0})
    eig = np.linalg.eigvalsh(bowl.hessian(np.array([[0.3, -0.2]]))[0])
    np.testing.assert_allclose(eig, [1.0, 25.0])
    with pytest.raises(ValueError, match="condition"):
        build("bowl", {"condition": 1000.0})
    with pytest.raises(ValueError, match="no parameter"):
        build("bowl", {"tilt": 1.0})


def test_grid_is_one_vectorized_call() -> None:
    s = build("himmelblau")
    axes, z = s.grid(256)
    assert z.shape == (256, 256)
    X, Y = np.meshgrid(*axes)
    np.testing.assert_allclose(z, (X**2 + Y - 11) ** 2 + (X + Y**2 - 7) ** 2)


def test_custom_surfaces() -> None:
    s = build_custom(CustomSurface("x**2 + 10*y**2"))
    assert s.dims == 2
    assert [(c.point, c.kind) for c in s.critical_points] == [((0.0, 0.0), "minimum")]
    one = build_custom(CustomSurface("(x - 1)**2", domain=((-3.0, 3.0),)))
    assert one.dims == 1 and one.critical_points[0].point == (1.0,)
    with pytest.raises(ExpressionError):
        build_custom(CustomSurface("x + y", dims=1))
    weird = build_custom(CustomSurface("log(x) + sqrt(y)"))  # NaN on half the domain
    assert all(np.isfinite(c.value) for c in weird.critical_points)


def test_unknown_surface() -> None:
    with pytest.raises(ValueError, match="unknown surface"):
        surfaces.build("everest")
