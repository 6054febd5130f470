"""The training lab and its own data: REST bodies, responses and frame data."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    BaseModel,
    Field,
    field_validator,
    model_validator,
)
from typing_extensions import TypedDict

from ..engine import activations as _activations
from ..engine import datasets as _datasets
from ..engine import landscape as _landscape
from ..engine import optimizers as _optimizers
from ..engine import owndata as _owndata
from ..engine import training as _training
from ..engine.knobs import SEED as _SEED
from ..engine.knobs import knobs as _knobs
from .common import (
    MAX_NEWTON_PARAMS,
    MAX_TRAIN_WORK,
    ActivationName,
    DatasetName,
    FloatRows,
    Floats,
    InitName,
    Strict,
    TextRef,
    _check_activation_params,
    _default,
    _knob,
    knob_field,
    problem,
    shape,
)
from .descend import OptimizerChoice
from .layers import CountsOut

# --- training lab -----------------------------------------------------------------

_HIDDEN = _knobs(_training.TrainConfig)["hidden"]
Hidden = Annotated[int, Field(ge=_HIDDEN.ge, le=_HIDDEN.le)]


class TrainRequest(Strict):
    """Body of ``POST /api/train`` and the training lab's ``configure``."""

    dataset: DatasetName = _default(_training.TrainConfig, "dataset")
    dataset_params: dict[str, str] = Field(default_factory=dict, max_length=2)
    n_samples: int = _knob(_training.TrainConfig, "n_samples")
    noise: float = _knob(_training.TrainConfig, "noise")
    train_share: float = _knob(_training.TrainConfig, "train_share")
    hidden: list[Hidden] = _knob(_training.TrainConfig, "hidden")
    activation: ActivationName = _default(_training.TrainConfig, "activation")
    activation_params: dict[str, float] = Field(default_factory=dict, max_length=4)
    init: InitName = _default(_training.TrainConfig, "init")
    scale: float = _knob(_training.TrainConfig, "scale")
    bias: float = _knob(_training.TrainConfig, "bias")
    batchnorm: bool = _default(_training.TrainConfig, "batchnorm")
    dropout_keep: float = _knob(_training.TrainConfig, "dropout_keep")
    dropout_mode: Literal["inverted", "classic"] = _default(_training.TrainConfig, "dropout_mode")
    residual: bool = _default(_training.TrainConfig, "residual")
    l1: float = _knob(_training.TrainConfig, "l1")
    l2: float = _knob(_training.TrainConfig, "l2")
    optimizer: OptimizerChoice = Field(
        default_factory=lambda: OptimizerChoice(
            optimizer=_training.OPTIMIZER, lr=_training.OPTIMIZER_LR
        )
    )
    batch_size: int = _knob(_training.TrainConfig, "batch_size")
    steps: int = _knob(_training.TrainConfig, "steps")
    seed: int = knob_field(_SEED)
    record_every: int | None = Field(
        None, ge=1, le=100_000, description="history every n steps (default: ≤ 500 rows)"
    )
    dtype: Literal["float32", "float64"] = _default(_training.TrainConfig, "dtype")

    @field_validator("batchnorm", mode="before")
    @classmethod
    def _bn_names(cls, value: Any) -> Any:
        return (
            {"off": False, "train": True, "on": True}.get(value, value)
            if isinstance(value, str)
            else value
        )

    @model_validator(mode="after")
    def _consistent(self) -> TrainRequest:
        try:
            _datasets.resolve_params(self.dataset, self.dataset_params)
        except ValueError as err:
            raise problem("dataset_params", str(err), field="dataset_params") from None
        self.activation_params = _check_activation_params(self.activation, self.activation_params)
        params = self.n_params
        if self.optimizer.optimizer == "newton" and params > MAX_NEWTON_PARAMS:
            raise problem(
                "newton_params",
                f"optimizer: newton needs the full Hessian, so at most {MAX_NEWTON_PARAMS} "
                f"parameters; this network has {params}",
                field="optimizer",
                value=params,
                limit=MAX_NEWTON_PARAMS,
            )
        rows = _owndata.MAX_ROWS if self.dataset == "uploaded" else self.n_samples
        work = max(self.steps, 1) * min(self.batch_size, rows) * params
        if work > MAX_TRAIN_WORK:
            raise problem(
                "train_work",
                f"steps × batch × parameters = {work:,} exceeds {MAX_TRAIN_WORK:,}: "
                "fewer steps, a smaller batch or a smaller network",
                field="steps",
                value=work,
                limit=MAX_TRAIN_WORK,
            )
        return self

    @property
    def n_params(self) -> int:
        k = _activations.pieces(self.activation, self.activation_params)
        dims = [2, *self.hidden]
        total = 0
        for fan_in, width in zip(dims, self.hidden, strict=False):
            m = width * k
            total += fan_in * m + m + (2 * m if self.batchnorm else 0)
            total += 1 if self.activation == "prelu" else 0
        return total + dims[-1] + 1  # the output unit


class HistoryRow(BaseModel):
    step: int
    train_loss: float | None
    test_loss: float | None
    accuracy: float = Field(description="on the test split")
    train_accuracy: float
    dead_units: list[int] = Field(description="per hidden layer: zero on every training input")


class TrainFinal(BaseModel):
    train_loss: float | None
    test_loss: float | None
    accuracy: float
    train_accuracy: float
    dead_units: list[int]
    predictions: list[float | None] = Field(description="P(y = 1) on the training inputs")
    inputs: list[list[float]]
    labels: list[float]
    weights: list[list[list[float | None]]] | None = Field(
        None, description="per layer (fan_in × width), for nets with ≤ 10 000 parameters"
    )
    biases: list[list[float | None]] | None = None


@shape
class BlowUpOut(TypedDict):
    """A run whose loss blew up without overflowing (it goes on; this explains it)."""

    step: Annotated[int, Field(description="the step it was caught at")]
    loss: Annotated[float, Field(description="the smoothed mini-batch loss then")]
    loss_peak: Annotated[float, Field(description="the highest mini-batch loss until then")]
    loss_start: Annotated[float, Field(description="the first mini-batch's loss")]
    update_ratio: Annotated[
        float | None, Field(description="‖Δθ‖/‖θ‖ of that step (healthy ≈ 1e-3)")
    ]
    units: Literal["saturated", "dead"]
    unit_share: Annotated[float, Field(description="share of the worst hidden layer's units")]
    unit_layer: Annotated[int, Field(description="that layer, 1-based (0: no hidden layer)")]
    lr: float
    message: Annotated[str, Field(description="the English explanation")]


class TrainResponse(BaseModel):
    history: list[HistoryRow]
    final: TrainFinal
    status: Literal["finished", "diverged"]
    reason: str
    reason_text: TextRef | None = Field(None, description="why it diverged, by key")
    warning: BlowUpOut | None = Field(None, description="a blow-up that stayed finite")
    n_params: int
    elapsed_ms: float


# --- the training lab's own data --------------------------------------------------------


class DatasetRequest(Strict):
    """Body of ``POST /api/datasets``: a CSV file's text, or the points (one of the two)."""

    csv: str | None = Field(
        None,
        description=(
            f"x, y, label per line (header optional; ≤ {_owndata.MAX_BYTES:,} bytes, "
            f"≤ {_owndata.MAX_ROWS:,} rows, ≤ {_owndata.MAX_LINE_CHARS:,} characters a line)"
        ),
    )
    points: list[Any] | None = Field(None, description="[[x, y, label], …]")

    @model_validator(mode="after")
    def _one_source(self) -> DatasetRequest:
        if (self.csv is None) == (self.points is None):
            raise problem("upload_source", "give either csv (a file's text) or points", field="csv")
        return self


class DatasetResponse(BaseModel):
    id: str = Field(description="content hash: dataset_params.id of the training lab")
    rows: int
    labels: list[int | float | str] = Field(description="the file's values for class 0 and class 1")
    bounds: list[list[float]] = Field(description="[[xmin, xmax], [ymin, ymax]]")
    columns: list[str] = Field(description="the names of x, y and the label")
    counts: list[int] = Field(description="points of class 0 and of class 1")


@shape
class TrainData(TypedDict):
    """The dataset, in ``data`` of a configuration's first training frame."""

    X_train: FloatRows
    y_train: Floats
    X_test: FloatRows
    y_test: Floats
    domain: Annotated[list[list[float]], Field(description="[[xmin, xmax], [ymin, ymax]]")]
    n_params: int


@shape
class TrainFrameData(TypedDict):
    """A training frame: the numbers on every frame; the views (``histograms``,
    ``boundary``, ``weights``) on the frames that carry them."""

    step: int
    epoch: int
    train_loss: float | None
    test_loss: float | None
    accuracy: float
    train_accuracy: float
    lr: float | None
    dead_units: list[int]
    zero_fraction: Floats
    grad_norm: list[float | None]
    update_ratio: list[float | None]
    views_step: Annotated[
        int, Field(description="the step of the newest boundary, histograms and weights")
    ]
    warning: NotRequired[
        Annotated[
            BlowUpOut,
            Field(description="from the step a finite blow-up was caught on (the run goes on)"),
        ]
    ]
    histograms: NotRequired[list[CountsOut]]
    histogram_edges: NotRequired[Floats]
    boundary: NotRequired[FloatRows]
    weights: NotRequired[list[FloatRows]]
    biases: NotRequired[list[Floats]]
    data: NotRequired[Annotated[TrainData, Field(description="in the first frame")]]
    landscape: NotRequired[
        Annotated[
            LandscapeFrame, Field(description="the loss landscape, on the frames that refresh it")
        ]
    ]


# --- the loss landscape of the training lab's network ------------------------------------
# (POST /api/landscape, POST /api/landscape/race and the live view's stream options and
# frame field; the maths is engine/landscape.py)

MAX_LANDSCAPE_RUNS = 6  # optimizers raced on one network in one request
LANDSCAPE_RACE_RUNS = _optimizers.RACE_CARD  # (the race card's first runs: the registry's)
LandscapeDirections = _landscape.Directions
LandscapeCenter = _landscape.Center


def _odd(value: int) -> int:
    if value % 2 == 0:
        raise problem(
            "landscape_odd",
            f"resolution must be odd (the grid has a point at the centre), not {value}",
            value=value,
        )
    return value


def _landscape_size(
    n_params: int, n_train: int, resolution: int, field: str, params_field: str | None = None
) -> None:
    """``params_field``: the field named when the network is too large at any resolution
    (a REST landscape's ``hidden``; the live view names its own option either way)."""
    why = _landscape.check_size(n_params, n_train, resolution)
    if why is not None:
        too_many = n_params > _landscape.MAX_PARAMS and params_field is not None
        raise problem(
            "landscape_size",
            why,
            field=params_field if too_many and params_field else field,
            value=resolution**2 * n_train * n_params,
            limit=_landscape.MAX_WORK,
            params=n_params,
            max_params=_landscape.MAX_PARAMS,
        )


def _fitted_resolution(req: LandscapeRequest | LandscapeRaceRequest) -> None:
    """A request that leaves ``resolution`` out gets the finest odd grid, up to the
    default, that the work bound allows for its network and data: a student's 64-64
    network raced on the training lab's card (which has no resolution control) gets a
    coarser map rather than a refusal. One given is checked as it is."""
    if "resolution" in req.model_fields_set:
        return
    n, params = _n_train(req), req.n_params
    fits = math.isqrt(_landscape.MAX_WORK // max(1, n * params))
    low = int(_landscape.RESOLUTION.ge or 3)
    req.resolution = max(low, min(req.resolution, fits if fits % 2 else fits - 1))


def _n_train(req: TrainRequest) -> int:
    """Training points of a built-in dataset (an upload's are counted when it is read:
    here it counts as one, so that only the parameter bound applies)."""
    if req.dataset == "uploaded":
        return 1
    return max(1, round(req.n_samples * req.train_share))


class LandscapeRequest(TrainRequest):
    """Body of ``POST /api/landscape``: a training configuration exactly as ``/api/train``
    (trained for its ``steps``; the plane is centred on the final weights), and the plane."""

    directions: LandscapeDirections = Field(
        "random", description="random: filter-normalized (Li et al.); pca: of the trajectory"
    )
    resolution: int = knob_field(_landscape.RESOLUTION, "grid points per axis (odd)")
    span: float = knob_field(_landscape.SPAN, "the grid covers −span … span in each direction")

    _resolution_odd = field_validator("resolution")(_odd)

    @model_validator(mode="after")
    def _small_enough(self) -> LandscapeRequest:
        _fitted_resolution(self)
        _landscape_size(self.n_params, _n_train(self), self.resolution, "resolution", "hidden")
        return self


class LandscapeResponse(BaseModel):
    alphas: list[float] = Field(description="the grid's α (first direction), −span … span")
    betas: list[float]
    loss: list[list[float | None]] = Field(description="training loss; rows follow betas")
    center_loss: float | None = Field(description="at (0, 0): the final training loss")
    path: list[list[float | None]] = Field(description="[α, β] of each weight snapshot")
    path_steps: list[int] = Field(description="the step of each snapshot")
    explained_variance: list[float] | None = Field(
        description="pca: the two directions' shares of the path's variance; random: null"
    )
    directions: LandscapeDirections
    n_params: int
    elapsed_ms: float


class LandscapeRun(OptimizerChoice):
    """One optimizer of the race on one network."""

    label: str | None = Field(None, max_length=40)


class LandscapeRaceRequest(TrainRequest):
    """Body of ``POST /api/landscape/race``: one network (a training configuration as
    ``/api/train``), trained K times from the same initial weights on the same batches,
    once with each optimizer of ``runs``; the paths go onto one random filter-normalized
    plane through the shared start."""

    runs: list[LandscapeRun] = Field(min_length=1, max_length=MAX_LANDSCAPE_RUNS)
    resolution: int = knob_field(_landscape.RESOLUTION, "grid points per axis (odd)")
    span: float = knob_field(_landscape.SPAN, "the grid covers −span … span in each direction")

    _resolution_odd = field_validator("resolution")(_odd)

    @model_validator(mode="after")
    def _race_shape(self) -> LandscapeRaceRequest:
        if "optimizer" in self.model_fields_set:
            raise problem(
                "race_optimizer",
                "a race names its optimizers in runs, not in optimizer",
                field="optimizer",
            )
        params = self.n_params
        for i, run in enumerate(self.runs):
            if run.optimizer == "newton" and params > MAX_NEWTON_PARAMS:
                raise problem(
                    "newton_params",
                    f"runs.{i}: newton needs the full Hessian, so at most {MAX_NEWTON_PARAMS} "
                    f"parameters; this network has {params}",
                    field=f"runs.{i}.optimizer",
                    value=params,
                    limit=MAX_NEWTON_PARAMS,
                )
        rows = _owndata.MAX_ROWS if self.dataset == "uploaded" else self.n_samples
        work = max(self.steps, 1) * min(self.batch_size, rows) * params * len(self.runs)
        if work > MAX_TRAIN_WORK:
            raise problem(
                "train_work",
                f"steps × batch × parameters × runs = {work:,} exceeds {MAX_TRAIN_WORK:,}: "
                "fewer steps or runs, a smaller batch or a smaller network",
                field="steps",
                value=work,
                limit=MAX_TRAIN_WORK,
            )
        _fitted_resolution(self)
        _landscape_size(params, _n_train(self), self.resolution, "resolution", "hidden")
        return self


class LandscapeRaceRunOut(BaseModel):
    label: str
    optimizer: str
    status: Literal["finished", "diverged"]
    reason: str
    history: list[HistoryRow] = Field(description="loss and accuracy curves")
    path: list[list[float | None]] = Field(description="[α, β] on the common plane")
    path_steps: list[int]
    warning: BlowUpOut | None = Field(
        None, description="a blow-up that stayed finite (as /api/train's warning)"
    )


class LandscapeRaceResponse(BaseModel):
    alphas: list[float]
    betas: list[float]
    loss: list[list[float | None]] = Field(description="around the shared start; rows = betas")
    center_loss: float | None = Field(description="the shared start's training loss")
    runs: list[LandscapeRaceRunOut]
    n_params: int
    elapsed_ms: float


class LandscapeStream(Strict):
    """The training lab's live landscape view (``options.landscape``; absent: off)."""

    directions: LandscapeDirections = Field(
        "random", description="random: filter-normalized; pca: of the trajectory so far"
    )
    center: LandscapeCenter = Field(
        "current",
        description=(
            "current: the plane through the current weights (redrawn as they move); "
            "start: one fixed plane through the initial weights (random only; two runs "
            "of one seed share it)"
        ),
    )
    resolution: int = knob_field(_landscape.RESOLUTION, "grid points per axis (odd)")
    span: float = knob_field(_landscape.SPAN, "the grid covers −span … span")
    every: int = knob_field(_landscape.EVERY, "refresh every n steps (throttled)")

    _resolution_odd = field_validator("resolution")(_odd)

    @model_validator(mode="after")
    def _start_is_random(self) -> LandscapeStream:
        if self.center == "start" and self.directions == "pca":
            raise problem(
                "landscape_center",
                "a plane through the start needs random directions (pca is of the path "
                "so far, centred on the current weights)",
                field="center",
            )
        return self


@shape
class LandscapeFrame(TypedDict):
    """``landscape`` of a training frame: on the frames where it was refreshed."""

    step: Annotated[int, Field(description="the step of the weights the plane is through")]
    directions: Annotated[
        LandscapeDirections,
        Field(description="as asked; random until a pca path has left its centre"),
    ]
    center: LandscapeCenter
    alphas: Floats
    betas: Floats
    loss: Annotated[FloatRows, Field(description="the training loss; rows follow betas")]
    center_loss: float | None
    path: Annotated[FloatRows, Field(description="[α, β] of every snapshot so far")]
    path_steps: list[int]
    explained_variance: list[float] | None
    compute_ms: Annotated[float, Field(description="what this refresh cost the worker")]
