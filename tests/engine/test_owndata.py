"""A teacher's own dataset: the CSV parser's answers, every refusal naming its row and
column, and the split, standardisation and boundary axes the training lab gets."""

from __future__ import annotations

import numpy as np
import pytest

from deepscope.engine import datasets, owndata, training
from deepscope.engine.owndata import DataError, parse_csv, parse_points

POINTS = "\n".join(f"{x},{y},{int(x > y)}" for x, y in [(0, 1), (2, 1), (-1, -3), (3, -2), (1, 4)])


def test_csv_without_header_reads_x_y_label() -> None:
    table = parse_csv(POINTS)
    assert table.rows == 5
    assert table.X.tolist() == [[0, 1], [2, 1], [-1, -3], [3, -2], [1, 4]]
    assert table.y.tolist() == [0, 1, 1, 1, 0]
    assert table.labels == (0.0, 1.0)
    assert table.columns == ("x", "y", "label")
    assert table.bounds == ((-1.0, 3.0), (-3.0, 4.0))
    assert table.counts == (2, 3)


def test_header_names_the_label_column_and_separators_are_detected() -> None:
    text = "class;height;weight\ncat;1.5;3\ndog;2;4\ncat;1;2.5\ndog;3;5\n"
    table = parse_csv(text)
    assert table.columns == ("height", "weight", "class")
    assert table.X.tolist() == [[1.5, 3], [2, 4], [1, 2.5], [3, 5]]
    assert table.labels == ("cat", "dog")
    assert table.y.tolist() == [0, 1, 0, 1]
    tabbed = parse_csv(text.replace(";", "\t"))
    assert tabbed.id == table.id


def test_minus_one_one_labels_map_to_zero_one() -> None:
    table = parse_csv("0,0,-1\n1,1,1\n0,1,1\n# a comment\n\n1,0,-1\n")
    assert table.labels == (-1.0, 1.0)
    assert table.y.tolist() == [0, 1, 1, 0]


def test_id_is_the_content_not_the_formatting() -> None:
    a = parse_csv("x,y,label\n0,0,0\n1,1,1\n0,1,1\n1,0,0\n")
    b = parse_csv("0.0, 0.00, 0\n1e0,1,1\n0,1.0,1\n1,0,0\n")
    c = parse_points([[0, 0, 0], [1, 1, 1], [0, 1, 1], [1, 0, 0]])
    assert a.id == b.id == c.id
    assert parse_csv("0,0,0\n1,1,1\n0,1,1\n1,0.5,0\n").id != a.id


def test_export_reads_back_to_the_same_table() -> None:
    table = parse_csv("a,b,label\n0.1,0.2,no\n1,1,yes\n0,1,yes\n1,0,no\n")
    again = parse_csv(table.to_csv())
    assert again.id == table.id and again.labels == ("no", "yes") and again.columns == table.columns


@pytest.mark.parametrize(
    ("text", "code", "row", "column"),
    [
        ("", "upload_empty", None, None),
        ("x,y,label\n", "upload_empty", None, None),
        ("0,0,0\n1,abc,1\n0,1,1\n1,0,0\n", "upload_number", 2, 2),
        ("0,0,0\n1,1,1\nNaN,1,1\n1,0,0\n", "upload_nonfinite", 3, 1),
        ("0,0,0\n1,1,1\n0,inf,1\n1,0,0\n", "upload_nonfinite", 3, 2),
        ("0,0,0\n1,1,1\n0,1,1\n1,0,nan\n", "upload_nonfinite", 4, 3),
        ("0,0,0\n1,1,1\n0,1e7,1\n1,0,0\n", "upload_range", 3, 2),
        ("0,0,0\n1,1,1\n0,1,2\n1,0,0\n", "upload_classes", 3, 3),
        ("0,0,a\n1,1,a\n0,1,a\n1,0,a\n", "upload_one_class", None, None),
        ("0,0,0\n1,1,1\n0,1\n1,0,0\n", "upload_columns", 3, None),
        ("0,0,0\n1,1,\n0,1,1\n1,0,0\n", "upload_label", 2, 3),
        ("0,0,0\n1,1,1\n", "upload_few_rows", None, None),
        ('0,0,0\n1,1,"1\n', "upload_csv", 2, None),
        ("0,0,0\n1,1,1\x00\x01\x02\n", "upload_binary", 2, None),
        ("0,0,0\n\ufffd\ufffdPNG\n", "upload_binary", 2, None),
        ("0,0,0\n1,1," + "1" * 2000 + "\n", "upload_line", 2, None),
        ("0,0,0\n" * (owndata.MAX_ROWS + 1), "upload_rows", owndata.MAX_ROWS + 1, None),
        ("0,0,0\n" * 70_000, "upload_bytes", None, None),
    ],
)
def test_every_bad_upload_names_its_row_and_column(
    text: str, code: str, row: int | None, column: int | None
) -> None:
    with pytest.raises(DataError) as caught:
        parse_csv(text)
    err = caught.value
    assert (err.code, err.row, err.column) == (code, row, column)
    if row is not None:
        assert f"row {row}" in err.message and err.params["row"] == row
    if column is not None:
        assert f"column {column}" in err.message and err.params["column"] == column


@pytest.mark.parametrize(
    ("points", "code", "row", "column"),
    [
        ([], "upload_empty", None, None),
        ([[0, 0, 0], [1, "a", 1], [0, 1, 1], [1, 0, 0]], "upload_number", 2, 2),
        ([[0, 0, 0], [1, 1, 1], [0, 1], [1, 0, 0]], "upload_columns", 3, None),
        ([[0, 0, 0], [1, 1, 1], [0, 1, 1], [1, 0, 5]], "upload_classes", 4, 3),
        ([[0, 0, 0], [1, 1, True], [0, 1, 1], [1, 0, 0]], "upload_label", 2, 3),
        ([[0, 0, 0]] * (owndata.MAX_ROWS + 1), "upload_rows", owndata.MAX_ROWS + 1, None),
    ],
)
def test_bad_points_name_their_row_and_column(
    points: list[list[object]], code: str, row: int | None, column: int | None
) -> None:
    with pytest.raises(DataError) as caught:
        parse_points(points)
    assert (caught.value.code, caught.value.row, caught.value.column) == (code, row, column)


def _table(n: int = 200, shift: float = 50.0) -> owndata.Table:
    rng = np.random.default_rng(3)
    X = rng.normal((shift, -shift / 10), (8.0, 0.5), (n, 2))
    y = X[:, 0] - shift > 0
    return parse_points([[a, b, int(c)] for (a, b), c in zip(X.tolist(), y, strict=True)])


def test_split_keeps_every_point_once_and_the_axes_fit_with_a_margin() -> None:
    table = _table()
    split = datasets.from_table(table, 0.7, seed=5, params={"id": table.id})
    assert len(split.y_train) == 140 and len(split.y_test) == 60
    joined = np.concatenate([split.X_train, split.X_test])
    assert sorted(map(tuple, joined.tolist())) == sorted(map(tuple, table.X.tolist()))
    (x0, x1), (y0, y1) = split.domain
    (bx0, bx1), (by0, by1) = table.bounds
    assert x0 == pytest.approx(bx0 - 0.1 * (bx1 - bx0)) and x1 == pytest.approx(
        bx1 + 0.1 * (bx1 - bx0)
    )
    assert y0 == pytest.approx(by0 - 0.1 * (by1 - by0)) and y1 == pytest.approx(
        by1 + 0.1 * (by1 - by0)
    )
    again = datasets.from_table(table, 0.7, seed=5, params={"id": table.id})
    assert np.array_equal(again.X_train, split.X_train)  # seeded


def test_standardisation_gives_zero_mean_unit_variance() -> None:
    table = _table()
    split = datasets.from_table(table, 0.5, 0, {"id": table.id, "standardize": "on"})
    X = np.concatenate([split.X_train, split.X_test])
    assert np.allclose(X.mean(axis=0), 0, atol=1e-12) and np.allclose(X.std(axis=0), 1)
    assert split.domain[0][0] < X[:, 0].min() and split.domain[1][1] > X[:, 1].max()


def test_a_constant_coordinate_is_centred_and_still_gets_an_axis() -> None:
    table = parse_points([[1, 5, 0], [2, 5, 1], [3, 5, 0], [4, 5, 1]])
    split = datasets.from_table(table, 0.5, 0, {"id": table.id, "standardize": "on"})
    X = np.concatenate([split.X_train, split.X_test])
    assert np.all(X[:, 1] == 0) and np.all(np.isfinite(X))
    (y0, y1) = split.domain[1]
    assert y0 < 0 < y1


def test_standardising_lets_a_net_learn_badly_scaled_data() -> None:
    """The lecture's preprocessing advice: x in the fifties saturates tanh units."""
    table = _table(shift=500.0)
    base = training.TrainConfig(
        dataset="uploaded",
        dataset_params={"id": table.id, "standardize": "off"},
        table=table,
        hidden=(8,),
        steps=300,
        optimizer=training.RunConfig("adam", {"lr": 0.01}),
    )
    raw = training.Trainer(base)
    raw.run(300)
    scaled = training.Trainer(
        training.TrainConfig(
            **{**base.__dict__, "dataset_params": {"id": table.id, "standardize": "on"}}
        )
    )
    scaled.run(300)
    assert scaled.frame(training.FrameOptions()).accuracy >= 0.95
    assert (
        raw.frame(training.FrameOptions()).accuracy < scaled.frame(training.FrameOptions()).accuracy
    )
