"""report/json.py: the compact report is written piecewise, byte-identical to json.dumps."""

from __future__ import annotations

import io
import json

import pytest

from dupfind import Config, scan
from dupfind.report import json as json_report
from dupfind.report.view import build_view
from tests.conftest import FIXTURES

CASES = [
    {},
    {"b": 1, "a": [], "c": {"z": [1, 2.5, None, True], "é": "ünïcode ✓"}},
    {"groups": [{"id": "x", "members": [{"path": "a/b.py", "line": 3}]}, {"id": "y"}], "n": 0},
    {"notes": ['quote " and \\ backslash', "tab\tnew\nline"], "z": [[1], [2, [3]]]},
]


@pytest.mark.parametrize("data", CASES)
def test_the_compact_writer_matches_json_dumps(data: dict[str, object]) -> None:
    out = io.StringIO()
    json_report.write_compact(data, out)
    assert out.getvalue() == json.dumps(data, sort_keys=True, ensure_ascii=False)


def test_a_large_report_is_compact_and_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    result = scan([str(FIXTURES / "cases")], Config(jobs=1, history=False, cache=False))
    view = build_view(result)
    assert len(view.groups) > 1
    monkeypatch.setattr(json_report, "INDENTED_UP_TO", 0)  # as if past 500 groups
    out = io.StringIO()
    json_report.render_json(view, out)
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")  # one line
    expected = json.dumps(json_report.document(view), sort_keys=True, ensure_ascii=False)
    assert text == expected + "\n"
