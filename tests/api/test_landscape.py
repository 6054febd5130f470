"""POST /api/landscape and /api/landscape/race, and the live view's frames (runner and
WebSocket): the public names, the centre = the training loss, errors naming the field."""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError

from deepscope import protocol
from deepscope.sessions import runners
from deepscope.sessions.encode import dumps_bytes
from deepscope.sessions.problems import problems

SMALL = {"dataset": "xor", "n_samples": 100, "hidden": [6, 6], "steps": 200, "seed": 4}
ORIGIN = {"origin": "http://testserver"}


def test_landscape_contract(client: TestClient) -> None:
    r = client.post(
        "/api/landscape", json={**SMALL, "resolution": 11, "span": 0.8, "record_every": 20}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {
        "alphas",
        "betas",
        "loss",
        "center_loss",
        "path",
        "explained_variance",
        "elapsed_ms",
    }
    assert len(body["alphas"]) == len(body["betas"]) == 11
    assert body["alphas"][0] == -0.8 and body["alphas"][-1] == 0.8 and body["alphas"][5] == 0
    assert len(body["loss"]) == 11 and all(len(row) == 11 for row in body["loss"])
    assert body["explained_variance"] is None and body["directions"] == "random"
    assert body["path_steps"] == list(range(0, 201, 20))
    assert len(body["path"]) == 11 and body["path"][-1] == [0.0, 0.0]
    # the centre is the final training loss /api/train reports for the same body
    train = client.post("/api/train", json={**SMALL, "record_every": 20}).json()
    final = train["final"]["train_loss"]
    assert body["center_loss"] == pytest.approx(final, rel=1e-6)
    assert body["loss"][5][5] == pytest.approx(final, rel=1e-5)
    assert body["n_params"] == train["n_params"]


def test_pca_landscape_says_how_much_of_the_path_it_holds(client: TestClient) -> None:
    body = client.post(
        "/api/landscape", json={**SMALL, "directions": "pca", "resolution": 5}
    ).json()
    ev = body["explained_variance"]
    assert len(ev) == 2 and 0 < ev[1] <= ev[0] and sum(ev) <= 1 + 1e-9
    assert body["path"][-1] == [0.0, 0.0] and abs(body["path"][0][0]) > 0


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"resolution": 10}, "resolution", "landscape_odd"),
        ({"resolution": 43}, "resolution", "less_than_equal"),
        ({"span": 0}, "span", "greater_than"),
        ({"directions": "hessian"}, "directions", "literal_error"),
        ({"hidden": [100, 100]}, "hidden", "landscape_size"),  # (too many at any grid)
        ({"n_samples": 2000, "hidden": [60, 60], "resolution": 41}, "resolution", "landscape_size"),
        ({"steps": 0, "directions": "pca"}, "directions", "landscape_pca"),
    ],
)
def test_bad_landscape_requests_name_the_field(
    client: TestClient, changes: dict[str, Any], field: str, code: str
) -> None:
    r = client.post("/api/landscape", json={**SMALL, "resolution": 5, **changes})
    assert r.status_code == 422, r.text
    problem = r.json()["problems"][0]
    assert (problem["field"], problem["code"]) == (field, code)
    assert "nan" not in r.text.lower()


@pytest.mark.parametrize("path", ["/api/landscape", "/api/landscape/race"])
def test_a_landscape_without_a_resolution_gets_the_finest_grid_its_network_allows(
    client: TestClient, path: str
) -> None:
    """The training lab's race card sends no resolution: a 64-64 network (4417
    parameters, 150 training points) gets 29 × 29, the finest odd grid within the work
    bound, instead of a refusal naming a control the card does not have."""
    from deepscope.engine import landscape
    from deepscope.protocol.train import LandscapeRequest, _n_train

    body: dict[str, Any] = {**SMALL, "n_samples": 200, "hidden": [64, 64], "steps": 20}
    points = _n_train(LandscapeRequest.model_validate(body))
    if path.endswith("race"):
        body["runs"] = [{"optimizer": "gd", "lr": 0.1}]
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    n, params = len(r.json()["alphas"]), r.json()["n_params"]
    assert params == 4417 and n < 41  # (coarser than the default)
    assert n % 2 == 1 and n * n * points * params <= landscape.MAX_WORK
    assert (n + 2) ** 2 * points * params > landscape.MAX_WORK
    given = client.post(path, json={**body, "resolution": 41})  # (one given is checked)
    assert given.status_code == 422
    assert given.json()["problems"][0]["field"] == "resolution"


def test_a_racer_that_blows_up_finitely_carries_the_training_labs_warning(
    client: TestClient,
) -> None:
    runs = [{"optimizer": "gd", "lr": 10.0}, {"optimizer": "adam"}]
    body = {"runs": runs, "resolution": 3}
    r = client.post("/api/landscape/race", json=body)
    assert r.status_code == 200, r.text
    gd, adam = r.json()["runs"]
    assert (
        gd["status"] == "finished" and gd["warning"]["loss_peak"] > 10 * gd["warning"]["loss_start"]
    )
    assert adam["warning"] is None
    alone = client.post("/api/train", json={"optimizer": runs[0]}).json()
    assert alone["warning"] == gd["warning"]  # (what the run gets alone)


def test_the_race_boxs_hint_holds_on_its_defaults(client: TestClient) -> None:
    """The hint says a run's own loss can be far below the plane's colour under its
    path: on the box's own first race (the training lab's defaults, the catalog's three
    runners) every run ends below the plane's lowest value."""
    catalog = client.get("/api/catalog").json()
    own = catalog["labs"]["train"]["optimizer"]  # (the box's runner of the lab's optimizer
    runs = [  # takes the lab's lr, the others their own default: train.js ``racer``)
        {"optimizer": o, "lr": own["lr"]} if o == own["optimizer"] else {"optimizer": o}
        for o in (r["optimizer"] for r in catalog["labs"]["train"]["race"]["runs"])
    ]
    answer = client.post("/api/landscape/race", json={"runs": runs}).json()
    lowest = min(v for row in answer["loss"] for v in row if v is not None)
    finals = [run["history"][-1]["train_loss"] for run in answer["runs"]]
    assert all(f < lowest for f in finals), (lowest, finals)
    assert min(finals) < lowest / 100  # far below


def test_landscape_race_equals_single_landscape_runs(client: TestClient) -> None:
    runs = [
        {"optimizer": "momentum", "lr": 0.1, "label": "momentum"},
        {"optimizer": "adam", "lr": 0.03, "label": "adam"},
    ]
    r = client.post(
        "/api/landscape/race", json={**SMALL, "runs": runs, "resolution": 7, "record_every": 50}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [run["label"] for run in body["runs"]] == ["momentum", "adam"]
    for run, choice in zip(body["runs"], runs, strict=True):
        optimizer = {k: v for k, v in choice.items() if k != "label"}
        alone = client.post(
            "/api/train", json={**SMALL, "optimizer": optimizer, "record_every": 50}
        ).json()
        assert run["history"] == alone["history"]
        assert run["path_steps"] == [0, 50, 100, 150, 200]
        assert run["path"][0] == [0.0, 0.0]  # the common plane is through the shared start
    assert body["runs"][0]["path"][-1] != body["runs"][1]["path"][-1]
    start = client.post("/api/train", json={**SMALL, "steps": 0}).json()
    assert body["center_loss"] == pytest.approx(start["final"]["train_loss"], rel=1e-6)


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"optimizer": {"optimizer": "gd"}}, "optimizer", "race_optimizer"),
        ({"runs": []}, "runs", "too_short"),
        ({"runs": [{"optimizer": "gd"}] * 7}, "runs", "too_long"),
        ({"runs": [{"optimizer": "gd", "lr": -1}]}, "runs.0.lr", "greater_than_equal"),
    ],
)
def test_bad_race_requests_name_the_field(
    client: TestClient, changes: dict[str, Any], field: str, code: str
) -> None:
    body = {**SMALL, "runs": [{"optimizer": "gd"}], "resolution": 5, **changes}
    r = client.post("/api/landscape/race", json=body)
    assert r.status_code == 422, r.text
    problem = r.json()["problems"][0]
    assert (problem["field"], problem["code"]) == (field, code)


def _wire(data: dict[str, Any]) -> dict[str, Any]:
    """A frame's data as the page receives it."""
    out: dict[str, Any] = orjson.loads(dumps_bytes(data))
    return out


def _runner(options: dict[str, Any], **config: Any) -> runners.TrainRunner:
    message = protocol.ConfigureTrain.model_validate(
        {
            "type": "configure",
            "lab": "train",
            "config": {**SMALL, **config},
            "options": {"steps_per_frame": 10, **options},
        }
    )
    runner = runners.make_runner(message)
    assert isinstance(runner, runners.TrainRunner)
    return runner


def test_the_live_view_rides_on_frames_and_its_centre_is_the_frames_loss() -> None:
    runner = _runner({"landscape": {"resolution": 7, "every": 20}})
    first = runner.start()
    first.data = _wire(first.data)
    land = first.data["landscape"]
    TypeAdapter(protocol.LandscapeFrame).validate_python(land)
    assert land["step"] == 0 and land["path_steps"] == [0]
    assert land["center_loss"] == pytest.approx(first.data["train_loss"], rel=1e-5)
    carried = []
    out = first
    while out.ended is None:
        out = runner.advance(10)
        out.data = _wire(out.data)
        TypeAdapter(protocol.TrainFrameData).validate_python(out.data)
        if "landscape" in out.data:
            land = out.data["landscape"]
            carried.append(land["step"])
            assert land["center_loss"] == pytest.approx(out.data["train_loss"], rel=1e-5)
            assert land["loss"][3][3] == pytest.approx(out.data["train_loss"], rel=1e-4)
            assert land["path"][-1] == [0.0, 0.0]
            assert land["path_steps"] == list(range(0, land["step"] + 1, 10))
    assert carried and carried[-1] == 200  # the last frame always carries it
    # every 20 steps at most (the last frame is forced)
    assert all(b - a >= 20 for a, b in itertools.pairwise(carried[:-1]))
    # without the option, no frame carries it
    plain = _runner({})
    assert "landscape" not in plain.start().data
    assert "landscape" not in plain.advance(10).data


def test_a_live_view_too_large_for_the_network_is_refused_naming_the_option() -> None:
    with pytest.raises(ValidationError) as err:
        _runner({"landscape": {"resolution": 41}}, hidden=[100, 100])
    (found,) = problems(err.value.errors())
    assert (found.field, found.code) == ("options.landscape.resolution", "landscape_size")
    assert found.params["max_params"] == 10_000
    # a runner given an unchecked message refuses it the same way
    message = protocol.ConfigureTrain.model_construct(
        type="configure",
        lab="train",
        config=protocol.TrainRequest(hidden=[100, 100]),
        options=protocol.StreamOptions(landscape=protocol.LandscapeStream()),
    )
    with pytest.raises(ValueError, match="at most 10,000 parameters"):
        runners.make_runner(message).start()


def test_a_start_plane_with_pca_is_refused() -> None:
    with pytest.raises(ValueError, match="random directions"):
        protocol.LandscapeStream(directions="pca", center="start")


def test_the_live_view_streams_over_the_websocket(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        assert json.loads(ws.receive_text())["type"] == "hello"
        options = {"steps_per_frame": 20, "landscape": {"resolution": 5, "directions": "pca"}}
        ws.send_text(
            json.dumps(
                {
                    "type": "configure",
                    "lab": "train",
                    "config": {**SMALL, "steps": 60},
                    "options": options,
                }
            )
        )
        frames = []
        while True:
            msg = json.loads(ws.receive_text())
            if msg["type"] == "frame":
                frames.append(msg["data"])
                if len(frames) == 1:
                    ws.send_text(json.dumps({"type": "play"}))
            if msg["type"] == "status" and msg["state"] == "finished":
                break
        assert frames[0]["landscape"]["directions"] == "random"  # no path yet
        last = frames[-1]["landscape"]
        assert last["directions"] == "pca" and len(last["explained_variance"]) == 2
        assert last["step"] == 60 and last["path_steps"][-1] == 60
        # too large: an error naming the option, and the session goes on
        ws.send_text(
            json.dumps(
                {
                    "type": "configure",
                    "lab": "train",
                    "config": {**SMALL, "hidden": [200, 200]},
                    "options": {"landscape": {}},
                }
            )
        )
        while (msg := json.loads(ws.receive_text()))["type"] != "error":
            pass
        assert msg["field"] == "options.landscape.resolution"
        assert msg["problems"][0]["code"] == "landscape_size"


def test_an_uploaded_dataset_is_sized_when_it_is_read(client: TestClient) -> None:
    rng = np.random.default_rng(0)
    points = [[float(x), float(y), int(x * y > 0)] for x, y in rng.uniform(-1, 1, (3000, 2))]
    up = client.post("/api/datasets", json={"points": points})
    assert up.status_code == 200, up.text
    body = {
        "dataset": "uploaded",
        "dataset_params": {"id": up.json()["id"]},
        "hidden": [20, 20],
        "steps": 20,
    }
    # 41² × 1500 training points × 501 parameters is over the bound: refused, naming it
    r = client.post("/api/landscape", json={**body, "resolution": 41})
    assert r.status_code == 422, r.text
    problem = r.json()["problems"][0]
    assert (problem["field"], problem["code"]) == ("resolution", "landscape_size")
    assert problem["params"]["value"] == 41**2 * 1500 * 501
    # a coarser grid of the same data is fine
    r = client.post("/api/landscape", json={**body, "resolution": 21})
    assert r.status_code == 200, r.text
    assert len(r.json()["loss"]) == 21
    # and the live view of the same run: refused naming the stream option
    message = protocol.ConfigureTrain.model_validate(
        {"type": "configure", "lab": "train", "config": body, "options": {"landscape": {}}}
    )
    table = client.app.state.uploads.get("rest", up.json()["id"])  # type: ignore[attr-defined]
    runner = runners.make_runner(message, lambda i: table)
    with pytest.raises(ValueError) as err:
        runner.start()
    assert getattr(err.value, "field", "") == "options.landscape.resolution"


def test_the_notebook_answers_what_the_route_answers(client: TestClient) -> None:
    import deepscope

    body = {**SMALL, "resolution": 5, "directions": "pca"}
    mine = deepscope.landscape(**body)
    theirs = client.post("/api/landscape", json=body).json()
    for key in ("alphas", "betas", "loss", "center_loss", "path", "explained_variance"):
        assert mine[key] == theirs[key], key
    with pytest.raises(ValueError, match="resolution"):
        deepscope.landscape(**{**SMALL, "resolution": 4})
