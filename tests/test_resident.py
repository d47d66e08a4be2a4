"""What a long-lived process keeps between scans (cache.Resident), with a real SQLite file: the
same results as fresh scans, the memos exactly as the file holds them, and nothing read again."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from dupfind import Config, ScanResult, pipeline
from dupfind import cache as cache_module
from dupfind.cache import FILENAME, AnalysisCache, Resident, StoredMemos
from dupfind.keys import Keyed
from dupfind.pipeline import scan
from tests.conftest import LOADER, LOADER_RENAMED, SUMMED, TOTAL, TreeWriter


@pytest.fixture
def tree(make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch) -> Path:
    files = {f"pkg/m{i}.py": LOADER if i % 2 else LOADER_RENAMED for i in range(12)}
    root = make_tree({**files, "pkg/near.py": TOTAL + "\n" + SUMMED})
    monkeypatch.chdir(root)
    return root


def _outcome(result: ScanResult) -> tuple[object, ...]:
    return (result.groups, result.recommendations, result.leftovers, result.stats, result.skipped)


def _as_stored(memos: StoredMemos) -> tuple[object, ...]:
    return (
        memos.scores.earlier, memos.compared.earlier, memos.verdicts.earlier, memos.corpus,
        memos.history, memos.held, memos.deltas, memos.base,
    )  # fmt: skip


def _edits(tree: Path) -> Iterator[str]:
    """Edits one after the other: appended statements, a new copy, a removal, a revert."""
    m0 = tree / "pkg" / "m0.py"
    m0.write_text(LOADER_RENAMED + "\nX = 1\n", encoding="utf-8")
    yield "a statement appended"
    (tree / "pkg" / "m3.py").write_text(LOADER + "\nY = 2\n", encoding="utf-8")
    yield "another file edited"
    (tree / "pkg" / "copy.py").write_text(SUMMED, encoding="utf-8")
    yield "a copy added"
    (tree / "pkg" / "m5.py").unlink()
    yield "a file removed"
    m0.write_text(LOADER_RENAMED, encoding="utf-8")
    yield "an edit reverted"
    yield "nothing changed"


@pytest.mark.parametrize("deltas", [0, 2, 100])
def test_rescans_with_a_resident_match_fresh_scans_and_the_file(
    tree: Path, monkeypatch: pytest.MonkeyPatch, deltas: int
) -> None:
    """Each rescan gives what a scan without the cache gives, and the memos kept are those
    the next process would read from the file (whether they were written whole or as a
    delta: ``MEMO_DELTAS`` 0 writes them whole every time)."""
    monkeypatch.setattr(cache_module, "MEMO_DELTAS", deltas)
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    scope = pipeline._scope_key(["pkg"], config)
    resident = Resident()
    scan(["pkg"], config, resident=resident)
    for edit in _edits(tree):
        rescan = scan(["pkg"], config, resident=resident)
        assert _outcome(rescan) == _outcome(scan(["pkg"], replace(config, cache=False))), edit
        stored = AnalysisCache(tree / "cache").load_memos(scope)
        assert _as_stored(resident.memos[scope]) == _as_stored(stored), edit
        assert set(resident.analyses) == set(
            Keyed.of(
                sorted(str(p.relative_to(tree)) for p in (tree / "pkg").glob("*.py")), config
            ).keys.values()
        )
    assert _outcome(scan(["pkg"], config)) == _outcome(rescan)  # another process: the file


def test_a_rescan_with_a_resident_reads_only_what_changed(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    resident = Resident()
    scan(["pkg"], config, resident=resident)
    read: list[tuple[str, str, int]] = []
    rows = AnalysisCache.rows

    def recorded(self: AnalysisCache, table: str, keys: object, columns: str = "key, value",
                 by: str = "key") -> list[tuple[bytes, ...]] | None:  # fmt: skip
        wanted = list(keys)  # type: ignore[call-overload]
        read.append((table, columns, len(wanted)))
        return rows(self, table, wanted, columns, by)

    monkeypatch.setattr(AnalysisCache, "rows", recorded)
    blobs: list[str] = []
    blob = AnalysisCache._blob
    monkeypatch.setattr(
        AnalysisCache,
        "_blob",
        lambda self, table, key: blobs.append(table) or blob(self, table, key),
    )
    (tree / "pkg" / "m0.py").write_text(LOADER_RENAMED + "\nX = 1\n", encoding="utf-8")
    scan(["pkg"], config, resident=resident)
    # The changed file's earlier analysis (to take its counts off): no other, no memo entry.
    assert ("analyses", "key, value", 1) in read
    assert [r for r in read if r[0] == "analyses" and r[2] != 1] == []
    assert [r for r in read if r[0] == "memo_entries" and r[1] == "seq, value"] == []
    assert blobs == ["results"]  # looked for a stored result of these inputs: none


def test_memos_not_written_are_not_kept(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rescan that cannot write the file (another process holds it) keeps no memos for
    its scope: the next scan reads the file, as a new process would."""
    where = tree / "cache"
    config = Config(jobs=1, history=False, cache_dir=str(where))
    scope = pipeline._scope_key(["pkg"], config)
    resident = Resident()
    scan(["pkg"], config, resident=resident)
    assert scope in resident.memos
    (tree / "pkg" / "m0.py").write_text(LOADER_RENAMED + "\nX = 1\n", encoding="utf-8")
    holder = sqlite3.connect(where / FILENAME, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing
    monkeypatch.setattr(cache_module, "LOCK_TIMEOUT", 0.1)
    try:
        during = scan(["pkg"], config, resident=resident)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert any("could not be written" in note for note in during.notes)
    assert scope not in resident.memos
    fresh = scan(["pkg"], replace(config, cache=False))
    assert _outcome(during) == _outcome(fresh)
    assert _outcome(scan(["pkg"], config, resident=resident)) == _outcome(fresh)
    assert scope in resident.memos
