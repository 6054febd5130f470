"""A whitelist parser for surfaces typed by a user, with exact symbolic derivatives.

Grammar (precedence low → high; ``**`` and ``^`` are right-associative and bind
tighter than unary minus, so ``-x**2`` is ``-(x**2)``)::

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := ("-" | "+") unary | power
    power  := atom (("**" | "^") unary)?
    atom   := NUMBER | NAME | FUNC "(" expr ")" | "(" expr ")"

NAME is a variable (``x``, ``y``) or a constant (``pi``, ``e``, or a surface
parameter bound by the caller); FUNC is one of ``FUNCTIONS``. Nothing else is
accepted: no attributes, calls of other names, subscripts, keywords or
strings, and user text never reaches ``eval``/``exec``. The tree is
differentiated symbolically (gradient and Hessian), simplified, and evaluated
over NumPy arrays by a small interpreter that computes every shared
sub-expression once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
from numpy.typing import NDArray

from .text import Text

Array = NDArray[np.float64]

MAX_LENGTH = 200
MAX_DEPTH = 40
MAX_NODES = 150
MAX_LITERAL = 1e6
MAX_DERIVED_NODES = 20_000  # a Hessian of a pathological input could blow up


class ExpressionError(ValueError):
    """A typed expression that is not accepted: why (``said``, an ``expr.*`` sentence of
    the page's catalogs, so that a student reads it in the page's language) and where
    (``position``, 0-based; the sentences count characters from 1)."""

    def __init__(self, key: str, position: int | None = None, **vars: object) -> None:
        self.said = Text(f"expr.{key}", {k: str(v) for k, v in vars.items()})
        self.position = position
        where = f" at character {position + 1}" if position is not None else ""
        super().__init__(f"{self.said.key} {dict(self.said.vars)}{where}")

    @property
    def character(self) -> int | None:
        """The position as the sentences count it (from 1), or None."""
        return None if self.position is None else self.position + 1


# --- the tree -----------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    value: float


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / **
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg:
    arg: Node


@dataclass(frozen=True)
class Func:
    name: str
    arg: Node


Node = Union[Const, Var, Binary, Neg, Func]  # noqa: UP007 (a recursive alias)

ZERO, ONE, TWO = Const(0.0), Const(1.0), Const(2.0)


# --- functions and their derivatives --------------------------------------------

_Unary = Callable[[Array], Array]


def _sign(u: Array) -> Array:
    return np.sign(u)


FUNCTIONS: dict[str, _Unary] = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "tanh": np.tanh,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "atan": np.arctan,
    "abs": np.abs,
    "sign": _sign,
}


def _derivative_of_function(name: str, u: Node) -> Node:
    """d f(u) / du as a tree in u."""
    if name == "sin":
        return Func("cos", u)
    if name == "cos":
        return Neg(Func("sin", u))
    if name == "tan":
        return div(ONE, power(Func("cos", u), TWO))
    if name == "exp":
        return Func("exp", u)
    if name == "log":
        return div(ONE, u)
    if name == "sqrt":
        return div(Const(0.5), Func("sqrt", u))
    if name == "tanh":
        return sub(ONE, power(Func("tanh", u), TWO))
    if name == "sinh":
        return Func("cosh", u)
    if name == "cosh":
        return Func("sinh", u)
    if name == "atan":
        return div(ONE, add(ONE, power(u, TWO)))
    if name == "abs":
        return Func("sign", u)
    if name == "sign":
        return ZERO  # almost everywhere
    raise ExpressionError("unknown_function", name=repr(name))


# --- smart constructors: constant folding and identities ---------------------------


def _fold(op: str, a: float, b: float) -> Node | None:
    with np.errstate(all="ignore"):
        value = {
            "+": lambda: a + b,
            "-": lambda: a - b,
            "*": lambda: a * b,
            "/": lambda: float(np.float64(a) / np.float64(b)),
            "**": lambda: float(np.power(np.float64(a), np.float64(b))),
        }[op]()
    return Const(value) if math.isfinite(value) else None


def add(a: Node, b: Node) -> Node:
    if isinstance(a, Const) and isinstance(b, Const):
        return _fold("+", a.value, b.value) or Binary("+", a, b)
    if a == ZERO:
        return b
    if b == ZERO:
        return a
    if isinstance(b, Neg):
        return sub(a, b.arg)
    c, rest = _coefficient(b)
    if c < 0 and rest is not None:
        return sub(a, mul(Const(-c), rest))
    return Binary("+", a, b)


def sub(a: Node, b: Node) -> Node:
    if isinstance(a, Const) and isinstance(b, Const):
        return _fold("-", a.value, b.value) or Binary("-", a, b)
    if b == ZERO:
        return a
    if a == ZERO:
        return neg(b)
    if a == b:
        return ZERO
    if isinstance(b, Neg):
        return add(a, b.arg)
    c, rest = _coefficient(b)
    if c < 0 and rest is not None:
        return add(a, mul(Const(-c), rest))
    return Binary("-", a, b)


def _coefficient(node: Node) -> tuple[float, Node | None]:
    """node = c·rest with c a number (rest None for a constant)."""
    if isinstance(node, Const):
        return node.value, None
    if isinstance(node, Neg):
        c, rest = _coefficient(node.arg)
        return -c, rest
    if isinstance(node, Binary) and node.op == "*" and isinstance(node.left, Const):
        return node.left.value, node.right
    return 1.0, node


def mul(a: Node, b: Node) -> Node:
    """a·b with the numeric factors of both gathered in front: c·(A·B)."""
    ca, ra = _coefficient(a)
    cb, rb = _coefficient(b)
    c = ca * cb
    if not math.isfinite(c):
        return Binary("*", a, b)
    if c == 0:
        return ZERO
    if ra is None and rb is None:
        return Const(c)
    rest = rb if ra is None else ra if rb is None else Binary("*", ra, rb)
    assert rest is not None
    if c == 1:
        return rest
    if c == -1:
        return Neg(rest)
    return Binary("*", Const(c), rest)


def div(a: Node, b: Node) -> Node:
    if isinstance(a, Const) and isinstance(b, Const) and b.value != 0:
        return _fold("/", a.value, b.value) or Binary("/", a, b)
    if a == ZERO:
        return ZERO
    if b == ONE:
        return a
    if a == b:
        return ONE
    if isinstance(b, Const) and b.value != 0:
        return mul(Const(1.0 / b.value), a)
    return Binary("/", a, b)


def power(a: Node, b: Node) -> Node:
    if isinstance(a, Const) and isinstance(b, Const):
        return _fold("**", a.value, b.value) or Binary("**", a, b)
    if b == ZERO:
        return ONE
    if b == ONE:
        return a
    if a == ONE:
        return ONE
    return Binary("**", a, b)


def neg(a: Node) -> Node:
    if isinstance(a, Const):
        return Const(-a.value) if a.value != 0 else ZERO
    if isinstance(a, Neg):
        return a.arg
    if isinstance(a, Binary) and a.op == "*" and isinstance(a.left, Const):
        return mul(Const(-a.left.value), a.right)
    return Neg(a)


# --- parser -------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<op>\*\*|[-+*/^()]))"
)


@dataclass(frozen=True)
class Token:
    kind: str  # number, name, op, end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            bad = text[pos:].lstrip()
            where = len(text) - len(bad)
            raise ExpressionError("unexpected_character", where, char=repr(bad[0]))
        kind = m.lastgroup or "op"
        tokens.append(Token(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str, variables: Sequence[str], constants: Mapping[str, float]):
        self.tokens = tokenize(text)
        self.i = 0
        self.variables = set(variables)
        self.constants = {"pi": math.pi, "e": math.e, **constants}
        self.depth = 0
        self.nodes = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            if token.kind == "end":
                raise ExpressionError("expected_end", token.pos, text=repr(text))
            raise ExpressionError("expected", token.pos, text=repr(text), found=repr(token.text))

    def _count(self, node: Node, pos: int) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError("too_many_terms", pos, max=MAX_NODES)
        return node

    def _nested(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError("too_deep", pos, max=MAX_DEPTH)

    def parse(self) -> Node:
        node = self.expr()
        token = self.peek()
        if token.kind != "end":
            raise ExpressionError("operator_missing", token.pos, token=repr(token.text))
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.peek().text in ("+", "-"):
            op = self.take()
            right = self.term()
            node = self._count(Binary(op.text, node, right), op.pos)
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek().text in ("*", "/"):
            op = self.take()
            right = self.unary()
            node = self._count(Binary(op.text, node, right), op.pos)
        return node

    def unary(self) -> Node:
        token = self.peek()
        if token.text in ("-", "+"):
            self.take()
            self._nested(token.pos)
            arg = self.unary()
            self.depth -= 1
            return self._count(Neg(arg), token.pos) if token.text == "-" else arg
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        token = self.peek()
        if token.text in ("**", "^"):
            self.take()
            self._nested(token.pos)
            exponent = self.unary()
            self.depth -= 1
            return self._count(Binary("**", base, exponent), token.pos)
        return base

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "number":
            value = float(token.text)
            if not (math.isfinite(value) and abs(value) <= MAX_LITERAL):
                raise ExpressionError("number_too_large", token.pos, max=f"{MAX_LITERAL:g}")
            return self._count(Const(value), token.pos)
        if token.kind == "name":
            name = token.text
            if name in FUNCTIONS:
                self.expect("(")
                self._nested(token.pos)
                arg = self.expr()
                self.depth -= 1
                self.expect(")")
                return self._count(Func(name, arg), token.pos)
            if self.peek().text == "(":
                raise ExpressionError(
                    "unknown_function_use",
                    token.pos,
                    name=repr(name),
                    functions=", ".join(sorted(FUNCTIONS)),
                )
            if name in self.variables:
                return self._count(Var(name), token.pos)
            if name in self.constants:
                return self._count(Const(float(self.constants[name])), token.pos)
            allowed = ", ".join(sorted(self.variables))
            raise ExpressionError("unknown_name", token.pos, name=repr(name), variables=allowed)
        if token.text == "(":
            self._nested(token.pos)
            node = self.expr()
            self.depth -= 1
            self.expect(")")
            return node
        if token.kind == "end":
            raise ExpressionError("operand_expected_end", token.pos)
        raise ExpressionError("operand_expected", token.pos, found=repr(token.text))


def _rebuild(node: Node) -> Node:
    """The tree through the simplifying constructors (folds constants in user input)."""
    if isinstance(node, Binary):
        a, b = _rebuild(node.left), _rebuild(node.right)
        return {"+": add, "-": sub, "*": mul, "/": div, "**": power}[node.op](a, b)
    if isinstance(node, Neg):
        return neg(_rebuild(node.arg))
    if isinstance(node, Func):
        arg = _rebuild(node.arg)
        if isinstance(arg, Const):
            with np.errstate(all="ignore"):
                value = float(FUNCTIONS[node.name](np.array(arg.value))[()])
            if math.isfinite(value):
                return Const(value)
        return Func(node.name, arg)
    return node


def parse(
    text: str, variables: Sequence[str] = ("x", "y"), constants: Mapping[str, float] | None = None
) -> Node:
    """Parse ``text`` into a simplified tree, or raise ExpressionError saying where."""
    if not isinstance(text, str):
        raise ExpressionError("not_text")
    if len(text) > MAX_LENGTH:
        raise ExpressionError("too_long", max=MAX_LENGTH)
    if not text.strip():
        raise ExpressionError("empty")
    return _rebuild(_Parser(text, variables, constants or {}).parse())


# --- calculus ---------------------------------------------------------------------


def derivative(node: Node, var: str) -> Node:
    """∂node/∂var, simplified."""
    if isinstance(node, Const):
        return ZERO
    if isinstance(node, Var):
        return ONE if node.name == var else ZERO
    if isinstance(node, Neg):
        return neg(derivative(node.arg, var))
    if isinstance(node, Func):
        du = derivative(node.arg, var)
        return ZERO if du == ZERO else mul(_derivative_of_function(node.name, node.arg), du)
    a, b = node.left, node.right
    da, db = derivative(a, var), derivative(b, var)
    if node.op == "+":
        return add(da, db)
    if node.op == "-":
        return sub(da, db)
    if node.op == "*":
        return add(mul(da, b), mul(a, db))
    if node.op == "/":
        # (a/b)' = a'/b − a·b'/b²
        return sub(div(da, b), div(mul(a, db), power(b, TWO)))
    # a**b
    if isinstance(b, Const):
        # n·a^(n−1)·a'
        return mul(mul(b, power(a, Const(b.value - 1.0))), da)
    # a^b = exp(b·log a): (a^b)' = a^b·(b′·log a + b·a′/a)
    return mul(node, add(mul(db, Func("log", a)), div(mul(b, da), a)))


def variables_in(node: Node) -> set[str]:
    if isinstance(node, Var):
        return {node.name}
    if isinstance(node, Binary):
        return variables_in(node.left) | variables_in(node.right)
    if isinstance(node, Neg | Func):
        return variables_in(node.arg)
    return set()


def size(node: Node) -> int:
    if isinstance(node, Binary):
        return 1 + size(node.left) + size(node.right)
    if isinstance(node, Neg | Func):
        return 1 + size(node.arg)
    return 1


def to_text(node: Node, digits: int | None = None) -> str:
    """A readable rendering (fully parenthesised where precedence needs it).

    Numbers are written exactly (the shortest text that reads back to the same
    float), or to ``digits`` significant digits for display: a rotated bowl reads
    ``0.866*x + 0.5*y``, not ``0.8660254037844387*x + 0.49999999999999994*y``.
    """
    if isinstance(node, Const):
        text = repr(node.value) if digits is None else f"{node.value:.{digits}g}"
        return text[:-2] if text.endswith(".0") else text
    if isinstance(node, Var):
        return node.name
    if isinstance(node, Neg):
        return f"-{_wrap(node.arg, 3, digits)}"
    if isinstance(node, Func):
        return f"{node.name}({to_text(node.arg, digits)})"
    prec = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 4}[node.op]
    left = _wrap(node.left, prec if node.op != "**" else prec + 1, digits)
    right = _wrap(
        node.right, prec + (0 if node.op in "+*" else 1) if node.op != "**" else prec, digits
    )
    return f"{left} {node.op} {right}" if node.op in "+-" else f"{left}{node.op}{right}"


def _wrap(node: Node, prec: int, digits: int | None = None) -> str:
    inner = (
        {"+": 1, "-": 1, "*": 2, "/": 2, "**": 4}.get(node.op, 5) if isinstance(node, Binary) else 5
    )
    if isinstance(node, Neg):
        inner = 3
    if isinstance(node, Const) and node.value < 0:
        inner = 3
    text = to_text(node, digits)
    return f"({text})" if inner < prec else text


# --- evaluation -----------------------------------------------------------------


_BINARY: dict[str, Callable[[Array, Array], Array]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "**": np.power,
}


class Program:
    """Evaluates several trees at once, each shared sub-expression exactly once.

    The trees are flattened into slots in dependency order: first the variables,
    then the constants, then one NumPy call per remaining node. Non-finite
    results are left to the caller (no warnings).
    """

    def __init__(self, outputs: Sequence[Node], variables: Sequence[str]) -> None:
        self.variables = tuple(variables)
        self._slots: dict[Node, int] = {Var(v): i for i, v in enumerate(self.variables)}
        self._template: list[Any] = [None] * len(self.variables)
        # (slot, unary or binary NumPy function, first argument slot, second or −1)
        self._ops: list[tuple[int, Callable[..., Array], int, int]] = []
        self._outputs = [self._slot(node) for node in outputs]

    def _new(self, value: Any = None) -> int:
        self._template.append(value)
        return len(self._template) - 1

    def _slot(self, node: Node) -> int:
        if node in self._slots:
            return self._slots[node]
        if isinstance(node, Const):
            slot = self._new(node.value)
        elif isinstance(node, Var):
            raise ExpressionError("unknown_variable", name=repr(node.name))
        elif isinstance(node, Neg):
            a = self._slot(node.arg)
            slot = self._new()
            self._ops.append((slot, np.negative, a, -1))
        elif isinstance(node, Func):
            a = self._slot(node.arg)
            slot = self._new()
            self._ops.append((slot, FUNCTIONS[node.name], a, -1))
        elif node.op == "**" and node.right == TWO:
            a = self._slot(node.left)
            slot = self._new()
            self._ops.append((slot, np.square, a, -1))
        else:
            a, b = self._slot(node.left), self._slot(node.right)
            slot = self._new()
            self._ops.append((slot, _BINARY[node.op], a, b))
        self._slots[node] = slot
        return slot

    @property
    def n_steps(self) -> int:
        """NumPy calls per evaluation."""
        return len(self._ops)

    def __call__(self, *values: Array | float) -> list[Array]:
        """Every output at the given variable values (arrays that broadcast)."""
        with np.errstate(all="ignore"):
            return self.run(*values)

    def run(self, *values: Array | float) -> list[Array]:
        """As calling the program, without setting NumPy's error state (hot loops do)."""
        out = self.run_raw(*values)
        shape: tuple[int, ...] | None = None
        for k, o in enumerate(out):
            if isinstance(o, np.ndarray) and o.shape == np.shape(values[0]):
                continue
            # a constant output (or an input broadcast against another): full shape
            if shape is None:
                shape = np.broadcast_shapes(*(np.shape(v) for v in values))
            out[k] = np.broadcast_to(np.asarray(o, dtype=np.float64), shape)
        return out

    def run_raw(self, *values: Array | float) -> list[Any]:
        """The outputs as computed: a constant output stays a float (it broadcasts).

        For a race's inner loop, which copies outputs into its own buffers or uses
        them in arithmetic, where broadcasting them to full arrays would cost more
        than the whole evaluation.
        """
        r = self._template.copy()
        r[: len(values)] = values
        for slot, fn, a, b in self._ops:
            r[slot] = fn(r[a]) if b < 0 else fn(r[a], r[b])
        return [r[i] for i in self._outputs]


class Evaluator:
    """A program evaluated into buffers of its own, for inputs of one shape (a race's
    inner loop, its checks a block at a time): the same NumPy calls on the same values,
    so the same numbers as ``Program.run_raw``, without allocating a temporary per call
    (for a block of a race's rows the temporaries are ~100 kB each, and glibc hands
    such memory back to the system after every evaluation: a page fault per 4 kB at the
    next). The parts that depend on no input are computed once, here. Like ``run_raw``
    it leaves NumPy's error state to the caller.

    An evaluator is not shared between threads (a program is: the surfaces are cached);
    each call overwrites the buffers that the previous one returned.
    """

    def __init__(
        self, program: Program, shape: tuple[int, ...], into: Sequence[Array] = ()
    ) -> None:
        """``into``: arrays of ``shape`` for the first outputs to be computed straight into
        (a race's gradient buffer, saving a copy per coordinate and step) where an output
        is a call's own result; ``writes_into`` tells which are."""
        self.shape = shape
        n = len(program.variables)
        self._values: list[Any] = program._template.copy()
        self._outputs = program._outputs
        self._n = n
        varying = set(range(n))
        r = self._values
        # an output slot → the caller's array it is computed into (one array a slot)
        given: dict[int, Array] = {}
        for slot, target in zip(self._outputs, into, strict=False):
            given.setdefault(slot, target)
        # (slot, function, first argument slot, second or −1, own buffer or None)
        self._ops: list[tuple[int, Callable[..., Array], int, int, Array | None]] = []
        with np.errstate(all="ignore"):
            for slot, fn, a, b in program._ops:
                if a in varying or b in varying:
                    varying.add(slot)
                    out = None
                    if isinstance(fn, np.ufunc):
                        out = given[slot] if slot in given else np.empty(shape)
                    self._ops.append((slot, fn, a, b, out))
                    r[slot] = out
                else:  # a constant
                    r[slot] = fn(r[a]) if b < 0 else fn(r[a], r[b])
        self.writes_into = [
            k < len(into) and r[slot] is into[k] for k, slot in enumerate(self._outputs)
        ]

    def raw(self, *values: Array) -> list[Any]:
        """As ``Program.run_raw`` (a constant output stays a number), for inputs of
        ``shape`` or of fewer rows (then into the buffers' first rows)."""
        r = self._values
        if self.shape and np.shape(values[0])[0] != self.shape[0]:
            rows = np.shape(values[0])[0]
            r = [v[:rows] if isinstance(v, np.ndarray) else v for v in r]  # (views)
        r[: self._n] = values
        for slot, fn, a, b, out in self._ops:
            if out is None:  # (not a ufunc: it has no ``out``)
                r[slot] = fn(r[a]) if b < 0 else fn(r[a], r[b])
            elif b < 0:
                fn(r[a], out=r[slot])
            else:
                fn(r[a], r[b], out=r[slot])
        return [r[i] for i in self._outputs]

    def bind(self, *values: Array) -> Bound:
        """``raw`` on these very inputs, as a call with no arguments: for inputs that stay
        the same arrays from call to call (a race's columns, updated in place)."""
        return Bound(self, values)

    def full(self, *values: Array) -> list[Array]:
        """As ``Program.run``: every output an array of the inputs' shape."""
        out = self.raw(*values)
        shape = np.shape(values[0])
        for k, o in enumerate(out):
            if not (isinstance(o, np.ndarray) and o.shape == shape):
                out[k] = np.broadcast_to(np.asarray(o, dtype=np.float64), shape)
        return out


class Bound:
    """An evaluator on fixed inputs (``Evaluator.bind``): each call's arguments are found
    once, here, not at every evaluation (a third of a race's gradient program's time, at
    200 runs); ``raw`` itself where a step is not a ufunc (its result is a new array
    each time). A plain object, not a closure, so that copying a race (a class's
    explorer) copies it with the race's arrays."""

    def __init__(self, evaluator: Evaluator, values: Sequence[Array]) -> None:
        self.evaluator, self.values = evaluator, tuple(values)
        self.calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] | None = None
        ops = evaluator._ops
        if all(out is not None for *_, out in ops) and np.shape(values[0]) == evaluator.shape:
            r = list(evaluator._values)
            r[: evaluator._n] = self.values
            self.calls = [(fn, (r[a], o) if b < 0 else (r[a], r[b], o)) for _s, fn, a, b, o in ops]
            self.outputs = [r[i] for i in evaluator._outputs]

    def __call__(self) -> list[Any]:
        if self.calls is None:
            return self.evaluator.raw(*self.values)
        for fn, args in self.calls:
            fn(*args)
        return self.outputs


@dataclass(frozen=True)
class Compiled:
    """f, its gradient and Hessian as trees, with programs evaluating them."""

    text: str
    variables: tuple[str, ...]
    f: Node
    grad: tuple[Node, ...]
    hess: tuple[tuple[Node, ...], ...]
    value: Program  # -> [f]
    gradient: Program  # -> [∂f/∂v for v in variables]
    value_and_gradient: Program  # -> [f, ∂f/∂v …]
    hessian: Program  # -> [H_ij for i ≤ j] in row order
    derivatives: Program  # -> [∂f/∂v …, H_ij for i ≤ j] (a race with Newton runs)


def compile_expression(
    text: str, variables: Sequence[str] = ("x", "y"), constants: Mapping[str, float] | None = None
) -> Compiled:
    """Parse ``text`` and derive its gradient and Hessian symbolically."""
    f = parse(text, variables, constants)
    variables = tuple(variables)
    grad = tuple(derivative(f, v) for v in variables)
    hess = tuple(tuple(derivative(g, v) for v in variables) for g in grad)
    total = size(f) + sum(size(g) for g in grad) + sum(size(h) for row in hess for h in row)
    if total > MAX_DERIVED_NODES:
        raise ExpressionError("derivatives_too_large")
    upper = [hess[i][j] for i in range(len(variables)) for j in range(i, len(variables))]
    return Compiled(
        text=text,
        variables=variables,
        f=f,
        grad=grad,
        hess=hess,
        value=Program([f], variables),
        gradient=Program(list(grad), variables),
        value_and_gradient=Program([f, *grad], variables),
        hessian=Program(upper, variables),
        derivatives=Program([*grad, *upper], variables),
    )
