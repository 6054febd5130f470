"""The training lab and its own data: REST bodies, responses and frame data."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    field_validator,
    model_validator,
)

from ..engine import activations as _activations
from ..engine import datasets as _datasets
from ..engine import owndata as _owndata
from ..engine import training as _training
from ..engine.knobs import SEED as _SEED
from ..engine.knobs import knobs as _knobs
from .common import (
    MAX_NEWTON_PARAMS,
    MAX_TRAIN_WORK,
    ActivationName,
    DatasetName,
    InitName,
    Strict,
    TextRef,
    _check_activation_params,
    _default,
    _knob,
    knob_field,
    problem,
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
