"""Small linear algebra for 1-D and 2-D surfaces (closed forms, no LAPACK per step)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


def symmetric(upper: Sequence[Any], shape: tuple[int, ...], d: int) -> NDArray[np.float64]:
    """(…, d, d) symmetric matrices from their upper triangles H_ij, i ≤ j, in row order
    (each entry an array of ``shape`` or a constant)."""
    H = np.empty((*shape, d, d))
    k = 0
    for i in range(d):
        for j in range(i, d):
            H[..., i, j] = upper[k]
            H[..., j, i] = upper[k]
            k += 1
    return H


def pinv_small(H: Array) -> Array:
    """Pseudo-inverses of a stack of 1×1 or 2×2 matrices (…, d, d), in closed form.

    Singular ones (|det| tiny next to the entries) fall back to np.linalg.pinv.
    """
    d = H.shape[-1]
    if d == 1:
        h = H[..., 0, 0]
        tiny = np.abs(h) <= 1e-300
        return np.where(tiny, 0.0, 1.0 / np.where(tiny, 1.0, h))[..., None, None]
    if d != 2:
        return _pinv_safe(H)
    a, b, c, e = H[..., 0, 0], H[..., 0, 1], H[..., 1, 0], H[..., 1, 1]
    det = a * e - b * c
    size = np.max(np.abs(H), axis=(-2, -1))
    singular = ~(np.abs(det) > 1e-12 * size * size)
    inv_det = 1.0 / np.where(singular, 1.0, det)
    inv = np.empty_like(H)
    inv[..., 0, 0] = e * inv_det
    inv[..., 0, 1] = -b * inv_det
    inv[..., 1, 0] = -c * inv_det
    inv[..., 1, 1] = a * inv_det
    if singular.any():
        inv[singular] = _pinv_safe(H[singular])
    return inv


def _pinv_safe(H: Array) -> Array:
    """np.linalg.pinv, with non-finite matrices (and SVD failures) giving zeros."""
    out = np.zeros_like(H)
    finite = np.all(np.isfinite(H), axis=(-2, -1))
    if finite.any():
        with contextlib.suppress(np.linalg.LinAlgError):
            out[finite] = np.linalg.pinv(H[finite])
    return out
