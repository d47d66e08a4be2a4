"""What a long-lived process keeps between scans (cache.Resident), with a real SQLite file: the
same results as fresh scans, the memos exactly as the file holds them, and nothing read again."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from dupfind import Config, ScanResult, pipeline
from dupfind import cache as cache_module
from dupfind import keys as keys_module
from dupfind.cache import FILENAME, AnalysisCache
from dupfind.keys import Keyed, StatKeys
from dupfind.models import SkippedFile
from dupfind.pipeline import flush, scan
from dupfind.state import Resident, StoredMemos
from tests.conftest import LOADER, LOADER_RENAMED, SUMMED, TOTAL, TreeWriter
from tests.test_cache import REUSED


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


@pytest.mark.parametrize(("deltas", "defer"), [(0, False), (2, False), (100, False), (2, True)])
def test_rescans_with_a_resident_match_fresh_scans_and_the_file(
    tree: Path, monkeypatch: pytest.MonkeyPatch, deltas: int, defer: bool
) -> None:
    """Each rescan gives what a scan without the cache gives, and the memos kept are those
    the next process would read from the file (whether they were written whole or as a
    delta: ``MEMO_DELTAS`` 0 writes them whole every time; stored after the report, as
    ``--watch`` does, or before)."""
    monkeypatch.setattr(cache_module, "MEMO_DELTAS", deltas)
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    scope = pipeline._scope_key(["pkg"], config)
    resident = Resident()
    scan(["pkg"], config, resident=resident, defer=defer)
    assert flush(resident) == [] and resident.pending is None
    for edit in _edits(tree):
        rescan = scan(["pkg"], config, resident=resident, defer=defer)
        assert flush(resident) == []
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


def test_a_deferred_store_waits_for_flush_or_the_next_scan(tree: Path) -> None:
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    scope = pipeline._scope_key(["pkg"], config)
    resident = Resident()
    first = scan(["pkg"], config, resident=resident, defer=True)
    assert resident.pending is not None
    other = AnalysisCache(tree / "cache")  # another process
    assert other.load_memos(scope).base is None  # nothing stored yet but the analyses
    assert (other.info().entries, other.info().last_misses) == (13, 13)
    (tree / "pkg" / "m0.py").write_text(LOADER_RENAMED + "\nX = 1\n", encoding="utf-8")
    scan(["pkg"], config, resident=resident, defer=True)  # stores the first one's, first
    assert AnalysisCache(tree / "cache").load_memos(scope).base is not None
    info = AnalysisCache(tree / "cache").info()  # a rescan's analysis waits for its store
    assert (info.entries, info.last_misses) == (13, 13)
    assert flush(resident) == []
    info = AnalysisCache(tree / "cache").info()
    assert (info.entries, info.last_hits, info.last_misses) == (14, 12, 1)
    (tree / "pkg" / "m0.py").write_text(LOADER_RENAMED, encoding="utf-8")
    again = scan(["pkg"], config, resident=resident, defer=True)
    assert [stage for stage, _ in again.timings][-1] == REUSED
    assert _outcome(again) == _outcome(first)
    assert flush(resident) == [] and flush(resident) == []  # nothing left: nothing done


def test_a_rescan_with_many_fresh_analyses_writes_them_as_they_come(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``HOLD_FRESH_UP_TO`` fresh analyses (a branch switch), a rescan writes them before
    its store, rather than keep them in memory through its report."""
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    resident = Resident()
    scan(["pkg"], config, resident=resident, defer=True)
    monkeypatch.setattr(pipeline, "HOLD_FRESH_UP_TO", 0)
    (tree / "pkg" / "m0.py").write_text(LOADER_RENAMED + "\nX = 2\n", encoding="utf-8")
    scan(["pkg"], config, resident=resident, defer=True)
    assert resident.pending is not None and AnalysisCache(tree / "cache").info().entries == 14
    assert flush(resident) == []


@pytest.mark.parametrize("defer", [False, True])
def test_a_reused_result_loads_what_the_next_rescan_reads(tree: Path, defer: bool) -> None:
    """A long-lived process whose first scan reuses a stored result (a warm cache) reads the
    memos and analyses then (after its report, with ``defer``), not at the first edit."""
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    scope = pipeline._scope_key(["pkg"], config)
    scan(["pkg"], config)  # another process filled the cache
    resident = Resident()
    warm = scan(["pkg"], config, resident=resident, defer=defer)
    assert [stage for stage, _ in warm.timings][-1] == REUSED
    assert (scope in resident.memos) is not defer
    assert flush(resident) == []
    stored = AnalysisCache(tree / "cache").load_memos(scope)
    assert _as_stored(resident.memos[scope]) == _as_stored(stored)
    assert len(resident.analyses) == 13
    (tree / "pkg" / "m0.py").write_text(LOADER_RENAMED + "\nX = 1\n", encoding="utf-8")
    rescan = scan(["pkg"], config, resident=resident, defer=defer)
    assert _outcome(rescan) == _outcome(scan(["pkg"], replace(config, cache=False)))


def test_a_resident_keeps_the_memos_of_the_last_two_scopes(tree: Path) -> None:
    resident = Resident()
    scopes = []
    for min_lines in (4, 5, 6):
        config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"), min_lines=min_lines)
        scan(["pkg"], config, resident=resident)
        scopes.append(pipeline._scope_key(["pkg"], config))
    assert list(resident.memos) == scopes[1:]


def test_a_cleared_or_other_cache_file_drops_what_the_resident_holds(tree: Path) -> None:
    """``dupfind cache clear`` by another process, or another cache directory: the Resident
    holds nothing from the old file, and the next scan stores every analysis again."""
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    resident = Resident()
    scan(["pkg"], config, resident=resident)
    AnalysisCache(tree / "cache").clear()
    (tree / "pkg" / "m0.py").write_text(LOADER_RENAMED + "\nX = 1\n", encoding="utf-8")
    rescan = scan(["pkg"], config, resident=resident)
    with sqlite3.connect(tree / "cache" / FILENAME) as connection:
        stored = connection.execute("SELECT count(*) FROM analyses").fetchone()[0]
    assert stored == 13  # all of them, not only the edited file's
    assert _outcome(rescan) == _outcome(scan(["pkg"], replace(config, cache=False)))
    elsewhere = replace(config, cache_dir=str(tree / "other"))
    scan(["pkg"], elsewhere, resident=resident)
    assert resident.source is not None and resident.source[0] == str(tree / "other" / FILENAME)
    assert _runs_of(tree / "other") == (0, 13)  # analysed for that file, not served from memory


def _runs_of(cache_dir: Path) -> tuple[int, int]:
    info = AnalysisCache(cache_dir).info()
    return info.last_hits, info.last_misses


def test_a_group_its_edit_left_alone_is_ranked_again_when_references_change(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group whose members' files did not change is the same object in the next scan
    (group.Regrouping), but the copy to keep is still chosen again: a new file calling one
    copy makes that one the most used (classify's ``_KEYS`` are keyed by the ranking too)."""
    root = make_tree({"pkg/a.py": LOADER, "pkg/b.py": LOADER_RENAMED})
    monkeypatch.chdir(root)
    config = Config(jobs=1, history=False, cache_dir=str(root / "cache"))
    resident = Resident()
    first = scan(["pkg"], config, resident=resident)
    calls = "from b import read_options\n\nA = read_options(1, 2)\nB = read_options(3, 4)\n"
    (root / "pkg" / "use.py").write_text(calls, encoding="utf-8")
    again = scan(["pkg"], config, resident=resident)
    assert again.groups == first.groups
    assert again.recommendations == scan(["pkg"], replace(config, cache=False)).recommendations
    assert [r.canonical for r in first.recommendations] != [
        r.canonical for r in again.recommendations
    ]


def test_an_unchanged_recommendation_is_the_last_scans_object(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group an edit elsewhere left alone gets the very recommendation object of the last
    scan (context.Recalled.joined), equal to a fresh scan's; one whose members changed gets
    a new one."""
    root = make_tree({"pkg/a.py": LOADER, "pkg/b.py": LOADER_RENAMED, "pkg/near.py": TOTAL,
                      "pkg/far.py": SUMMED})  # fmt: skip
    monkeypatch.chdir(root)
    config = Config(jobs=1, history=False, cache_dir=str(root / "cache"), min_similarity=0.5)
    resident = Resident()
    scan(["pkg"], config, resident=resident)
    (root / "pkg" / "far.py").write_text(SUMMED + "\nX = 1\n", encoding="utf-8")
    first = scan(["pkg"], config, resident=resident)  # unchanged ones made from the memo
    assert len(first.recommendations) == 2
    (root / "pkg" / "far.py").write_text(SUMMED + "\nX = 2\n", encoding="utf-8")
    again = scan(["pkg"], config, resident=resident)
    fresh = scan(["pkg"], replace(config, cache=False))
    assert again.recommendations == fresh.recommendations
    loader = [i for i, g in enumerate(again.groups) if g.members[0].path == "pkg/a.py"]
    assert len(loader) == 1
    for index, (before, after) in enumerate(zip(first.recommendations, again.recommendations,
                                                strict=True)):  # fmt: skip
        assert (before is after) == (index in loader)


def test_a_long_lived_process_reads_again_only_the_files_whose_status_changed(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keys.StatKeys: a file keeps its key while its status holds; an edit (even of the same
    size, its modification time put back) changes the status-change time, so it is read
    again; other settings key everything again (two settings are kept); a file read with
    other bytes than its key's is read again; only the files of the last keying are kept; and
    a file modified within ``RACY_NS`` of its reading is read every time."""
    root = make_tree({"a.py": "A = 1\n", "b.py": "B = 2\n"})
    monkeypatch.chdir(root)
    reads: list[str] = []
    real = keys_module.read_source

    def counted(path: str) -> bytes | SkippedFile:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(keys_module, "read_source", counted)
    config, files = Config(history=False), ["a.py", "b.py"]
    racy = StatKeys()
    Keyed.of(files, config, racy)
    Keyed.of(files, config, racy)
    assert reads == files * 2  # both written just now: never trusted
    monkeypatch.setattr(keys_module, "RACY_NS", -60 * 10**9)  # every status trusted
    known, before = StatKeys(), os.stat("a.py").st_mtime_ns
    reads.clear()
    first = Keyed.of(files, config, known).keys
    assert Keyed.of(files, config, known).keys == first and reads == files
    time.sleep(0.05)  # past the file system's timestamp tick
    Path("a.py").write_text("A = 3\n", encoding="utf-8")
    os.utime("a.py", ns=(before, before))
    reads.clear()
    again = Keyed.of(files, config, known).keys
    assert reads == ["a.py"] and again["a.py"] != first["a.py"]
    assert again == Keyed.of(files, config).keys
    reads.clear()
    other = replace(config, min_tokens=config.min_tokens + 1)
    Keyed.of(files, other, known)
    assert reads == files
    reads.clear()
    keyed = Keyed.of(files, config, known)  # the first settings' statuses are still kept
    assert reads == []
    keyed.moved.add("b.py")  # read with other bytes than its key's: its status is not trusted
    known.forget(keyed)
    Keyed.of(["b.py"], config, known)
    assert reads == ["b.py"] and set(known.last(config.analysis_key())) == {"b.py"}
