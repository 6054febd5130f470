"""Shared test helpers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray


def centred_difference(
    f: Callable[[NDArray[np.float64]], float], x: NDArray[np.float64], h: float = 1e-3
) -> NDArray[np.float64]:
    """∂f/∂x entry by entry by the five-point centred difference
    (f(x−2h) − 8f(x−h) + 8f(x+h) − f(x+2h)) / 12h, whose O(h⁴) truncation error
    leaves float64 round-off as the only limit. x is modified and restored."""
    grad = np.zeros_like(x)
    flat, g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        values = []
        for step in (-2, -1, 1, 2):
            flat[i] = old + step * h
            values.append(f(x))
        flat[i] = old
        g[i] = (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * h)
    return grad


def derivative_1d(
    f: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    x: NDArray[np.float64],
    h: float = 1e-3,
) -> NDArray[np.float64]:
    """Element-wise f′(x) by the five-point centred difference (error O(h⁴))."""
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)


def relative_error(
    a: NDArray[np.float64], b: NDArray[np.float64], floor: float | None = None
) -> float:
    """max |a − b| / max(|a|, |b|, floor), element-wise.

    The default floor is 1e-5 of the largest entry: components 10⁵ times smaller than
    the gradient's scale are compared absolutely, since round-off in the numeric
    derivative is proportional to the scale, not to the component.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if floor is None:
        floor = 1e-5 * max(
            float(np.max(np.abs(a), initial=0)), float(np.max(np.abs(b), initial=0)), 1e-30
        )
    return float(np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)))
