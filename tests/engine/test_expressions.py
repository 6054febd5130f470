"""The whitelist parser: what it accepts, what it refuses, and exact derivatives."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepscope import i18n
from deepscope.engine.expressions import (
    MAX_LENGTH,
    Evaluator,
    ExpressionError,
    compile_expression,
    parse,
    to_text,
)
from tests.conftest import derivative_1d

CASES = {
    "x**2 - 10*x + 1": lambda x, y: x**2 - 10 * x + 1,
    "x^4 - 50*x^3 - x + 1": lambda x, y: x**4 - 50 * x**3 - x + 1,
    "-x**2": lambda x, y: -(x**2),
    "2^-1*x": lambda x, y: 0.5 * x,
    "(1 - x)**2 + 100*(y - x**2)**2": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    "sin(x)*exp(-y**2) + cos(y)/2": lambda x, y: np.sin(x) * np.exp(-(y**2)) + np.cos(y) / 2,
    "sqrt(x**2 + y**2 + 1) + log(1 + x**2)": lambda x, y: (
        np.sqrt(x**2 + y**2 + 1) + np.log(1 + x**2)
    ),
    "tanh(x*y) - atan(y) + sinh(x)/cosh(y)": lambda x, y: (
        np.tanh(x * y) - np.arctan(y) + np.sinh(x) / np.cosh(y)
    ),
    "abs(x) + tan(y/3)": lambda x, y: np.abs(x) + np.tan(y / 3),
    "pi*x + e*y + 1.5e-1": lambda x, y: np.pi * x + np.e * y + 0.15,
    "(x+2)**(y+3)": lambda x, y: (x + 2) ** (y + 3),
    "x/y - y/(x+5)": lambda x, y: x / y - y / (x + 5),
}
PTS = np.array([[0.3, 0.7], [1.1, -0.4], [-0.6, 1.3], [0.9, 0.25]])


@pytest.mark.parametrize("text", list(CASES))
def test_value_gradient_and_hessian(text: str) -> None:
    c = compile_expression(text)
    x, y = PTS[:, 0], PTS[:, 1]
    np.testing.assert_allclose(c.value(x, y)[0], CASES[text](x, y), rtol=1e-13)
    gx, gy = c.gradient(x, y)
    np.testing.assert_allclose(
        gx, derivative_1d(lambda t: c.value(t, y)[0], x), rtol=1e-7, atol=1e-9
    )
    np.testing.assert_allclose(
        gy, derivative_1d(lambda t: c.value(x, t)[0], y), rtol=1e-7, atol=1e-9
    )
    hxx, hxy, hyy = c.hessian(x, y)
    np.testing.assert_allclose(
        hxx, derivative_1d(lambda t: c.gradient(t, y)[0], x), rtol=1e-7, atol=1e-9
    )
    np.testing.assert_allclose(
        hxy, derivative_1d(lambda t: c.gradient(x, t)[0], y), rtol=1e-7, atol=1e-9
    )
    np.testing.assert_allclose(
        hyy, derivative_1d(lambda t: c.gradient(x, t)[1], y), rtol=1e-7, atol=1e-9
    )


def test_precedence() -> None:
    c = compile_expression("-2**2 + 2^3^2 - 8/4/2")  # −(2²) + 2^(3²) − (8/4)/2
    assert c.value(np.array(0.0), np.array(0.0))[0] == -4 + 512 - 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('ls')", "unexpected character"),
        ("x.real", "unexpected character '.'"),
        ("lambda x: x", "unexpected character ':'"),
        ("(lambda: 1)()", "unexpected character ':'"),
        ("eval('1')", "unexpected character"),
        ("exec(x)", "unknown function 'exec'"),
        ("open(x)", "unknown function 'open'"),
        ("x[0]", "unexpected character '['"),
        ("x if y else 1", "operator is missing"),
        ("2x", "operator is missing"),
        ("x +", "found the end"),
        ("sin x", "expected '('"),
        ("exp(x", "expected ')'"),
        ("z + 1", "unknown name 'z'"),
        ("", "empty"),
        ("   ", "empty"),
        ("1e400", "at most"),
        ("10**1e9", "at most"),
        ("x; y", "unexpected character ';'"),
        ("x = 1", "unexpected character '='"),
        ("x**2 # comment", "unexpected character '#'"),
        ("'x'", "unexpected character"),
        ("x" * (MAX_LENGTH + 1), "too long"),
        ("-" * 60 + "x", "nested"),
        ("(" * 50 + "x" + ")" * 50, "nested"),
        ("+".join(["x"] * 90), "too long"),
    ],
)
def test_hostile_and_broken_input_is_refused(text: str, message: str) -> None:
    """Refused with a sentence of the page's catalogs: in English as the API says it,
    and in Chinese with every slot filled (``i18n.text`` raises on a missing one)."""
    with pytest.raises(ExpressionError) as err:
        compile_expression(text)
    said = err.value.said
    assert message in i18n.english(said)
    assert said.key.startswith("expr.") and i18n.text(said.key, "zh", **said.vars)


def test_errors_say_where() -> None:
    with pytest.raises(ExpressionError) as err:
        parse("x + $")
    assert err.value.character == 5 and "at character 5" in str(err.value)


def test_one_variable_surfaces_refuse_y() -> None:
    with pytest.raises(ExpressionError) as err:
        parse("x + y", variables=("x",))
    assert "unknown name 'y'" in i18n.english(err.value.said)


def test_every_sentence_of_the_parser_is_in_the_catalogs() -> None:
    """Each key the parser raises with is in both catalogs (the tests above raise most;
    this reads the source for the rest), and the catalogs hold no expr.* key it dropped."""
    import inspect

    from deepscope.engine import expressions, surfaces

    source = inspect.getsource(expressions) + inspect.getsource(surfaces)
    raised = {f"expr.{k}" for k in re.findall(r'ExpressionError\(\s*"([a-z_]+)"', source)}
    for lang in ("en", "zh"):
        keys = {k for k in i18n.catalog(lang) if k.startswith("expr.")}
        assert keys == raised | {"expr.at", "expr.help"}, lang  # (help: the page's hint)


def test_constants_bind_names() -> None:
    c = compile_expression("a*x**2", constants={"a": 3.0})
    assert c.value(np.array(2.0), np.array(0.0))[0] == 12.0


def test_constant_folding_and_simplification() -> None:
    assert to_text(parse("2*3*x + 0*y + 1*x")) == "6*x + x"
    assert to_text(parse("x - -3*y")) == "x + 3*y"
    c = compile_expression("(1 - x)**2 + 100*(y - x**2)**2")
    assert c.gradient.n_steps <= 12  # shared sub-expressions are computed once


def test_non_finite_results_are_left_to_the_caller_without_warnings() -> None:
    c = compile_expression("log(x) + 1/y")
    with np.errstate(all="raise"):
        f = c.value(np.array([-1.0, 1.0]), np.array([1.0, 0.0]))[0]
    assert math.isnan(f[0]) and math.isinf(f[1])


def test_constant_outputs_broadcast() -> None:
    c = compile_expression("x + 2*y")
    gx, gy = c.gradient(np.zeros((3, 4)), np.zeros((3, 4)))
    assert gx.shape == gy.shape == (3, 4)
    assert np.all(gx == 1) and np.all(gy == 2)


@pytest.mark.parametrize("text", [*CASES, "sign(x)*y + abs(y)", "x + 2*y", "3 + 0*x"])
def test_an_evaluator_gives_the_programs_numbers(text: str) -> None:
    """Into its own buffers, for the full shape and for fewer rows, call after call:
    every output the program's to the last bit (a constant output stays a number)."""
    c = compile_expression(text)
    rng = np.random.default_rng(7)
    for program in (c.value_and_gradient, c.derivatives):
        evaluator = Evaluator(program, (6, 5))
        for rows in (6, 2, 6, 1):
            x, y = rng.uniform(-2.0, 2.0, (2, rows, 5))
            with np.errstate(all="ignore"):
                want, raw = program.run(x, y), program.run_raw(x, y)
                got_raw = [np.copy(o) for o in evaluator.raw(x, y)]
                got = evaluator.full(x, y)
            for a, b in zip(raw, got_raw, strict=True):
                assert np.shape(a) == np.shape(b)
                np.testing.assert_array_equal(a, b)
            for a, b in zip(want, got, strict=True):
                assert b.shape == (rows, 5)
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("text", [*CASES, "sign(x)*y + abs(y)", "x + 2*y", "3 + 0*x"])
def test_a_bound_evaluator_and_its_copy_give_the_programs_numbers(text: str) -> None:
    """Bound to inputs updated in place, call after call; the outputs asked into the
    caller's arrays land there (where an output is a call's result); a deep copy made as
    a class's fork makes it (``copy_keeping_views``) computes on the copy's inputs."""
    from deepscope.sessions.workers import copy_keeping_views

    c = compile_expression(text)
    rng = np.random.default_rng(8)
    for program in (c.gradient, c.derivatives):
        points = np.empty((5, 2))
        into = np.empty((5, 2))
        evaluator = Evaluator(program, (5,), [into[:, 0], into[:, 1]])
        state = {"points": points, "into": into, "f": evaluator.bind(points[:, 0], points[:, 1])}
        twin = copy_keeping_views(state)
        for _ in range(3):
            for s in (state, twin):
                s["points"][...] = rng.uniform(-2.0, 2.0, (5, 2))
                with np.errstate(all="ignore"):
                    want = program.run_raw(s["points"][:, 0], s["points"][:, 1])
                    got = s["f"]()
                for k, (a, b) in enumerate(zip(want, got, strict=True)):
                    np.testing.assert_array_equal(a, b)
                    if k < 2 and evaluator.writes_into[k]:
                        np.testing.assert_array_equal(s["into"][:, k], a)


# Random expression trees: the symbolic gradient always matches centred differences.
_leaves = st.sampled_from(["x", "y", "1.5", "2", "0.5"])


def _grow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    func = st.tuples(st.sampled_from(["sin", "cos", "tanh", "exp", "atan"]), children).map(
        lambda t: f"{t[0]}({t[1]})"
    )
    square = children.map(lambda c: f"({c})**2")
    return binary | func | square


@settings(max_examples=80, deadline=None)
@given(st.recursive(_leaves, _grow, max_leaves=8))
def test_random_expressions_differentiate_correctly(text: str) -> None:
    c = compile_expression(text)
    x, y = np.array([0.31, -0.52]), np.array([0.23, 0.41])
    with np.errstate(all="ignore"):
        f = c.value(x, y)[0]
        if not np.all(np.isfinite(f)) or np.max(np.abs(f)) > 1e6:
            return
        gx, gy = c.gradient(x, y)
        nx = derivative_1d(lambda t: c.value(t, y)[0], x, h=1e-4)
        ny = derivative_1d(lambda t: c.value(x, t)[0], y, h=1e-4)
    scale = 1 + np.abs(nx) + np.abs(ny)
    assert np.all(np.abs(gx - nx) <= 1e-6 * scale)
    assert np.all(np.abs(gy - ny) <= 1e-6 * scale)
    # the text rendering parses back to the same function
    again = compile_expression(to_text(c.f))
    np.testing.assert_allclose(again.value(x, y)[0], f, rtol=1e-12)
