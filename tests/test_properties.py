"""Hypothesis properties of the normaliser, the scorer and the grouping."""

from __future__ import annotations

import io
import keyword
import textwrap
import tokenize
from array import array
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dupfind import Config, scan
from dupfind.config import Config as _Config
from dupfind.extract import extract
from dupfind.normalise import identifier_code
from dupfind.parse import ParsedSource, parse_source
from dupfind.score import Tokens, similarity
from tests.conftest import LOADER

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)

SAMPLES = [
    LOADER,
    textwrap.dedent(
        """
        class Cache:
            def __init__(self, size):
                self.size = size
                self.items = {}

            def get(self, key, default=None):
                if key in self.items:
                    value = self.items.pop(key)
                    self.items[key] = value
                    return value
                return default
        """
    ),
    "x = [i * 2 for i in range(10) if i % 3]\nprint(x, sep='')\n",
]


def _arrays(source: str) -> tuple[array[int], array[int]]:
    parsed = parse_source("m.py", source.encode())
    assert isinstance(parsed, ParsedSource)
    sink = extract(parsed.tree, _Config()).sink
    return sink.exact, sink.shape


def _names(source: str) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return sorted(
        {t.string for t in tokens if t.type == tokenize.NAME and not keyword.iskeyword(t.string)}
    )


def _rename(source: str, mapping: dict[str, str]) -> str:
    out = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        text = mapping.get(token.string, token.string) if token.type == tokenize.NAME else None
        out.append((token.type, text if text is not None else token.string))
    return tokenize.untokenize(out)


identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s) and not keyword.issoftkeyword(s)
)


@SETTINGS
@given(sample=st.sampled_from(SAMPLES), data=st.data())
def test_consistent_renaming_keeps_the_shape(sample: str, data: st.DataObject) -> None:
    names = _names(sample)
    new = data.draw(st.lists(identifiers, min_size=len(names), max_size=len(names), unique=True))
    renamed = _rename(sample, dict(zip(names, new, strict=True)))
    exact_a, shape_a = _arrays(sample)
    exact_b, shape_b = _arrays(renamed)
    assert shape_a == shape_b
    assert similarity(Tokens.whole(exact_a, shape_a),
                      Tokens.whole(exact_b, shape_b)) == 1.0  # fmt: skip


layout = st.lists(st.sampled_from(["", "  # note", "\t# x = 1", "    "]), min_size=1, max_size=40)


@SETTINGS
@given(sample=st.sampled_from(SAMPLES), suffixes=layout, blank=st.booleans())
def test_comments_and_layout_keep_the_exact_form(
    sample: str, suffixes: list[str], blank: bool
) -> None:
    lines = sample.splitlines()
    changed = []
    for index, line in enumerate(lines):
        suffix = suffixes[index % len(suffixes)] if line.strip() else ""
        changed.append(line + suffix)
        if blank and index % 3 == 0:
            changed.append("")
    variant = "\n".join(changed).replace("(", "( ").replace(",", " ,") + "\n"
    assert _arrays(sample) == _arrays(variant)


def _swap_quotes(source: str, chosen: list[bool]) -> str:
    """``source`` with the chosen single-line string literals re-quoted (' for ", " for ')."""
    out, seen = [], 0
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        text = token.string
        if token.type == tokenize.STRING and "\n" not in text and "\\" not in text:
            start = len(text) - len(text.lstrip("rbufRBUF"))
            quote, body = text[start], text[start + 1 : -1]
            other = "'" if quote == '"' else '"'
            if other not in body and chosen[seen % len(chosen)]:
                text = text[:start] + other + body + other
            seen += 1
        out.append((token.type, text))
    return tokenize.untokenize(out)


@SETTINGS
@given(sample=st.sampled_from(SAMPLES), chosen=st.lists(st.booleans(), min_size=1, max_size=8))
def test_quote_style_keeps_the_exact_form(sample: str, chosen: list[bool]) -> None:
    assert _arrays(sample) == _arrays(_swap_quotes(sample, chosen))


codes = st.lists(st.integers(min_value=2, max_value=12), max_size=60)


def _tokens(shape: list[int], names: list[int]) -> Tokens:
    ident = identifier_code()
    shape_codes = array("I", [ident if code % 3 == 0 else code for code in shape])
    exact = array(
        "I", [names[i % len(names)] if c == ident else c for i, c in enumerate(shape_codes)]
    )
    return Tokens.whole(exact, shape_codes)


@SETTINGS
@given(a=codes, b=codes, names_a=st.lists(st.integers(1000, 1010), min_size=1, max_size=5),
       names_b=st.lists(st.integers(1000, 1010), min_size=1, max_size=5))  # fmt: skip
def test_similarity_is_symmetric_bounded_and_reflexive(
    a: list[int], b: list[int], names_a: list[int], names_b: list[int]
) -> None:
    first, second = _tokens(a, names_a), _tokens(b, names_b)
    score = similarity(first, second)
    assert 0.0 <= score <= 1.0
    assert score == similarity(second, first)
    assert similarity(first, first) == 1.0


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(order=st.permutations(range(4)))
def test_groups_do_not_depend_on_file_order(order: list[int], tmp_path: Path) -> None:
    sources = [LOADER, LOADER.replace("settings", "conf"), SAMPLES[1], SAMPLES[1] + "\nX = 1\n"]
    paths = []
    for index, source in enumerate(sources):
        path = tmp_path / f"m{index}.py"
        path.write_text(source, encoding="utf-8")
        paths.append(str(path))
    reference = scan(paths, Config(jobs=1))
    shuffled = scan([paths[i] for i in order], Config(jobs=1))
    assert shuffled.groups == reference.groups
    assert len(reference.groups) == 2
