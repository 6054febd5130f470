"""A lesson task's check: a small, safe condition language on named frame quantities.

A condition such as ``layers[-1].activation.std > 0.1`` is parsed into a tree of
whitelisted nodes and evaluated on a *scope* (the named quantities of a lab's newest
frame, built by ``scope`` below) — never by ``eval``. The page evaluates the same
conditions on its live frames with the same grammar (``static/js/conditions.js``);
``tests/condition_vectors.json`` holds the cases both implementations must agree on.

Grammar::

    expr    := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | STRING | "true" | "false" | call | path | "(" expr ")"
    call    := ("abs" | "min" | "max" | "len") "(" expr ")"
    path    := NAME ("." NAME | "[" ("-"? INTEGER | "*") "]")*

A path names a value of the scope; ``[-1]`` counts from the end and ``[*]`` takes every
item (a list, for ``min``, ``max`` and ``len``). A missing value is ``null``: any
comparison with it is false and arithmetic on it stays ``null``, so a condition on a
quantity a frame lacks is simply not met. A condition is met when it evaluates to
``true`` (a number alone is not a condition).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 300
FUNCTIONS = ("abs", "min", "max", "len")
COMPARE = ("<=", ">=", "==", "!=", "<", ">")
TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<string>\"[^\"\\]*\")"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|==|!=|[<>+\-*/().\[\],]))"
)


class ConditionError(ValueError):
    """A condition that does not parse: the message says where."""


@dataclass(frozen=True)
class Tok:
    kind: str  # number, string, name, op, end
    text: str
    at: int


def tokens(text: str) -> list[Tok]:
    if len(text) > MAX_LENGTH:
        raise ConditionError(f"a condition is at most {MAX_LENGTH} characters")
    out: list[Tok] = []
    i = 0
    while i < len(text):
        if text[i:].strip() == "":
            break
        m = TOKEN.match(text, i)
        if m is None or m.end() == i:
            raise ConditionError(f"unexpected character {text[i:].lstrip()[:1]!r} at {i}")
        kind = m.lastgroup or "op"
        out.append(Tok(kind, m.group(kind), m.start(kind)))
        i = m.end()
    out.append(Tok("end", "", len(text)))
    return out


# The tree: tuples whose first item names the node.
Node = tuple[Any, ...]


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = tokens(text)
        self.i = 0

    def peek(self) -> Tok:
        return self.toks[self.i]

    def take(self, text: str | None = None, kind: str | None = None) -> Tok:
        tok = self.peek()
        if (text is not None and tok.text != text) or (kind is not None and tok.kind != kind):
            want = repr(text) if text is not None else (kind or "")
            got = repr(tok.text) if tok.kind != "end" else "the end"
            raise ConditionError(f"expected {want} at {tok.at}, found {got}")
        self.i += 1
        return tok

    def at(self, text: str) -> bool:
        tok = self.peek()
        return tok.text == text and tok.kind in ("op", "name")

    def parse(self) -> Node:
        node = self.expr()
        if self.peek().kind != "end":
            tok = self.peek()
            raise ConditionError(f"unexpected {tok.text!r} at {tok.at}")
        return node

    def expr(self) -> Node:
        node = self.conj()
        while self.at("or"):
            self.take()
            node = ("or", node, self.conj())
        return node

    def conj(self) -> Node:
        node = self.neg()
        while self.at("and"):
            self.take()
            node = ("and", node, self.neg())
        return node

    def neg(self) -> Node:
        if self.at("not"):
            self.take()
            return ("not", self.neg())
        return self.compare()

    def compare(self) -> Node:
        node = self.sum()
        if self.peek().kind == "op" and self.peek().text in COMPARE:
            op = self.take().text
            node = ("cmp", op, node, self.sum())
            if self.peek().kind == "op" and self.peek().text in COMPARE:
                raise ConditionError(f"chain comparisons with 'and' (at {self.peek().at})")
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.peek().kind == "op" and self.peek().text in ("+", "-"):
            op = self.take().text
            node = ("arith", op, node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("*", "/"):
            op = self.take().text
            node = ("arith", op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek().kind == "op" and self.peek().text == "-":
            self.take()
            return ("neg", self.unary())
        return self.atom()

    def atom(self) -> Node:
        tok = self.peek()
        if tok.kind == "number":
            self.take()
            return ("num", float(tok.text))
        if tok.kind == "string":
            self.take()
            return ("str", tok.text[1:-1])
        if tok.kind == "op" and tok.text == "(":
            self.take()
            node = self.expr()
            self.take(")")
            return node
        if tok.kind == "name":
            if tok.text in ("true", "false"):
                self.take()
                return ("bool", tok.text == "true")
            if tok.text in ("and", "or", "not"):
                raise ConditionError(f"unexpected {tok.text!r} at {tok.at}")
            self.take()
            if self.peek().text == "(" and self.peek().kind == "op":
                if tok.text not in FUNCTIONS:
                    raise ConditionError(
                        f"unknown function {tok.text!r} at {tok.at} (known: {', '.join(FUNCTIONS)})"
                    )
                self.take("(")
                arg = self.expr()
                self.take(")")
                return ("call", tok.text, arg)
            return self.path(tok.text)
        got = repr(tok.text) if tok.kind != "end" else "the end"
        raise ConditionError(f"expected a value at {tok.at}, found {got}")

    def path(self, first: str) -> Node:
        steps: list[str | int] = [first]
        while self.peek().kind == "op" and self.peek().text in (".", "["):
            if self.take().text == ".":
                steps.append(self.take(kind="name").text)
                continue
            if self.peek().text == "*":
                self.take()
                steps.append("*")
            else:
                sign = -1 if self.peek().text == "-" else 1
                if sign < 0:
                    self.take()
                num = self.take(kind="number")
                if not num.text.isdigit():
                    raise ConditionError(f"an index is a whole number (at {num.at})")
                steps.append(sign * int(num.text))
            self.take("]")
        return ("path", tuple(steps))


def parse(text: str) -> Node:
    """The condition's tree, or a ``ConditionError`` saying where it is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("a condition is a non-empty text")
    return _Parser(text).parse()


# --- evaluating -------------------------------------------------------------------------


def _get(value: Any, steps: Sequence[str | int]) -> Any:
    for k, step in enumerate(steps):
        if step == "*":
            if not isinstance(value, list):
                return None
            return [_get(item, steps[k + 1 :]) for item in value]
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
            value = value[step]
        elif isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return None
    return value


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _call(name: str, v: Any) -> Any:
    if name == "abs":
        n = _number(v)
        return None if n is None else abs(n)
    if name == "len":
        return float(len(v)) if isinstance(v, list) else None
    items = v if isinstance(v, list) else [v]
    nums = [_number(x) for x in items]
    if not nums or any(n is None for n in nums):
        return None
    clean = [n for n in nums if n is not None]
    return min(clean) if name == "min" else max(clean)


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        return False
    if isinstance(a, bool) and isinstance(b, bool):
        return (a == b) if op == "==" else (a != b) if op == "!=" else False
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return False
    return {
        "<": x < y,
        "<=": x <= y,
        ">": x > y,
        ">=": x >= y,
        "==": x == y,
        "!=": x != y,
    }[op]


def evaluate(node: Node, scope: dict[str, Any]) -> Any:
    kind = node[0]
    if kind in ("num", "str", "bool"):
        return node[1]
    if kind == "path":
        return _get(scope, node[1])
    if kind == "not":
        return evaluate(node[1], scope) is not True
    if kind == "and":
        return evaluate(node[1], scope) is True and evaluate(node[2], scope) is True
    if kind == "or":
        return evaluate(node[1], scope) is True or evaluate(node[2], scope) is True
    if kind == "cmp":
        return _compare(node[1], evaluate(node[2], scope), evaluate(node[3], scope))
    if kind == "neg":
        n = _number(evaluate(node[1], scope))
        return None if n is None else -n
    if kind == "arith":
        a, b = _number(evaluate(node[2], scope)), _number(evaluate(node[3], scope))
        if a is None or b is None:
            return None
        op = node[1]
        if op == "/":
            return None if b == 0 else a / b
        return a + b if op == "+" else a - b if op == "-" else a * b
    if kind == "call":
        return _call(node[1], evaluate(node[2], scope))
    raise ConditionError(f"unknown node {kind!r}")  # pragma: no cover - the parser makes none


def met(text: str, scope: dict[str, Any]) -> bool:
    """True when the condition holds on ``scope``."""
    return evaluate(parse(text), scope) is True


# --- the named quantities of a lab's frames ---------------------------------------------

LAYER_STATS = ("preactivation", "activation", "derivative", "gradient", "weight_gradient")
LAYER_FIELDS = ("saturated_fraction", "zero_fraction", "dead_units", "grad_norm")
TRAIN_FIELDS = ("step", "epoch", "accuracy", "train_accuracy", "train_loss", "test_loss")
IDENTICAL_TOL = 1e-9  # units whose weights differ by less than this are identical


def layers_scope(data: dict[str, Any]) -> dict[str, Any]:
    """A layers frame: ``layers[k]`` with each quantity's ``mean`` / ``std`` and the
    per-layer fields; ``loss``."""
    rows = []
    for layer in data.get("layers", []):
        row: dict[str, Any] = {
            q: {"mean": layer["hist"][q].get("mean"), "std": layer["hist"][q].get("std")}
            for q in LAYER_STATS
            if q in layer.get("hist", {})
        }
        row.update({f: layer.get(f) for f in LAYER_FIELDS})
        rows.append(row)
    return {"layers": rows, "loss": data.get("loss")}


def identical(weights: Any, biases: Any = None) -> bool | None:
    """Whether every unit of a layer has the same incoming weights (the columns of its
    weight matrix, ``[fan_in][units]``) and bias; None without weights."""
    if not isinstance(weights, list) or not weights or not isinstance(weights[0], list):
        return None
    rows = [*weights, biases] if isinstance(biases, list) else list(weights)
    for row in rows:
        nums = [_number(v) for v in row]
        clean = [n for n in nums if n is not None]
        if len(clean) < len(nums):
            return None
        if max(clean) - min(clean) > IDENTICAL_TOL:
            return False
    return True


def train_scope(
    data: dict[str, Any], hidden: Sequence[int], last: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A training frame: its figures, ``layers[k]`` (``dead_units``, ``zero_fraction``,
    ``identical``: all the layer's units have the same incoming weights and bias) and
    ``dead_share`` (dead hidden units over the ``hidden`` widths' sum). ``last``: the
    previous frame's scope (a frame without the weights keeps their verdict)."""
    out: dict[str, Any] = {f: data.get(f) for f in TRAIN_FIELDS}
    dead = data.get("dead_units") or []
    zero = data.get("zero_fraction") or []
    weights, biases = data.get("weights"), data.get("biases")
    before = (last or {}).get("layers") or []
    rows = []
    for k, d in enumerate(dead):
        row: dict[str, Any] = {"dead_units": d, "zero_fraction": zero[k] if k < len(zero) else None}
        if isinstance(weights, list) and k < len(weights):
            b = biases[k] if isinstance(biases, list) and k < len(biases) else None
            row["identical"] = identical(weights[k], b)
        else:
            row["identical"] = before[k].get("identical") if k < len(before) else None
        rows.append(row)
    out["layers"] = rows
    counts = [_number(d) for d in dead]
    total = sum(hidden)
    ok = dead and total and len(dead) == len(hidden) and all(c is not None for c in counts)
    out["dead_share"] = sum(c for c in counts if c is not None) / total if ok else None
    return out


def descend_scope(runs: dict[str, dict[str, Any]], order: Sequence[str]) -> dict[str, Any]:
    """A race so far (each run's rows stitched over the frames, as ``claims.Trace.runs``):
    ``runs[k]`` with ``label``, ``status``, ``steps`` (rows after the start), the newest
    ``x``, ``y``, ``loss`` and the ones before them (``x_prev``, ``loss_prev``)."""
    out = []
    for label in order:
        r = runs[label]
        points, loss = r["points"], r["loss"]

        def at(seq: list[Any], back: int) -> Any:
            return seq[-back] if len(seq) >= back else None

        p, q = at(points, 1), at(points, 2)
        out.append(
            {
                "label": label,
                "status": r.get("status"),
                "steps": max(0, len(points) - 1),
                "x": p[0] if p else None,
                "y": p[1] if p and len(p) > 1 else None,
                "x_prev": q[0] if q else None,
                "loss": at(loss, 1),
                "loss_prev": at(loss, 2),
            }
        )
    return {"runs": out}
