"""What every part of the protocol shares: limits, the strict base model, field helpers
that read the engine's knobs, the registries' names, problems and error bodies, health."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    with_config,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from ..engine import activations as _activations
from ..engine import datasets as _datasets
from ..engine import initializers as _initializers
from ..engine import optimizers as _optimizers
from ..engine import owndata as _owndata
from ..engine import surfaces as _surfaces
from ..engine import training as _training
from ..engine.knobs import Knob
from ..engine.knobs import knobs as _knobs

# --- limits -------------------------------------------------------------------

MAX_LAYER_ELEMENTS = 10_000_000  # depth × width × batch (× maxout pieces), one request
MAX_LAYER_PARAMS = 25_000_000  # Σ fan_in × width: the weights of one request
MAX_ACTIVATION_POINTS = 20_000
MAX_RUNS = 16
MAX_DESCEND_ROWS = 400_000  # steps × runs in one /api/descend answer
MAX_COORD = 1e6
MAX_TRAIN_WORK = 2_000_000_000  # steps × batch × parameters of one /api/train
MAX_NEWTON_PARAMS = _training.MAX_NEWTON_PARAMS
# WebSocket close codes the page acts on (RFC 6455 §7.4.1): 1013 "try again later",
# sent when the server is at its session limit (the page waits longer, then retries).
CLOSE_TRY_LATER = 1013


def knob_field(k: Knob, description: str | None = None, **extra: Any) -> Any:
    """The ``Field`` of a knob: its default and its accepted range, nothing written twice.

    A list knob's range is its items' (see ``knob_items``); the catalog sends the knob's
    ``control`` (what a slider offers) from the field's ``json_schema_extra``.
    """
    listed = isinstance(k.default, tuple)
    kwargs: dict[str, Any] = {"description": description, **extra}
    kwargs["json_schema_extra"] = {"control": k.control_dict()}
    if listed:
        kwargs["max_length"] = k.max_items
    else:
        kwargs.update(ge=k.ge, gt=k.gt, le=k.le, lt=k.lt)
    return Field(list(k.default) if listed else k.default, **kwargs)


def _default(cls: type, name: str) -> Any:
    """An engine config's default for a field without a range (a name, a switch)."""
    return next(f.default for f in dataclasses.fields(cls) if f.name == name)


def _knob(cls: type, name: str, description: str | None = None, **extra: Any) -> Any:
    return knob_field(_knobs(cls)[name], description, **extra)


def _hyper(name: str) -> Any:
    """An optimizer hyper-parameter: omitted means the optimizer's own default."""
    low, high = _optimizers.hyper_ranges()[name]
    return Field(None, ge=low, le=high)


# Uploaded datasets (the training lab's own data); the file's own bounds are in engine/owndata.
MAX_SESSION_UPLOADS = 3  # per WebSocket session (a fourth replaces the least recently used)
MAX_REST_UPLOADS = 32  # uploaded through POST /api/datasets, per server process
UPLOAD_TTL_S = 3600  # an upload unused this long is forgotten (a session's also when it ends)
MAX_UPLOAD_MESSAGE_BYTES = 2 * _owndata.MAX_BYTES + 4096  # a dataset message: the file, escaped

# The wire names of each kind are its registry's keys, read from the registry: adding an
# entry adds its name here. (To the type checker a name is a ``str``, as in the engine;
# pydantic validates, documents and reports the ``Literal`` of the registry's keys.)
if TYPE_CHECKING:
    ActivationName = str
    OptimizerName = str
    SurfaceName = str
    DatasetName = str
    ScheduleName = str
    InitName = str
else:

    def _names(registry: Mapping[str, object]) -> Any:
        return Literal[tuple(registry)]

    ActivationName = _names(_activations.ACTIVATIONS)
    OptimizerName = _names(_optimizers.OPTIMIZERS)
    SurfaceName = _names(_surfaces.SURFACE_SPECS)
    DatasetName = _names(_datasets.DATASETS)
    ScheduleName = _names(_optimizers.SCHEDULES)
    InitName = _names(_initializers.INITIALIZERS)


class Strict(BaseModel):
    """Unknown fields and NaN/Infinity are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)


def problem(code: str, message: str, **params: float | str) -> PydanticCustomError:
    """A validation error with a stable ``code`` and the numbers it quotes (``params``).

    The page words it in its own language from the code and params (an error's
    ``problems``); ``message`` is the English text. ``field`` in params names the
    field when the error belongs to one field of a model-wide check.
    """
    return PydanticCustomError(code, message.replace("{", "(").replace("}", ")"), params)


def _check_activation_params(name: str, params: dict[str, float]) -> dict[str, float]:
    try:
        return _activations.get(name).resolve(params)
    except ValueError as err:
        raise ValueError(f"activation_params: {err}") from None


# --- what the server sends: TypedDicts -------------------------------------------------
# A frame's data (and the parts REST answers share with it) is a ``TypedDict``: the
# runners build plain dicts, which cost nothing more per frame than before, and the type
# checker holds every key and value of them to the shape written here; the tests read
# the same shapes through pydantic (``TypeAdapter``, e.g. ``Frame.model_validate``),
# validating the frames the engine produced. ``shape`` makes pydantic refuse a key the
# shape does not have.
shape = with_config(ConfigDict(extra="forbid"))

# Numbers as the runners put them into a frame: a NumPy array rounded by
# ``encode.wire`` goes in as it is (orjson writes it as nested lists, a non-finite value
# as null), or a list. To the type checker a field is that array or the list; to
# pydantic, which validates a frame as the page receives it, the list.
if TYPE_CHECKING:
    Floats = NDArray[np.float64] | list[float | None]
    FloatRows = NDArray[np.float64] | list[list[float | None]]
    Ints = NDArray[np.int64] | list[int]
else:
    Floats = list[float | None]
    FloatRows = list[list[float | None]]
    Ints = list[int]


@shape
class TextRef(TypedDict):
    """A text by its key in the page's catalogs (``static/i18n/<lang>.json``) and the
    values of its ``{slots}``: the page words it in its language; the field beside it
    carries the English."""

    key: str
    vars: dict[str, str]


ProblemParam = float | int | str | bool | None


class Problem(BaseModel):
    """One thing wrong with a message or a body, for the page to word in its language."""

    field: str = Field(description="dotted path, e.g. config.depth ('message': the whole one)")
    code: str = Field(
        description=(
            "stable id: pydantic's error type (less_than_equal, literal_error, …) or ours "
            "(layer_elements, layer_params, descend_rows, train_work, expression, …)"
        )
    )
    params: dict[str, ProblemParam] = Field(
        default_factory=dict, description="what the message quotes: limit, value, ge, le, …"
    )
    message: str = Field(description="the English text, without the field")


class ErrorBody(BaseModel):
    """The JSON of every REST error (422 for bad input)."""

    error: str = Field(description="English, naming the field: 'depth: …'")
    detail: list[dict[str, Any]] | None = Field(None, description="pydantic's loc, msg, type")
    problems: list[Problem] = Field(default_factory=list)


# --- misc -------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    sessions: int = Field(description="live WebSocket sessions of this worker")
    worker: int = Field(description="process id of this worker")
    tasks: int = Field(description="asyncio tasks alive in this worker")
    threads: int
    loop_lag: dict[str, float] = Field(description="event-loop lag percentiles, last minute")
    layers_cache: dict[str, int] = Field(
        default_factory=dict,
        description=(
            "layers-lab pictures: cache hits, misses, joins (identical work in flight), "
            "computed, abandoned, cached entries and bytes, queued and running jobs"
        ),
    )
    frames: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "streaming labs: the frame worker processes (pids, sessions on each, round "
            "trips and requests so far), the optimizer-race frames stepped together with "
            "other sessions' races as one array program (frames, programs, rows), and per "
            "lab the frames computed, the workers' CPU milliseconds per frame and the bytes "
            "per frame"
        ),
    )
    classes: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "classes this worker takes part in, their members here, the store (memory or "
            "Redis), the teacher messages put in followers' mailboxes and the milliseconds "
            "each delivery took"
        ),
    )
