"""The optimizer lab: surfaces, runs, races, learning-rate sweeps; REST and frame data."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from typing_extensions import TypedDict

from ..engine import optimizers as _optimizers
from ..engine import race as _race
from ..engine import surfaces as _surfaces
from ..engine import sweep as _sweep
from ..engine.expressions import MAX_LENGTH as _MAX_EXPR
from ..engine.knobs import SEED as _SEED
from .common import (
    MAX_COORD,
    MAX_DESCEND_ROWS,
    MAX_RUNS,
    FloatRows,
    Floats,
    OptimizerName,
    ScheduleName,
    Strict,
    SurfaceName,
    _default,
    _hyper,
    _knob,
    knob_field,
    problem,
    shape,
)

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
        """The hyper-parameters given (every name any optimizer of the registry has)."""
        names = {h.name for spec in _optimizers.OPTIMIZERS.values() for h in spec.hyper}
        return {n: getattr(self, n) for n in sorted(names) if getattr(self, n) is not None}

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


@shape
class CriticalPointOut(TypedDict):
    point: list[float | None]
    value: float
    kind: Literal["minimum", "maximum", "saddle", "degenerate"]
    eigenvalues: list[float | None]


@shape
class SurfaceInfo(TypedDict):
    """A surface as REST answers and a race's first frame describe it."""

    name: str
    title: str
    formula: str
    dims: int
    domain: list[list[float]]
    start: list[float]
    critical_points: list[CriticalPointOut]
    notes: list[str]


RunStatus = Literal["running", "converged", "diverged"]


class RunOut(BaseModel):
    optimizer: str
    label: str
    status: RunStatus
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


@shape
class DescendRunFrame(TypedDict):
    label: str
    optimizer: str
    status: RunStatus
    stopped_at: int | None
    points: Annotated[FloatRows, Field(description="the new rows of this frame")]
    loss: Floats
    gradient: FloatRows
    effective_lr: FloatRows
    distance: Floats | None


@shape
class DescendFrameData(TypedDict):
    first_row: int
    runs: list[DescendRunFrame]
    surface: NotRequired[
        Annotated[SurfaceInfo, Field(description="in the first frame of a configure")]
    ]


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
            "final: f − f* after the last step; steps_to_tolerance: the first step from "
            "which f − f* stays below the tolerance (null: never)"
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


@shape
class SweepCurve(TypedDict):
    """An optimizer's sensitivity curve, in a REST answer and in a frame alike."""

    optimizer: str
    label: str
    lrs: Annotated[list[float], Field(description="the learning rates, ascending")]
    values: Annotated[
        list[int | float | None],
        Field(description="the criterion per learning rate; null: diverged, or never reached"),
    ]
    status: list[RunStatus]
    best_lr: Annotated[
        float | None, Field(description="the argmin of values (a tie: the smaller lr)")
    ]


@shape
class SweepCurveOut(SweepCurve):
    """A curve of ``POST /api/sweep``, with the whole path of its best run."""

    best_path: Annotated[
        list[list[float]] | None,
        Field(description="the run at best_lr: its points, the start first"),
    ]


class SweepResponse(BaseModel):
    optimizers: list[SweepCurveOut]
    criterion: SweepCriterion
    f_star: float = Field(description="the surface's lowest known minimum value")
    steps: int
    surface: SurfaceInfo
    elapsed_ms: float


@shape
class SweepCurveFrame(SweepCurve):
    """A curve of a sweep frame, with the new rows of its best run's path."""

    best_index: Annotated[int | None, Field(description="index of best_lr in lrs")]
    path_from: Annotated[
        int,
        Field(
            description=(
                "the first row of path: 0 when the best run changed (the page starts its "
                "path over), else the rows after the ones already sent"
            )
        ),
    ]
    path: Annotated[FloatRows, Field(description="rows of the best run's path")]
    path_loss: Annotated[Floats, Field(description="f at those rows")]


@shape
class SweepFrameData(TypedDict):
    sweep: Annotated[Literal[True], Field(description="this is a sweep's frame")]
    criterion: SweepCriterion
    tolerance: float
    f_star: float | None
    optimizers: list[SweepCurveFrame]
    surface: NotRequired[
        Annotated[SurfaceInfo, Field(description="in the first frame of a configure")]
    ]
