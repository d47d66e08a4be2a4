"""The two layout choices a formatter makes inside the tokens: quotes and trailing commas."""

from __future__ import annotations

from array import array

import pytest

from dupfind.config import Config
from dupfind.extract import extract
from dupfind.normalise import string_key
from dupfind.parse import ParsedSource, parse_source


def _arrays(source: str) -> tuple[array[int], array[int]]:
    parsed = parse_source("m.py", source.encode())
    assert isinstance(parsed, ParsedSource)
    sink = extract(parsed.tree, Config()).sink
    return sink.exact, sink.shape


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("f(a, b)\n", "f(\n    a,\n    b,\n)\n"),
        ("def f(a, b):\n    pass\n", "def f(\n    a,\n    b,\n):\n    pass\n"),
        ("x = [1, 2]\n", "x = [1, 2,  # two\n]\n"),
        ("x = {1: 2}\n", "x = {1: 2,}\n"),
        ("x = {1, 2}\n", "x = {1, 2,}\n"),
        ("x = (1, 2)\n", "x = (1, 2,)\n"),
        ("from m import (a, b)\n", "from m import (a, b,)\n"),
    ],
)
def test_a_trailing_comma_before_a_bracket_is_layout(first: str, second: str) -> None:
    assert _arrays(first) == _arrays(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("x = (1,)\n", "x = (1)\n"),  # a one-element tuple against a parenthesised number
        ("a[x,]\n", "a[x]\n"),  # indexing with a tuple
        ("x = 1,\n", "x = 1\n"),  # no bracket: a tuple
        ("x = (a,  # note\n)\n", "x = (a  # note\n)\n"),  # a comment is no element
    ],
)
def test_a_comma_that_makes_a_tuple_is_kept(first: str, second: str) -> None:
    assert _arrays(first) != _arrays(second)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (b"'x'", b'"x"'),
        (b'"x"', b'"x"'),
        (b"'''a\nb'''", b'"""a\nb"""'),
        (b"R'\\d'", b'r"\\d"'),
        (b"f'{d[\"k\"]}'", b"f'{d[\"k\"]}'"),  # a " inside: kept as written
        (b"''", b'""'),
    ],
)
def test_string_keys_make_quotes_double(text: bytes, key: bytes) -> None:
    assert string_key(text) == key


def test_different_literals_keep_different_keys() -> None:
    assert string_key(b"'x'") != string_key(b"'y'")
    assert string_key(b'\'""x""\'') != string_key(b'"""x"""')  # the value ""x"" and x
    assert string_key(b'\'""""\'') != string_key(b'""""""')
    assert string_key(b"b'x'") != string_key(b"'x'")
    assert string_key(b"'''x'''") != string_key(b"'x'")
