"""The layers lab: what happens to activations and gradients through depth.

A deep MLP is initialised (not trained), a batch of random inputs is pushed
forward and the loss L = ½‖h_L‖²/N pushed backward (so ∂L/∂h_L = h_L/N,
SPEC §3). For every layer it reports histograms on fixed edges of the
pre-activation z (the input of f, after batch norm), the activation h = f(z),
the local derivative f′(z), the upstream gradient ∂L/∂h and the weight gradient
∂L/∂W, with the saturated fraction, dead units, zero fraction and ‖∂L/∂W‖, and the
linear-regime theory Var(s_k) = Var(s_{k−1})·n·Var(w)·gain.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from . import activations, initializers
from .histograms import Bins, Histogram, histogram
from .network import BNStats, LayerSpec, build, forward, layer_backward, make_masks

Array = NDArray[np.floating]
QUANTITIES = ("preactivation", "activation", "derivative", "gradient", "weight_gradient")
Quantity = Literal["preactivation", "activation", "derivative", "gradient", "weight_gradient"]

PREACTIVATION_RANGE = (-6.0, 6.0)
GRADIENT_LOG10_RANGE = (-16.0, 2.0)  # |∂L/∂·| from 1e-16 to 1e2


@dataclass(frozen=True)
class InputDistribution:
    """Inputs x ~ N(mean, std²) or U(low, high), i.i.d. per entry."""

    distribution: Literal["normal", "uniform"] = "normal"
    mean: float = 0.0
    std: float = 1.0
    low: float = -1.0
    high: float = 1.0

    def sample(self, shape: tuple[int, int], rng: np.random.Generator) -> NDArray[np.float64]:
        if self.distribution == "normal":
            return rng.normal(self.mean, self.std, shape)
        return rng.uniform(self.low, self.high, shape)

    @property
    def second_moment(self) -> float:
        """E[x²] (what the first layer's variance depends on)."""
        if self.distribution == "normal":
            return self.std**2 + self.mean**2
        return (self.low**2 + self.low * self.high + self.high**2) / 3.0


@dataclass(frozen=True)
class LayersConfig:
    """The lecture's experiment by default: tanh, N(0, 0.01²), 10 × 500, batch 1000."""

    widths: tuple[int, ...] = (500,) * 10
    input_dim: int = 500
    batch: int = 1000
    input: InputDistribution = field(default_factory=InputDistribution)
    activation: str = "tanh"
    activation_params: Mapping[str, float] = field(default_factory=dict)
    init: str = "normal"
    scale: float = 0.01  # multiplier on the scheme's std
    bias: float = 0.0
    batchnorm: Literal["off", "train", "eval"] = "off"
    bn_gamma: float = 1.0
    bn_beta: float = 0.0
    dropout_keep: float = 1.0
    dropout_mode: Literal["inverted", "classic"] = "inverted"
    residual: bool = False
    seed: int = 0
    bins: int = 50
    dtype: Literal["float32", "float64"] = "float32"


@dataclass
class LayerStats:
    index: int  # 1-based
    width: int
    hist: dict[str, Histogram]
    saturated_fraction: float
    dead_units: int
    zero_fraction: float
    grad_norm: float | None  # ‖∂L/∂W‖_F (None once it overflows)
    n_var_w: float  # fan_in · Var(W) measured on this layer's weights


@dataclass
class LayersResult:
    layers: list[LayerStats]
    bins: dict[str, Bins]
    theory: list[float] | None  # predicted pre-activation variance per layer
    theory_note: str
    n_var_w_expected: list[float]  # fan_in · Var(w) of the scheme, per layer
    target_gain: float | None  # 1 for tanh, 2 for ReLU, None if no simple law
    saturation_rule: str
    loss: float | None
    elapsed_ms: float


def quantity_bins(activation: str, n: int) -> dict[str, Bins]:
    """Edges per quantity: fixed for an activation, shared by every layer."""
    act = activations.get(activation)
    return {
        "preactivation": Bins(*PREACTIVATION_RANGE, n),
        "activation": Bins(*act.output_range, n),
        "derivative": Bins(*act.derivative_range, n),
        "gradient": Bins(*GRADIENT_LOG10_RANGE, n, "log"),
        "weight_gradient": Bins(*GRADIENT_LOG10_RANGE, n, "log"),
    }


def layer_specs(config: LayersConfig) -> tuple[LayerSpec, ...]:
    act = activations.get(config.activation)
    params = tuple(sorted(act.resolve(config.activation_params).items()))
    return tuple(
        LayerSpec(
            width=w,
            activation=config.activation,
            act_params=params,
            batchnorm=config.batchnorm != "off",
            dropout_keep=config.dropout_keep,
            dropout_mode=config.dropout_mode,
            residual=config.residual,
        )
        for w in config.widths
    )


def theory_variance(config: LayersConfig) -> tuple[list[float] | None, str]:
    """Predicted Var(z_k) per layer, and a note on when it holds.

    Linear regime: Var(s_1) = n₀·Var(w)·E[x²]; Var(s_{k+1}) = n_k·Var(w)·g·d·Var(s_k),
    with g = E[f(s)²]/Var(s) (1 for tanh/linear, ½ for ReLU) and d the dropout
    factor (1/p inverted, p classic). With batch norm the normalised input of f
    has variance γ².
    """
    act = activations.get(config.activation)
    params = act.resolve(config.activation_params)
    depth = len(config.widths)
    if config.batchnorm != "off":
        return [config.bn_gamma**2] * depth, "batch norm: Var(z) = γ² at every layer"
    if act.variance_gain is None:
        return None, f"no simple variance law for {config.activation}"
    if config.residual:
        return None, "no simple variance law with skip connections"
    if config.bias != 0.0:
        return None, "the variance law assumes zero bias"
    if config.init == "constant":
        return None, "constant weights are not zero-mean"
    gain = act.variance_gain(params)
    p = config.dropout_keep
    drop = 1.0 if p >= 1 else (1.0 / p if config.dropout_mode == "inverted" else p)
    out: list[float] = []
    fan_in = config.input_dim
    second = config.input.second_moment
    for k, width in enumerate(config.widths):
        var_w = initializers.weight_variance(config.init, fan_in, width, config.scale)
        v = fan_in * var_w * (second if k == 0 else gain * drop * out[-1])
        out.append(min(v, 1e300))
        fan_in = width
    return out, "linear regime: Var(z_k) = n·Var(w)·g·Var(z_{k−1}); exact only while f ≈ linear"


def _rngs(seed: int) -> tuple[np.random.Generator, ...]:
    # Independent streams, so e.g. changing the batch size keeps the weights.
    return tuple(np.random.default_rng([seed, stream]) for stream in range(4))


def run(config: LayersConfig) -> LayersResult:
    """Forward + backward + every statistic, for one configuration."""
    started = time.perf_counter()
    dtype = np.dtype(config.dtype)
    act = activations.get(config.activation)
    specs = layer_specs(config)
    rng_w, rng_x, rng_mask, rng_cal = _rngs(config.seed)
    net = build(
        config.input_dim,
        specs,
        config.init,
        config.scale,
        config.bias,
        rng_w,
        dtype,
        bn_gamma=config.bn_gamma,
        bn_beta=config.bn_beta,
    )
    X = config.input.sample((config.batch, config.input_dim), rng_x).astype(dtype)
    if config.batchnorm == "eval":
        # Fixed statistics, estimated from a separate batch of the same inputs:
        # what the running averages of a trained net converge to.
        X_cal = config.input.sample((config.batch, config.input_dim), rng_cal).astype(dtype)
        forward(net, X_cal, train=False, bn_stats="batch", update_running=True, bn_momentum=1.0)
    masks = make_masks(net, config.batch, rng_mask)
    bn_stats: BNStats = "running" if config.batchnorm == "eval" else "batch"

    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        out, caches = forward(net, X, train=True, masks=masks, bn_stats=bn_stats)
        loss = 0.5 * float(np.sum(np.square(out, dtype=np.float64))) / config.batch
        _, grads = net.zeros_like()
        dout = out / dtype.type(config.batch)  # ∂L/∂h_L for L = ½‖h_L‖²/N
        for p, g, cache in zip(
            reversed(net.layers), reversed(grads), reversed(caches), strict=True
        ):
            dout = layer_backward(dout, cache, p, g)

        bins = quantity_bins(config.activation, config.bins)
        layers: list[LayerStats] = []
        fan_in = config.input_dim
        for i, (cache, g, p) in enumerate(zip(caches, grads, net.layers, strict=True)):
            z, h = cache.act.z, cache.h
            assert cache.grad_h is not None
            hist = {
                "preactivation": histogram(z, bins["preactivation"]),
                "activation": histogram(h, bins["activation"]),
                "derivative": histogram(cache.act.dh_dz, bins["derivative"]),
                "gradient": histogram(cache.grad_h, bins["gradient"]),
                "weight_gradient": histogram(g.W, bins["weight_gradient"]),
            }
            saturated = 0.0
            if act.saturated is not None:
                saturated = float(np.count_nonzero(act.saturated(z, h))) / h.size
            alive = np.any(h != 0, axis=0)
            dead = int(h.shape[1] - np.count_nonzero(alive))
            zero_fraction = float(h.size - np.count_nonzero(h)) / h.size
            grad_norm = _finite(math.sqrt(float(np.sum(np.square(g.W, dtype=np.float64)))))
            n_var_w = fan_in * float(np.var(p.W, dtype=np.float64))
            layers.append(
                LayerStats(
                    index=i + 1,
                    width=specs[i].width,
                    hist=hist,
                    saturated_fraction=saturated,
                    dead_units=dead,
                    zero_fraction=zero_fraction,
                    grad_norm=grad_norm,
                    n_var_w=n_var_w,
                )
            )
            fan_in = specs[i].width

    theory, note = theory_variance(config)
    expected: list[float] = []
    fan_in = config.input_dim
    for w in config.widths:
        m = w * activations.pieces(config.activation, act.resolve(config.activation_params))
        expected.append(fan_in * initializers.weight_variance(config.init, fan_in, m, config.scale))
        fan_in = w
    return LayersResult(
        layers=layers,
        bins=bins,
        theory=theory,
        theory_note=note,
        n_var_w_expected=expected,
        target_gain=act.target_gain(act.resolve(config.activation_params)),
        saturation_rule=act.saturation_rule,
        loss=_finite(loss),
        elapsed_ms=(time.perf_counter() - started) * 1e3,
    )


def _finite(x: float) -> float | None:
    """A diverged net's norms overflow: None (shown as "overflow") instead of inf/NaN."""
    return x if math.isfinite(x) else None
