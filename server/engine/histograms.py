"""Histograms on fixed, shared bin edges, binned with arithmetic + ``bincount``.

The edges of a quantity never depend on the data, so bars stay put when a slider
moves and every layer's histogram is drawn on the same axis. Values outside the
edges are counted in ``below`` / ``above`` (never silently dropped), and
non-finite values (a diverged net) in ``nonfinite``.

Two scales:

* ``linear`` — edges ``lo … hi`` evenly spaced in x;
* ``log`` — edges evenly spaced in log10|x| (for gradients, whose magnitudes span
  many decades); exact zeros and |x| < 10^lo count as ``below``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Scale = Literal["linear", "log"]


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

    @property
    def edges(self) -> NDArray[np.float64]:
        return np.linspace(self.lo, self.hi, self.n + 1)


@dataclass
class Histogram:
    """Counts per bin plus what fell outside, and exact moments of the finite values."""

    bins: Bins
    counts: NDArray[np.int64]
    below: int
    above: int
    nonfinite: int
    mean: float | None
    std: float | None

    @property
    def total(self) -> int:
        return int(self.counts.sum()) + self.below + self.above + self.nonfinite


def moments(x: NDArray[np.floating]) -> tuple[float, float]:
    """Mean and (biased) std with float64 accumulation; x must be finite.

    Shifted by the first-pass mean so a tiny spread around a large mean
    (sigmoid collapsing to 0.5) is not lost to cancellation.
    """
    flat = x.reshape(-1)
    n = flat.size
    if n == 0:
        return 0.0, 0.0
    shift = float(flat.sum(dtype=np.float64)) / n
    d = flat.astype(np.float64)
    d -= shift
    dm = float(d.sum()) / n
    var = max(float(np.dot(d, d)) / n - dm * dm, 0.0)
    return shift + dm, math.sqrt(var)


def _bin_index(flat: NDArray[np.floating], bins: Bins) -> NDArray[np.intp]:
    """Index 0 = below, 1..n = the bins, n+1 = above."""
    if bins.scale == "log":
        with np.errstate(divide="ignore"):
            t = np.log10(np.abs(flat))
    else:
        t = flat.copy()
    k = bins.n / (bins.hi - bins.lo)
    t -= t.dtype.type(bins.lo)
    t *= t.dtype.type(k)
    t += 1
    np.clip(t, 0, bins.n + 1, out=t)
    idx: NDArray[np.intp] = t.astype(np.intp)
    # The last bin is closed on the right, as in np.histogram: x == hi counts in it.
    edge = bins.hi if bins.scale == "linear" else 10.0**bins.hi
    idx[np.abs(flat) == edge if bins.scale == "log" else flat == edge] = bins.n
    return idx


def histogram(x: NDArray[np.floating], bins: Bins, with_moments: bool = True) -> Histogram:
    """Count ``x`` (any shape) into ``bins``."""
    flat = x.reshape(-1)
    total = float(flat.sum(dtype=np.float64)) if flat.size else 0.0
    nonfinite = 0
    if not math.isfinite(total):
        finite = np.isfinite(flat)
        nonfinite = int(flat.size - np.count_nonzero(finite))
        flat = flat[finite]
    counts = np.bincount(_bin_index(flat, bins), minlength=bins.n + 2).astype(np.int64)
    mean: float | None = None
    std: float | None = None
    if with_moments and flat.size:
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
