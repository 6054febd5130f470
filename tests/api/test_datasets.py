"""POST /api/datasets and /api/train on an upload: the public contract, every bad upload
a 422 whose error names the row and column, and the bounds in /api/catalog."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from deepscope import protocol
from deepscope.engine import owndata

CSV = "x,y,label\n" + "\n".join(
    f"{x / 10},{(x * 7 % 11) / 10},{'yes' if x * 7 % 11 > x else 'no'}" for x in range(40)
)


def upload(client: TestClient, **body: Any) -> dict[str, Any]:
    r = client.post("/api/datasets", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_upload_answers_id_rows_labels_bounds(client: TestClient) -> None:
    got = upload(client, csv=CSV)
    assert set(got) >= {"id", "rows", "labels", "bounds"}
    assert got["rows"] == 40 and got["labels"] == ["no", "yes"]
    assert got["bounds"] == [[0.0, 3.9], [0.0, 1.0]]
    assert got["columns"] == ["x", "y", "label"] and sum(got["counts"]) == 40
    points = upload(client, points=[[0, 0, -1], [1, 1, 1], [0, 1, 1], [1, 0, -1]])
    assert points["labels"] == [-1, 1] and points["rows"] == 4


def test_train_on_an_upload_like_a_built_in_dataset(client: TestClient) -> None:
    got = upload(client, csv=CSV)
    body = {
        "dataset": "uploaded",
        "dataset_params": {"id": got["id"]},
        "steps": 20,
        "train_share": 0.75,
        "hidden": [4],
    }
    r = client.post("/api/train", json=body)
    assert r.status_code == 200, r.text
    final = r.json()["final"]
    assert len(final["inputs"]) == 30  # 75 % of the 40 points, noise not applied
    xs = {round(p[0], 6) for p in final["inputs"]}
    assert xs <= {x / 10 for x in range(40)}
    scaled = client.post(
        "/api/train", json={**body, "dataset_params": {"id": got["id"], "standardize": "on"}}
    )
    assert scaled.status_code == 200
    inputs = scaled.json()["final"]["inputs"]
    assert max(abs(p[0]) for p in inputs) < 2.0  # centred, unit variance


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"csv": ""}, "csv: the file is empty"),
        ({"csv": "1,2,0\n1,abc,1\n3,3,1\n4,4,0\n"}, "csv: row 2, column 2"),
        ({"csv": "1,2,0\n1,2,1\n3,NaN,1\n4,4,0\n"}, "csv: row 3, column 2"),
        ({"csv": "1,2,0\n1,2,1\n3,3,1\n4,Infinity,0\n"}, "csv: row 4, column 2"),
        ({"csv": "1,2,0\n1,2,1\n3,3,2\n4,4,0\n"}, "csv: row 3, column 3"),
        ({"csv": "1,2,0\n" * (owndata.MAX_ROWS + 1)}, f"csv: row {owndata.MAX_ROWS + 1}"),
        ({"csv": "1,2,0\n\x00\x00\x07\x08\n"}, "csv: row 2"),
        ({"csv": "1,2,0\n1,2," + "7" * 5000 + "\n"}, "csv: row 2"),
        ({"csv": "1,2,0\n" * 70_000}, "csv: the file has"),
        ({"points": [[0, 0, 0], [1, None, 1], [0, 1, 1], [1, 0, 0]]}, "points: row 2, column 2"),
        ({}, "csv: give either csv"),
        ({"csv": "1,1,1", "points": []}, "csv: give either csv"),
    ],
)
def test_every_bad_upload_is_a_422_naming_row_and_column(
    client: TestClient, body: dict[str, Any], where: str
) -> None:
    r = client.post("/api/datasets", json=body)
    assert r.status_code == 422
    err = r.json()
    assert err["error"].startswith(where), err["error"]
    problem = err["problems"][0]
    assert problem["field"] in ("csv", "points") and problem["code"].startswith("upload_")
    if "row " in where:
        assert problem["params"]["row"] == int(where.split("row ")[1].split(",")[0])
    if "column " in where:
        assert problem["params"]["column"] == int(where.split("column ")[1])


def test_a_bad_upload_loses_nothing(client: TestClient) -> None:
    got = upload(client, csv=CSV)
    assert client.post("/api/datasets", json={"csv": "1,2,0\n1,x,1\n"}).status_code == 422
    body = {"dataset": "uploaded", "dataset_params": {"id": got["id"]}, "steps": 1}
    assert client.post("/api/train", json=body).status_code == 200


def test_train_names_an_unknown_or_missing_id(client: TestClient) -> None:
    r = client.post("/api/train", json={"dataset": "uploaded", "dataset_params": {"id": "feed"}})
    assert r.status_code == 422
    assert r.json()["error"].startswith("dataset_params.id: no uploaded dataset feed")
    assert r.json()["problems"][0]["code"] == "dataset_unknown"
    r = client.post("/api/train", json={"dataset": "uploaded"})
    assert r.status_code == 422
    assert r.json()["problems"][0]["field"] == "dataset_params"


def test_rest_uploads_are_bounded_in_count(client: TestClient) -> None:
    first = upload(client, points=[[0, 0, 0], [1, 1, 1], [0, 1, 1], [1, 0, 0]])
    for k in range(protocol.MAX_REST_UPLOADS):
        upload(client, points=[[0, 0, 0], [1, 1, 1], [0, 1, 1], [1, k + 2, 0]])
    body = {"dataset": "uploaded", "dataset_params": {"id": first["id"]}, "steps": 1}
    assert client.post("/api/train", json=body).status_code == 422  # the oldest went first


def test_catalog_has_the_upload_limits(client: TestClient) -> None:
    cat = client.get("/api/catalog").json()
    limits = cat["limits"]["upload"]
    assert limits["max_rows"] == owndata.MAX_ROWS and limits["max_bytes"] == owndata.MAX_BYTES
    assert limits["per_session"] == protocol.MAX_SESSION_UPLOADS
    assert limits["ttl_s"] == protocol.UPLOAD_TTL_S
    uploaded = next(d for d in cat["datasets"] if d["name"] == "uploaded")
    assert uploaded["uploaded"] and uploaded["params"] == {"standardize": ["off", "on"]}


def test_an_upload_exports_back_as_csv(client: TestClient) -> None:
    got = upload(client, csv=CSV)
    r = client.get(f"/api/datasets/{got['id']}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[0] == "x,y,label"
    again = upload(client, csv=r.text)
    assert again == got  # the same points, labels and names: the same fingerprint
    missing = client.get("/api/datasets/0000000000000000")
    assert missing.status_code == 404 and "no uploaded dataset" in missing.json()["error"]
