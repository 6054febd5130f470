"""The WebSocket messages: client → server (lab, dataset and class messages) and
server → client (hello, frame, status, error, dataset, class messages)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    model_validator,
)

from ..engine.knobs import Knob
from .common import MAX_LAYER_ELEMENTS, Problem, Strict, TextRef, knob_field
from .descend import (
    DescendFrameData,
    DescendRequest,
    SweepFrameData,
    SweepSpec,
    check_sweep_work,
)
from .layers import LayersFrameData, LayersRequest
from .train import (
    DatasetRequest,
    DatasetResponse,
    LandscapeStream,
    TrainFrameData,
    TrainRequest,
    _landscape_size,
    _n_train,
)

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
    landscape: LandscapeStream | None = Field(
        None, description="train: the live loss-landscape view (absent: off)"
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

    @model_validator(mode="after")
    def _landscape_fits(self) -> ConfigureTrain:
        if self.options.landscape is not None:
            res = self.options.landscape.resolution
            _landscape_size(
                self.config.n_params, _n_train(self.config), res, "options.landscape.resolution"
            )
        return self


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
ClassSide = Literal["a", "b"]  # the teacher's page, or its compare mode's side B


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
    side: ClassSide = Field(
        "a",
        description=(
            "b: this connection is compare mode's second session of the teacher's page "
            "(answered by class_joined, mode teacher); its messages reach the followers "
            "as class_side"
        ),
    )


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


# A frame's data: one of the labs' shapes (a descend configure with ``sweep`` streams
# sweep frames). The runners build these TypedDicts; nothing else describes a frame.
FrameData = LayersFrameData | DescendFrameData | SweepFrameData | TrainFrameData


class FrameHead(BaseModel):
    """Every field of a ``frame`` message but its ``data`` (which ``frame_message`` puts
    last, encoded already)."""

    type: Literal["frame"] = "frame"
    lab: LabName
    seq: int = Field(description="frames sent on this connection")
    config_seq: int = Field(description="how many configure messages this frame reflects")
    step: int
    compute_ms: float


class Frame(FrameHead):
    """One picture of a lab. ``data`` has the lab's shape (``FrameData``)."""

    data: FrameData


def frame_message(
    lab: LabName, seq: int, config_seq: int, step: int, compute_ms: float, data_json: str
) -> str:
    """A ``frame`` message around its ``data`` encoded already (the workers encode it once,
    and every follower of a class gets this very string): the envelope is the model's own
    encoding of its other fields (``FrameHead``), the data appended rather than validated
    again."""
    head = FrameHead(
        lab=lab, seq=seq, config_seq=config_seq, step=step, compute_ms=compute_ms
    ).model_dump_json()
    return head[:-1] + ',"data":' + data_json + "}"


class Status(BaseModel):
    type: Literal["status"] = "status"
    lab: LabName | None = None
    state: Literal["running", "paused", "diverged", "finished"]
    reason: str = ""
    reason_text: TextRef | None = Field(None, description="the reason by key (the page shows it)")
    step: int = 0


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


def error_message(
    code: str, message: str, found: list[Problem] | None = None, field: str | None = None
) -> str:
    """The one way an ``error`` message is made: its field is the first problem's, unless
    given (a class message's refusal names its field without a problem list)."""
    found = found or []
    err = ErrorMessage.model_validate(
        {
            "code": code,
            "message": message,
            "field": found[0].field if found else field,
            "problems": found,
        }
    )
    return err.model_dump_json()


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
    forked: bool = Field(
        False,
        description=(
            "explore: this session's lab is now a copy of the teacher's where it stands "
            "(a race or a run at its step): the page keeps what it shows and configures "
            "nothing; false: the page starts the teacher's configuration itself"
        ),
    )


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


class ClassSideMessage(BaseModel):
    """To followers: a message of the teacher's compare mode side B (its second session),
    as that session sent it to the teacher's page; the page draws it on side B."""

    type: Literal["class_side"] = "class_side"
    side: ClassSide = "b"
    message: dict[str, Any] = Field(description="a frame or status, exactly as side B sent it")


def side_message(text: str, side: ClassSide = "b") -> str:
    """``text`` (a message encoded already) wrapped as ``class_side``, once for every
    follower: the envelope is the model's own, with the message spliced in."""
    head = ClassSideMessage(side=side, message={}).model_dump_json()
    tail = '"message":{}}'
    if not head.endswith(tail):  # pragma: no cover - the field order is the model's
        raise AssertionError("a ClassSideMessage must encode its message last")
    return head[: -len(tail)] + '"message":' + text + "}"


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
    | ClassSideMessage
    | ClassEnded,
    Field(discriminator="type"),
]


ConfigureDescend.model_rebuild()
