"""Histograms on fixed, shared bin edges.

The edges of a quantity never depend on the data, so bars stay put when a slider
moves and every layer's histogram is drawn on the same axis. Values outside the
edges are counted in ``below`` / ``above`` (never silently dropped), and
non-finite values (a diverged net) in ``nonfinite``. Bins are half-open
[e_j, e_{j+1}) except the last, which is closed, as in ``np.histogram``.

Two scales:

* ``linear`` — edges ``lo … hi`` evenly spaced in x;
* ``log`` — edges evenly spaced in log10|x| (for gradients, whose magnitudes span
  many decades); exact zeros and |x| < 10^lo count as ``below``.

Counting is vectorised two ways, whichever is cheaper for the data at hand:
arithmetic bin indices + ``bincount`` when the values spread over many bins, or
one comparison pass per inner edge when they fall in a few (a collapsed or
saturated layer, the very cases the labs are about).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Scale = Literal["linear", "log"]

# Up to this many occupied bins, counting by comparisons beats bincount.
SPARSE_BINS = 20


@dataclass(frozen=True)
class Bins:
    """``n`` equal bins on [lo, hi] (in x, or in log10|x| for the log scale)."""

    lo: float
    hi: float
    n: int
    scale: Scale = "linear"

    def __post_init__(self) -> None:
        if not (self.n >= 1 and self.hi > self.lo):
            raise ValueError("bins need n >= 1 and hi > lo")

    # Computed once per Bins (a layers picture asks for them ~1 500 times) and read-only,
    # since every caller shares them.
    @cached_property
    def edges(self) -> NDArray[np.float64]:
        out = np.linspace(self.lo, self.hi, self.n + 1)
        out.flags.writeable = False
        return out

    @cached_property
    def value_edges(self) -> NDArray[np.float64]:
        """Edges in x (|x| for the log scale)."""
        if self.scale == "linear":
            return self.edges
        out = 10.0**self.edges
        out.flags.writeable = False
        return out

    def bin_of(self, value: float) -> int:
        """Bin index of a magnitude/value: −1 below, n above, the last bin closed."""
        v = math.log10(value) if self.scale == "log" and value > 0 else value
        if self.scale == "log" and value <= 0:
            return -1
        if v < self.lo:
            return -1
        if v > self.hi:
            return self.n
        b = min(int((v - self.lo) * self.n / (self.hi - self.lo)), self.n - 1)
        # v − lo rounds away a v a hair from an inner edge (−1e-18 − (−1) is 1.0), which
        # put every value of a layer collapsed onto 0 into one bin: settle on the edges
        # themselves, as the counting does.
        edges = self.edges
        if b > 0 and v < edges[b]:
            b -= 1
        elif b < self.n - 1 and v >= edges[b + 1]:
            b += 1
        return b


@dataclass
class Histogram:
    """Counts per bin plus what fell outside, and the moments of the finite values."""

    bins: Bins
    counts: NDArray[np.int64] | None  # None: only the moments were asked for
    below: int
    above: int
    nonfinite: int
    mean: float | None
    std: float | None

    @property
    def total(self) -> int:
        counted = 0 if self.counts is None else int(self.counts.sum())
        return counted + self.below + self.above + self.nonfinite


_ONES = np.ones(0, dtype=np.float32)


def _ones32(n: int) -> NDArray[np.float32]:
    """A cached float32 vector of ones, so Σx is one BLAS dot."""
    global _ONES
    ones = _ONES
    if ones.size < n:
        ones = np.ones(max(n, 2 * ones.size), dtype=np.float32)
        _ONES = ones
    return ones[:n]


# Below this mean square, float32's Σx² is no longer trustworthy (see ``moments``).
TINY_SECOND = 1e-28


def moments(x: NDArray[np.floating]) -> tuple[float, float]:
    """Mean and (biased) std of finite ``x``.

    float64: pairwise sums around the mean, relative error ~1e-15. float32: Σx and
    Σx² as two BLAS dots (relative error ~1e-6, and 4 digits are shown), taken
    around the mean instead when the spread is tiny next to the mean (sigmoid
    collapsing to 0.5), where E[x²] − E[x]² would cancel.
    """
    flat = x.reshape(-1)
    n = flat.size
    if n == 0:
        return 0.0, 0.0
    if flat.dtype == np.float32:
        with np.errstate(over="ignore", invalid="ignore"):  # overflow: the float64 path
            mean = float(np.dot(flat, _ones32(n))) / n
            second = float(np.dot(flat, flat)) / n
        if second < TINY_SECOND and math.isfinite(mean):
            # |x| ≲ 1e-14: float32 squares near 1e-38 lose digits, below 1e-45 they are 0
            # (a std of exactly 0 for values of 1e-24): all zeros, or the float64 path.
            if not np.any(flat):
                return 0.0, 0.0
        elif math.isfinite(second) and math.isfinite(mean):
            var = second - mean * mean
            if var > 1e-3 * second:
                return mean, math.sqrt(var)
            d = flat - np.float32(mean)
            return mean + float(d.sum()) / n, math.sqrt(max(float(np.dot(d, d)) / n, 0.0))
        flat = flat.astype(np.float64)  # |x| beyond ~1e19: float32 squares overflow
    flat = flat.astype(np.float64, copy=False)
    shift = float(flat.sum()) / n
    d = flat - shift
    dm = float(d.sum()) / n  # the residual of the shift (float rounding)
    np.square(d, out=d)
    return shift + dm, math.sqrt(max(float(d.sum()) / n - dm * dm, 0.0))


def _count_by_comparison(
    values: NDArray[np.floating], bins: Bins, first: int, last: int
) -> NDArray[np.int64]:
    """Counts of pseudo-bins first..last (−1 = below, n = above) by comparisons."""
    edges = bins.value_edges
    cumulative = [0]
    for b in range(first, last):  # the boundary between pseudo-bins b and b + 1
        if b == bins.n - 1:
            below_boundary = values <= values.dtype.type(edges[-1])
        else:
            below_boundary = values < values.dtype.type(edges[b + 1])
        cumulative.append(int(np.count_nonzero(below_boundary)))
    cumulative.append(values.size)
    out = np.zeros(bins.n + 2, dtype=np.int64)
    out[first + 1 : last + 2] = np.diff(np.asarray(cumulative, dtype=np.int64))
    return out


def _count_by_index(
    values: NDArray[np.floating], bins: Bins, low: float, top: float
) -> NDArray[np.int64]:
    """Counts of all pseudo-bins via arithmetic indices and bincount.

    ``low`` and ``top`` are the smallest and largest value: when every value lies
    within the edges, no index needs clipping.
    """
    k = bins.n / (bins.hi - bins.lo)
    if bins.scale == "log":
        with np.errstate(divide="ignore"):
            t = np.log10(values)  # values is already a fresh |x| array
        t *= t.dtype.type(k)
        inside = low >= bins.value_edges[0] and top < bins.value_edges[-1]
    else:
        t = np.multiply(values, values.dtype.type(k))
        inside = low >= bins.lo and top < bins.hi
    offset = -bins.lo * k
    # index = floor((v − lo)·k) + 1, clipped: 0 = below, 1..n = the bins, n + 1 = above.
    # When −lo·k is a whole number (0 is an edge, the usual case) floor before shifting,
    # so a value a hair below an edge is not rounded onto it by the addition.
    if abs(offset - round(offset)) < 1e-9:
        np.floor(t, out=t)
        t += t.dtype.type(round(offset) + 1)
    else:
        t += t.dtype.type(offset + 1)
    if not inside:
        np.clip(t, 0, bins.n + 1, out=t)
    idx = t.astype(np.intp)
    if top >= bins.value_edges[-1]:  # the last bin is closed: v == hi counts in it
        idx[values == values.dtype.type(bins.value_edges[-1])] = bins.n
    return np.bincount(idx, minlength=bins.n + 2).astype(np.int64)


def histogram(
    x: NDArray[np.floating], bins: Bins, with_moments: bool = True, with_counts: bool = True
) -> Histogram:
    """Count ``x`` (any shape) into ``bins`` (``with_counts=False``: the moments only)."""
    flat = x.reshape(-1)
    if not with_counts and flat.size:
        # The moments alone: finite moments mean every value is finite (an inf or a
        # NaN would carry into the sums), so the min/max passes are not needed.
        m, sd = moments(flat)
        if math.isfinite(m) and math.isfinite(sd):
            return Histogram(bins, None, 0, 0, 0, m, sd)
    nonfinite = 0
    if flat.size:
        lowest, highest = float(flat.min()), float(flat.max())
        if not (math.isfinite(lowest) and math.isfinite(highest)):
            finite = np.isfinite(flat)
            nonfinite = int(flat.size - np.count_nonzero(finite))
            flat = flat[finite]
            if flat.size:
                lowest, highest = float(flat.min()), float(flat.max())
    if flat.size == 0:
        zero = np.zeros(bins.n, dtype=np.int64)
        return Histogram(bins, zero, 0, 0, nonfinite, None, None)
    if not with_counts:
        m, sd = moments(flat)
        ok = math.isfinite(m) and math.isfinite(sd)
        return Histogram(bins, None, 0, 0, nonfinite, m if ok else None, sd if ok else None)

    values = np.abs(flat) if bins.scale == "log" else flat
    if bins.scale == "log":
        lowest, highest = float(values.min()), float(values.max())
    first, last = bins.bin_of(lowest), bins.bin_of(highest)
    if last - first + 1 <= SPARSE_BINS:
        counts = _count_by_comparison(values, bins, first, last)
    else:
        counts = _count_by_index(values, bins, lowest, highest)

    mean: float | None = None
    std: float | None = None
    if with_moments:
        m, sd = moments(flat)
        if math.isfinite(m) and math.isfinite(sd):
            mean, std = m, sd
    return Histogram(
        bins=bins,
        counts=counts[1:-1],
        below=int(counts[0]),
        above=int(counts[-1]),
        nonfinite=nonfinite,
        mean=mean,
        std=std,
    )
