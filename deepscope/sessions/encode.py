"""Numbers for the wire: rounded to what is worth sending, never NaN or Infinity."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

log = logging.getLogger("deepscope")


def round_sig(values: ArrayLike, digits: int = 10) -> NDArray[np.float64]:
    """Round to ``digits`` significant digits (so −6.199999999999999 goes out as −6.2)."""
    a = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mag = np.floor(np.log10(np.abs(a)))
        mag = np.where(np.isfinite(mag), mag, 0.0)
        scale = 10.0 ** (digits - 1 - mag)
        out = np.round(a * scale) / scale
    # Where scaling overflows (|a| near the float limit) keep the value as it is.
    return np.where(np.isfinite(out), out, a)


def finite_list(values: ArrayLike, digits: int | None = 10) -> Any:
    """Nested lists of floats with every non-finite value replaced by None."""
    a = np.asarray(values, dtype=np.float64)
    if digits is not None:
        a = round_sig(a, digits)
    finite = np.isfinite(a)
    if finite.all():
        return a.tolist()
    obj = a.astype(object)
    obj[~finite] = None
    return obj.tolist()


def sanitize(obj: Any) -> Any:
    """Replace non-finite floats by None, recursively (the last line of defence)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: sanitize(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [sanitize(v) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    """Compact JSON; a non-finite float becomes null instead of NaN/Infinity."""
    try:
        return json.dumps(obj, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        log.warning("non-finite number in a response; sent as null")
        return json.dumps(sanitize(obj), allow_nan=False, separators=(",", ":"), ensure_ascii=False)
