"""The report view's totals over groups that overlap (a family, its exact core, a copy
paired with one of its members)."""

from __future__ import annotations

import pytest

from dupfind import Config, scan
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
