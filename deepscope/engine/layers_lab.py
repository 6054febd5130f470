"""The layers lab: what happens to activations and gradients through depth.

A deep MLP is initialised (not trained), a batch of random inputs is pushed
forward and the loss L = ½‖h_L‖²/N pushed backward (so ∂L/∂h_L = h_L/N,
docs/numerics.md). For every layer it reports histograms on fixed edges of the
pre-activation z (the input of f, after batch norm), the activation h = f(z),
the local derivative f′(z), the upstream gradient ∂L/∂h and the weight gradient
∂L/∂W, with the saturated fraction, dead units, zero fraction and ‖∂L/∂W‖, and the
linear-regime theory Var(s_k) = Var(s_{k−1})·n·Var(w)·gain.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from . import activations, initializers
from .histograms import Bins, Histogram, histogram, moments
from .knobs import BIAS, DROPOUT, SCALE_RANGE, SEED, Knob, knob, same
from .network import (
    BNStats,
    LayerCache,
    LayerParams,
    LayerSpec,
    backward,
    build,
    forward,
)
from .text import Text

Array = NDArray[np.floating]
Quantity = Literal["preactivation", "activation", "derivative", "gradient", "weight_gradient"]
# The histogrammed quantities, in the order a layer computes them (the page's menu too).
QUANTITIES: tuple[Quantity, ...] = (
    "preactivation",
    "activation",
    "derivative",
    "gradient",
    "weight_gradient",
)

PREACTIVATION_RANGE = (-6.0, 6.0)

_WIDTH_RANGE: dict[str, Any] = {"ge": 2, "le": 1000, "log": True, "integer": True}
MAX_DEPTH = 50
DEPTH = Knob(
    10, "the lecture's ten layers: deep enough to show vanishing", ge=1, le=MAX_DEPTH, integer=True
)
WIDTH = Knob(500, "the lecture's 500 units per layer", **_WIDTH_RANGE)
GRADIENT_LOG10_RANGE = (-16.0, 2.0)  # |∂L/∂·| from 1e-16 to 1e2


@dataclass(frozen=True)
class InputDistribution:
    """Inputs x ~ N(mean, std²) or U(low, high), i.i.d. per entry."""

    distribution: Literal["normal", "uniform"] = "normal"
    mean: float = knob(0.0, "centred inputs, as after standardising", ge=-10, le=10, step=0.1)
    std: float = knob(1.0, "unit variance, the theory's Var(x) = 1", gt=0, le=100, step=0.1)
    low: float = knob(
        0.0,
        "U(0, 1): all-positive inputs, the case the lecture shows (each unit's weight "
        "gradients then share one sign)",
        ge=-100,
        le=100,
        step=0.1,
    )
    high: float = knob(
        1.0, "with low = 0, inputs in (0, 1) like pixel intensities", ge=-100, le=100, step=0.1
    )

    def unit_draw(self, shape: tuple[int, int], rng: np.random.Generator) -> NDArray[np.float32]:
        """N(0, 1) or U(0, 1) draws, which ``from_unit`` shifts and scales."""
        if self.distribution == "normal":
            return rng.standard_normal(shape, dtype=np.float32)
        return rng.random(shape, dtype=np.float32)

    def from_unit(self, unit: NDArray[np.float32], dtype: np.dtype[Any]) -> Array:
        x = unit.astype(dtype)
        if self.distribution == "normal":
            x *= dtype.type(self.std)
            x += dtype.type(self.mean)
        else:
            x *= dtype.type(self.high - self.low)
            x += dtype.type(self.low)
        return x

    @property
    def second_moment(self) -> float:
        """E[x²] (what the first layer's variance depends on)."""
        if self.distribution == "normal":
            return self.std**2 + self.mean**2
        return (self.low**2 + self.low * self.high + self.high**2) / 3.0


@dataclass(frozen=True)
class LayersConfig:
    """The lecture's experiment by default: tanh, N(0, 0.01²), 10 × 500, batch 1000."""

    widths: tuple[int, ...] = (WIDTH.default,) * DEPTH.default
    input_dim: int = knob(
        500, "as wide as the layers, so the first layer is like the others", **_WIDTH_RANGE
    )
    batch: int = knob(
        1000,
        "enough samples that a layer's histogram and std are smooth",
        ge=10,
        le=4000,
        log=True,
        integer=True,
    )
    input: InputDistribution = field(default_factory=InputDistribution)
    activation: str = "tanh"
    activation_params: Mapping[str, float] = field(default_factory=dict)
    init: str = "normal"
    scale: float = knob(
        0.01,
        "the lecture's N(0, 0.01²): small weights, whose activations vanish with depth",
        **SCALE_RANGE,
    )  # multiplier on the scheme's std
    bias: float = same(BIAS)
    batchnorm: Literal["off", "train", "eval"] = "off"
    bn_gamma: float = knob(1.0, "batch norm's identity scale", ge=0, le=5, step=0.05)
    bn_beta: float = knob(0.0, "batch norm's identity shift", ge=-5, le=5, step=0.05)
    dropout_keep: float = same(DROPOUT)
    dropout_mode: Literal["inverted", "classic"] = "inverted"
    residual: bool = False
    seed: int = same(SEED)
    bins: int = knob(
        50,
        "fine enough to show a histogram's shape, coarse enough that 1000 samples fill it",
        ge=5,
        le=200,
        integer=True,
        options=(20, 30, 50, 100),
    )
    dtype: Literal["float32", "float64"] = "float32"
    quantities: tuple[str, ...] = QUANTITIES  # histograms to count (moments: always all)


FlagKind = Literal["underflow", "underflow_some"]


@dataclass(frozen=True)
class LayerFlag:
    """Something the working precision did to a quantity at a layer.

    ``underflow``: every value is exactly 0, though it is computed from values that
    are not (the true values are below the dtype's smallest number, 1.4e-45 in
    float32): a log axis has nothing to draw. ``underflow_some``: a share of the
    activations is exactly 0 though the activation is never 0 (σ, tanh, softplus…).
    """

    quantity: Quantity
    kind: FlagKind
    share: float  # of the layer's values


@dataclass
class LayerStats:
    index: int  # 1-based
    width: int
    hist: dict[str, Histogram]
    saturated_fraction: float
    dead_units: int | None  # None on a coarse run: a subsample overstates "zero for all"
    zero_fraction: float
    grad_norm: float | None  # ‖∂L/∂W‖_F (None once it overflows)
    n_var_w: float  # fan_in · Var(W) measured on this layer's weights
    flags: list[LayerFlag] = field(default_factory=list)


@dataclass
class LayersResult:
    layers: list[LayerStats]
    bins: dict[str, Bins]
    theory: list[float] | None  # predicted pre-activation variance per layer
    theory_note: Text  # when the predicted variance holds (layers.theory.*)
    n_var_w_expected: list[float]  # fan_in · Var(w) of the scheme, per layer
    target_gain: float | None  # 1 for tanh, 2 for ReLU, None if no simple law
    saturation_rule: Text  # activation.<name>.saturation
    loss: float | None
    elapsed_ms: float
    samples: int  # rows of the batch the statistics were taken on
    batch: int  # rows of the whole batch

    @property
    def coarse(self) -> bool:
        return self.samples < self.batch


class Abandoned(Exception):  # noqa: N818 (a signal, not an error)
    """Nobody wants this run's result any more (checked between layers)."""


COARSE_FRACTION = 8  # a coarse run uses about an eighth of the batch…
COARSE_MIN_ROWS = 100  # …but never fewer rows than this


def coarse_rows(batch: int) -> int | None:
    """Rows of a coarse run for this batch, or None when the batch is small anyway.

    The coarse run costs about ``1 / COARSE_FRACTION`` of the complete one; a batch
    of at most ``2 · COARSE_MIN_ROWS`` rows is cheap enough to compute whole.
    """
    if batch <= 2 * COARSE_MIN_ROWS:
        return None
    return max(COARSE_MIN_ROWS, round(batch / COARSE_FRACTION))


FORWARD_QUANTITIES = ("preactivation", "activation", "derivative")  # known after forward


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


def theory_variance(config: LayersConfig) -> tuple[list[float] | None, Text]:
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
        return [config.bn_gamma**2] * depth, Text("layers.theory.batchnorm")
    if act.variance_gain is None:
        return None, Text("layers.theory.no_law", {"name": config.activation})
    if config.residual:
        return None, Text("layers.theory.residual")
    if config.bias != 0.0:
        return None, Text("layers.theory.bias")
    if config.init == "constant":
        return None, Text("layers.theory.constant")
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
    return out, Text("layers.theory.linear")


class DrawCache:
    """Unit random draws kept between runs, up to a byte budget (least recently used out).

    A slider move that keeps the seed and the shapes (scale, init scheme, activation,
    bias…) reuses the same draws instead of sampling a million numbers again; the
    arrays are read-only so a run cannot change them for the next one.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[Any, ...], list[NDArray[np.float32]]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(
        self, key: tuple[Any, ...], make: Callable[[], list[NDArray[np.float32]]]
    ) -> list[NDArray[np.float32]]:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        arrays = make()
        for a in arrays:
            a.flags.writeable = False
        size = sum(a.nbytes for a in arrays)
        if size <= self.max_bytes:
            with self._lock:
                if key not in self._items:
                    self._items[key] = arrays
                    self._bytes += size
                while self._bytes > self.max_bytes:
                    _, old = self._items.popitem(last=False)
                    self._bytes -= sum(a.nbytes for a in old)
        return arrays

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


DRAWS = DrawCache(max_bytes=128 * 2**20)

# Independent random streams of one seed, so e.g. a new batch size keeps the weights.
_WEIGHTS, _INPUTS, _DROPOUT, _CALIBRATION = range(4)


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def _weight_bases(
    config: LayersConfig, family: initializers.Family, k: int
) -> tuple[list[NDArray[np.float32]], list[float]]:
    """Unit draws per layer and their measured variances (cached together)."""
    dims = [config.input_dim, *config.widths]
    shapes = [(a, b * k) for a, b in itertools.pairwise(dims)]

    def make() -> list[NDArray[np.float32]]:
        rng = _rng(config.seed, _WEIGHTS)
        bases = [initializers.base_draw(family, a, b, rng) for a, b in shapes]
        variances = np.array([moments(b)[1] ** 2 for b in bases], dtype=np.float32)
        return [*bases, variances]

    *bases, variances = DRAWS.get(("weights", config.seed, family, tuple(shapes)), make)
    return bases, [float(v) for v in variances]


def _inputs(config: LayersConfig, stream: int, dtype: np.dtype[Any], rows: int) -> Array:
    """The batch's first ``rows`` rows (a coarse run's subsample is the same batch's)."""
    shape = (config.batch, config.input_dim)
    unit = DRAWS.get(
        ("inputs", config.seed, stream, config.input.distribution, shape),
        lambda: [config.input.unit_draw(shape, _rng(config.seed, stream))],
    )[0]
    return config.input.from_unit(unit[:rows], dtype)


def _dropout_masks(config: LayersConfig, dtype: np.dtype[Any]) -> list[Array | None]:
    """Masks from cached U(0, 1) draws: raising keep only ever adds kept units."""
    if config.dropout_keep >= 1:
        return [None] * len(config.widths)
    shapes = [(config.batch, w) for w in config.widths]

    def make() -> list[NDArray[np.float32]]:
        rng = _rng(config.seed, _DROPOUT)
        return [rng.random(s, dtype=np.float32) for s in shapes]

    uniforms = DRAWS.get(("dropout", config.seed, tuple(shapes)), make)
    return [(u < config.dropout_keep).astype(dtype) for u in uniforms]


_QUIET = {"over": "ignore", "invalid": "ignore", "under": "ignore", "divide": "ignore"}


def _batch_sum_scale(cache: LayerCache, dW: Array, batch: int) -> float:
    """How much larger ‖∂L/∂W‖ is over the whole batch than over this subsample.

    ∂L/∂W = Σᵢ tᵢ with tᵢ = xᵢ dzᵢᵀ, one term per sample. Over n samples
    E‖Σ tᵢ‖² = n·m + n(n − 1)·c, with m = E‖tᵢ‖² = E[‖xᵢ‖²‖dzᵢ‖²] and c the mean
    inner product of two different terms (their coherent part). Both are estimated
    from the b rows at hand, and the whole batch's ‖∂L/∂W‖ predicted from them: a
    sum of incoherent terms grows as √N, a coherent one as N, so neither N/b nor
    √(N/b) alone would do.
    """
    with np.errstate(**_QUIET):  # type: ignore[arg-type]
        dz = cache.grad_z  # (the backward pass's own)
        assert dz is not None
        x2 = np.einsum("ij,ij->i", cache.x, cache.x, dtype=np.float64)
        dz2 = np.einsum("ij,ij->i", dz, dz, dtype=np.float64)
        b = len(x2)
        m = float(np.dot(x2, dz2)) / b
        s2 = float(np.sum(np.square(dW, dtype=np.float64)))
    if not (math.isfinite(m) and math.isfinite(s2)) or s2 <= 0 or b < 2:
        return batch / b
    c = (s2 - b * m) / (b * (b - 1))
    whole = max(batch * m + batch * (batch - 1) * c, s2)  # never below the subsample's own
    return math.sqrt(whole / s2)


def _forward_stats(
    cache: LayerCache,
    act: activations.Activation,
    bins: dict[str, Bins],
    counted: set[str],
    dead: bool = True,
) -> dict[str, Any]:
    """Histograms of z, h = f(z), f′(z); saturation, dead units, zero fraction."""
    z, h = cache.act.z, cache.h
    with np.errstate(**_QUIET):  # type: ignore[arg-type]
        hist = {
            q: histogram(x, bins[q], with_counts=q in counted)
            for q, x in zip(FORWARD_QUANTITIES, (z, h, cache.act.dh_dz), strict=True)
        }
        saturated = 0.0
        if act.saturated is not None:
            saturated = float(np.count_nonzero(act.saturated(z, h))) / h.size
        zeros = h.size - np.count_nonzero(h)
        dead_units: int | None = None
        if dead:  # a dead unit is zero for every sample (only possible if some zeros)
            dead_units = int(h.shape[1] - np.count_nonzero(np.any(h != 0, axis=0))) if zeros else 0
    return {
        "hist": hist,
        "saturated_fraction": saturated,
        "dead_units": dead_units,
        "zero_fraction": float(zeros) / h.size,
    }


def _backward_stats(
    cache: LayerCache, dW: Array, bins: dict[str, Bins], counted: set[str]
) -> dict[str, Any]:
    """Histograms of ∂L/∂h and ∂L/∂W, and ‖∂L/∂W‖ from the latter's moments."""
    assert cache.grad_h is not None
    with np.errstate(**_QUIET):  # type: ignore[arg-type]
        weight_gradient = histogram(
            dW, bins["weight_gradient"], with_counts="weight_gradient" in counted
        )
        gradient = histogram(cache.grad_h, bins["gradient"], with_counts="gradient" in counted)
    grad_norm = None  # ‖dW‖ = √(n·(std² + mean²))
    if weight_gradient.mean is not None and weight_gradient.std is not None:
        grad_norm = _finite(math.sqrt(dW.size * (weight_gradient.std**2 + weight_gradient.mean**2)))
    return {
        "hist": {"gradient": gradient, "weight_gradient": weight_gradient},
        "grad_norm": grad_norm,
    }


def run(
    config: LayersConfig,
    samples: int | None = None,
    abandoned: Callable[[], bool] | None = None,
) -> LayersResult:
    """Forward + backward + every statistic, for one configuration.

    ``samples`` < batch makes a *coarse* run: the same network and the first
    ``samples`` rows of the very same input batch (and dropout masks), so every
    statistic is an estimate of the complete run's. Per-sample quantities are the
    complete run's own: ∂L/∂h_L = h_L/N with N the whole batch. ∂L/∂W, a sum over
    the samples, is rescaled to the whole batch's (``_batch_sum_scale``). Dead
    units (zero for *every* sample) are not reported: a subsample overstates them.

    ``abandoned()`` is asked after every layer of both passes; when it says yes the
    run stops with ``Abandoned`` (a newer configuration made it unwanted).
    """
    started = time.perf_counter()
    rows = config.batch if samples is None else max(1, min(samples, config.batch))
    dtype = np.dtype(config.dtype)
    act = activations.get(config.activation)
    specs = layer_specs(config)
    init = initializers.get(config.init)
    k = specs[0].pieces
    bases, base_variances = _weight_bases(config, init.family, k)
    net = build(
        config.input_dim,
        specs,
        config.init,
        config.scale,
        config.bias,
        _rng(config.seed, _WEIGHTS),
        dtype,
        bn_gamma=config.bn_gamma,
        bn_beta=config.bn_beta,
        bases=bases,
    )
    X = _inputs(config, _INPUTS, dtype, rows)
    if config.batchnorm == "eval":
        # Fixed statistics, estimated from a separate batch of the same inputs:
        # what the running averages of a trained net converge to.
        X_cal = _inputs(config, _CALIBRATION, dtype, rows)
        forward(net, X_cal, train=False, bn_stats="batch", update_running=True, bn_momentum=1.0)
    masks = [None if m is None else m[:rows] for m in _dropout_masks(config, dtype)]
    bn_stats: BNStats = "running" if config.batchnorm == "eval" else "batch"

    bins = quantity_bins(config.activation, config.bins)
    # Statistics are taken as each layer finishes, while its arrays are hot in cache.
    forward_stats: list[dict[str, Any]] = [{} for _ in specs]
    backward_stats: list[dict[str, Any]] = [{} for _ in specs]

    counted = set(config.quantities)
    coarse = rows < config.batch

    def check() -> None:
        if abandoned is not None and abandoned():
            raise Abandoned

    def after_forward(i: int, cache: LayerCache) -> None:
        forward_stats[i] = _forward_stats(cache, act, bins, counted, dead=not coarse)
        check()

    def after_backward(i: int, cache: LayerCache, grads: LayerParams) -> None:
        dW = grads.W
        if coarse:
            dW = dW * dW.dtype.type(_batch_sum_scale(cache, dW, config.batch))
        backward_stats[i] = _backward_stats(cache, dW, bins, counted)
        check()

    with np.errstate(**_QUIET):  # type: ignore[arg-type]
        out, caches = forward(
            net, X, train=True, masks=masks, bn_stats=bn_stats, on_layer=after_forward
        )
        loss = 0.5 * float(np.sum(np.square(out, dtype=np.float64))) / rows
        dout = out / dtype.type(config.batch)  # ∂L/∂h_L for L = ½‖h_L‖²/N
        backward(net, dout, caches, need_input_grad=False, on_layer=after_backward)
    return _assemble(
        config, specs, bins, base_variances, forward_stats, backward_stats, loss, started, rows
    )


def _assemble(
    config: LayersConfig,
    specs: tuple[LayerSpec, ...],
    bins: dict[str, Bins],
    base_variances: list[float],
    forward_stats: list[dict[str, Any]],
    backward_stats: list[dict[str, Any]],
    loss: float,
    started: float,
    rows: int,
) -> LayersResult:
    """The result from per-layer statistics."""
    act = activations.get(config.activation)
    init = initializers.get(config.init)
    k = specs[0].pieces
    layers: list[LayerStats] = []
    fan_in = config.input_dim
    for i, spec in enumerate(specs):
        f = forward_stats[i]
        b = backward_stats[i]
        # W = base × factor exactly, so its measured variance is the base's × factor².
        factor = config.scale * init.std(fan_in, spec.width * k)
        layers.append(
            LayerStats(
                index=i + 1,
                width=spec.width,
                hist={**f["hist"], **b["hist"]},
                saturated_fraction=f["saturated_fraction"],
                dead_units=f["dead_units"],
                zero_fraction=f["zero_fraction"],
                grad_norm=b["grad_norm"],
                n_var_w=fan_in * base_variances[i] * factor * factor,
            )
        )
        fan_in = spec.width

    flag_underflow(layers, act, config)
    theory, note = theory_variance(config)
    expected = []
    fan_in = config.input_dim
    for w in config.widths:
        expected.append(
            fan_in * initializers.weight_variance(config.init, fan_in, w * k, config.scale)
        )
        fan_in = w
    return LayersResult(
        layers=layers,
        bins=bins,
        theory=theory,
        theory_note=note,
        n_var_w_expected=expected,
        target_gain=act.target_gain(act.resolve(config.activation_params)),
        saturation_rule=Text(f"activation.{act.name}.saturation"),
        loss=_finite(loss),
        elapsed_ms=(time.perf_counter() - started) * 1e3,
        samples=rows,
        batch=config.batch,
    )


def zero_only_at_zero(act: activations.Activation, params: Mapping[str, float]) -> bool:
    """True if f(z) = 0 only at z = 0 (σ, softplus: never), so a run of exact zeros in h
    is the float underflowing; False for units that are 0 on a whole interval (ReLU)."""
    return act.zero_on_interval is None or not act.zero_on_interval(act.resolve(params))


def flag_underflow(
    layers: list[LayerStats],
    act: activations.Activation,
    config: LayersConfig,
) -> None:
    """Per-layer flags where a quantity is 0 only because the dtype cannot hold it.

    A quantity that is exactly 0 everywhere is an underflow when what it is computed
    from is not 0 (or underflowed itself): z_k = h_{k−1}W_k (+ b) from h_{k−1} and
    W_k ≠ 0; ∂L/∂h_L = h_L/N from h_L; ∂L/∂h_k from ∂L/∂h_{k+1} and f′(z_{k+1});
    ∂L/∂W_k from h_{k−1}, ∂L/∂h_k and f′(z_k). Read from the moments (mean = std = 0
    iff every finite value is 0), so it costs nothing.
    """

    def zero(layer: LayerStats, q: str) -> bool:
        h = layer.hist.get(q)
        return h is not None and h.mean == 0.0 and h.std == 0.0 and h.nonfinite == 0

    def known(layer: LayerStats, q: str) -> bool:
        return q in layer.hist

    weights = [layer.n_var_w > 0 for layer in layers]
    params = act.resolve(config.activation_params)
    only_at_zero = zero_only_at_zero(act, params)
    under_h: list[bool] = []
    for i, layer in enumerate(layers):
        h_prev_zero = zero(layers[i - 1], "activation") if i else False
        h_prev_under = under_h[i - 1] if i else False
        z_under = zero(layer, "preactivation") and weights[i] and (h_prev_under or not h_prev_zero)
        if z_under:
            layer.flags.append(LayerFlag("preactivation", "underflow", 1.0))
        h_under = zero(layer, "activation") and z_under
        under_h.append(h_under)
        if h_under:
            layer.flags.append(LayerFlag("activation", "underflow", 1.0))
        elif only_at_zero and weights[i] and layer.zero_fraction > 0:
            layer.flags.append(LayerFlag("activation", "underflow_some", layer.zero_fraction))
    under_g = [False] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        layer = layers[i]
        if not (known(layer, "gradient") and zero(layer, "gradient")):
            continue
        if i == len(layers) - 1:
            source = under_h[i] or not zero(layer, "activation")
        else:
            up = layers[i + 1]
            source = under_g[i + 1] or (
                not zero(up, "gradient") and not zero(up, "derivative") and weights[i + 1]
            )
        under_g[i] = source
        if source:
            layer.flags.append(LayerFlag("gradient", "underflow", 1.0))
    for i, layer in enumerate(layers):
        if not (known(layer, "weight_gradient") and zero(layer, "weight_gradient")):
            continue
        h_prev = (not zero(layers[i - 1], "activation") or under_h[i - 1]) if i else True
        g = under_g[i] or not zero(layer, "gradient")
        if h_prev and g and not zero(layer, "derivative"):
            layer.flags.append(LayerFlag("weight_gradient", "underflow", 1.0))


def _finite(x: float) -> float | None:
    """A diverged net's norms overflow: None (shown as "overflow") instead of inf/NaN."""
    return x if math.isfinite(x) else None
