"""Leftovers of repeated attempts: which file names are versions, which siblings are
near-identical, and which comments duplicate live code."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dupfind import Config, scan
from dupfind.artifacts import _covered
from dupfind.models import CloneGroup, CloneKind, LeftoverKind, Member, ScanResult, UnitKind
from tests.conftest import LOADER, LOADER_RENAMED, SUMMED, TOTAL, TreeWriter

UNRELATED = "def area(width, height):\n    return width * height\n"


def _scan(root: Path, monkeypatch: pytest.MonkeyPatch) -> ScanResult:
    monkeypatch.chdir(root)
    return scan(["."], Config(jobs=1, history=False))


def _versioned(result: ScanResult) -> list[tuple[str, str]]:
    return [
        (item.locations[0].path, item.locations[1].path)
        for item in result.leftovers
        if item.kind is LeftoverKind.VERSIONED_FILE
    ]


@pytest.mark.parametrize(
    "name",
    [
        "settings_v2.py",
        "settings_V3.py",
        "settings-v10.py",
        "settings_new.py",
        "settings_old.py",
        "settings_backup.py",
        "settings_bak.py",
        "settings_tmp.py",
        "settings_temp.py",
        "settings_copy.py",
        "settings_copy2.py",
        "settings_final.py",
        "settings_orig.py",
        "settings_20240105.py",
        "settings_20240105_1230.py",
        "settings-2024-01-05.py",
        "settings_1704412800.py",
        "settings (2).py",
        "settings_v2_final.py",
        "settings_new_v3.py",
        "old_settings.py",
        "copy_of_settings.py",
        "backup_settings_2024-01-05.py",
    ],
)
def test_a_versioned_name_next_to_its_original_is_a_leftover(
    name: str, make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree({"conf/settings.py": LOADER, f"conf/{name}": LOADER_RENAMED})
    result = _scan(root, monkeypatch)
    assert _versioned(result) == [(f"conf/{name}", "conf/settings.py")]
    (item,) = [i for i in result.leftovers if i.kind is LeftoverKind.VERSIONED_FILE]
    assert item.similarity == 1.0  # a renamed copy: identical once names are paired
    assert f"({item.similarity:.0%} similar)" in item.reason


@pytest.mark.parametrize(
    "files",
    [
        {"conf/settings_v2.py": LOADER},  # no original
        {"conf/settings.py": LOADER, "other/settings_v2.py": LOADER_RENAMED},  # elsewhere
        {"conf/settings.py": LOADER, "conf/settings_validation.py": LOADER_RENAMED},
        {"conf/settings.py": LOADER, "conf/settings_news.py": LOADER_RENAMED},
        {"conf/settings.py": LOADER, "conf/settings_2024.py": LOADER_RENAMED},
        {"conf/settings.py": LOADER, "conf/news_settings.py": LOADER_RENAMED},
        {"conf/settings.py": LOADER, "conf/oldsettings.py": LOADER_RENAMED},
        {"conf/settings.py": LOADER, "conf/new_settings.py": LOADER_RENAMED},  # new_york.py
        {"conf/settings.py": LOADER, "conf/old_settings.py": UNRELATED},  # not alike
    ],
)
def test_other_names_are_not_versions(
    files: dict[str, str], make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _versioned(_scan(make_tree(files), monkeypatch)) == []


def test_siblings_in_different_directories_are_not_near_identical_siblings(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree({"a/loader.py": LOADER, "b/reader.py": LOADER_RENAMED})
    result = _scan(root, monkeypatch)
    assert len(result.groups) == 1
    assert [i.kind for i in result.leftovers] == []


def test_sibling_files_made_of_one_copy_are_near_identical(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree({"conf/loader.py": LOADER, "conf/reader.py": LOADER_RENAMED})
    result = _scan(root, monkeypatch)
    (item,) = result.leftovers
    assert item.kind is LeftoverKind.NEAR_IDENTICAL_SIBLINGS
    assert [loc.path for loc in item.locations] == ["conf/loader.py", "conf/reader.py"]
    assert item.similarity >= 0.8


def test_a_family_of_near_identical_siblings_is_one_leftover(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"codecs/c{i}.py": LOADER if i % 2 else LOADER_RENAMED for i in range(4)}
    result = _scan(make_tree(files), monkeypatch)
    (item,) = result.leftovers  # not six pairs
    assert item.kind is LeftoverKind.NEAR_IDENTICAL_SIBLINGS
    assert [loc.path for loc in item.locations] == sorted(files)
    assert item.reason.startswith("4 files in codecs (codecs/c0.py, ...) duplicate at least")
    sizes = [loc.end_line for loc in item.locations]
    assert item.lines == sum(sizes) - max(sizes)  # merged into the largest, the others go


def _commented(code: str) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for line in code.strip("\n").splitlines())


def test_commented_code_alone_is_neither_a_group_nor_a_leftover(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree({"a.py": "X = 1\n\n" + _commented(LOADER), "b.py": _commented(LOADER)})
    result = _scan(root, monkeypatch)
    assert result.groups == ()
    assert result.leftovers == ()


def test_a_commented_copy_of_live_code_elsewhere_is_a_leftover(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree({"live.py": LOADER, "old.py": "X = 1\n\n" + _commented(LOADER_RENAMED)})
    result = _scan(root, monkeypatch)
    assert result.groups == ()
    (item,) = result.leftovers
    assert item.kind is LeftoverKind.COMMENTED_OUT
    commented, live = item.locations
    assert (commented.path, commented.start_line) == ("old.py", 3)
    assert (live.path, live.start_line) == ("live.py", 2)
    assert commented.end_line - commented.start_line + 1 == item.lines == 12
    assert "duplicates live code load_settings at live.py:2" in item.reason


RECORD = """
@dataclass(frozen=True)
class Invoice:
    number: str
    customer: str
    issued: date
    due: date | None = None
    lines: list[Line] = field(default_factory=list)
    currency: str = "EUR"
    paid: bool = False
"""


def test_a_commented_copy_of_a_dataclass_is_a_leftover(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its lines are mostly annotated fields (``name: T = x``): code, not prose."""
    root = make_tree({"live.py": RECORD, "old.py": "X = 1\n\n" + _commented(RECORD)})
    result = _scan(root, monkeypatch)
    assert result.groups == ()
    (item,) = result.leftovers
    assert item.kind is LeftoverKind.COMMENTED_OUT
    assert [loc.path for loc in item.locations] == ["old.py", "live.py"]


def test_live_copies_grouped_with_a_commented_copy_stay_a_group(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        "live.py": LOADER,
        "other.py": LOADER_RENAMED,
        "old.py": "X = 1\n\n" + _commented(LOADER),
    }
    result = _scan(make_tree(files), monkeypatch)
    (group,) = result.groups
    assert [m.path for m in group.members] == ["live.py", "other.py"]
    assert group.similarity_min == 1.0  # measured again on the live members
    (item,) = [i for i in result.leftovers if i.kind is LeftoverKind.COMMENTED_OUT]
    assert item.locations[0].path == "old.py"


RECORDS = """def load_records(path, limit=100):
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number >= limit:
                break
            fields = line.rstrip("\\n").split(",")
            if len(fields) < 3:
                continue
            records.append({"id": fields[0], "name": fields[1], "amount": float(fields[2])})
    return records
"""
OLD_RECORDS = """X = 1

# def load_records(path, limit=100):
#     records = []
#     seen = set()
#     with open(path, encoding="latin-1") as handle:
#         for number, line in enumerate(handle):
#             if number >= limit or line.startswith("#"):
#                 break
#             fields = line.strip().split(";")
#             if fields[0] in seen:
#                 continue
#             seen.add(fields[0])
#             records.append({"id": fields[0], "name": fields[1]})
#     return records
"""


def test_the_live_part_of_a_group_is_not_reported_twice(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The family {live, other, commented} has an exact core {live, other}: the family's live
    part is that same group, reported once."""
    files = {"live.py": RECORDS, "other.py": RECORDS, "old.py": OLD_RECORDS}
    result = _scan(make_tree(files), monkeypatch)
    assert [[m.path for m in g.members] for g in result.groups] == [["live.py", "other.py"]]


def test_siblings_covered_by_a_loose_look_alike_are_not_near_identical(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file is one function, the two under the consolidate threshold alike: a group to
    report, not two files that duplicate each other."""
    result = _scan(make_tree({"conf/total.py": TOTAL, "conf/summed.py": SUMMED}), monkeypatch)
    (group,) = result.groups
    assert 0.5 <= group.similarity_min < 0.8
    assert result.leftovers == ()


live_members = st.builds(
    lambda path, start, length: Member(path, start, start + length, "q", UnitKind.FUNCTION),
    st.sampled_from(["a.py", "b.py"]), st.integers(1, 20), st.integers(0, 10),
)  # fmt: skip
some_groups = st.lists(live_members, min_size=1, max_size=3).map(
    lambda members: CloneGroup("g", CloneKind.NEAR_MISS, 0.6, 0.6, tuple(members))
)


@settings(max_examples=300, deadline=None)
@given(group=some_groups, others=st.lists(some_groups, max_size=6))
def test_a_group_is_covered_when_another_holds_all_its_members(
    group: CloneGroup, others: list[CloneGroup]
) -> None:
    """``_covered`` looks only at the groups holding the first member (by path), and finds
    what looking at every group for one holding all the members finds."""
    by_path: dict[str, list[tuple[Member, CloneGroup]]] = defaultdict(list)
    for other in others:
        for member in other.members:
            by_path[member.path].append((member, other))
    every = any(
        all(any(h.contains(m) for h in other.members) for m in group.members) for other in others
    )
    assert _covered(group, by_path) == every
