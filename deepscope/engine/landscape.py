"""The trained network's own loss landscape, and where the optimizer went on it.

The training loss on a plane through the weights θ_c,

    L(α, β) = L(θ_c + α·d₁ + β·d₂),

on a grid of α, β in −span … span, as Li et al. (2018, "Visualizing the Loss
Landscape of Neural Nets") draw it, with the weight trajectory projected onto the
plane. Two choices of (d₁, d₂):

* ``random``: Gaussian directions, *filter-normalized*: each unit's incoming weights
  (a column of W here, a row of the (out, in) matrix of the paper) rescaled to the
  norm of that unit's weights in θ_c; biases, batch-norm γ/β and PReLU's α are zero
  in the directions, as in the paper. Fixed by the seed.
* ``pca``: the top two principal directions of the weight snapshots, centred on
  θ_c (the final or current point), both scaled to the path's largest excursion in
  the plane (span 1 covers the path); the plane depends on the path taken
  (``explained_variance`` says how much of the path's spread it holds).

The loss is the training lab's training loss exactly: test-mode forward pass on the
training inputs (dropout off, batch norm on its running statistics), mean binary
cross-entropy, plus the L1/L2 penalties of the perturbed weights. The grid is one
vectorized evaluation: every grid point's weights are stacked into a (G, …) batch
of weight matrices and the layers run as batched matrix products (in chunks that
bound the memory, never a Python loop over grid points).

The optimizer race on one network (``race``) trains K copies of the same network
— same initial weights, same mini-batches, same dropout masks — with K optimizers,
and projects every path onto one common plane through the shared start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from . import activations
from .knobs import Knob
from .layers import BN_EPS
from .network import Network, _layer_sizes
from .race import RunConfig
from .stacked import StackedTrainer, stackable
from .training import FrameOptions, TrainConfig, Trainer, TrainFrame, bce_with_logits

Array = NDArray[np.floating]
_NUMBERS = FrameOptions()  # a frame's numbers (losses, accuracy), no views
F64 = NDArray[np.float64]
Directions = Literal["random", "pca"]
Center = Literal["current", "start"]

RESOLUTION = Knob(
    41,
    "41 × 41: a smooth contour, and still one batched evaluation of a small net",
    ge=3,
    le=41,
    step=2,  # odd: the grid has a point at (0, 0), the centre
    integer=True,
)
SPAN = Knob(
    1.0,
    "±1 in the directions' units: random (filter-normalized), each unit's weights moved "
    "by up to their own norm, as in Li et al.; pca, the whole path",
    gt=0,
    le=100,
    step=0.05,
    log=True,
    span=(0.05, 20),
    span_why="below 0.05 the plane is flat at a chart's resolution; past 20 the net saturates",
)
EVERY = Knob(
    20,
    "every 20 steps: the picture follows the run while its cost stays a small share of the frames'",
    ge=1,
    le=10_000,
    log=True,
    integer=True,
)
MAX_PARAMS = 10_000  # the landscape is for teaching-sized networks (as the weights view)
MAX_WORK = 600_000_000  # resolution² × training points × parameters of one landscape
MAX_SNAPSHOTS = 512  # a trajectory keeps at most this many snapshots (then every other one)
MAX_SNAPSHOT_FLOATS = 1_000_000  # … and at most this many numbers (8 MB) for a big net
CHUNK_ELEMENTS = 400_000  # grid points per batched pass × (N × widest layer, P)
POOL_BYTES = 32 << 20  # the grid's activation buffers kept (a few chunks' worth)
DIRECTION_SEED = 30  # the random directions' stream: rng([seed, 30])
# The live view spends at most this share of the worker's time on refreshes: a worker
# computing flat out keeps about 85 % of its frame rate whatever the grid costs, and a
# stream paced at the page's 20 frames a second refreshes every N steps as asked
# (bench/landscape.py).
LIVE_SHARE = 0.15


@dataclass(frozen=True)
class Plane:
    """A plane through ``center`` spanned by ``d1`` and ``d2`` (flat, the net's layout)."""

    center: F64
    d1: F64
    d2: F64
    directions: Directions
    explained_variance: list[float] | None = None  # pca: the top two components' shares

    def project(self, points: F64) -> F64:
        """Least-squares (α, β) of each point (T, P) in the plane's coordinates: exact
        for points in the plane; the orthogonal projection's coordinates otherwise."""
        D = np.stack([self.d1, self.d2], axis=1)  # (P, 2)
        offsets = np.atleast_2d(np.asarray(points, dtype=np.float64)) - self.center
        coords, *_ = np.linalg.lstsq(D, offsets.T, rcond=None)
        out: F64 = np.asarray(coords.T, dtype=np.float64)
        return out


@dataclass
class Landscape:
    alphas: F64
    betas: F64
    loss: F64  # (len(betas), len(alphas)): rows follow betas
    center_loss: float
    plane: Plane
    path: F64 | None = None  # (T, 2) the trajectory's snapshots projected
    path_steps: list[int] = field(default_factory=list)


# --- directions ------------------------------------------------------------------

Slices = list[dict[str, tuple[slice, tuple[int, ...]]]]  # per layer: W, b, … in the flat vector


def _slices(net: Network) -> Slices:
    """Per layer, where W, b, γ, β, α sit in the flat vector, and their shapes."""
    out: list[dict[str, tuple[slice, tuple[int, ...]]]] = []
    offset, fan_in = 0, net.input_dim
    for spec in net.specs:
        parts: dict[str, tuple[slice, tuple[int, ...]]] = {}
        for name, shape in _layer_sizes(fan_in, spec):
            size = int(np.prod(shape))
            parts[name] = (slice(offset, offset + size), shape)
            offset += size
        out.append(parts)
        fan_in = spec.width
    return out


def filter_normalized(net: Network, theta: Array, rng: np.random.Generator) -> F64:
    """A Gaussian direction, each unit's incoming weights rescaled to their norm in θ.

    Biases, batch-norm parameters and PReLU's α are zero in it (Li et al., §4). A
    unit whose weights are all zero gets a zero direction.
    """
    theta = np.asarray(theta, dtype=np.float64)
    d = np.zeros(theta.size)
    for parts in _slices(net):
        where, shape = parts["W"]
        W = theta[where].reshape(shape)
        g = rng.standard_normal(shape)
        wn = np.linalg.norm(W, axis=0)
        gn = np.linalg.norm(g, axis=0)
        d[where] = (g * np.divide(wn, gn, out=np.zeros_like(wn), where=gn > 0)).ravel()
    return d


def unit_norms(net: Network, flat: Array) -> list[F64]:
    """Per layer, the norm of each unit's incoming weights (columns of W) in ``flat``."""
    flat = np.asarray(flat, dtype=np.float64)
    out = []
    for parts in _slices(net):
        where, shape = parts["W"]
        out.append(np.linalg.norm(flat[where].reshape(shape), axis=0))
    return out


def random_plane(net: Network, center: Array, seed: int) -> Plane:
    rng = np.random.default_rng([seed, DIRECTION_SEED])
    c = np.asarray(center, dtype=np.float64).copy()
    return Plane(c, filter_normalized(net, c, rng), filter_normalized(net, c, rng), "random")


def pca_directions(snapshots: Array, center: Array) -> tuple[F64, F64, list[float]]:
    """The top two principal directions of ``snapshots`` (T, P) centred on ``center``.

    Unit vectors, signed so that each one's largest entry is positive; the explained
    variance is each component's share of Σσ² (all shares sum to 1). A path that
    spans only a line gets a second direction orthogonal to the first (share 0).
    Raises ValueError if the path never left the centre.
    """
    A = np.asarray(snapshots, dtype=np.float64) - np.asarray(center, dtype=np.float64)
    _, s, vt = np.linalg.svd(A, full_matrices=False)
    power = s**2
    total = float(power.sum())
    if not total > 0:
        raise ValueError("the trajectory never left the centre: no principal direction")
    shares = [float(p / total) for p in power[:2]]
    tiny = s[0] * 1e-12
    d1 = vt[0]
    if s.size > 1 and s[1] > tiny:
        d2 = vt[1]
    else:  # a straight path: any unit vector orthogonal to d1
        e = np.zeros_like(d1)
        e[int(np.argmin(np.abs(d1)))] = 1.0
        d2 = e - (e @ d1) * d1
        d2 /= np.linalg.norm(d2)
        shares = [shares[0], 0.0]
    d1 = d1 * np.sign(d1[np.argmax(np.abs(d1))])
    d2 = d2 * np.sign(d2[np.argmax(np.abs(d2))])
    return d1, d2, shares


def pca_plane(snapshots: Array, center: Array) -> Plane:
    """The PCA plane, its two directions scaled alike to the path's largest excursion
    from the centre within the plane: span 1 covers the whole path (the unit vectors
    of ``pca_directions`` times one length, so the picture keeps its geometry)."""
    d1, d2, shares = pca_directions(snapshots, center)
    c = np.asarray(center, dtype=np.float64).copy()
    reach = float(
        np.max(np.abs((np.asarray(snapshots, dtype=np.float64) - c) @ np.stack([d1, d2], 1)))
    )
    return Plane(c, d1 * reach, d2 * reach, "pca", shares)


# --- the loss at many weights at once -----------------------------------------------


def _chunk(net: Network, n_rows: int) -> int:
    widest = max(max(s.width * s.pieces for s in net.specs), net.input_dim)
    per_point = max(n_rows * widest, net.n_params, 1)
    return max(1, CHUNK_ELEMENTS // per_point)


def losses(trainer: Trainer, flats: Array) -> F64:
    """The training loss (as the frames report it) at each of G weight vectors (G, P)."""
    flats = np.atleast_2d(flats)
    net = trainer.net
    out = np.empty(flats.shape[0])
    step = _chunk(net, len(trainer.y))
    for lo in range(0, flats.shape[0], step):  # chunks bound the memory; each is one pass
        out[lo : lo + step] = _losses(trainer, flats[lo : lo + step].astype(net.dtype))
    return out


def _buffer(M: int, G: int, N: int, dtype: np.dtype[np.floating], ones: bool) -> Array:
    """A unit-major (M, G, N) activation buffer; with ``ones`` an (M + 1)-th row of ones
    under it: the next layer's input with its bias riding the product ([Wᵀ | b] @ [h; 1])."""
    buf: Array = np.empty((M + 1 if ones else M, G, N), dtype=dtype)
    if ones:
        buf[M] = 1
    return buf


class _Buffers:
    """Activation buffers, reused chunk after chunk and grid after grid: each
    (M + 1, G, N) with its row of ones written once. Fresh megabytes cost a page
    fault per 4 kB on first touch — profiled, more than half a 41 × 41 grid's time
    (≈ 1 400 faults); kept, a grid allocates nothing of that size. One pool per
    process, at most ``POOL_BYTES``; a grid computed while another thread's holds it
    (the REST routes compute in threads) takes fresh buffers."""

    def __init__(self) -> None:
        self.made: dict[tuple[str, int, int, int, int, str], Array] = {}
        self.nbytes = 0

    def get(
        self, role: str, layer: int, M: int, G: int, N: int, dtype: np.dtype[np.floating]
    ) -> Array:
        key = (role, layer, M, G, N, dtype.str)
        buf = self.made.get(key)
        if buf is None:
            buf = _buffer(M, G, N, dtype, ones=True)
            if self.nbytes + buf.nbytes > POOL_BYTES:  # (arrays in use live on as they are)
                self.made.clear()
                self.nbytes = 0
            self.made[key] = buf
            self.nbytes += buf.nbytes
        return buf


_POOL = _Buffers()
_POOL_LOCK = threading.Lock()


def _losses(
    trainer: Trainer,
    flats: Array,
    first: Array | None = None,
    slices: Slices | None = None,
    buffers: _Buffers | None = None,
) -> F64:
    """One batched pass for G weight vectors.

    Activations are unit-major, (M, G, N): every unit's block is contiguous, so each
    elementwise operation runs over long contiguous rows (NumPy's SIMD loops), and a
    grid point's (M, N) matrix is a strided view BLAS takes as it is. A layer's input
    carries a row of ones under it, so the bias is part of the product. ``first``: the
    first layer's x W + b as (M + 1, G, N) with that row, when the caller has it
    cheaper (``grid``); ``buffers``: where to keep the activations (``grid``'s chunks
    reuse them)."""
    net, y = trainer.net, trainer.y
    G, N = flats.shape[0], len(y)
    dt = flats.dtype
    X1 = np.concatenate([trainer.X.T, np.ones((1, N), dtype=dt)]).astype(dt)  # (D + 1, N)
    h: Array = X1[:-1]  # the layer's input, unit-major (D, N) or (D, G, N)
    aug: Array = X1  # the same with a row of ones under it
    layers = zip(net.specs, slices or _slices(net), net.layers, strict=True)
    for i, (spec, parts, lp) in enumerate(layers):

        def part(name: str, parts: dict[str, tuple[slice, tuple[int, ...]]] = parts) -> Array:
            where, shape = parts[name]
            return flats[:, where].reshape(G, *shape)

        M = spec.width * spec.pieces
        x_in = h
        if i == 0 and first is not None:
            buf = first
        else:
            buf = buffers.get("z", i, M, G, N, dt) if buffers else _buffer(M, G, N, dt, ones=True)
            Wb = np.concatenate([part("W").transpose(0, 2, 1), part("b")[:, :, None]], axis=2)
            # (G, M, D + 1) @ (G, D + 1, N) → (G, M, N), written unit-major
            B = aug if aug.ndim == 2 else aug.transpose(1, 0, 2)
            np.matmul(Wb, B, out=buf[:M].transpose(1, 0, 2))
        z = buf[:M]  # (M, G, N), contiguous
        if "gamma" in parts and lp.running_mean is not None and lp.running_var is not None:
            inv_std = (1.0 / np.sqrt(lp.running_var + BN_EPS)).astype(dt)
            z -= lp.running_mean.astype(dt)[:, None, None]
            z *= inv_std[:, None, None]
            z *= part("gamma").T[:, :, None]
            z += part("beta").T[:, :, None]
        params = spec.params
        in_place = False
        if spec.activation == "prelu":
            alpha = part("alpha").T[:, :, None]  # (1, G, 1)
            a = np.where(z > 0, z, z * alpha)
        elif spec.pieces > 1:  # maxout: (H, k, G, N) → the pieces' axis last for f
            pieces = z.reshape(spec.width, spec.pieces, G, N).transpose(0, 2, 3, 1)
            a = activations.get(spec.activation).f(pieces, params)
        else:
            a = _in_place(spec.activation, z, params)
            in_place = a is z
        if spec.dropout_keep < 1 and spec.dropout_mode == "classic":
            a = a * a.dtype.type(spec.dropout_keep)  # test mode: classic dropout scales by p
            in_place = False
        if spec.residual and x_in.shape[0] == spec.width:
            a = a + x_in
            in_place = False
        if in_place:
            h, aug = z, buf
        else:  # a new array: copy it above a row of ones for the next product
            h = np.ascontiguousarray(a)
            H = h.shape[0]
            aug = buffers.get("h", i, H, G, N, dt) if buffers else _buffer(H, G, N, dt, ones=True)
            aug[:-1] = h
    # the frames' bce_with_logits, row by row: in the net's dtype, averaged in float64
    z_out = h[0]  # (G, N) logits
    softplus = np.abs(z_out)  # log(1 + e^−|z|) + max(z, 0) − y·z, in place
    np.negative(softplus, out=softplus)
    np.exp(softplus, out=softplus)
    np.log1p(softplus, out=softplus)
    softplus += np.maximum(z_out, 0)
    softplus -= y * z_out
    loss: F64 = np.mean(softplus, axis=1, dtype=np.float64)
    c = trainer.config
    if c.l1 or c.l2:
        w = flats[:, net.weight_mask].astype(np.float64)
        loss = loss + c.l1 * np.abs(w).sum(axis=1) + 0.5 * c.l2 * np.einsum("gp,gp->g", w, w)
    return loss


def _in_place(name: str, z: Array, params: dict[str, float]) -> Array:
    """f(z), over z where the activation can (z is not needed after): that spares the
    grid a pass of allocation over (G, M, N)."""
    unit = activations.get(name)
    if unit.in_place is None:
        out: Array = unit.f(z, params)
        return out
    unit.in_place(z)
    return z


def loss_at(trainer: Trainer, flat: Array) -> float:
    """The training loss at one weight vector by the training lab's own forward pass."""
    saved = trainer.net.flat.copy()
    try:
        trainer.net.flat[...] = flat
        z, _ = trainer.evaluate(trainer.X)
        return bce_with_logits(z, trainer.y) + trainer._penalty()
    finally:
        trainer.net.flat[...] = saved


def axes(resolution: int, span: float) -> F64:
    out: F64 = np.linspace(-span, span, resolution)
    return out


def grid(trainer: Trainer, plane: Plane, resolution: int, span: float) -> Landscape:
    """L(θ_c + α d₁ + β d₂) on a resolution × resolution grid over −span … span."""
    a = axes(resolution, span)
    net = trainer.net
    # The first layer is linear in (α, β): x(W + αD₁ + βD₂) + (b + αδ₁ + βδ₂) is
    # Z₀ + αZ₁ + βZ₂, three (M, N) blocks for the whole grid, not a product per point.
    slices = _slices(net)
    where, shape = slices[0]["W"]
    bias, _ = slices[0]["b"]
    Xt = trainer.X.T.astype(np.float64)

    def first(v: F64) -> F64:
        out: F64 = v[where].reshape(shape).T @ Xt + v[bias][:, None]
        return out

    # Z₀ + βZ₂ + αZ₁ for every unit m as one product (G, 3) @ (3, N): [1, β, α] rows
    # against Z₀, Z₂, Z₁ (a broadcast sum over (M, β, α, N) costs four times as much).
    Z = np.stack([first(plane.center), first(plane.d2), first(plane.d1)], axis=1)
    pooled = _POOL_LOCK.acquire(blocking=False)
    buffers = _POOL if pooled else _Buffers()
    try:
        return _grid(trainer, plane, a, Z.astype(net.dtype), slices, buffers)
    finally:
        if pooled:
            _POOL_LOCK.release()


def _grid(
    trainer: Trainer, plane: Plane, a: F64, Z: Array, slices: Slices, buffers: _Buffers
) -> Landscape:
    """``grid``'s chunks: Z the first layer's (M, 3, N) blocks, in the net's dtype."""
    resolution = len(a)
    net = trainer.net
    dt = net.dtype
    M, N = Z.shape[0], Z.shape[2]
    loss = np.empty((resolution, resolution))
    rows = max(1, _chunk(net, len(trainer.y)) // resolution)
    with np.errstate(all="ignore"):
        for lo in range(0, resolution, rows):  # row chunks bound the memory
            b = a[lo : lo + rows]
            k = len(b)
            G = k * resolution
            alphas, betas = np.tile(a, k), np.repeat(b, resolution)
            flats = np.outer(alphas, plane.d1)  # θ_c + αd₁ + βd₂, (G, P) …
            flats += plane.center
            flats += np.outer(betas, plane.d2)
            flats = flats.astype(dt)  # … in the net's dtype, as the training forward
            coef = np.stack([np.ones(G), betas, alphas], axis=1).astype(dt)  # (G, 3): 1, β, α
            z = buffers.get("first", 0, M, G, N, dt)
            np.matmul(coef, Z, out=z[:M])  # (G, 3) @ (M, 3, N) → (M, G, N)
            loss[lo : lo + k] = _losses(trainer, flats, z, slices, buffers).reshape(k, resolution)
        mid = resolution // 2  # an odd grid has (0, 0) as a point: the centre is one of them
        center = (
            float(loss[mid, mid])
            if resolution % 2
            else float(losses(trainer, plane.center[None])[0])
        )
    return Landscape(a, a.copy(), loss, center, plane)


class SizeError(ValueError):
    """A landscape too large to compute (``check_size`` says why)."""

    def __init__(self, why: str, n_params: int, n_train: int, resolution: int) -> None:
        super().__init__(why)
        self.work = resolution**2 * n_train * n_params
        self.n_params = n_params


def require_size(trainer: Trainer, resolution: int) -> None:
    """SizeError if this trainer's landscape at ``resolution`` is too large."""
    n, P = len(trainer.y), trainer.net.n_params
    why = check_size(P, n, resolution)
    if why is not None:
        raise SizeError(why, P, n, resolution)


def check_size(n_params: int, n_train: int, resolution: int) -> str | None:
    """Why this landscape is too large to compute (None: it is fine)."""
    if n_params > MAX_PARAMS:
        return (
            f"the landscape is for networks of at most {MAX_PARAMS:,} parameters; "
            f"this one has {n_params:,}"
        )
    work = resolution**2 * n_train * n_params
    if work > MAX_WORK:
        return (
            f"resolution² × training points × parameters = {work:,} exceeds {MAX_WORK:,}: "
            "a coarser grid, fewer points or a smaller network"
        )
    return None


# --- a trajectory of snapshots ----------------------------------------------------------


def snapshot_limit(n_params: int) -> int:
    """How many snapshots a trajectory of a net this size keeps (memory: ≤ 8 MB)."""
    return max(16, min(MAX_SNAPSHOTS, MAX_SNAPSHOT_FLOATS // max(1, n_params)))


class Trajectory:
    """The weights every so often (thinned to every other snapshot when full)."""

    def __init__(self, limit: int = MAX_SNAPSHOTS) -> None:
        self.limit = limit
        self.steps: list[int] = []
        self.points: list[F64] = []
        self.stride = 1  # keep every stride-th offered snapshot
        self.offered = 0

    def add(self, step: int, flat: Array, force: bool = False) -> None:
        if self.steps and self.steps[-1] == step:
            self.points[-1] = np.asarray(flat, dtype=np.float64).copy()
            return
        self.offered += 1
        if not force and (self.offered - 1) % self.stride:
            return
        self.steps.append(step)
        self.points.append(np.asarray(flat, dtype=np.float64).copy())
        if len(self.points) > self.limit:
            self.steps = self.steps[::2]
            self.points = self.points[::2]
            self.stride *= 2

    def matrix(
        self, current: Array | None = None, step: int | None = None
    ) -> tuple[F64, list[int]]:
        """The snapshots (T, P), ending with ``current`` (at ``step``) if it is newer."""
        points, steps = list(self.points), list(self.steps)
        if current is not None and step is not None and (not steps or steps[-1] != step):
            points.append(np.asarray(current, dtype=np.float64))
            steps.append(step)
        return np.stack(points), steps


def plane_for(
    trainer: Trainer,
    directions: Directions,
    snapshots: F64,
    center: Array,
    seed: int,
) -> Plane:
    """The plane through ``center``: random filter-normalized, or the path's PCA."""
    if directions == "pca":
        return pca_plane(snapshots, center)
    return random_plane(trainer.net, center, seed)


# --- POST /api/landscape -----------------------------------------------------------------


@dataclass
class LandscapeResult:
    landscape: Landscape
    trainer: Trainer
    frames: list[TrainFrame]


def train_and_map(
    config: TrainConfig,
    directions: Directions,
    resolution: int,
    span: float,
    record_every: int,
) -> LandscapeResult:
    """Train ``config`` for its steps (a snapshot every ``record_every`` steps), then the
    landscape on the plane through the final weights, with the path projected.

    Raises SizeError when the grid is too large for the data and the net, ValueError
    when pca has no path to take directions from."""
    trainer = Trainer(config)
    require_size(trainer, resolution)  # (an upload's size is known only now)
    path = Trajectory(snapshot_limit(trainer.net.n_params))
    path.add(0, trainer.net.flat)
    frames = [trainer.frame(_NUMBERS)]
    total = config.steps or 0
    with np.errstate(all="ignore"):
        while trainer.running and trainer.step_count < total:
            trainer.run(min(record_every, total - trainer.step_count))
            path.add(trainer.step_count, trainer.net.flat)
            frames.append(trainer.frame(_NUMBERS))
    snapshots, steps = path.matrix(trainer.net.flat, trainer.step_count)  # the end, always
    center = trainer.net.flat.astype(np.float64)
    plane = plane_for(trainer, directions, snapshots, center, config.seed)
    land = grid(trainer, plane, resolution, span)
    land.path, land.path_steps = plane.project(snapshots), steps
    return LandscapeResult(land, trainer, frames)


# --- the optimizer race on one network ------------------------------------------------------


@dataclass
class RaceRun:
    run: RunConfig
    trainer: Trainer
    frames: list[TrainFrame]
    path: F64 | None = None  # (T, 2) on the common plane
    path_steps: list[int] = field(default_factory=list)


@dataclass
class NetworkRace:
    """K copies of one network, one optimizer each, stepped together on the same batches."""

    runs: list[RaceRun]
    landscape: Landscape  # the common plane, through the shared start


def race(
    config: TrainConfig,
    runs: Sequence[RunConfig],
    resolution: int,
    span: float,
    record_every: int,
    stack: bool = True,
) -> NetworkRace:
    """Train K copies of ``config``'s network, run k with ``runs[k]``, in lockstep.

    Every copy is built from the same seed: the same initial weights, the same
    mini-batch order and dropout masks (the optimizer is the only difference), so
    run k equals a single training run of ``config`` with ``runs[k]``. They step
    together, ``record_every`` steps at a time; each stops on its own if it diverges.
    With ``stack`` (the default) the runs that can be (``stacked.stackable``: all but
    Newton's) are one ``StackedTrainer``, every step one batched pass for all of
    them; the others, and every run without ``stack``, step one after another.
    The paths go onto one plane: random filter-normalized directions through the
    shared start (the same plane for every run, so the comparison is fair).
    """
    trainers = [Trainer(replace(config, optimizer=r)) for r in runs]
    require_size(trainers[0], resolution)
    paths = [Trajectory(snapshot_limit(t.net.n_params)) for t in trainers]
    frames: list[list[TrainFrame]] = [[t.frame(_NUMBERS)] for t in trainers]
    for t, p in zip(trainers, paths, strict=True):
        p.add(0, t.net.flat)
    together = [t for t in trainers if stack and stackable(t) is None]
    group = StackedTrainer(together) if together else None
    alone = [t for t in trainers if group is None or t not in together]
    total = config.steps or 0
    done = 0
    with np.errstate(all="ignore"):
        while done < total and any(t.running for t in trainers):
            n = min(record_every, total - done)
            stepping = [t.running for t in trainers]
            if group is not None:
                group.run(n)
                for row, step in group.handed_back:  # blowing up: alone from that step
                    k = trainers.index(together[row])
                    trainers[k] = Trainer(replace(config, optimizer=runs[k]))
                    trainers[k].run(step)
                    alone.append(trainers[k])
                group.handed_back.clear()
            for t in alone:
                if t.running:
                    t.run(done + n - t.step_count)
            for t, p, f, was in zip(trainers, paths, frames, stepping, strict=True):
                if was:
                    p.add(t.step_count, t.net.flat)
                    f.append(t.frame(_NUMBERS))
            done += n
    fresh = Trainer(config)  # the shared start, batch-norm buffers included
    plane = random_plane(fresh.net, fresh.net.flat, config.seed)
    land = grid(fresh, plane, resolution, span)
    out = []
    for r, t, p, f in zip(runs, trainers, paths, frames, strict=True):
        snapshots, steps = p.matrix(t.net.flat, t.step_count)
        out.append(RaceRun(r, t, f, plane.project(snapshots), steps))
    return NetworkRace(out, land)


# --- the live view of the training lab --------------------------------------------------


@dataclass
class LiveMap:
    """One refresh of the live view."""

    step: int
    directions: Directions  # the ones used (pca falls back to random until the path moves)
    center: Center
    landscape: Landscape
    compute_ms: float


class LiveLandscape:
    """The landscape of a training run as it streams: the trajectory (a snapshot per
    frame), and a refresh every ``every`` steps, throttled to ``LIVE_SHARE`` of the time.

    ``center="current"``: the plane through the current weights (random directions
    normalized to them, or the PCA of the path so far); ``"start"``: one plane through
    the initial weights, computed once (random only), so runs of one seed share it.
    """

    def __init__(
        self,
        trainer: Trainer,
        directions: Directions,
        center: Center,
        resolution: int,
        span: float,
        every: int,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.directions: Directions = directions
        self.center: Center = center
        self.resolution, self.span, self.every = resolution, span, every
        self.seed = trainer.config.seed
        self.clock = clock
        self.path = Trajectory(snapshot_limit(trainer.net.n_params))
        self.path.add(0, trainer.net.flat)
        self.fixed: Landscape | None = None  # center "start": the one plane and its grid
        if center == "start":
            self.fixed = grid(
                trainer, random_plane(trainer.net, trainer.net.flat, self.seed), resolution, span
            )
        self.last_step: int | None = None
        self.last_time = 0.0
        self.cost = 0.0  # what a refresh costs (the median of the last five)
        self.costs: list[float] = []

    def record(self, step: int, flat: Array) -> None:
        self.path.add(step, flat)

    def due(self, step: int, force: bool = False) -> bool:
        """A refresh now? Always the first (and when forced: a step asked for, the last
        frame); then every ``every`` steps, once a refresh's cost (the median of the
        last five) is at most LIVE_SHARE of the time since the last one."""
        if force or self.last_step is None:
            return self.last_step != step
        if step - self.last_step < self.every:
            return False
        return self.clock() - self.last_time >= self.cost / LIVE_SHARE

    def refresh(self, trainer: Trainer) -> LiveMap:
        started = self.clock()
        step = trainer.step_count
        self.path.add(step, trainer.net.flat, force=True)
        snapshots, steps = self.path.matrix()
        used: Directions = self.directions
        if self.fixed is not None:
            land = replace(self.fixed)
        else:
            current = trainer.net.flat.astype(np.float64)
            plane: Plane | None = None
            if self.directions == "pca":
                try:
                    plane = pca_plane(snapshots, current)
                except ValueError:  # the path has not moved yet
                    used = "random"
            if plane is None:
                plane = random_plane(trainer.net, current, self.seed)
            land = grid(trainer, plane, self.resolution, self.span)
        land.path, land.path_steps = land.plane.project(snapshots), steps
        done = self.clock()
        # the median of the last few costs: one refresh the machine stalled (another
        # process on the core) does not hold the next ones back for long
        self.costs = [*self.costs[-4:], done - started]
        self.cost = float(np.median(self.costs))
        self.last_time, self.last_step = done, step
        return LiveMap(step, used, self.center, land, (done - started) * 1e3)
