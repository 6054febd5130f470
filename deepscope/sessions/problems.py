"""Validation errors as ``Problem``s: a field, a stable code, the numbers, the English.

REST bodies and WebSocket messages are both validated by pydantic; this turns its
errors (and our own ``InputError``) into what the page needs to word an error in
its language, and into the one-line English message that names the field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..protocol import UNION_TAGS, Problem, ProblemParam

MAX_PROBLEMS = 5


def _param(value: Any) -> ProblemParam | None:
    """A JSON-safe scalar, or None for what must not be echoed (objects, long text)."""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and len(value) <= 200:
        return value
    return None


Skip = Sequence[frozenset[str]]
REST: Skip = (frozenset({"body"}),)


def problem(error: Any, skip: Skip = REST) -> Problem:
    """One pydantic error dict as a Problem.

    ``skip``: per leading position of the error's loc, the names to leave out there
    (the body, a message's type tag, its lab tag).
    """
    loc = [str(p) for p in error.get("loc", ())]
    for names in skip:
        if loc and loc[0] in names:
            loc = loc[1:]
    loc = [p for p in loc if p not in UNION_TAGS]
    code = str(error.get("type", "value_error"))
    params: dict[str, ProblemParam] = {}
    for key, value in (error.get("ctx") or {}).items():
        if key == "field" and isinstance(value, str):  # a model-wide check names its field
            loc.append(value)
        elif (v := _param(value)) is not None:
            params[key] = v
    value = _param(error.get("input"))
    # Numbers only: a string could be anything the client sent.
    if "value" not in params and value is not None and not isinstance(value, str):
        params["value"] = value
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if code == "json_invalid":
        loc, message = [], "not valid JSON"
    return Problem(field=".".join(loc) or "message", code=code, params=params, message=message)


def problems(errors: Iterable[Any], skip: Skip = REST, whole: str = "body") -> list[Problem]:
    """The first few errors as Problems (``whole``: the field of an error with no loc)."""
    out = [problem(e, skip) for e in list(errors)[:MAX_PROBLEMS]]
    for p in out:
        if p.field == "message":
            p.field = whole
    return out


def describe(found: Sequence[Problem]) -> str:
    """'config.depth: Input should be less than or equal to 50; …'."""
    return "; ".join(f"{p.field}: {p.message}" for p in found)
