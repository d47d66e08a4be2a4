"""The incremental cache with a real SQLite file: hits, invalidation, corruption, concurrent
writers, and the cache commands."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from dupfind import Config, scan
from dupfind.cache import FILENAME, AnalysisCache
from dupfind.cli import app
from tests.conftest import LOADER, LOADER_RENAMED, TreeWriter


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def tree(make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_tree({f"pkg/m{i}.py": LOADER if i % 2 else LOADER_RENAMED for i in range(30)})
    monkeypatch.chdir(root)
    return root


def _runs(cache_dir: Path) -> tuple[int, int]:
    cache = AnalysisCache(cache_dir)
    info = cache.info()
    cache.close()
    return info.last_hits, info.last_misses


def test_second_scan_hits_and_gives_the_same_result(tree: Path) -> None:
    where = tree / "cache"
    config = Config(jobs=1, history=False, cache_dir=str(where))
    cold = scan(["pkg"], config)
    assert (where / FILENAME).is_file()
    assert _runs(where) == (0, 30)
    warm = scan(["pkg"], config)
    assert _runs(where) == (30, 0)
    assert warm.groups == cold.groups
    assert warm.stats == cold.stats


def test_a_changed_file_is_analysed_again(tree: Path) -> None:
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    scan(["pkg"], config)
    (tree / "pkg" / "m3.py").write_text(LOADER + "\n\nX = 1\n", encoding="utf-8")
    scan(["pkg"], config)
    assert _runs(tree / "cache") == (29, 1)


def test_settings_that_change_analyses_change_the_key(tree: Path) -> None:
    scan(["pkg"], Config(jobs=1, history=False, cache_dir=str(tree / "cache")))
    scan(["pkg"], Config(jobs=1, history=False, cache_dir=str(tree / "cache"), min_lines=8))
    assert _runs(tree / "cache") == (0, 30)


def test_a_corrupt_cache_is_rebuilt_with_a_note(tree: Path) -> None:
    where = tree / "cache"
    where.mkdir()
    (where / FILENAME).write_bytes(b"this is not a database" * 100)
    result = scan(["pkg"], Config(jobs=1, history=False, cache_dir=str(where)))
    assert any("unreadable" in note and "rebuilt" in note for note in result.notes)
    assert len(result.groups) == 1
    assert _runs(where) == (0, 30)


def _scan_into(cache_dir: str) -> int:
    return len(scan(["pkg"], Config(jobs=1, history=False, cache_dir=cache_dir)).groups)


def test_two_processes_share_one_cache(tree: Path) -> None:
    where = str(tree / "cache")
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        counts = pool.map(_scan_into, [where, where])
    assert counts == [1, 1]
    cache = AnalysisCache(Path(where))
    assert cache.info().entries == 30
    cache.close()


def test_cache_commands_and_no_cache(tree: Path) -> None:
    where = str(tree / "cache")
    assert invoke("scan", "pkg", "--cache-dir", where, "--no-history").exit_code == 0
    info = invoke("cache", "info", "--cache-dir", where)
    assert info.exit_code == 0
    assert "entries: 30" in info.stdout and "0 hits, 30 misses" in info.stdout
    document = json.loads(invoke("scan", "pkg", "--format", "json", "--no-cache").stdout)
    assert document["files_scanned"] == 30
    assert "entries: 30" in invoke("cache", "info", "--cache-dir", where).stdout
    cleared = invoke("cache", "clear", "--cache-dir", where)
    assert cleared.exit_code == 0 and "removed 30" in cleared.stdout
    assert "entries: 0" in invoke("cache", "info", "--cache-dir", where).stdout
