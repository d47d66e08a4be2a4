from __future__ import annotations

from pathlib import Path

from dupfind import Config, scan
from dupfind.models import CloneKind, UnitKind
from tests.conftest import LOADER, LOADER_RENAMED, TreeWriter


def _generated(lines: int) -> str:
    return "".join(f"value_{i} = compute({i}, 'x' * {i % 7})\n" for i in range(lines))


def test_huge_file_is_skipped_then_scanned_when_the_limit_is_raised(tmp_path: Path) -> None:
    big = tmp_path / "generated.py"
    big.write_text(_generated(140_000), encoding="utf-8")  # about 5 MB
    assert big.stat().st_size > 4 * 1024 * 1024
    (tmp_path / "small.py").write_text(LOADER, encoding="utf-8")

    default = scan([str(tmp_path)], Config(jobs=1))
    assert [s.path.endswith("generated.py") for s in default.skipped] == [True]
    assert "max-file-size" in default.skipped[0].reason
    assert default.stats.files_scanned == 1

    raised = scan([str(tmp_path)], Config(jobs=1, max_file_size=8 * 1024 * 1024))
    assert raised.skipped == ()
    assert raised.stats.files_scanned == 2
    assert raised.stats.lines_scanned > 140_000


def test_bad_files_never_abort_the_scan(make_tree: TreeWriter) -> None:
    root = make_tree({"a.py": LOADER, "b.py": LOADER_RENAMED})
    (root / "binary.py").write_bytes(b"\x00\x01\x02")
    (root / "latin.py").write_bytes(b"x = '\xe9'\n")
    result = scan([str(root)], Config(jobs=1))
    assert {Path(s.path).name for s in result.skipped} == {"binary.py", "latin.py"}
    (group,) = result.groups
    assert group.kind is CloneKind.RENAMED


def test_copies_of_module_level_code_are_found(make_tree: TreeWriter) -> None:
    script = "\n".join(
        [
            "import argparse",
            "parser = argparse.ArgumentParser(description='Rebuild the index')",
            "parser.add_argument('--source', required=True, help='input directory')",
            "parser.add_argument('--limit', type=int, default=100, help='rows per batch')",
            "parser.add_argument('--dry-run', action='store_true', help='change nothing')",
            "args = parser.parse_args()",
            "rows = load_rows(args.source, limit=args.limit)",
            "print(f'loaded {len(rows)} rows from {args.source}')",
            "",
        ]
    )
    root = make_tree({"one.py": script, "two.py": "X = 1\n" + script})
    (group,) = scan([str(root)], Config(jobs=1)).groups
    assert {m.qualname for m in group.members} == {"<module>"}
    assert {m.unit for m in group.members} == {UnitKind.BLOCK}
    assert [(m.start_line, m.end_line) for m in group.members] == [(2, 8), (3, 9)]


def test_four_copies_are_one_group_of_four(make_tree: TreeWriter) -> None:
    root = make_tree({f"m{i}.py": LOADER for i in range(4)})
    (group,) = scan([str(root)], Config(jobs=1)).groups
    assert len(group.members) == 4
    assert group.similarity_min == group.similarity_mean == 1.0


def test_group_ids_survive_line_shifts(make_tree: TreeWriter) -> None:
    root = make_tree({"a.py": LOADER, "b.py": LOADER})
    before = scan([str(root)], Config(jobs=1)).groups[0]
    (root / "a.py").write_text("\n\n# moved down\n" + LOADER, encoding="utf-8")
    after = scan([str(root)], Config(jobs=1)).groups[0]
    assert after.id == before.id
    assert after.members[0].start_line == before.members[0].start_line + 3


def test_thresholds_filter_groups(make_tree: TreeWriter) -> None:
    root = make_tree({"a.py": LOADER, "b.py": LOADER})
    assert scan([str(root)], Config(jobs=1, min_lines=50)).groups == ()
    assert scan([str(root)], Config(jobs=1, min_tokens=500)).groups == ()


def test_union_length_counts_each_line_once() -> None:
    from dupfind.models import union_length

    assert union_length([]) == 0
    assert union_length([(1, 10), (5, 12), (20, 20), (11, 11)]) == 13
    assert union_length([(3, 4), (1, 2)]) == 4


def test_serial_map_keeps_order() -> None:
    from dupfind.executor import serial_map

    assert serial_map(lambda i: i * i, range(5)) == [0, 1, 4, 9, 16]


def test_timings_name_every_stage_in_order(make_tree: TreeWriter) -> None:
    """``--timings`` tells where a scan's time went: git history has its own line, so a slow
    repository is not mistaken for slow classification."""
    root = make_tree({f"m{i}.py": LOADER for i in range(2)})
    stages = [stage for stage, _ in scan([str(root)], Config(jobs=1, cache=False)).timings]
    assert stages == [
        "discover",
        "map (read, parse, extract, fingerprint)",
        "candidates: near-miss index",
        "candidates: statement runs",
        "score and group",
        "git history (change counts)",
        "classify",
    ]
