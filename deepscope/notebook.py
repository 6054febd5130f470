"""DeepScope in a Jupyter notebook: a live lab in a cell, and every lab's numbers in Python.

``show(lab, **config)`` displays a lab in the cell: an IFrame of a DeepScope server
that the first call starts in the background (a thread of the kernel, on a free
loopback port) and later calls reuse. The lab opens in the state the keyword
arguments give it — the lab's REST body, checked first — through the page's own
URL state (the same link "Copy link" makes).

``layers(**config)``, ``descend(**body)``, ``train(**body)`` and ``landscape(**body)``
compute what the
REST routes answer, as plain Python objects (dicts, lists, numbers; ``None`` where
a value is not finite), by calling the same functions the routes call: no HTTP and
no server. ``upload(csv=…)`` (or ``points=…``) gives a dataset for
``train(dataset="uploaded", dataset_params={"id": …})``.

Where the browser cannot reach the kernel's machine — a remote kernel, JupyterHub
or Colab, a notebook opened over SSH — the frame stays blank, because it points at
127.0.0.1 of the machine the kernel runs on. Then either forward the port
(``show(..., port=8765)`` and ``ssh -L 8765:127.0.0.1:8765 kernel-host`` on your own
machine; the frame's link then works in your browser), or start ``deepscope --host
0.0.0.0`` on that machine and open its address, or use the numbers
(``deepscope.layers(...)``) with your own plots.

Bad input raises ``ValueError`` naming the field, as the REST API's 422 does
(``depth: Input should be less than or equal to 50``).
"""

from __future__ import annotations

import html
import json
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

if TYPE_CHECKING:
    import uvicorn
    from pydantic import BaseModel

    from .sessions.uploads import UploadStore

LabName = Literal["layers", "descend", "train", "gallery"]
# Notebook front ends that may frame the lab: Jupyter on this machine, and VS Code.
NOTEBOOK_FRAMES = (
    "http://localhost:*",
    "http://127.0.0.1:*",
    "http://[::1]:*",
    "https://localhost:*",
    "https://127.0.0.1:*",
    "vscode-webview:",
)
START_TIMEOUT_S = 30.0
REMOTE_HINT = (
    "A blank frame? The notebook's browser cannot reach the kernel's machine: forward "
    "the port (ssh -L {port}:127.0.0.1:{port} kernel-host) or see help(deepscope.show)."
)


class _Server:
    """The kernel's DeepScope server: uvicorn on a daemon thread, on one loopback port."""

    def __init__(self, port: int) -> None:
        import uvicorn

        from .app import create_app
        from .protocol import MAX_UPLOAD_MESSAGE_BYTES
        from .settings import Settings

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind(("127.0.0.1", port))
        except OSError as err:
            self.sock.close()
            raise ValueError(f"port: {port} is taken on 127.0.0.1 ({err.strerror})") from None
        self.port = int(self.sock.getsockname()[1])
        # One teacher's kernel: the labs on threads of the kernel (worker processes would
        # re-import whatever main module the kernel runs).
        settings = Settings(
            host="127.0.0.1",
            port=self.port,
            frame_ancestors=list(NOTEBOOK_FRAMES),
            compute_processes=0,
        )
        config = uvicorn.Config(
            create_app(settings),
            log_level="warning",
            ws_max_size=max(settings.max_message_bytes, MAX_UPLOAD_MESSAGE_BYTES),
            ws_per_message_deflate=False,
            ws_ping_interval=settings.ping_interval_s,
            ws_ping_timeout=settings.ping_timeout_s,
            timeout_graceful_shutdown=2,
            server_header=False,
        )
        self.server: uvicorn.Server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            name="deepscope-notebook",
            daemon=True,
        )
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the DeepScope server did not start (see the kernel's log)")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.thread.is_alive() and not self.server.should_exit

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


_lock = threading.Lock()
_running: _Server | None = None


def server_url(port: int | None = None) -> str:
    """The base URL of the kernel's DeepScope server, started the first time.

    ``port``: the loopback port for the first start (default: a free one); asking for
    another port once it runs is an error.
    """
    global _running
    with _lock:
        if _running is not None and _running.alive:
            if port not in (None, _running.port):
                raise ValueError(
                    f"port: the notebook's DeepScope server already runs on {_running.port}; "
                    "call deepscope.notebook.stop() first"
                )
            return _running.url
        _running = _Server(port or 0)
        return _running.url


def stop() -> None:
    """Stop the kernel's DeepScope server (the next show() starts a new one)."""
    global _running
    with _lock:
        if _running is not None:
            _running.stop()
            _running = None


def _invalid(err: Any) -> ValueError:
    from .sessions import problems

    return ValueError(problems.describe(problems.problems(err.errors())))


def _request(model: type[BaseModel], body: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(body)
    except ValidationError as err:
        raise _invalid(err) from None


def _plain(response: BaseModel) -> Any:
    return json.loads(response.model_dump_json())  # what the REST route sends, as Python


def _lab_model(lab: str) -> type[BaseModel] | None:
    from . import protocol

    models: dict[str, type[BaseModel] | None] = {
        "layers": protocol.LayersRequest,
        "descend": protocol.DescendRequest,
        "train": protocol.TrainRequest,
        "gallery": None,
    }
    if lab not in models:
        raise ValueError(f"lab: choose one of {', '.join(models)}, not {lab!r}")
    return models[lab]


class LabView:
    """A lab shown in a notebook cell (Jupyter displays ``_repr_html_``)."""

    def __init__(self, url: str, height: int, port: int) -> None:
        self.url = url
        self.height = height
        self.port = port

    def _repr_html_(self) -> str:
        src = html.escape(self.url, quote=True)
        hint = html.escape(REMOTE_HINT.format(port=self.port))
        return (
            f'<iframe src="{src}" width="100%" height="{self.height}" '
            'style="border: 1px solid #d9dce1; border-radius: 6px" '
            'title="DeepScope" loading="eager"></iframe>'
            f'<div style="font-size: 0.8em; color: #5b6270">'
            f'<a href="{src}" target="_blank" rel="noopener">Open in a new tab</a> · {hint}</div>'
        )

    def __repr__(self) -> str:
        return f"DeepScope lab at {self.url}"


def show(
    lab: LabName = "layers",
    *,
    height: int = 800,
    lang: Literal["en", "zh"] = "en",
    play: bool = False,
    port: int | None = None,
    **config: Any,
) -> LabView:
    """Display a live DeepScope lab in the notebook cell.

    ``deepscope.show("layers", activation="relu", init="he_normal", scale=1.0)`` opens
    the layers lab in that state; the keyword arguments are the lab's REST body
    (``help(deepscope.layers)``; ``descend`` needs ``runs``), checked before anything
    is shown (a ``ValueError`` names a bad field). ``play``: a streaming lab opens
    playing. ``lang``: "en" or "zh". ``port``: see below.

    Own data (``dataset="uploaded"``) is never in the link, only its fingerprint: the
    frame asks for the file (choose, drop or paste it there), as any link does;
    ``deepscope.train`` trains on what ``deepscope.upload`` was given.

    The first call starts a DeepScope server on a free port of 127.0.0.1 in the
    background (a thread of the kernel); later calls reuse it. The cell shows an
    IFrame of it, and a link that opens the same lab in a new tab.

    Where the notebook's browser cannot reach the kernel's machine (a remote kernel,
    JupyterHub, Colab, a notebook over SSH), the frame stays blank: it points at
    127.0.0.1 of the kernel's machine. Forward a fixed port — ``show(..., port=8765)``
    here and ``ssh -L 8765:127.0.0.1:8765 kernel-host`` on your machine — or run
    ``deepscope --host 0.0.0.0`` on that machine and open its address, or take the
    numbers (``deepscope.layers(...)``) into your own plots.
    """
    model = _lab_model(lab)
    if model is not None:
        _request(model, config)  # the same checks as the page's server: fail here, named
    elif config:
        raise ValueError(f"{sorted(config)[0]}: the gallery lab takes no configuration")
    if not (200 <= height <= 4000):
        raise ValueError(f"height: {height} is not between 200 and 4000 pixels")
    base = server_url(port)
    query: dict[str, str] = {"lab": lab}
    if lang != "en":
        query["lang"] = lang
    if config:
        query["config"] = json.dumps(config, separators=(",", ":"))
    if play:
        query["play"] = "1"
    assert _running is not None
    return LabView(f"{base}/?{urlencode(query)}", height, _running.port)


def layers(**config: Any) -> Any:
    """The layers lab's numbers: what ``POST /api/layers`` answers, as Python objects.

    The keyword arguments are the REST body (``depth``, ``width``, ``activation``,
    ``init``, ``scale``, ``batchnorm``, …; ``/api/catalog`` lists them with ranges).
    """
    from .protocol import LayersRequest
    from .sessions import labs

    return _plain(labs.run_layers(_request(LayersRequest, config)))


def descend(**body: Any) -> Any:
    """An optimizer race: what ``POST /api/descend`` answers (``runs`` is required)."""
    from .protocol import DescendRequest
    from .sessions import labs

    req = _request(DescendRequest, body)
    try:
        return _plain(labs.run_descend(req))
    except labs.InputError as err:
        raise ValueError(str(err)) from None


def sweep(**body: Any) -> Any:
    """A learning-rate sweep: what ``POST /api/sweep`` answers (``optimizers`` is required)."""
    from .protocol import SweepRequest
    from .sessions import labs

    req = _request(SweepRequest, body)
    try:
        return _plain(labs.run_sweep(req))
    except labs.InputError as err:
        raise ValueError(str(err)) from None


_store: UploadStore | None = None  # this kernel's uploads (bounded like the REST API's)


def _uploads() -> UploadStore:
    global _store
    if _store is None:
        from .sessions.uploads import UploadStore

        _store = UploadStore()
    return _store


def upload(csv: str | None = None, points: list[Any] | None = None) -> Any:
    """A dataset for ``train(dataset="uploaded", dataset_params={"id": …})``: what
    ``POST /api/datasets`` answers (``id``, ``rows``, ``labels``, ``bounds``, …).

    ``csv``: a file's text (``open("data.csv").read()``); or ``points``: ``[[x, y,
    label], …]``. A bad one raises ``ValueError`` naming the row and column.
    """
    from .protocol import DatasetRequest
    from .sessions import labs

    req = _request(DatasetRequest, {"csv": csv, "points": points})
    try:
        table = labs.parse_upload(req)
    except labs.InputError as err:
        raise ValueError(str(err)) from None
    from .sessions.uploads import REST

    _uploads().put(REST, table)
    return _plain(labs.dataset_response(table))


def train(**body: Any) -> Any:
    """A whole training run: what ``POST /api/train`` answers (``history``, ``final``…)."""
    from .protocol import TrainRequest
    from .sessions import labs

    req = _request(TrainRequest, body)
    try:
        from .sessions.uploads import REST

        store = _uploads()
        return _plain(labs.run_train(req, lambda i: store.get(REST, i)))
    except labs.InputError as err:
        raise ValueError(str(err)) from None


def landscape(**body: Any) -> Any:
    """The trained network's loss on a plane through its final weights, with the path:
    what ``POST /api/landscape`` answers (``alphas``, ``betas``, ``loss``, ``path``…)."""
    from .protocol import LandscapeRequest
    from .sessions import labs

    req = _request(LandscapeRequest, body)
    try:
        from .sessions.uploads import REST

        store = _uploads()
        return _plain(labs.run_landscape(req, lambda i: store.get(REST, i)))
    except labs.InputError as err:
        raise ValueError(str(err)) from None
