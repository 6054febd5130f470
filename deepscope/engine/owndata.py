"""A teacher's own 2-D dataset: a CSV (or rows of points) parsed and checked.

Three columns, x, y and a binary label, one point a row; a header is optional (a
first row whose x or y is not a number). With a header, a column named ``label``,
``class``, ``target`` or ``category`` is the label and the other two are x and y;
without one, the label is the last column. Labels are 0/1, −1/1 or two class
names (numbers other than those count as names); class 0 is 0, −1, or the name
that sorts first. Commas, semicolons or tabs separate the columns (the first
line decides); blank lines and lines starting with ``#`` are skipped.

Every problem is a ``DataError`` naming the row (the file's line number, as a
spreadsheet shows it, or the point's 1-based index) and, where it belongs to one,
the column. The parser is the standard library's ``csv``.
"""

from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

MAX_BYTES = 400_000  # the whole file, UTF-8
MAX_ROWS = 5_000  # data rows (the header not counted)
MAX_LINE_CHARS = 1_000  # one line of the file
MIN_ROWS = 4  # the lecture's truth tables have 4
MAX_COORD = 1e6  # |x|, |y|: the network's inputs, like every coordinate the labs take
LABEL_NAMES = ("label", "class", "target", "category")
MAX_NAME_CHARS = 40  # a class name, as shown


class DataError(ValueError):
    """What is wrong with an upload, where: ``row`` (1-based) and ``column`` (1-based)."""

    def __init__(
        self,
        code: str,
        message: str,
        row: int | None = None,
        column: int | None = None,
        **params: float | str,
    ) -> None:
        where = ", ".join(
            part
            for part in (
                f"row {row}" if row is not None else "",
                f"column {column}" if column is not None else "",
            )
            if part
        )
        self.code = code
        self.row = row
        self.column = column
        self.message = f"{where}: {message}" if where else message
        self.params: dict[str, float | str] = dict(params)
        if row is not None:
            self.params["row"] = row
        if column is not None:
            self.params["column"] = column
        super().__init__(self.message)


@dataclass(frozen=True)
class Table:
    """A parsed upload: points, labels in {0, 1}, and what the file called them."""

    X: Array  # (rows, 2)
    y: Array  # (rows,) in {0, 1}
    labels: tuple[float | str, float | str]  # the file's values for class 0 and class 1
    columns: tuple[str, str, str]  # x, y, label names (the header's, or x, y, label)
    id: str  # content hash of the points and labels (not of the file's formatting)

    @property
    def rows(self) -> int:
        return len(self.y)

    @property
    def counts(self) -> tuple[int, int]:
        ones = int(self.y.sum())
        return self.rows - ones, ones

    @property
    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]]:
        return (
            (float(self.X[:, 0].min()), float(self.X[:, 0].max())),
            (float(self.X[:, 1].min()), float(self.X[:, 1].max())),
        )

    @property
    def nbytes(self) -> int:
        return int(self.X.nbytes + self.y.nbytes)

    def to_csv(self) -> str:
        """The points back as CSV, with the file's column names and label values."""
        lines = [",".join(_cell(c) for c in self.columns)]
        names = [_cell(v) for v in self.labels]
        for (x, y), label in zip(self.X.tolist(), self.y.tolist(), strict=True):
            lines.append(f"{x!r},{y!r},{names[int(label)]}")
        return "\n".join(lines) + "\n"


def _cell(value: float | str) -> str:
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    if any(ch in value for ch in ',"\n\r;\t'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _number(text: str) -> float | None:
    """A number as a CSV cell writes it, or None. NaN and Infinity parse (and are refused
    later with their own message)."""
    try:
        return float(text.strip().replace("_", "#"))  # '1_0' is not a number in a CSV
    except ValueError:
        return None


def _label_value(text: str) -> float | str:
    value = _number(text)
    return value if value is not None and math.isfinite(value) else text.strip()


def content_id(X: Array, y: Array) -> str:
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(X, dtype="<f8").tobytes())
    digest.update(np.ascontiguousarray(y, dtype="<f8").tobytes())
    return digest.hexdigest()[:16]


def _binary(values: list[tuple[int, int, float | str]]) -> tuple[Array, tuple[float | str, ...]]:
    """Labels (row, column, value) → 0/1; a third class is an error at its row."""
    seen: list[float | str] = []
    for row, column, value in values:
        if value not in seen:
            if len(seen) == 2:
                raise DataError(
                    "upload_classes",
                    f"a third label {_show(value)} (the others are {_show(seen[0])} and "
                    f"{_show(seen[1])}): labels must be binary",
                    row,
                    column,
                    value=_show(value),
                    first=_show(seen[0]),
                    second=_show(seen[1]),
                )
            seen.append(value)
    if len(seen) < 2:
        only = _show(seen[0]) if seen else "?"
        raise DataError(
            "upload_one_class",
            f"every point has the label {only}: a classifier needs two classes",
            value=only,
        )
    a, b = seen
    if isinstance(a, float) and isinstance(b, float):
        zero: float | str = min(a, b)  # 0/1, −1/1, or two other numbers: the smaller is 0
    else:
        zero = a if _show(a) <= _show(b) else b  # names: the one that sorts first is 0
    one = b if zero == a else a
    y = np.array([1.0 if v == one else 0.0 for _, _, v in values])
    return y, (zero, one)


def _show(value: float | str) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value[:MAX_NAME_CHARS]


def _finite(value: float, row: int, column: int, name: str) -> float:
    if not math.isfinite(value):
        raise DataError(
            "upload_nonfinite",
            f"{name} is {value} (NaN and infinities are not points)",
            row,
            column,
            name=name,
        )
    if abs(value) > MAX_COORD:
        raise DataError(
            "upload_range",
            f"{name} = {value:g} is beyond ±{MAX_COORD:g}",
            row,
            column,
            name=name,
            limit=MAX_COORD,
        )
    return value


def _table(
    rows: list[tuple[int, float, float, float | str]],
    label_column: int,
    columns: tuple[str, str, str],
    xy_columns: tuple[int, int],
) -> Table:
    if not rows:
        raise DataError("upload_empty", "there are no data rows")
    if len(rows) < MIN_ROWS:
        raise DataError(
            "upload_few_rows",
            f"{len(rows)} data rows; at least {MIN_ROWS} are needed",
            value=len(rows),
            limit=MIN_ROWS,
        )
    X = np.array([[x, y] for _, x, y, _ in rows], dtype=np.float64)
    y, labels = _binary([(row, label_column, label) for row, _, _, label in rows])
    zero, one = labels
    return Table(X, y, (zero, one), columns, content_id(X, y))


def parse_csv(text: str) -> Table:
    """The CSV text of an upload as a Table, or a DataError naming the row and column."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_BYTES:
        raise DataError(
            "upload_bytes",
            f"the file has {size:,} bytes; the limit is {MAX_BYTES:,}",
            value=size,
            limit=MAX_BYTES,
        )
    if not text.strip():
        raise DataError("upload_empty", "the file is empty")
    lines = text.splitlines()
    for i, line in enumerate(lines, start=1):
        if "\x00" in line or "\ufffd" in line:
            raise DataError(
                "upload_binary",
                "this is not a text file (it holds bytes a CSV never has)",
                i,
            )
        if len(line) > MAX_LINE_CHARS:
            raise DataError(
                "upload_line",
                f"the line has {len(line):,} characters; the limit is {MAX_LINE_CHARS:,}",
                i,
                value=len(line),
                limit=MAX_LINE_CHARS,
            )
    first = next(line for line in lines if line.strip() and not line.lstrip().startswith("#"))
    delimiter = "\t" if "\t" in first else ";" if ";" in first else ","
    reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True, strict=True)
    columns: tuple[str, str, str] = ("x", "y", "label")
    xy, label_column = (0, 1), 2
    header_done = False
    rows: list[tuple[int, float, float, float | str]] = []
    try:
        for cells in reader:
            row = reader.line_num
            if not cells or all(not c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
                continue
            if len(cells) != 3:
                raise DataError(
                    "upload_columns",
                    f"{len(cells)} columns; a point needs 3 (x, y, label)",
                    row,
                    value=len(cells),
                )
            if not header_done:
                header_done = True
                if _number(cells[0]) is None or _number(cells[1]) is None:
                    names = [c.strip() for c in cells]
                    lowered = [n.lower() for n in names]
                    found = [i for i, n in enumerate(lowered) if n in LABEL_NAMES]
                    label_column = found[0] if found else 2
                    a, b = (i for i in range(3) if i != label_column)
                    xy = (a, b)
                    columns = (names[a] or "x", names[b] or "y", names[label_column] or "label")
                    continue
            if len(rows) >= MAX_ROWS:
                raise DataError(
                    "upload_rows",
                    f"more than {MAX_ROWS:,} data rows",
                    row,
                    limit=MAX_ROWS,
                )
            coords = []
            for k, col in enumerate(xy):
                name = columns[k]
                value = _number(cells[col])
                if value is None:
                    raise DataError(
                        "upload_number",
                        f"{name} is {cells[col].strip()[:MAX_NAME_CHARS]!r}, not a number",
                        row,
                        col + 1,
                        name=name,
                        value=cells[col].strip()[:MAX_NAME_CHARS],
                    )
                coords.append(_finite(value, row, col + 1, name))
            label_text = cells[label_column].strip()
            if not label_text:
                raise DataError(
                    "upload_label",
                    f"{columns[2]} is empty: it must be a class name or a number",
                    row,
                    label_column + 1,
                    name=columns[2],
                )
            label = _label_value(label_text)
            if isinstance(label, str) and (number := _number(label)) is not None:
                _finite(number, row, label_column + 1, columns[2])  # NaN or inf: refused
            rows.append((row, coords[0], coords[1], label))
    except csv.Error as err:
        raise DataError("upload_csv", f"not CSV: {err}", reader.line_num) from None
    return _table(rows, label_column + 1, columns, xy)


def parse_points(points: list[list[object]]) -> Table:
    """Rows ``[x, y, label]`` (JSON) as a Table; row numbers are 1-based indices."""
    if not points:
        raise DataError("upload_empty", "there are no points")
    if len(points) > MAX_ROWS:
        raise DataError(
            "upload_rows",
            f"more than {MAX_ROWS:,} data rows",
            MAX_ROWS + 1,
            limit=MAX_ROWS,
        )
    rows: list[tuple[int, float, float, float | str]] = []
    names = ("x", "y")
    for i, point in enumerate(points, start=1):
        if not isinstance(point, list | tuple) or len(point) != 3:
            count = len(point) if isinstance(point, list | tuple) else 1
            raise DataError(
                "upload_columns",
                f"{count} columns; a point needs 3 (x, y, label)",
                i,
                value=count,
            )
        coords = []
        for k in range(2):
            value = point[k]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise DataError(
                    "upload_number",
                    f"{names[k]} is {str(value)[:MAX_NAME_CHARS]!r}, not a number",
                    i,
                    k + 1,
                    name=names[k],
                    value=str(value)[:MAX_NAME_CHARS],
                )
            coords.append(_finite(float(value), i, k + 1, names[k]))
        raw = point[2]
        label: float | str
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise DataError(
                "upload_label", "label must be a class name or a number", i, 3, name="label"
            )
        if isinstance(raw, str):
            if not raw.strip():
                raise DataError(
                    "upload_label",
                    "label is empty: it must be a class name or a number",
                    i,
                    3,
                    name="label",
                )
            label = _label_value(raw)
            if isinstance(label, str) and (number := _number(label)) is not None:
                _finite(number, i, 3, "label")
        else:
            label = _finite(float(raw), i, 3, "label")
        rows.append((i, coords[0], coords[1], label))
    return _table(rows, 3, ("x", "y", "label"), (0, 1))
