from __future__ import annotations

import textwrap

from dupfind.config import Config
from dupfind.extract import extract
from dupfind.parse import ParsedSource, parse_source
from dupfind.score import Tokens, similarity
from tests.conftest import LOADER, LOADER_RENAMED


def tokens(source: str) -> Tokens:
    parsed = parse_source("m.py", textwrap.dedent(source).encode())
    assert isinstance(parsed, ParsedSource)
    sink = extract(parsed.tree, Config()).sink
    return Tokens.whole(sink.exact, sink.shape)


def test_identical_is_one() -> None:
    assert similarity(tokens(LOADER), tokens(LOADER)) == 1.0


def test_consistent_renaming_is_one() -> None:
    assert similarity(tokens(LOADER), tokens(LOADER_RENAMED)) == 1.0


def test_inconsistent_renaming_is_penalised() -> None:
    first = tokens("def f(a, b):\n    x = a + b\n    y = a - b\n    return x * y\n")
    shuffled = tokens("def f(a, b):\n    x = b + a\n    y = x - a\n    return b * y\n")
    assert similarity(first, shuffled) < 0.9


def test_edits_lower_the_score_symmetrically() -> None:
    edited = LOADER.replace("continue", "settings.clear()\n                break")
    a, b = tokens(LOADER), tokens(edited)
    score = similarity(a, b)
    assert 0.8 < score < 1.0
    assert score == similarity(b, a)


def test_cutoff_short_circuits_to_zero() -> None:
    short = tokens("def f():\n    return 1\n")
    assert similarity(tokens(LOADER), short, cutoff=0.5) == 0.0


def test_unrelated_code_scores_low() -> None:
    other = tokens(
        """
        def retry(call, attempts, delay):
            for attempt in range(attempts):
                try:
                    return call()
                except OSError as error:
                    last = error
                    time.sleep(delay * 2 ** attempt)
            raise RuntimeError("gave up") from last
        """
    )
    assert similarity(tokens(LOADER), other) < 0.5
