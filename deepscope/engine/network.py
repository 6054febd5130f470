"""A fully-connected network: parameters in one flat vector, forward and backward.

Each layer is   a = x W + b → [batch norm] → h = f(z) → [dropout] → [+ x]
(the skip connection only around a layer whose width equals its fan-in).

All trainable parameters live in one flat array (``Network.flat``); the per-layer
``W``, ``b``, ``gamma``, ``beta`` and ``alpha`` are views into it, so an optimizer
updates the whole network with a handful of array operations, and gradients are
written into a flat array of the same layout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import activations, initializers
from .layers import (
    BN_MOMENTUM,
    ActivationCache,
    BatchNormCache,
    BNMode,
    DropoutMode,
    activation_backward,
    activation_forward,
    affine_forward,
    batchnorm_backward,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    dropout_mask,
    prelu_alpha_grad,
)

Array = NDArray[np.floating]
BNStats = Literal["batch", "running"]


@dataclass(frozen=True)
class LayerSpec:
    """The architecture of one layer."""

    width: int  # units (H)
    activation: str = "tanh"
    act_params: tuple[tuple[str, float], ...] = ()  # resolved, as (name, value) pairs
    batchnorm: bool = False
    dropout_keep: float = 1.0  # keep probability p (1 = no dropout)
    dropout_mode: DropoutMode = "inverted"
    residual: bool = False  # skip connection, when fan-in == width

    @property
    def params(self) -> dict[str, float]:
        return dict(self.act_params)

    @property
    def pieces(self) -> int:
        return activations.pieces(self.activation, self.params)


@dataclass
class LayerParams:
    """Views into the flat parameter vector (and the batch-norm buffers)."""

    W: Array  # (D, M)
    b: Array  # (M,)
    gamma: Array | None = None  # (M,)
    beta: Array | None = None  # (M,)
    alpha: Array | None = None  # (1,) learnable PReLU slope
    running_mean: Array | None = None  # (M,) not trainable
    running_var: Array | None = None


@dataclass
class Network:
    input_dim: int
    specs: tuple[LayerSpec, ...]
    flat: Array  # every trainable parameter
    layers: list[LayerParams]
    weight_mask: NDArray[np.bool_]  # True on W entries (what L1/L2 penalise)

    @property
    def dtype(self) -> np.dtype[np.floating]:
        return self.flat.dtype

    @property
    def n_params(self) -> int:
        return int(self.flat.size)

    def zeros_like(self) -> tuple[Array, list[LayerParams]]:
        """A flat gradient buffer and per-layer views into it (same layout)."""
        flat = np.zeros_like(self.flat)
        return flat, param_views(flat, self.input_dim, self.specs)


def _layer_sizes(fan_in: int, spec: LayerSpec) -> list[tuple[str, tuple[int, ...]]]:
    m = spec.width * spec.pieces
    sizes: list[tuple[str, tuple[int, ...]]] = [("W", (fan_in, m)), ("b", (m,))]
    if spec.batchnorm:
        sizes += [("gamma", (m,)), ("beta", (m,))]
    if spec.activation == "prelu":
        sizes.append(("alpha", (1,)))
    return sizes


def count_params(input_dim: int, specs: Sequence[LayerSpec]) -> int:
    total, fan_in = 0, input_dim
    for spec in specs:
        total += sum(int(np.prod(shape)) for _, shape in _layer_sizes(fan_in, spec))
        fan_in = spec.width
    return total


def param_views(flat: Array, input_dim: int, specs: Sequence[LayerSpec]) -> list[LayerParams]:
    """Per-layer views (W, b, γ, β, α) into a flat vector of the network's layout."""
    out: list[LayerParams] = []
    offset, fan_in = 0, input_dim
    for spec in specs:
        parts: dict[str, Array] = {}
        for name, shape in _layer_sizes(fan_in, spec):
            size = int(np.prod(shape))
            parts[name] = flat[offset : offset + size].reshape(shape)
            offset += size
        out.append(LayerParams(**parts))
        fan_in = spec.width
    return out


def build(
    input_dim: int,
    specs: Sequence[LayerSpec],
    init: str,
    scale: float,
    bias: float,
    rng: np.random.Generator,
    dtype: DTypeLike = np.float32,
    bn_gamma: float = 1.0,
    bn_beta: float = 0.0,
    bases: Sequence[NDArray[np.float32]] | None = None,
) -> Network:
    """A network with weights from ``init`` (× ``scale``) and every bias = ``bias``.

    ``bases`` are earlier unit draws of the init's family, one per layer (see
    ``initializers.base_draw``), reused instead of drawing from ``rng``.
    """
    specs = tuple(specs)
    flat = np.zeros(count_params(input_dim, specs), dtype=dtype)
    layers = param_views(flat, input_dim, specs)
    weight_mask = np.zeros(flat.size, dtype=bool)
    wmask_views = param_views(weight_mask, input_dim, specs)
    fan_in = input_dim
    for i, (spec, layer, wm) in enumerate(zip(specs, layers, wmask_views, strict=True)):
        m = layer.W.shape[1]
        base = bases[i] if bases is not None else None
        layer.W[...] = initializers.init_weight(init, fan_in, m, scale, rng, dtype, base=base)
        layer.b[...] = bias
        wm.W[...] = True
        if layer.gamma is not None and layer.beta is not None:
            layer.gamma[...] = bn_gamma
            layer.beta[...] = bn_beta
            layer.running_mean = np.zeros(m, dtype=dtype)
            layer.running_var = np.ones(m, dtype=dtype)
        if layer.alpha is not None:
            layer.alpha[...] = spec.params["alpha"]
        fan_in = spec.width
    return Network(input_dim, specs, flat, layers, weight_mask)


@dataclass
class LayerCache:
    """What one layer's backward needs, and what the labs show."""

    x: Array  # (N, D) layer input
    act: ActivationCache  # z (N, M) and f′(z)
    h: Array  # (N, H) unit activation f(z), before dropout and skip
    bn: BatchNormCache | None
    dropout: Array | None  # multiplier applied to h (mask/p, mask, p) or None
    residual: bool
    # Filled by backward:
    grad_h: Array | None = None  # (N, H) ∂L/∂h at the unit's output
    grad_z: Array | None = None  # (N, M) ∂L/∂z, the pre-activation's (after batch norm's)
    extra: dict[str, float] = field(default_factory=dict)


def layer_forward(
    x: Array,
    spec: LayerSpec,
    p: LayerParams,
    *,
    train: bool,
    mask: Array | None,
    bn_stats: BNStats = "batch",
    update_running: bool = False,
    bn_momentum: float = BN_MOMENTUM,
) -> tuple[Array, LayerCache]:
    """One layer: (N, D) -> (N, H).

    ``train`` switches dropout to its training form; ``bn_stats`` picks batch or
    running statistics for batch norm; ``update_running`` folds the batch
    statistics into the running buffers.
    """
    z = affine_forward(x, p.W, p.b)
    bn_cache = None
    if spec.batchnorm and p.gamma is not None and p.beta is not None:
        mode: BNMode = "train" if bn_stats == "batch" else "eval"
        track = mode == "eval" or update_running
        z, bn_cache = batchnorm_forward(
            z,
            p.gamma,
            p.beta,
            mode,
            p.running_mean if track else None,
            p.running_var if track else None,
            bn_momentum,
        )
    act_params = spec.params
    if p.alpha is not None:
        act_params["alpha"] = float(p.alpha[0])
    h, act_cache = activation_forward(z, spec.activation, act_params)
    out, factor = dropout_forward(h, spec.dropout_keep, spec.dropout_mode, train, mask)
    residual = spec.residual and x.shape[1] == spec.width
    if residual:
        out = out + x
    return out, LayerCache(x, act_cache, h, bn_cache, factor, residual)


def layer_backward(
    dout: Array, cache: LayerCache, p: LayerParams, g: LayerParams, need_dx: bool = True
) -> Array | None:
    """Backward of one layer; writes dW, db, dγ, dβ, dα into ``g``; returns dx.

    dW = xᵀ dz and db = Σ dz go straight into the gradient buffer's views;
    ``need_dx=False`` skips dx = dz Wᵀ (the first layer's, when ∂L/∂X is unused).
    """
    grad_h = dropout_backward(dout, cache.dropout)
    cache.grad_h = grad_h
    dz = activation_backward(grad_h, cache.act)
    if g.alpha is not None:
        g.alpha[0] = prelu_alpha_grad(grad_h, cache.act.z)
    if cache.bn is not None and g.gamma is not None and g.beta is not None:
        dz, dgamma, dbeta = batchnorm_backward(dz, cache.bn)
        g.gamma[...] = dgamma
        g.beta[...] = dbeta
    cache.grad_z = dz
    np.matmul(cache.x.T, dz, out=g.W)
    np.sum(dz, axis=0, out=g.b)
    if not need_dx:
        return None
    dx = dz @ p.W.T
    if cache.residual:
        dx += dout
    return dx


def make_masks(net: Network, batch: int, rng: np.random.Generator) -> list[Array | None]:
    """One seeded dropout mask per layer (None where keep = 1)."""
    return [
        dropout_mask((batch, s.width), s.dropout_keep, rng, net.dtype)
        if s.dropout_keep < 1
        else None
        for s in net.specs
    ]


def forward(
    net: Network,
    X: Array,
    *,
    train: bool = True,
    masks: Sequence[Array | None] | None = None,
    bn_stats: BNStats | None = None,
    update_running: bool = False,
    bn_momentum: float = BN_MOMENTUM,
    on_layer: Callable[[int, LayerCache], None] | None = None,
) -> tuple[Array, list[LayerCache]]:
    """All layers: (N, D) -> (N, H_last), with the caches for backward.

    Batch norm uses batch statistics when training and running ones otherwise,
    unless ``bn_stats`` says which. ``on_layer(i, cache)`` is called as each
    layer finishes (the layers lab computes its statistics there).
    """
    stats: BNStats = bn_stats or ("batch" if train else "running")
    if masks is None:
        if train and any(s.dropout_keep < 1 for s in net.specs):
            raise ValueError("training-mode dropout needs masks (see make_masks)")
        masks = [None] * len(net.specs)
    h = X.astype(net.dtype, copy=False)
    caches: list[LayerCache] = []
    for spec, p, mask in zip(net.specs, net.layers, masks, strict=True):
        h, cache = layer_forward(
            h,
            spec,
            p,
            train=train,
            mask=mask,
            bn_stats=stats,
            update_running=update_running,
            bn_momentum=bn_momentum,
        )
        caches.append(cache)
        if on_layer is not None:
            on_layer(len(caches) - 1, cache)
    return h, caches


def backward(
    net: Network,
    dout: Array,
    caches: Sequence[LayerCache],
    *,
    need_input_grad: bool = True,
    on_layer: Callable[[int, LayerCache, LayerParams], None] | None = None,
) -> tuple[Array, Array | None]:
    """Backpropagate ∂L/∂out; returns (flat gradient, ∂L/∂X, or None if not needed).

    ``on_layer(i, cache, grads_i)`` is called as each layer's gradients are ready.
    """
    grad_flat, grads = net.zeros_like()
    dx: Array | None = dout
    for i in range(len(caches) - 1, -1, -1):
        assert dx is not None
        need_dx = need_input_grad or i > 0
        dx = layer_backward(dx, caches[i], net.layers[i], grads[i], need_dx=need_dx)
        if on_layer is not None:
            on_layer(i, caches[i], grads[i])
    return grad_flat, dx
