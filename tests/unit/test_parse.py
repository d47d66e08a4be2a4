from __future__ import annotations

import codecs

from dupfind.models import SkippedFile
from dupfind.parse import ParsedSource, decode_source, parse_source


def test_utf8_is_returned_unchanged() -> None:
    data = "x = 'é'\n".encode()
    assert decode_source("a.py", data) == data


def test_bom_is_stripped() -> None:
    assert decode_source("a.py", codecs.BOM_UTF8 + b"x = 1\n") == b"x = 1\n"


def test_coding_cookie_is_honoured_and_reencoded() -> None:
    data = "# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1")
    assert decode_source("a.py", data) == "# -*- coding: latin-1 -*-\nname = 'café'\n".encode()


def test_cookie_on_second_line_after_shebang() -> None:
    data = "#!/usr/bin/env python\n# coding=latin-1\nx = 'ü'\n".encode("latin-1")
    assert isinstance(decode_source("a.py", data), bytes)


def test_cookie_after_code_is_ignored() -> None:
    data = b"x = 1\n# coding: latin-1\ny = '\xe9'\n"
    result = decode_source("a.py", data)
    assert isinstance(result, SkippedFile)
    assert "cannot decode as utf-8" in result.reason
    assert result.line == 3


def test_undecodable_bytes_are_reported_with_line() -> None:
    result = decode_source("bad.py", b"a = 1\nb = '\xff\xfe'\n")
    assert isinstance(result, SkippedFile)
    assert result.line == 2
    assert "coding cookie" in result.reason


def test_unknown_encoding_is_reported() -> None:
    result = decode_source("a.py", b"# coding: klingon\nx = 1\n")
    assert isinstance(result, SkippedFile)
    assert "unknown encoding" in result.reason


def test_nul_byte_means_binary() -> None:
    result = decode_source("a.py", b"x = 1\n\x00\x01")
    assert isinstance(result, SkippedFile)
    assert "NUL" in result.reason
    assert result.line == 2


def test_syntax_error_is_partial_with_line() -> None:
    result = parse_source("a.py", b"def ok():\n    return 1\n\ndef broken(:\n    pass\n")
    assert isinstance(result, ParsedSource)
    assert result.problem is not None
    assert result.problem.partial
    assert result.problem.line == 4


def test_python2_and_modern_syntax_parse_cleanly() -> None:
    py2 = b"print 'hello'\ntry:\n    pass\nexcept ValueError, e:\n    print e\n"
    modern = (
        b"type Alias = list[int]\ndef f[T](x: T) -> T:\n    match x:\n        case _: return x\n"
    )
    for source in (py2, modern):
        result = parse_source("a.py", source)
        assert isinstance(result, ParsedSource)
        assert result.problem is None


ODD = "    def odd(self):\n        def f():\n            (bar.\n        baz)\n        return f\n"
KEPT = "\n\n".join(
    f"def kept_{i}(values):\n    total = 0\n    for value in values:\n        total += value\n"
    "    return total"
    for i in range(8)
)


def _units(source: str) -> tuple[list[str], SkippedFile | None]:
    from dupfind.config import Config
    from dupfind.extract import extract

    parsed = parse_source("m.py", source.encode())
    assert isinstance(parsed, ParsedSource)
    return [u.qualname for u in extract(parsed.tree, Config(), parsed.blanked).units], (
        parsed.problem
    )


def test_a_definition_whose_error_swallows_the_file_is_blanked_and_the_rest_kept() -> None:
    from tests.conftest import FIXTURES

    path = FIXTURES / "cases" / "syntax_recovery" / "metrics" / "positions.py"
    units, problem = _units(path.read_text(encoding="utf-8"))
    # The class is not the class written (its blanked method is gone): not a unit.
    assert units == ["PositionChecks.spans", "summarise_latencies"]
    assert problem is not None and problem.partial and problem.line == 8
    assert problem.reason == "syntax error; the definition containing it was not analysed"


def test_a_local_error_costs_only_the_code_around_it() -> None:
    source = "def broken(:\n    pass\n\n\n" + KEPT + "\n"
    units, problem = _units(source)
    assert units == [f"kept_{i}" for i in range(8)]
    assert problem is not None and problem.reason.startswith("syntax error; the code containing")


def test_an_error_in_module_code_is_not_blamed_on_the_function_above() -> None:
    from dupfind.parse import _enclosing_definition

    lines = (
        b"def helper(x):\n    return x\n\nif __name__ == '__main__':\n        print(1 +\n".split(
            b"\n"
        )
    )
    assert _enclosing_definition(lines, 5) is None


def test_decorators_over_several_lines_and_comments_are_blanked_with_their_definition() -> None:
    from dupfind.parse import _enclosing_definition

    lines = (
        b"class A:\n    @dec(1,\n         2)\n    # note\n    def f(self):\n        (x.\n".split(
            b"\n"
        )
    )
    assert _enclosing_definition(lines, 6) == (2, 6)
