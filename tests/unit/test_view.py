"""The report view's totals over groups that overlap (a family, its exact core, a copy
paired with one of its members)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dupfind import Config, scan
from dupfind.models import union_length
from dupfind.report.view import GroupView, MemberView, _total_saved, build_view
from tests.conftest import FIXTURES


def test_lines_saved_counts_each_copy_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "cases" / "family_member_copy")
    view = build_view(scan(["."], Config.from_mapping({"jobs": 1, "cache": False})))
    family = max(view.groups, key=lambda g: len(g.members))
    assert len(view.groups) == 3 and len(family.members) == 4
    # The exact core's copy and the paired copy's partner are members the family's
    # extraction already turns into calls: only the family's saving counts.
    assert sum(g.lines_saved for g in view.groups) > family.lines_saved
    assert view.scorecard.lines_saved == family.lines_saved


def test_a_method_copied_into_a_class_saves_nothing_beyond_the_class_extraction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(FIXTURES / "cases" / "method_copied_into_class")
    view = build_view(scan(["."], Config.from_mapping({"jobs": 1, "cache": False})))
    classes, method = sorted(view.groups, key=lambda g: -g.lines)
    assert method.lines_saved > 0  # on its own, the method is worth consolidating
    assert view.scorecard.lines_saved == classes.lines_saved  # but its copy goes with its class


def _member(path: str, start: int, end: int) -> MemberView:
    return MemberView(path, start, end, "q", "function", "d", "")


def _group(members: list[MemberView], canonical: int, saved: int) -> GroupView:
    return GroupView(
        "id", "exact", 1.0, 1.0, 0, tuple(members), "consolidate", "r", (), 1.0, canonical,
        "", "", saved, (),
    )  # fmt: skip


def test_a_group_whose_kept_copy_goes_with_an_earlier_group_keeps_another() -> None:
    classes = _group([_member("a.py", 1, 30), _member("b.py", 1, 30)], 1, 30)
    method = _group([_member("a.py", 5, 15), _member("b.py", 5, 15), _member("c.py", 1, 11)], 0, 22)
    assert _total_saved([classes, method]) == 30 + 11  # c.py's copy can still go


def test_a_copy_partly_removed_by_an_earlier_group_counts_its_other_lines() -> None:
    first = _group([_member("k.py", 1, 10), _member("x.py", 1, 10)], 0, 10)
    second = _group([_member("k2.py", 1, 10), _member("x.py", 6, 15)], 0, 10)
    assert _total_saved([first, second]) == 10 + 5  # x.py lines 11-15


def _scanned_total(groups: list[GroupView]) -> int:
    """``_total_saved`` as first written: every removed span of a path scanned per member."""
    removed: dict[str, list[tuple[int, int]]] = {}
    kept: dict[str, list[tuple[int, int]]] = {}
    total = 0
    for group in sorted(groups, key=lambda g: -g.priority):
        gone = [removed.setdefault(m.path, []) for m in group.members]
        alive = [
            i
            for i, m in enumerate(group.members)
            if not any(a <= m.start_line and m.end_line <= b for a, b in gone[i])
        ]
        if len(alive) < 2:
            continue
        chosen = group.canonical if group.canonical in alive else alive[0]
        others = [(i, m) for i, m in enumerate(group.members) if i != chosen]
        lines = sum(m.lines for _, m in others)
        fresh = 0
        for i, m in others:
            if i in alive:
                start, end = m.start_line, m.end_line
                taken = [
                    (max(a, start), min(b, end)) for a, b in gone[i] if a <= end and start <= b
                ]
                taken += [(a, b) for a, b in kept.get(m.path, []) if start <= a and b <= end]
                fresh += m.lines - union_length(taken)
        total += group.lines_saved * fresh // lines if lines else 0
        for _, m in others:
            removed.setdefault(m.path, []).append((m.start_line, m.end_line))
        keep = group.members[chosen]
        kept.setdefault(keep.path, []).append((keep.start_line, keep.end_line))
    return total


spans = st.tuples(st.sampled_from(["a.py", "b.py"]), st.integers(1, 30), st.integers(0, 12))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(spans, min_size=2, max_size=4), st.integers(0, 3), st.integers(0, 40)),
        max_size=10,
    )
)
def test_lines_saved_as_when_every_removed_span_was_scanned(
    rows: list[tuple[list[tuple[str, int, int]], int, int]],
) -> None:
    """The removed spans kept as those no other holds (binary searches) count what scanning
    every removed span counted: nested, overlapping, equal and touching spans alike."""
    groups = [
        _group([_member(path, start, start + length) for path, start, length in members],
               canonical % len(members), saved)
        for members, canonical, saved in rows
    ]  # fmt: skip
    assert _total_saved(groups) == _scanned_total(groups)
