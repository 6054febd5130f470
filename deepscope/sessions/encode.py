"""Numbers for the wire: rounded to what is worth sending, never NaN or Infinity.

JSON is written by orjson, which serializes NumPy arrays directly (no lists of Python
floats in between: 20× faster for a decision-boundary grid) and writes every
non-finite float as ``null``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import orjson
from numpy.typing import ArrayLike, NDArray

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


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


def wire(values: ArrayLike, digits: int | None = 10) -> NDArray[np.float64]:
    """A float64 array rounded for the wire, C-contiguous (``dumps`` writes it as nested
    lists, a non-finite value as null)."""
    a = np.asarray(values, dtype=np.float64)
    if digits is not None:
        a = round_sig(a, digits)
    return np.ascontiguousarray(a)


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
    """Plain Python data, every non-finite float replaced by None, recursively (what the
    wire carries, for code that reads frames as the page would)."""
    if isinstance(obj, np.ndarray):
        return sanitize(obj.tolist())
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer | np.bool_):
        return obj.item()
    if isinstance(obj, dict):
        return {k: sanitize(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [sanitize(v) for v in obj]
    return obj


def dumps_bytes(obj: Any) -> bytes:
    """Compact UTF-8 JSON; NumPy arrays and scalars as numbers, non-finite floats as null."""
    try:
        return orjson.dumps(obj, option=_OPTIONS)
    except orjson.JSONEncodeError:  # an integer past 64 bits (an error echoing the input)
        text = json.dumps(sanitize(obj), allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8")


def dumps(obj: Any) -> str:
    """``dumps_bytes`` as text (a WebSocket text frame)."""
    return dumps_bytes(obj).decode("utf-8")
