"""Building blocks as ``forward(x, …) -> (out, cache)`` / ``backward(dout, cache)`` pairs.

Shapes: N = batch, D = fan-in, M = pre-activations of a layer (units × pieces),
H = units. Everything is vectorised over the batch; nothing loops over units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from . import activations

Array = NDArray[np.floating]
BNMode = Literal["train", "eval"]
DropoutMode = Literal["inverted", "classic"]

BN_EPS = 1e-5  # as PyTorch (docs/numerics.md)
BN_MOMENTUM = 0.1  # running ← (1 − m)·running + m·batch, as PyTorch


# --- affine -------------------------------------------------------------------


def affine_forward(x: Array, W: Array, b: Array) -> Array:
    """a = x W + b: (N, D) @ (D, M) + (M,) -> (N, M)."""
    a = x @ W
    if np.any(b):  # biases are often all zero at init: skip a pass over (N, M)
        a += b
    return a


def affine_backward(da: Array, x: Array, W: Array) -> tuple[Array, Array, Array]:
    """Returns (dx (N, D), dW (D, M), db (M,))."""
    return da @ W.T, x.T @ da, da.sum(axis=0)


# --- batch norm ---------------------------------------------------------------


@dataclass
class BatchNormCache:
    xhat: Array  # (N, M) normalised input
    inv_std: Array  # (M,) 1/√(σ² + ε)
    gamma: Array  # (M,)
    mode: BNMode


def batchnorm_forward(
    a: Array,
    gamma: Array,
    beta: Array,
    mode: BNMode,
    running_mean: Array | None = None,
    running_var: Array | None = None,
    momentum: float = BN_MOMENTUM,
) -> tuple[Array, BatchNormCache]:
    """z = γ·(a − μ)/√(σ² + ε) + β with per-feature batch statistics (biased variance).

    In ``train`` mode the batch statistics are used and, when running buffers are
    given, folded into them in place; ``eval`` uses the running buffers.
    """
    if mode == "train":
        mu = a.mean(axis=0)
        var = a.var(axis=0)
        if running_mean is not None and running_var is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mu
            running_var *= 1 - momentum
            running_var += momentum * var
    else:
        if running_mean is None or running_var is None:
            raise ValueError("eval-mode batch norm needs running statistics")
        mu, var = running_mean, running_var
    inv_std = (1.0 / np.sqrt(var + BN_EPS)).astype(a.dtype, copy=False)
    xhat = (a - mu) * inv_std
    z = xhat * gamma
    z += beta
    return z, BatchNormCache(xhat, inv_std, gamma, mode)


def batchnorm_backward(dz: Array, cache: BatchNormCache) -> tuple[Array, Array, Array]:
    """Returns (da, dγ, dβ). In train mode μ and σ² depend on the batch too."""
    xhat, inv_std = cache.xhat, cache.inv_std
    dgamma = (dz * xhat).sum(axis=0)
    dbeta = dz.sum(axis=0)
    dxhat = dz * cache.gamma
    if cache.mode == "eval":
        return dxhat * inv_std, dgamma, dbeta
    n = dz.shape[0]
    # da = (1/N)·inv_std·(N·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂))
    da = dxhat * n
    da -= dxhat.sum(axis=0)
    da -= xhat * (dxhat * xhat).sum(axis=0)
    da *= inv_std / n
    return da, dgamma, dbeta


# --- activation ---------------------------------------------------------------


@dataclass
class ActivationCache:
    z: Array  # (N, M) input of the nonlinearity (post batch norm)
    dh_dz: Array  # (N, M) local derivative f′(z) (one-hot over pieces for maxout)
    k: int  # pieces per unit


def activation_forward(
    z: Array, name: str, params: activations.Params
) -> tuple[Array, ActivationCache]:
    """h = f(z): (N, M) -> (N, H) with M = H·k (k = 1 except maxout)."""
    act = activations.get(name)
    k = activations.pieces(name, params)
    if k > 1:
        z3 = z.reshape(z.shape[0], -1, k)  # (N, H, k)
        h = act.f(z3, params)
        d = act.df(z3, params).reshape(z.shape)
    else:
        h, d = act.value_and_derivative(z, params)
    return h, ActivationCache(z, d, k)


def activation_backward(dh: Array, cache: ActivationCache) -> Array:
    """dz = dh ⊙ f′(z): (N, H) -> (N, M)."""
    if cache.k > 1:
        n = dh.shape[0]
        return (cache.dh_dz.reshape(n, -1, cache.k) * dh[..., None]).reshape(n, -1)
    return dh * cache.dh_dz


def prelu_alpha_grad(dh: Array, z: Array) -> float:
    """∂L/∂α for h = max(αz, z): Σ dh·z over z ≤ 0."""
    return float(np.sum(dh * np.minimum(z, 0), dtype=np.float64))


# --- dropout ------------------------------------------------------------------


def dropout_mask(
    shape: tuple[int, ...], keep: float, rng: np.random.Generator, dtype: np.dtype[np.floating]
) -> Array:
    """A {0, 1} mask keeping each unit with probability ``keep``."""
    return (rng.random(shape, dtype=np.float64) < keep).astype(dtype)


def dropout_forward(
    h: Array, keep: float, mode: DropoutMode, train: bool, mask: Array | None
) -> tuple[Array, Array | None]:
    """Train: inverted h·m/p, classic h·m. Test: inverted h, classic h·p (p = keep).

    Returns (out, the multiplier applied, for the backward pass; None = identity).
    """
    if keep >= 1.0:
        return h, None
    if train:
        if mask is None:
            raise ValueError("training-mode dropout needs a mask")
        factor = mask / h.dtype.type(keep) if mode == "inverted" else mask
    else:
        if mode == "inverted":
            return h, None
        factor = np.full((1, h.shape[1]), keep, dtype=h.dtype)
    return h * factor, factor


def dropout_backward(dout: Array, factor: Array | None) -> Array:
    return dout if factor is None else dout * factor
