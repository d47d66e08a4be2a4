"""The report view's totals over groups that overlap (a family, its exact core, a copy
paired with one of its members)."""

from __future__ import annotations

import pytest

from dupfind import Config, scan
from dupfind.report.view import build_view
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
