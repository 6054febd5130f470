"""Every wire shape: REST bodies and responses, and the WebSocket messages.

This module is the only place a message is defined. Every model forbids unknown
fields and non-finite numbers, and every number has a range, so bad input is a
422 (or a WebSocket ``error`` frame) naming the field. The ``Literal`` name
lists equal the engine registries' keys (a test checks it).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .engine import activations as _activations
from .engine import datasets as _datasets
from .engine import layers_lab as _layers
from .engine import optimizers as _optimizers
from .engine import owndata as _owndata
from .engine import race as _race
from .engine import surfaces as _surfaces
from .engine import sweep as _sweep
from .engine import training as _training
from .engine.expressions import MAX_LENGTH as _MAX_EXPR
from .engine.knobs import SEED as _SEED
from .engine.knobs import Knob
from .engine.knobs import knobs as _knobs

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

ActivationName = Literal[
    "linear",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "prelu",
    "elu",
    "selu",
    "gelu",
    "silu",
    "softplus",
    "maxout",
]
OptimizerName = Literal[
    "gd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "adamw",
    "nadam",
    "amsgrad",
    "newton",
]
SurfaceName = Literal[
    "quadratic_1d",
    "quartic_1d",
    "parabola_1d",
    "shifted_bowl",
    "ill_conditioned",
    "saddle",
    "three_saddles",
    "bowl",
    "rosenbrock",
    "beale",
    "himmelblau",
    "booth",
    "six_hump_camel",
    "rastrigin",
    "ackley",
    "styblinski_tang",
    "monkey_saddle",
    "plateau",
]
DatasetName = Literal[
    "circle", "xor", "gaussians", "spiral", "moons", "linear", "logic", "uploaded"
]
ScheduleName = Literal["constant", "inv_sqrt", "step", "exponential", "cosine"]
InitName = Literal[
    "zeros",
    "constant",
    "normal",
    "uniform",
    "lecun_normal",
    "xavier_normal",
    "xavier_uniform",
    "he_normal",
    "he_uniform",
    "orthogonal",
]


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


# --- layers lab -----------------------------------------------------------------


class NormalInput(Strict):
    """Inputs drawn i.i.d. from N(mean, std²)."""

    distribution: Literal["normal"] = "normal"
    mean: float = _knob(_layers.InputDistribution, "mean")
    std: float = _knob(_layers.InputDistribution, "std")


class UniformInput(Strict):
    """Inputs drawn i.i.d. from U(low, high) — e.g. U(0, 1) for all-positive inputs."""

    distribution: Literal["uniform"]
    low: float = _knob(_layers.InputDistribution, "low")
    high: float = _knob(_layers.InputDistribution, "high")

    @model_validator(mode="after")
    def _ordered(self) -> UniformInput:
        if not self.low < self.high:
            raise problem(
                "low_not_below_high",
                "low must be less than high",
                field="low",
                low=self.low,
                high=self.high,
            )
        return self


Quantity = _layers.Quantity
QUANTITY_NAMES: tuple[Quantity, ...] = _layers.QUANTITIES
InputSpec = Annotated[NormalInput | UniformInput, Field(discriminator="distribution")]
Width = Annotated[int, Field(ge=_layers.WIDTH.ge, le=_layers.WIDTH.le)]


class LayersRequest(Strict):
    """Body of ``POST /api/layers`` and the layers lab's ``configure``."""

    depth: int = knob_field(_layers.DEPTH, "number of layers")
    width: int = knob_field(_layers.WIDTH, "units per layer")
    widths: list[Width] | None = Field(
        None,
        min_length=1,
        max_length=_layers.MAX_DEPTH,
        description="explicit widths (overrides depth/width)",
    )
    input_dim: int = _knob(_layers.LayersConfig, "input_dim")
    batch: int = _knob(_layers.LayersConfig, "batch")
    input: InputSpec = Field(default_factory=NormalInput)
    activation: ActivationName = _default(_layers.LayersConfig, "activation")
    activation_params: dict[str, float] = Field(default_factory=dict, max_length=4)
    init: InitName = _default(_layers.LayersConfig, "init")
    scale: float = _knob(_layers.LayersConfig, "scale", "multiplier on the init's std")
    bias: float = _knob(_layers.LayersConfig, "bias")
    batchnorm: Literal["off", "train", "eval"] = Field(
        _default(_layers.LayersConfig, "batchnorm"),
        description="off, or batch norm with batch (train) or fixed (eval) statistics",
    )
    bn_gamma: float = _knob(_layers.LayersConfig, "bn_gamma")
    bn_beta: float = _knob(_layers.LayersConfig, "bn_beta")
    dropout_keep: float = _knob(_layers.LayersConfig, "dropout_keep", "keep probability p")
    dropout_mode: Literal["inverted", "classic"] = _default(_layers.LayersConfig, "dropout_mode")
    residual: bool = _default(_layers.LayersConfig, "residual")
    seed: int = knob_field(_SEED)
    bins: int = _knob(_layers.LayersConfig, "bins")
    dtype: Literal["float32", "float64"] = _default(_layers.LayersConfig, "dtype")
    histograms: list[Quantity] = Field(
        default_factory=lambda: list(QUANTITY_NAMES),
        min_length=0,
        max_length=len(_layers.QUANTITIES),
        description="which histograms to count (mean and std are always computed)",
    )

    @field_validator("batchnorm", mode="before")
    @classmethod
    def _bool_batchnorm(cls, value: Any) -> Any:
        if value is True:
            return "train"
        if value is False:
            return "off"
        return value

    @model_validator(mode="after")
    def _consistent(self) -> LayersRequest:
        if (
            self.widths is not None
            and "depth" in self.model_fields_set
            and self.depth != len(self.widths)
        ):
            raise problem(
                "depth_widths",
                "depth must equal len(widths) when both are given",
                field="depth",
                depth=self.depth,
                widths=len(self.widths),
            )
        self.activation_params = _check_activation_params(self.activation, self.activation_params)
        k = _activations.pieces(self.activation, self.activation_params)
        widths = self.layer_widths
        elements = sum(widths) * self.batch * k
        if elements > MAX_LAYER_ELEMENTS:
            raise problem(
                "layer_elements",
                f"depth × width × batch = {elements:,} exceeds the ceiling "
                f"{MAX_LAYER_ELEMENTS:,}: reduce depth, width or batch",
                field="batch",
                value=elements,
                limit=MAX_LAYER_ELEMENTS,
                depth=len(widths),
                width=max(widths),
                batch=self.batch,
            )
        fan_ins = [self.input_dim, *widths[:-1]]
        params = sum(f * w * k for f, w in zip(fan_ins, widths, strict=True))
        if params > MAX_LAYER_PARAMS:
            raise problem(
                "layer_params",
                f"the network has {params:,} weights, over the ceiling {MAX_LAYER_PARAMS:,}: "
                "reduce depth, width or input_dim",
                field="width",
                value=params,
                limit=MAX_LAYER_PARAMS,
            )
        return self

    @property
    def layer_widths(self) -> list[int]:
        return list(self.widths) if self.widths is not None else [self.width] * self.depth


class HistogramOut(BaseModel):
    """Counts on fixed edges (``scale`` "log": edges are log10|x|)."""

    mean: float | None
    std: float | None
    edges: list[float]
    counts: list[int] | None = Field(description="null where the histogram was not asked for")
    below: int = Field(description="values under the first edge (log scale: incl. zeros)")
    above: int = Field(description="values over the last edge")
    nonfinite: int = Field(description="inf/NaN values (a diverged net)")
    scale: Literal["linear", "log"]


class LayerFlagOut(BaseModel):
    """What the working precision did to a quantity at a layer."""

    quantity: Quantity
    kind: Literal["underflow", "underflow_some"] = Field(
        description=(
            "underflow: every value is exactly 0 though computed from values that are not "
            "(below the dtype's smallest number); underflow_some: a share of the "
            "activations is exactly 0 though the activation is never 0 (σ, tanh…)"
        )
    )
    share: float = Field(description="of the layer's values")


class LayerOut(BaseModel):
    index: int = Field(description="1-based layer number")
    width: int
    preactivation: HistogramOut
    activation: HistogramOut
    derivative: HistogramOut
    gradient: HistogramOut
    weight_gradient: HistogramOut
    saturated_fraction: float
    dead_units: int = Field(description="units that are exactly 0 for every sample")
    zero_fraction: float = Field(
        description=(
            "zeros per sample: the share of (sample, unit) values h that are exactly 0 "
            "(a ReLU that is off; for σ, tanh… only float underflow, then flagged)"
        )
    )
    grad_norm: float | None = Field(description="‖∂L/∂W‖ (null once it overflows)")
    n_var_w: float = Field(description="fan_in · Var(W) measured on this layer")
    flags: list[LayerFlagOut] = Field(default_factory=list)


class TextRef(BaseModel):
    """A text by its key in the page's catalogs (``static/i18n/<lang>.json``) and the
    values of its ``{slots}``: the page words it in its language; the field beside it
    carries the English."""

    key: str
    vars: dict[str, str] = Field(default_factory=dict)


class LayersResponse(BaseModel):
    layers: list[LayerOut]
    theory: list[float] | None = Field(description="predicted pre-activation variance per layer")
    theory_note: str = Field(description="when the prediction holds, in English")
    theory_text: TextRef = Field(description="the same note by key")
    n_var_w_expected: list[float]
    n_var_w_target: float | None = Field(description="1 for tanh, 2 for ReLU")
    saturation_rule: str
    saturation_text: TextRef
    loss: float | None
    elapsed_ms: float


# --- activation gallery ---------------------------------------------------------


class ActivationRequest(Strict):
    """Body of ``POST /api/activation``."""

    name: ActivationName
    params: dict[str, float] = Field(default_factory=dict, max_length=4)
    x: list[Annotated[float, Field(ge=-1e6, le=1e6)]] = Field(
        min_length=1, max_length=MAX_ACTIVATION_POINTS
    )

    @model_validator(mode="after")
    def _params(self) -> ActivationRequest:
        try:
            self.params = _activations.get(self.name).resolve(self.params)
        except ValueError as err:
            raise ValueError(f"params: {err}") from None
        return self


class ActivationResponse(BaseModel):
    name: str
    params: dict[str, float]
    f: list[float]
    df: list[float]


# --- optimizer lab ------------------------------------------------------------------

Coordinate = Annotated[float, Field(ge=-MAX_COORD, le=MAX_COORD)]
Point = Annotated[list[Coordinate], Field(min_length=1, max_length=2)]
Range = Annotated[list[Coordinate], Field(min_length=2, max_length=2)]


class ScheduleSpec(Strict):
    """A learning-rate schedule: lr_t = lr · s(t)."""

    name: ScheduleName = _default(_optimizers.Schedule, "name")
    step_size: int = _knob(_optimizers.Schedule, "step_size", "step: decay every n steps")
    gamma: float = _knob(_optimizers.Schedule, "gamma", "step / exponential: the factor")
    period: int = _knob(_optimizers.Schedule, "period", "cosine: steps to reach 0")


class OptimizerChoice(Strict):
    """An optimizer with its hyper-parameters (its defaults where omitted) and options."""

    optimizer: OptimizerName
    lr: float | None = _hyper("lr")
    momentum: float | None = _hyper("momentum")
    rho: float | None = _hyper("rho")
    beta1: float | None = _hyper("beta1")
    beta2: float | None = _hyper("beta2")
    eps: float | None = _hyper("eps")
    weight_decay: float | None = _hyper("weight_decay")
    bias_correction: bool | None = None
    initial_accumulator: float | None = _hyper("initial_accumulator")
    clip_norm: float | None = _knob(_race.RunConfig, "clip_norm")
    clip_value: float | None = _knob(_race.RunConfig, "clip_value")
    noise: float = _knob(_race.RunConfig, "noise", "σ of Gaussian noise added to ∇f")
    schedule: ScheduleName | ScheduleSpec = _default(_optimizers.Schedule, "name")

    @model_validator(mode="after")
    def _known_for_this_optimizer(self) -> OptimizerChoice:
        try:
            _optimizers.get_spec(self.optimizer).resolve(self.hyper)
        except ValueError as err:
            raise ValueError(str(err)) from None
        return self

    @property
    def hyper(self) -> dict[str, Any]:
        names = (
            "lr",
            "momentum",
            "rho",
            "beta1",
            "beta2",
            "eps",
            "weight_decay",
            "bias_correction",
            "initial_accumulator",
        )
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    @property
    def schedule_spec(self) -> ScheduleSpec:
        if isinstance(self.schedule, ScheduleSpec):
            return self.schedule
        return ScheduleSpec(name=self.schedule)


class RunRequest(OptimizerChoice):
    """One runner of a race: an optimizer, a label and (optionally) its own start."""

    label: str | None = Field(None, max_length=40)
    start: Point | None = None


class CustomSurfaceRequest(Strict):
    """A surface typed by the user, e.g. ``x**2 + 10*y**2``."""

    expr: str = Field(min_length=1, max_length=_MAX_EXPR)
    domain: list[Range] | None = Field(None, min_length=1, max_length=2)
    dims: Literal[1, 2] | None = None

    @field_validator("domain")
    @classmethod
    def _ordered(cls, value: list[list[float]] | None) -> list[list[float]] | None:
        for lo, hi in value or []:
            if not lo < hi:
                raise problem("domain_order", "each domain range needs low < high", low=lo, high=hi)
        return value


def _surface_kind(value: Any) -> str | None:
    """A name is a built-in surface, an object a typed one: validate against that one only.

    (As a plain union, a bad typed surface was reported against both members: a
    list of every built-in name, then the real problem.)
    """
    if isinstance(value, str):
        return "builtin"
    if isinstance(value, dict | CustomSurfaceRequest):
        return "custom"
    return None


SurfaceChoice = Annotated[
    Annotated[SurfaceName, Tag("builtin")] | Annotated[CustomSurfaceRequest, Tag("custom")],
    Discriminator(
        _surface_kind,
        custom_error_type="surface_type",
        custom_error_message='a surface name, or an object {"expr": …} for a typed surface',
    ),
]
# Tags of the unions (surface kinds, input distributions), which error messages leave
# out of a field's path.
UNION_TAGS = frozenset({"builtin", "custom", "normal", "uniform"})


class SurfaceParamsMixin(Strict):
    surface: SurfaceChoice = "rosenbrock"
    surface_params: dict[str, float] = Field(default_factory=dict, max_length=4)

    @model_validator(mode="after")
    def _surface_params(self) -> SurfaceParamsMixin:
        if isinstance(self.surface, str):
            try:
                _surfaces.get_spec(self.surface).resolve(self.surface_params)
            except ValueError as err:
                raise ValueError(f"surface_params: {err}") from None
        elif self.surface_params:
            raise problem(
                "typed_surface_params",
                "surface_params: a typed surface takes no parameters",
                field="surface_params",
            )
        return self


class DescendRequest(SurfaceParamsMixin):
    """Body of ``POST /api/descend`` and the optimizer lab's ``configure``."""

    start: Point | None = Field(None, description="default start for every run")
    steps: int = knob_field(_race.STEPS)
    runs: list[RunRequest] = Field(min_length=1, max_length=MAX_RUNS)
    seed: int = knob_field(_SEED)
    include: list[Literal["gradient", "step", "effective_lr", "distance"]] = Field(
        default_factory=list, description="extra per-step series to return"
    )
    every: int = knob_field(_race.EVERY, "return every n-th row only")

    @model_validator(mode="after")
    def _size(self) -> DescendRequest:
        rows = (self.steps // self.every + 1) * len(self.runs)
        if rows > MAX_DESCEND_ROWS:
            raise problem(
                "descend_rows",
                f"steps × runs = {rows:,} rows exceeds {MAX_DESCEND_ROWS:,}: "
                "fewer steps or runs, or a larger 'every'",
                field="steps",
                value=rows,
                limit=MAX_DESCEND_ROWS,
            )
        return self


class SurfaceRequest(SurfaceParamsMixin):
    """Body of ``POST /api/surface``: a value grid for contours."""

    resolution: int = knob_field(_surfaces.RESOLUTION)


class CriticalPointOut(BaseModel):
    point: list[float]
    value: float
    kind: Literal["minimum", "maximum", "saddle", "degenerate"]
    eigenvalues: list[float]


class SurfaceInfo(BaseModel):
    name: str
    title: str
    formula: str
    dims: int
    domain: list[list[float]]
    start: list[float]
    critical_points: list[CriticalPointOut]
    notes: list[str]


class RunOut(BaseModel):
    optimizer: str
    label: str
    status: Literal["running", "converged", "diverged"]
    stopped_at: int | None = Field(description="index of the last point of a stopped run")
    points: list[list[float]] = Field(description="one row per step, the start first")
    loss: list[float]
    gradient: list[list[float]] | None = None
    step: list[list[float]] | None = None
    effective_lr: list[list[float]] | None = None
    distance: list[float] | None = None


class DescendResponse(BaseModel):
    surface: SurfaceInfo
    runs: list[RunOut]
    steps: int
    every: int
    elapsed_ms: float


class SurfaceResponse(BaseModel):
    surface: SurfaceInfo
    x: list[float]
    y: list[float] | None = None
    z: list[list[float | None]] | list[float | None] = Field(
        description="f on the grid: z[i][j] = f(x[j], y[i]) in 2-D, f(x[i]) in 1-D"
    )
    dz: list[float | None] | None = Field(None, description="1-D: f′(x)")
    elapsed_ms: float


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


class BlowUpOut(BaseModel):
    """A run whose loss blew up without overflowing (it goes on; this explains it)."""

    step: int = Field(description="the step it was caught at")
    loss: float = Field(description="the smoothed mini-batch loss then")
    loss_peak: float = Field(description="the highest mini-batch loss until then")
    loss_start: float = Field(description="the first mini-batch's loss")
    update_ratio: float | None = Field(description="‖Δθ‖/‖θ‖ of that step (healthy ≈ 1e-3)")
    units: Literal["saturated", "dead"]
    unit_share: float = Field(description="share of the worst hidden layer's units")
    unit_layer: int = Field(description="that layer, 1-based (0: no hidden layer)")
    lr: float
    message: str = Field(description="the English explanation")


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


# --- WebSocket: client → server --------------------------------------------------------


FPS = Knob(30.0, "smooth motion; more would only queue draws on a slow laptop", gt=0, le=60)
STEPS_PER_FRAME = Knob(
    1,
    "one step a frame: every step is seen",
    ge=1,
    le=1000,
    log=True,
    integer=True,
    span=(1, 200),
    span_why="past 200 steps a frame a race or a run is over before one sees it move",
)
BOUNDARY = Knob(40, "a 40 × 40 grid: a smooth boundary at a chart's size", ge=0, le=100)
HISTOGRAM_BINS = Knob(30, "enough bins to see a distribution saturate or die", ge=0, le=100)
VIEW_FPS = Knob(
    5.0,
    "the boundary, histograms and weights change slowly; at 5 a second they look live and "
    "cost a training frame a fraction of what they would on every frame",
    gt=0,
    le=60,
)
# The stream options each live lab's page sends, and the defaults it opens with where
# they differ from the ones above.
LAB_STREAM_FIELDS: dict[str, tuple[str, ...]] = {
    "descend": ("fps", "steps_per_frame"),
    "train": ("fps", "steps_per_frame", "boundary", "histogram_bins", "weights"),
}
LAB_STREAM_DEFAULTS: dict[str, dict[str, float]] = {
    # 150 steps a second: the default 2000-step race takes about 13 seconds
    "descend": {"steps_per_frame": 5},
    # 200 steps a second: the default 3000-step run takes 15 seconds; at 20 frames a
    # second the boundary and five charts still redraw in time on a classroom laptop
    "train": {"steps_per_frame": 10, "fps": 20},
}


class StreamOptions(Strict):
    """How a live lab streams (all optional)."""

    fps: float = knob_field(FPS, "frames per second while playing")
    steps_per_frame: int = knob_field(STEPS_PER_FRAME, "optimizer/training steps a frame")
    boundary: int = knob_field(BOUNDARY, "train: decision-boundary grid (0 = none)")
    histogram_bins: int = knob_field(HISTOGRAM_BINS, "train: activation histogram bins")
    weights: bool = Field(True, description="train: send every weight of small nets")
    view_fps: float = knob_field(
        VIEW_FPS,
        "train: frames a second that carry the decision boundary, the histograms and the "
        "weights (the others carry the numbers; every frame's views_step says which step "
        "its views are from)",
    )
    drag: bool = Field(
        False,
        description=(
            "layers: a slider is being dragged: only the coarse frame is computed now; "
            "the complete one follows once no newer configure came for a moment"
        ),
    )


class ConfigureLayers(Strict):
    type: Literal["configure"]
    lab: Literal["layers"]
    config: LayersRequest = Field(default_factory=LayersRequest)
    options: StreamOptions = Field(default_factory=StreamOptions)


class ConfigureDescend(Strict):
    type: Literal["configure"]
    lab: Literal["descend"]
    config: DescendRequest
    options: StreamOptions = Field(default_factory=StreamOptions)
    sweep: SweepSpec | None = Field(
        None, description="sweep each run's learning rate instead of racing (frames: sweep)"
    )

    @model_validator(mode="after")
    def _sweep_work(self) -> ConfigureDescend:
        if self.sweep is not None:
            n, steps = len(self.config.runs), self.config.steps
            check_sweep_work(n, self.sweep.lr_count, steps, "config.steps")
        return self


class ConfigureTrain(Strict):
    type: Literal["configure"]
    lab: Literal["train"]
    config: TrainRequest = Field(default_factory=TrainRequest)
    options: StreamOptions = Field(default_factory=StreamOptions)


Configure = Annotated[
    ConfigureLayers | ConfigureDescend | ConfigureTrain, Field(discriminator="lab")
]


class Play(Strict):
    type: Literal["play"]


class Pause(Strict):
    type: Literal["pause"]


class StepMessage(Strict):
    type: Literal["step"]
    n: int = Field(1, ge=1, le=10_000, description="steps to advance (one frame)")


class Reset(Strict):
    type: Literal["reset"]


class DatasetUpload(DatasetRequest):
    """An upload into this session (answered by ``dataset``, or an ``error`` naming the row)."""

    type: Literal["dataset"]


# --- classes: a teacher leads, students follow (docs/protocol.md, "Classes") -----------

CLASS_CODE_ALPHABET = "ACDEFHJKMNPRTVWXY34679"  # no 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V pairs
CLASS_CODE_LENGTH = 6
ClassCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        description=f"the class code ({CLASS_CODE_LENGTH} of {CLASS_CODE_ALPHABET}; "
        "case, spaces and dashes ignored)",
    ),
]
# The page's state as a shared link carries it (lab, config, options, view, preset, play):
# the server keeps and forwards it, the pages read it (their links' own format and version).
PageState = dict[str, Any]


class ClassCreate(Strict):
    """Start a class led by this connection (answered by ``class_created``)."""

    type: Literal["class_create"]


class ClassJoin(Strict):
    """Follow the class with this code (answered by ``class_joined``)."""

    type: Literal["class_join"]
    code: ClassCode


class ClassResume(Strict):
    """The teacher again (a reload, another device): the code and the teacher key."""

    type: Literal["class_resume"]
    code: ClassCode
    teacher_key: str = Field(min_length=1, max_length=128)


class ClassFollow(Strict):
    type: Literal["class_follow"]


class ClassExplore(Strict):
    type: Literal["class_explore"]


class ClassHandin(Strict):
    """An exploring student hands in their lab state."""

    type: Literal["class_handin"]
    note: str = Field("", max_length=280, description="what the student says about it")
    name: str = Field("", max_length=60, description="the student's name, if they give one")
    state: PageState = Field(description="the page's state (what a shared link carries)")


class ClassShow(Strict):
    """Teacher only: open a hand-in on the teacher's screen (and so the followers')."""

    type: Literal["class_show"]
    handin: int = Field(ge=1, le=1_000_000)


class ClassTask(Strict):
    """A student (exploring) has done the task of a lesson step (or undone it: ``done``
    false); the teacher's ``class_state`` counts them for the teacher's current step."""

    type: Literal["class_task"]
    lesson: str = Field(max_length=60, pattern=r"^[a-z][a-z0-9-]*$")
    step: int = Field(ge=0, le=100)
    done: bool = True


class ClassView(Strict):
    """Teacher only: the teacher's page state, mirrored on every follower's page."""

    type: Literal["class_view"]
    state: PageState


ClientMessage = Annotated[
    Configure
    | Play
    | Pause
    | StepMessage
    | Reset
    | DatasetUpload
    | ClassCreate
    | ClassJoin
    | ClassResume
    | ClassFollow
    | ClassExplore
    | ClassHandin
    | ClassShow
    | ClassTask
    | ClassView,
    Field(discriminator="type"),
]
LabName = Literal["layers", "descend", "train"]


# --- WebSocket: server → client --------------------------------------------------------


class Limits(BaseModel):
    max_message_bytes: int
    rate_limit_per_s: float
    rate_limit_burst: int
    max_fps: float
    max_sessions: int
    max_layer_elements: int = MAX_LAYER_ELEMENTS


class Hello(BaseModel):
    type: Literal["hello"] = "hello"
    version: str
    session: str
    worker: int = Field(description="the server process (one of --workers)")
    limits: Limits


class Frame(BaseModel):
    """One picture of a lab. ``data`` has the lab's shape (LayersFrameData, …)."""

    type: Literal["frame"] = "frame"
    lab: LabName
    seq: int = Field(description="frames sent on this connection")
    config_seq: int = Field(description="how many configure messages this frame reflects")
    step: int
    compute_ms: float
    data: dict[str, Any]


class Status(BaseModel):
    type: Literal["status"] = "status"
    lab: LabName | None = None
    state: Literal["running", "paused", "diverged", "finished"]
    reason: str = ""
    reason_text: TextRef | None = Field(None, description="the reason by key (the page shows it)")
    step: int = 0


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


class ErrorMessage(BaseModel):
    type: Literal["error"] = "error"
    code: Literal[
        "bad_json",
        "invalid",
        "rate_limited",
        "internal",
        "no_lab",
        "not_teacher",
        "no_class",
        "class_full",
    ]
    message: str = Field(description="English, naming the field: 'config.depth: …'")
    field: str | None = Field(None, description="the first problem's field")
    problems: list[Problem] = Field(default_factory=list, description="every problem (≤ 5)")


class ErrorBody(BaseModel):
    """The JSON of every REST error (422 for bad input)."""

    error: str = Field(description="English, naming the field: 'depth: …'")
    detail: list[dict[str, Any]] | None = Field(None, description="pydantic's loc, msg, type")
    problems: list[Problem] = Field(default_factory=list)


class DatasetInfo(DatasetResponse):
    """An upload stored in this session (it lives as long as the session)."""

    type: Literal["dataset"] = "dataset"


ClassMode = Literal["follow", "explore", "teacher"]


class ClassCreated(BaseModel):
    """To the teacher only. The key never goes on screen nor into the page's address."""

    type: Literal["class_created"] = "class_created"
    code: str
    teacher_key: str
    join_urls: list[str] = Field(description="the join address on each address served")
    qr_svg: str = Field(description="a QR code of the first join address, as SVG")


class ClassJoined(BaseModel):
    type: Literal["class_joined"] = "class_joined"
    code: str
    mode: ClassMode


class TaskCount(BaseModel):
    """How many students have done the task of the teacher's current lesson step."""

    lesson: str
    step: int
    done: int = Field(description="students who reported the task done (each once)")
    all: int = Field(description="students in the class (following or exploring)")


class ClassState(BaseModel):
    type: Literal["class_state"] = "class_state"
    code: str
    followers: int
    explorers: int
    teacher_present: bool
    completed: TaskCount | None = Field(
        None, description="the teacher's current lesson step, when it has a task"
    )


class Handin(BaseModel):
    id: int
    name: str
    note: str
    lab: str = Field(description="the lab of the handed-in state")
    at: float = Field(description="when (seconds since the epoch)")
    state: PageState


class ClassHandins(BaseModel):
    """To the teacher: every hand-in so far, oldest first."""

    type: Literal["class_handins"] = "class_handins"
    code: str
    handins: list[Handin]


class ClassViewOut(BaseModel):
    """The teacher's page state: to followers (mirror it), and to the teacher after
    ``class_show`` (``handin``: open this hand-in as the teacher's own state)."""

    type: Literal["class_view"] = "class_view"
    code: str
    state: PageState
    handin: int | None = None


class ClassEnded(BaseModel):
    type: Literal["class_ended"] = "class_ended"
    code: str
    reason: str = Field(description="English: why (the page words it by ``why``)")
    why: Literal["teacher_left"]


ServerMessage = Annotated[
    Hello
    | Frame
    | Status
    | ErrorMessage
    | DatasetInfo
    | ClassCreated
    | ClassJoined
    | ClassState
    | ClassHandins
    | ClassViewOut
    | ClassEnded,
    Field(discriminator="type"),
]


# --- the frames' data, one shape per lab ---------------------------------------------


class CountsOut(BaseModel):
    """A histogram's counts; its edges are sent once per frame in ``edges``."""

    counts: list[int] | None
    below: int
    above: int
    nonfinite: int
    mean: float | None
    std: float | None


class LayerFrameRow(BaseModel):
    index: int
    width: int
    hist: dict[str, CountsOut]  # preactivation, activation, derivative, gradient, weight_gradient
    saturated_fraction: float
    dead_units: int | None = Field(description="null on a coarse frame (a subsample overstates it)")
    zero_fraction: float
    grad_norm: float | None
    n_var_w: float
    flags: list[LayerFlagOut] = Field(default_factory=list)


class LayersFrameData(BaseModel):
    """Every layers-lab configure is answered by a coarse frame (when the batch is large),
    then by the complete one: the same statistics on the first ``samples`` rows of the
    same batch, then on all ``batch`` rows."""

    layers: list[LayerFrameRow]
    edges: dict[str, list[float]]
    scales: dict[str, Literal["linear", "log"]]
    theory: list[float] | None
    theory_note: str
    theory_text: TextRef
    n_var_w_expected: list[float]
    n_var_w_target: float | None
    saturation_rule: str
    saturation_text: TextRef
    loss: float | None
    detail: Literal["coarse", "complete"]
    samples: int = Field(description="rows of the batch these statistics were taken on")
    batch: int


class DescendRunFrame(BaseModel):
    label: str
    optimizer: str
    status: Literal["running", "converged", "diverged"]
    stopped_at: int | None
    points: list[list[float]] = Field(description="the new rows of this frame")
    loss: list[float]
    gradient: list[list[float]]
    effective_lr: list[list[float]]
    distance: list[float] | None


class DescendFrameData(BaseModel):
    first_row: int
    runs: list[DescendRunFrame]
    surface: SurfaceInfo | None = Field(None, description="in the first frame of a configure")


class TrainFrameData(BaseModel):
    step: int
    epoch: int
    train_loss: float | None
    test_loss: float | None
    accuracy: float
    train_accuracy: float
    lr: float
    dead_units: list[int]
    zero_fraction: list[float]
    grad_norm: list[float | None]
    update_ratio: list[float | None]
    histograms: list[CountsOut] | None = None
    histogram_edges: list[float] | None = None
    boundary: list[list[float]] | None = None
    weights: list[list[list[float | None]]] | None = None
    biases: list[list[float | None]] | None = None
    views_step: int = Field(
        description="the step of the newest boundary, histograms and weights (see view_fps)"
    )
    data: dict[str, Any] | None = Field(
        None, description="in the first frame: X_train, y_train, X_test, y_test, domain"
    )
    warning: BlowUpOut | None = Field(
        None, description="from the step a finite blow-up was caught on (the run goes on)"
    )


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
            "trips and requests so far) and per lab the frames computed, the workers' CPU "
            "milliseconds per frame and the bytes per frame"
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


# --- learning-rate sweeps (POST /api/sweep, and a descend configure's ``sweep``) ---------

MAX_SWEEP_WORK = _sweep.MAX_WORK  # runs × steps of one sweep (optimizers × lr_count × steps)
SweepCriterion = Literal["final", "steps_to_tolerance"]


class SweepSpec(Strict):
    """Which learning rates a sweep tries, and what it counts as good."""

    lr_min: float = _knob(_sweep.SweepConfig, "lr_min", "the smallest learning rate")
    lr_max: float = _knob(_sweep.SweepConfig, "lr_max", "the largest learning rate")
    lr_count: int = _knob(_sweep.SweepConfig, "lr_count", "learning rates, log-spaced")
    criterion: SweepCriterion = Field(
        _default(_sweep.SweepConfig, "criterion"),
        description=(
            "final: f − f* after the last step; steps_to_tolerance: the first step at which "
            "f − f* < tolerance (null: never)"
        ),
    )
    tolerance: float = _knob(_sweep.SweepConfig, "tolerance", "steps_to_tolerance: f − f* below")

    @model_validator(mode="after")
    def _ordered(self) -> SweepSpec:
        if self.lr_min > self.lr_max or (self.lr_count > 1 and self.lr_min == self.lr_max):
            raise problem(
                "sweep_lr_order",
                "lr_min must be below lr_max",
                field="lr_min",
                low=self.lr_min,
                high=self.lr_max,
            )
        return self

    def config(self) -> _sweep.SweepConfig:
        return _sweep.SweepConfig(
            lr_min=self.lr_min,
            lr_max=self.lr_max,
            lr_count=self.lr_count,
            criterion=self.criterion,
            tolerance=self.tolerance,
        )


def check_sweep_work(optimizers: int, lr_count: int, steps: int, field: str = "steps") -> None:
    """A sweep is bounded by what it steps (runs × steps), not by the rows it returns."""
    work = optimizers * lr_count * steps
    if work > MAX_SWEEP_WORK:
        raise problem(
            "sweep_work",
            f"optimizers × lr_count × steps = {work:,} exceeds {MAX_SWEEP_WORK:,}: "
            "fewer optimizers, learning rates or steps",
            field=field,
            value=work,
            limit=MAX_SWEEP_WORK,
        )


class SweepRun(OptimizerChoice):
    """An optimizer of a sweep: its hyper-parameters as set, without ``lr`` (the sweep's)."""

    label: str | None = Field(None, max_length=40)

    @field_validator("lr")
    @classmethod
    def _no_lr(cls, value: float | None) -> float | None:
        if value is not None:
            raise problem("sweep_lr", "a sweep sets the learning rate: leave lr out")
        return value


class SweepRequest(SweepSpec, SurfaceParamsMixin):
    """Body of ``POST /api/sweep``."""

    start: Point | None = Field(None, description="where every run starts")
    steps: int = knob_field(_race.STEPS)
    optimizers: list[SweepRun] = Field(min_length=1, max_length=MAX_RUNS)
    seed: int = knob_field(_SEED)

    @model_validator(mode="after")
    def _work(self) -> SweepRequest:
        check_sweep_work(len(self.optimizers), self.lr_count, self.steps)
        return self


class SweepCurveOut(BaseModel):
    optimizer: str
    label: str
    lrs: list[float] = Field(description="the learning rates, ascending")
    values: list[int | float | None] = Field(
        description="the criterion per learning rate; null: diverged, or never reached"
    )
    status: list[Literal["running", "converged", "diverged"]]
    best_lr: float | None = Field(description="the argmin of values (a tie: the smaller lr)")
    best_path: list[list[float]] | None = Field(
        None, description="the run at best_lr: its points, the start first"
    )


class SweepResponse(BaseModel):
    optimizers: list[SweepCurveOut]
    criterion: SweepCriterion
    f_star: float = Field(description="the surface's lowest known minimum value")
    steps: int
    surface: SurfaceInfo
    elapsed_ms: float


class SweepCurveFrame(BaseModel):
    optimizer: str
    label: str
    lrs: list[float]
    values: list[int | float | None]
    status: list[Literal["running", "converged", "diverged"]]
    best_lr: float | None
    best_index: int | None = Field(description="index of best_lr in lrs")
    path_from: int = Field(
        description=(
            "the first row of path: 0 when the best run changed (the page starts its path "
            "over), else the rows after the ones already sent"
        )
    )
    path: list[list[float]] = Field(description="rows of the best run's path")
    path_loss: list[float | None] = Field(description="f at those rows")


class SweepFrameData(BaseModel):
    sweep: Literal[True] = Field(True, description="this is a sweep's frame")
    criterion: SweepCriterion
    tolerance: float
    f_star: float
    optimizers: list[SweepCurveFrame]
    surface: SurfaceInfo | None = Field(None, description="in the first frame of a configure")


ConfigureDescend.model_rebuild()
