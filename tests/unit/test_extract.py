from __future__ import annotations

import textwrap

from dupfind.candidates import is_record
from dupfind.config import Config
from dupfind.extract import Extraction, extract
from dupfind.models import FileAnalysis, UnitKind
from dupfind.normalise import DEDENT, INDENT
from dupfind.parse import ParsedSource, parse_source
from dupfind.pipeline import analyse_source


def _extract(source: str, config: Config | None = None) -> Extraction:
    parsed = parse_source("m.py", textwrap.dedent(source).encode())
    assert isinstance(parsed, ParsedSource)
    return extract(parsed.tree, config or Config())


def _units(source: str, config: Config | None = None) -> dict[str, tuple[UnitKind, int, int]]:
    return {u.qualname: (u.kind, u.start_line, u.end_line) for u in _extract(source, config).units}


def test_functions_methods_nested_async_and_classes() -> None:
    units = _units(
        """
        @decorator
        async def fetch(url):
            async def inner():
                return url
            return await inner()

        class Client:
            def get(self):
                return 1
        """
    )
    assert units == {
        "fetch.<locals>.inner": (UnitKind.FUNCTION, 4, 5),
        "fetch": (UnitKind.FUNCTION, 2, 6),
        "Client.get": (UnitKind.FUNCTION, 9, 10),
        "Client": (UnitKind.CLASS, 8, 10),
    }


def test_unit_tokens_cover_decorators_and_body() -> None:
    out = _extract("@dec\ndef f(a):\n    return a\n")
    (unit,) = out.units
    shape = out.sink.shape[unit.tok_start : unit.tok_end]
    assert INDENT in shape and DEDENT in shape
    assert unit.tok_start == 0 and unit.tok_end == len(out.sink.shape)


def test_comments_and_docstrings_are_not_tokens() -> None:
    plain = _extract("def f(a):\n    return a + 1\n")
    noisy = _extract(
        'def f(a):  # comment\n    """Docstring."""\n    # another\n    return a + 1  # tail\n'
    )
    assert plain.sink.exact == noisy.sink.exact


def test_stub_bodies_and_overloads_are_not_units() -> None:
    units = _units(
        """
        from typing import overload, Protocol

        @overload
        def parse(x: int) -> int: ...
        @overload
        def parse(x: str) -> str: ...
        def parse(x):
            return x

        def todo():
            raise NotImplementedError("later")

        def nothing():
            '''Only a docstring.'''

        class Reader(Protocol):
            def read(self) -> bytes: ...
            def close(self) -> None:
                pass
        """
    )
    assert list(units) == ["parse"]


def test_stub_detection_can_be_disabled() -> None:
    config = Config(ignore_stubs=False, ignore_overloads=False)
    units = _units(
        "def todo():\n    pass\n\n@overload\ndef f(x: int) -> int:\n    return x\n", config
    )
    assert set(units) == {"todo", "f"}


def test_statement_lists_flag_boilerplate_and_definitions() -> None:
    out = _extract(
        """
        import os
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import sys
        try:
            import json
        except ImportError:
            json = None
        __all__ = ["main"]
        value = os.getcwd()
        def main():
            return value
        """
    )
    module = next(sl for sl in out.lists if sl.qualname == "<module>" and len(sl) == 7)
    assert list(module.boilerplate) == [1, 1, 1, 1, 1, 0, 1]


def test_imports_count_when_not_ignored() -> None:
    out = _extract("import os\nimport sys\n", Config(ignore_imports=False))
    assert list(out.lists[0].boilerplate) == [0, 0]


def test_block_statement_lists_use_the_enclosing_qualname() -> None:
    out = _extract(
        """
        class A:
            def run(self, items):
                for item in items:
                    print(item)
        """
    )
    assert {sl.qualname for sl in out.lists} == {"<module>", "A", "A.run"}


def test_units_with_syntax_errors_are_dropped() -> None:
    units = _units("def good():\n    return 1\n\ndef bad(:\n    return 2\n")
    assert "good" in units
    assert "bad" not in units


def test_commented_code_becomes_commented_units_but_prose_does_not() -> None:
    from dupfind.extract import extract_commented
    from dupfind.parse import parse_tree

    source = textwrap.dedent(
        """
        # This module talks to the payment provider. It retries on timeouts
        # and gives up after three attempts, as agreed with the provider.
        # See the runbook for the escalation path.
        VALUE = 1
        # Old implementation, kept for reference:
        # def total(items):
        #     result = 0
        #     for item in items:
        #         result += item.price
        #     return result
        """
    ).encode()
    parsed = parse_source("m.py", source)
    assert isinstance(parsed, ParsedSource)
    out = extract(parsed.tree, Config())
    extract_commented(parsed.source, out, Config(), parse_tree)
    commented = [u for u in out.units if u.kind is UnitKind.COMMENTED]
    assert [(u.qualname, u.start_line, u.end_line) for u in commented] == [
        ("<commented>.total", 7, 11)
    ]


def test_a_class_counts_the_tokens_of_its_methods() -> None:
    source = (
        b"class Point:\n"
        b"    x: int = 0\n"
        b"    y: int = 0\n"
        b"    z: int = 0\n"
        b"    label: str = ''\n"
        b"    def norm(self):\n"
        b"        return abs(self.x) + abs(self.y)\n"
        b"class Tool:\n"
        b"    name = 'tool'\n"
        b"    def run(self, items):\n"
        b"        for item in items:\n"
        b"            print(self.name, item, len(items), sorted(items))\n"
    )
    analysis = analyse_source("m.py", source, Config(min_lines=1, min_tokens=1))
    assert isinstance(analysis, FileAnalysis)
    units = {unit.qualname: unit for unit in analysis.units}
    method, point = units["Point.norm"], units["Point"]
    assert point.nested == method.tokens and method.nested == 0
    assert is_record(point)  # four fields outweigh one short method
    assert not is_record(units["Tool"]) and not is_record(method)
