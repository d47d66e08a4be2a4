"""report/json.py: the compact report is written piecewise, byte-identical to json.dumps, its
groups by ``group_json``."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dupfind import Config, scan
from dupfind.models import Difference, UnitKind
from dupfind.report import json as json_report
from dupfind.report.view import GroupView, KeptViews, MemberView, build_view
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


_TEXT = st.text(st.characters(exclude_categories=()), max_size=12)  # surrogates too: file names
_MEMBERS = st.builds(
    MemberView,
    path=_TEXT,
    start_line=st.integers(0, 10**9),
    end_line=st.integers(0, 10**9),
    qualname=_TEXT,
    unit=_TEXT,
    domain=_TEXT,
    code=_TEXT,
)
_DIFFERENCES = st.builds(
    Difference, kind=_TEXT, line=st.integers(-5, 10**9), values=st.tuples(_TEXT, _TEXT)
)
_FLOATS = st.floats() | st.integers(-(10**20), 10**20) | st.booleans()  # as the encoder spells them
_GROUPS = st.builds(
    GroupView,
    id=_TEXT,
    kind=_TEXT,
    similarity_min=_FLOATS,
    similarity_mean=_FLOATS,
    lines=st.integers(0, 10**6),
    members=st.lists(_MEMBERS, max_size=3).map(tuple),
    verdict=_TEXT,
    rule=_TEXT,
    reasons=st.lists(_TEXT, max_size=2).map(tuple),
    confidence=_FLOATS,
    canonical=st.integers(0, 5),
    canonical_reason=_TEXT,
    signature=_TEXT,
    lines_saved=st.integers(0, 10**6),
    differences=st.lists(_DIFFERENCES, max_size=3).map(tuple),
)


@given(_GROUPS)
def test_a_group_is_written_as_the_encoder_writes_its_document(group: GroupView) -> None:
    expected = json.dumps(json_report.group_document(group), sort_keys=True, ensure_ascii=False)
    assert json_report.group_json(group) == expected


def test_a_long_lived_process_reuses_unchanged_groups_views_and_texts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``KeptViews`` (what a long-lived process keeps), views are reused by the group's
    and recommendation's identity, else by content, and texts by view (report/view.py,
    ``_written``): a second report of an equal result builds and writes nothing again, a
    changed group afresh, and both are what building and writing from nothing give. Without
    it (a one-off scan) nothing is reused."""
    result = scan([str(FIXTURES / "cases")], Config(jobs=1, history=False, cache=False))
    monkeypatch.setattr(json_report, "INDENTED_UP_TO", 0)
    kept = KeptViews()
    first = build_view(result, kept=kept)
    assert build_view(result).groups[0] is not build_view(result).groups[0]  # nothing kept
    again = scan([str(FIXTURES / "cases")], Config(jobs=1, history=False, cache=False))
    changed = replace(again, groups=(replace(again.groups[0], similarity_mean=0.5),
                                     *again.groups[1:]))  # fmt: skip
    second = build_view(changed, kept=kept)
    assert all(a is b for a, b in zip(first.groups[1:], second.groups[1:], strict=True))
    assert second.groups[0] is not first.groups[0] and second.groups[0].similarity_mean == 0.5
    third = build_view(changed, kept=kept)  # the very objects: recalled by their identity
    assert all(a is b for a, b in zip(second.groups, third.groups, strict=True))
    assert not kept.views.previous  # (no group hashed by content)
    written: list[str] = []
    real = json_report.group_json
    monkeypatch.setattr(json_report, "group_json", lambda g: written.append(g.id) or real(g))
    for view in (first, second):
        json_report.render_json(view, io.StringIO())
    assert written == [g.id for g in first.groups] + [second.groups[0].id]
    out = io.StringIO()
    json_report.render_json(second, out)
    expected = json.dumps(json_report.document(second), sort_keys=True, ensure_ascii=False)
    assert out.getvalue() == expected + "\n"
    assert build_view(changed, with_code=True, kept=kept).groups[1] is not second.groups[1]  # code
    group = changed.groups[1]
    other = UnitKind.CLASS if group.members[0].unit is not UnitKind.CLASS else UnitKind.FUNCTION
    sorts = replace(group, members=(replace(group.members[0], unit=other), *group.members[1:]))
    assert sorts == group  # a member's sort is not part of its equality: the key holds it
    resorted = build_view(
        replace(changed, groups=(changed.groups[0], sorts, *changed.groups[2:])), kept=kept
    )
    assert resorted.groups[1].members[0].unit == other.value
