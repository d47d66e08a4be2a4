"""The incremental cache with a real SQLite file: hits, invalidation, corruption, concurrent
writers, and the cache commands."""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from dupfind import Config, ScanResult, pipeline, scan
from dupfind import cache as cache_module
from dupfind import candidates as candidates_module
from dupfind import classify as classify_module
from dupfind import copies as copies_module
from dupfind import group as group_module
from dupfind import history as history_module
from dupfind import keys as keys_module
from dupfind.cache import FILENAME, AnalysisCache, _compacts
from dupfind.cli import app
from dupfind.context import Context
from dupfind.differences import MemberTokens
from dupfind.history import open_history
from dupfind.keys import code_identity
from dupfind.memo import Memo
from dupfind.models import Compared, Recommendation, SkippedFile
from dupfind.score import ScoreChunk
from dupfind.state import StoredMemos
from tests.conftest import LOADER, LOADER_RENAMED, SUMMED, TOTAL, TreeWriter, git

NEAR_MISS_PAIR = TOTAL + "\n" + SUMMED


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
    connection = sqlite3.connect(where / FILENAME)
    assert connection.execute("PRAGMA page_size").fetchone() == (cache_module.PAGE_SIZE,)
    connection.close()
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


REUSED = "reuse the stored result (nothing changed)"


def _reused(result: ScanResult) -> bool:
    return [stage for stage, _ in result.timings] == ["discover", REUSED]


def test_an_unchanged_tree_reuses_the_stored_result(tree: Path) -> None:
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    cold = scan(["pkg"], config)
    warm = scan(["pkg"], replace(config, format="json", jobs=2))  # how it is shown: same key
    assert not _reused(cold)
    assert _reused(warm)
    assert warm == cold
    assert _runs(tree / "cache") == (30, 0)


def test_any_change_of_input_or_setting_computes_again(tree: Path) -> None:
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    first = scan(["pkg"], config)
    stricter = scan(["pkg"], replace(config, min_similarity=0.99))  # a reduce-only setting
    assert not _reused(stricter)
    (tree / "pkg" / "m0.py").write_text("X = 1\n", encoding="utf-8")
    edited = scan(["pkg"], config)
    assert not _reused(edited)
    assert len(edited.groups[0].members) == len(first.groups[0].members) - 1
    (tree / "pkg" / "new.py").write_text(LOADER, encoding="utf-8")
    added = scan(["pkg"], config)
    assert not _reused(added)
    assert len(added.groups[0].members) == len(first.groups[0].members)
    assert _reused(scan(["pkg"], config))


def test_a_new_commit_computes_again_when_history_is_used(tree: Path) -> None:
    git(tree, "init", "-q")
    git(tree, "add", "pkg")
    git(tree, "commit", "-q", "-m", "one")
    config = Config(jobs=1, history=True, cache_dir=str(tree / "cache"))
    scan(["pkg"], config)
    assert _reused(scan(["pkg"], config))
    git(tree, "commit", "-q", "--allow-empty", "-m", "two")
    assert not _reused(scan(["pkg"], config))
    off = replace(config, history=False)
    assert not _reused(scan(["pkg"], off))  # another setting: its own stored result
    git(tree, "commit", "-q", "--allow-empty", "-m", "three")
    assert _reused(scan(["pkg"], off))  # without history, commits do not matter


def test_the_git_state_is_part_of_the_stored_results_key(tree: Path) -> None:
    config = Config(jobs=1, history=True, cache_dir=str(tree / "cache"))
    outside = scan(["pkg"], config)
    assert any("git history is not available" in note for note in outside.notes)
    git(tree, "init", "-q")
    inside = scan(["pkg"], config)  # same files, but now in a repository (nothing committed)
    assert not _reused(inside)
    assert not any("git history is not available" in note for note in inside.notes)
    git(tree, "add", "pkg")
    assert not _reused(scan(["pkg"], config))  # staged: the index changed
    git(tree, "commit", "-q", "-m", "one")
    assert not _reused(scan(["pkg"], config))
    assert _reused(scan(["pkg"], config))
    git(tree, "rm", "-q", "--cached", "pkg/m1.py")  # untracked again, contents unchanged
    assert not _reused(scan(["pkg"], config))


def test_other_code_never_reads_this_codes_entries(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    scan(["pkg"], config)
    assert "dupfind" in code_identity() and "tree-sitter-python" in code_identity()
    for module in (keys_module, pipeline):  # as if a file of dupfind had been edited
        monkeypatch.setattr(module, "code_identity", lambda: "dupfind (edited)")
    assert not _reused(scan(["pkg"], config))
    assert _runs(tree / "cache") == (0, 30)


def test_the_history_window_starts_at_the_start_of_a_day(tree: Path) -> None:
    today = datetime.now(UTC).date()
    since = open_history(["pkg"], True, 10).since
    assert since == f"{today - timedelta(days=10)}T00:00:00Z"  # not "now, 10 days ago"


def test_an_unreadable_stored_result_is_computed_again(tree: Path) -> None:
    where = tree / "cache"
    config = Config(jobs=1, history=False, cache_dir=str(where))
    cold = scan(["pkg"], config)
    connection = sqlite3.connect(where / FILENAME)
    with connection:
        connection.execute("UPDATE results SET value = ?", (b"not a pickle",))
    connection.close()
    again = scan(["pkg"], config)
    assert not _reused(again)
    assert again == cold
    assert _reused(scan(["pkg"], config))


def test_a_stored_result_reads_its_differences_from_the_memos(tree: Path) -> None:
    """The result refers to its groups' differences in the scope's memos (one copy, not two);
    once the memos no longer hold them (written whole by a scan of another state), the result
    is not used: the scan runs again, with the same outcome."""
    where = tree / "cache"
    config = Config(jobs=1, history=False, cache_dir=str(where))
    cold = scan(["pkg"], config)
    assert any(recommendation.differences for recommendation in cold.recommendations)
    connection = sqlite3.connect(where / FILENAME)
    (blob,) = connection.execute("SELECT value FROM results").fetchone()
    stored, keys = pickle.loads(blob)
    assert not any(recommendation.differences for recommendation in stored.recommendations)
    assert len(keys) == len(cold.groups) and None not in keys
    assert _reused(warm := scan(["pkg"], config)) and warm == cold
    with connection:
        connection.execute("DELETE FROM memo_entries")
    connection.close()
    again = scan(["pkg"], config)
    assert not _reused(again)
    assert again == cold
    assert _reused(scan(["pkg"], config))


def test_a_rescan_scores_and_compares_only_what_changed(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scored: list[int] = []
    compared: list[int] = []
    real_score, real_differences = copies_module.score_chunk, classify_module.differences

    def counting_score(chunk: ScoreChunk) -> list[float]:
        scored.append(len(chunk.pairs))
        return real_score(chunk)

    def counting_differences(members: Sequence[MemberTokens], canonical: int) -> Compared:
        compared.append(len(members))
        return real_differences(members, canonical)

    classified: list[str] = []
    real_classified = classify_module._classified

    def counting_classified(
        found: group_module.FoundGroup, rows: list[classify_module.Row], context: Context
    ) -> tuple[Recommendation, bytes | None]:
        classified.append(found.group.id)
        return real_classified(found, rows, context)

    monkeypatch.setattr(copies_module, "score_chunk", counting_score)
    monkeypatch.setattr(classify_module, "differences", counting_differences)
    monkeypatch.setattr(classify_module, "_classified", counting_classified)
    (tree / "pkg" / "other.py").write_text(NEAR_MISS_PAIR, encoding="utf-8")
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    scan(["pkg"], config)
    assert sum(scored) > 0
    assert len(compared) == 2  # the loader family and the near-miss pair
    assert len(classified) == 2
    scored.clear()
    compared.clear()
    classified.clear()
    (tree / "pkg" / "m0.py").write_text(LOADER + "\n\nX = 1\n", encoding="utf-8")
    rescan = scan(["pkg"], config)
    assert sum(scored) == 0  # every pair's content was scored before
    assert compared == [4]  # the family whose member changed; the near-miss pair remembered
    assert len(classified) == 1  # and only that family is classified again
    assert rescan == scan(["pkg"], replace(config, cache=False))
    assert len(classified) == 3  # a scan without the cache classifies every group


def test_a_rescan_asks_git_only_about_what_changed(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Git answers are remembered with the memos (history.py): after a commit touching one
    file, only its members are asked about again, and the result is a fresh scan's."""
    asked: list[str] = []
    real_count = history_module.History._count

    def counting(self: history_module.History, key: tuple[str, int, int]) -> int | None:
        asked.append(os.path.relpath(key[0]))
        return real_count(self, key)

    monkeypatch.setattr(history_module.History, "_count", counting)
    git(tree, "init", "-q")
    git(tree, "add", "pkg")
    git(tree, "commit", "-q", "-m", "one")
    # every file changed once in the window: at history-hot 1, any member may be hot
    config = Config(jobs=1, history=True, history_hot=1, cache_dir=str(tree / "cache"))
    scan(["pkg"], config)
    assert len(set(asked)) == history_module.MAX_PER_GROUP and "pkg/m0.py" in asked
    asked.clear()
    (tree / "pkg" / "m0.py").write_text(LOADER + "\n\nX = 1\n", encoding="utf-8")
    git(tree, "commit", "-q", "-am", "two")
    rescan = scan(["pkg"], config)
    assert asked == [str(Path("pkg") / "m0.py")]
    assert rescan == scan(["pkg"], replace(config, cache=False))
    asked.clear()
    assert scan(["pkg"], replace(config, cache=False, history_hot=3)).groups == rescan.groups
    assert asked == []  # no file changed 3 times: no member can be hot, git is not asked


def test_a_remembered_recommendation_follows_its_git_answers(tree: Path) -> None:
    """Edits of one copy committed and reverted leave its file as it was (same content key)
    but its lines changed often: the change-frequency rule now fires, cached or not."""
    (tree / "other").mkdir()
    (tree / "other" / "a.py").write_text(TOTAL, encoding="utf-8")
    (tree / "other" / "b.py").write_text(TOTAL, encoding="utf-8")
    git(tree, "init", "-q")
    git(tree, "add", "other")
    git(tree, "commit", "-q", "-m", "one")
    config = Config(jobs=1, history=True, history_hot=3, history_cold=1, min_lines=3,
                    cache_dir=str(tree / "cache"))  # fmt: skip
    assert scan(["other"], config).recommendations[0].rule != "change-frequency"
    a = tree / "other" / "a.py"
    for _ in range(2):
        a.write_text(TOTAL.replace("result = 0", "result = 0  # start"), encoding="utf-8")
        git(tree, "commit", "-q", "-am", "edit")
        a.write_text(TOTAL, encoding="utf-8")
        git(tree, "commit", "-q", "-am", "revert")
    rescan = scan(["other"], config)
    assert rescan.recommendations[0].rule == "change-frequency"
    assert rescan == scan(["other"], replace(config, cache=False))


def test_a_remembered_recommendation_follows_the_references_it_read(tree: Path) -> None:
    """The copy to keep is the one whose name is the most used: a new file calling the other
    copy changes the recommendation of a group none of whose files changed."""
    (tree / "pkg" / "other.py").write_text(NEAR_MISS_PAIR, encoding="utf-8")
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))

    def kept(result: ScanResult) -> str:
        pair = next(
            i for i, g in enumerate(result.groups) if g.members[0].path.endswith("other.py")
        )
        rec = result.recommendations[pair]
        return result.groups[pair].members[rec.canonical].qualname

    assert kept(scan(["pkg"], config)) == "summed"
    (tree / "pkg" / "use.py").write_text("total([1])\ntotal([2])\n", encoding="utf-8")
    rescan = scan(["pkg"], config)
    assert kept(rescan) == "total"
    assert rescan == scan(["pkg"], replace(config, cache=False))


def test_entries_no_scan_used_for_a_month_are_deleted(tree: Path) -> None:
    where = tree / "cache"
    config = Config(jobs=1, history=False, cache_dir=str(where))
    scan(["pkg"], config)
    (tree / "pkg" / "m0.py").write_text("X = 1\n", encoding="utf-8")
    scan(["pkg"], config)  # the old m0.py entry is no longer used by anything
    connection = sqlite3.connect(where / FILENAME)
    with connection:  # age every entry; the next scan marks those it uses as used again
        connection.execute("UPDATE analyses SET used = used - 31 * 86400")
        before = connection.execute("SELECT count(*) FROM analyses").fetchone()[0]
        sketched = connection.execute("SELECT count(*) FROM sketches").fetchone()[0]
    scan(["pkg"], replace(config, min_similarity=0.9))  # not the stored result: a real scan
    with connection:
        after = connection.execute("SELECT count(*) FROM analyses").fetchone()[0]
        orphans = connection.execute(
            "SELECT count(*) FROM sketches WHERE key NOT IN (SELECT key FROM analyses)"
        ).fetchone()[0]
        sketched_after = connection.execute("SELECT count(*) FROM sketches").fetchone()[0]
    connection.close()
    assert (before, after) == (31, 30)
    assert orphans == 0
    assert sketched_after == sketched - 1
    assert _runs(where) == (30, 0)


@pytest.mark.parametrize("restore", [True, False])
def test_a_file_edited_during_the_scan_leaves_nothing_stale(tree: Path, restore: bool) -> None:
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    edited = tree / "pkg" / "m29.py"  # analysed last: the edit lands before it is read
    original = edited.read_text(encoding="utf-8")

    def progress(done: int, total: int) -> None:
        if done == 1:  # an editor saves a file while the scan runs
            edited.write_text("def unrelated():\n    return 1\n", encoding="utf-8")
        if done == total - 1 and restore:  # read edited by now; undone before the scan ends
            edited.write_text(original, encoding="utf-8")

    during = pipeline.scan(["pkg"], config, progress)
    assert any("changed while they were scanned" in note for note in during.notes)
    assert (edited.read_text(encoding="utf-8") == original) is restore
    again = scan(["pkg"], config)
    assert not _reused(again)
    assert again == scan(["pkg"], replace(config, cache=False))


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


def test_cache_clear_gives_an_older_file_the_current_page_size(tree: Path) -> None:
    where = tree / "cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cache_module, "PAGE_SIZE", 4096)  # as SQLite's default made them
        scan(["pkg"], Config(jobs=1, history=False, cache_dir=str(where)))
    assert invoke("cache", "clear", "--cache-dir", str(where)).exit_code == 0
    connection = sqlite3.connect(where / FILENAME)
    assert connection.execute("PRAGMA page_size").fetchone() == (cache_module.PAGE_SIZE,)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()
    assert _runs(where) == (0, 0)


def test_a_file_readable_now_but_not_when_keyed_or_the_other_way_round_moved(
    tree: Path,
) -> None:
    keyed = keys_module.Keyed.of(["pkg/m0.py", "pkg/m2.py"], Config(history=False))
    data = (tree / "pkg" / "m0.py").read_bytes()
    keyed.check("pkg/m0.py", data)
    keyed.check("pkg/gone.py", SkippedFile("pkg/gone.py", "cannot read file"))
    assert keyed.moved == set()  # the same bytes; unreadable then and now
    keyed.check("pkg/m1.py", (tree / "pkg" / "m1.py").read_bytes())  # no key: unreadable then
    keyed.check("pkg/m0.py", SkippedFile("pkg/m0.py", "cannot read file"))  # readable then
    assert keyed.moved == {"pkg/m0.py", "pkg/m1.py"}
    keyed.check("pkg/m2.py", (tree / "pkg" / "m2.py").read_bytes() + b"\n")  # edited
    assert keyed.moved == {"pkg/m0.py", "pkg/m1.py", "pkg/m2.py"}


def test_a_file_unreadable_when_keyed_is_counted_in_a_rescan(tree: Path) -> None:
    """A file rewritten while the scan keys it (unreadable then, readable for the map) has no
    key: the corpus counts are made afresh with it, and the result is not stored."""
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    scan(["pkg"], config)
    (tree / "pkg" / "new.py").write_text(NEAR_MISS_PAIR, encoding="utf-8")
    real_read = keys_module.read_source
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(candidates_module, "FEW", 10**9)  # every count looked up in the table
        patch.setattr(
            keys_module,
            "read_source",
            lambda path: SkippedFile(path, "cannot read file") if path.endswith("new.py")
            else real_read(path),
        )  # fmt: skip
        rescan = scan(["pkg"], config)
    assert any("changed while they were scanned" in note for note in rescan.notes)
    fresh = scan(["pkg"], replace(config, cache=False))
    assert rescan.groups == fresh.groups and rescan.recommendations == fresh.recommendations


def test_a_result_in_use_keeps_its_memos_however_many_scopes_store_theirs(tree: Path) -> None:
    """Reusing a stored result marks its scope's memos used: they are not pruned under it by
    ``KEPT_BLOBS`` other scopes (its differences are read from them)."""
    config = Config(jobs=1, history=False, cache_dir=str(tree / "cache"))
    scan(["pkg"], config)
    for other in range(cache_module.KEPT_BLOBS + 1):
        scan(["pkg"], replace(config, min_tokens=30 + other))
        assert _reused(scan(["pkg"], config))


def test_a_stored_result_or_memo_of_another_layout_is_not_used(tree: Path) -> None:
    where = tree / "cache"
    config = Config(jobs=1, history=False, cache_dir=str(where))
    cold = scan(["pkg"], config)
    connection = sqlite3.connect(where / FILENAME)
    (blob,) = connection.execute("SELECT value FROM results").fetchone()
    stored, keys = pickle.loads(blob)
    for layout in ((stored, 5), (stored, (*keys, None)), (stored, (*keys[:-1], "key"))):
        with connection:
            connection.execute("UPDATE results SET value = ?", (pickle.dumps(layout),))
        again = scan(["pkg"], config)
        assert not _reused(again) and again == cold
    (scope, seq, value) = connection.execute(
        "SELECT scope, seq, value FROM memo_entries"
    ).fetchone()
    scores, compared, verdicts = pickle.loads(value)
    broken = dict.fromkeys(compared, ("not rows", "signature", "extra"))
    with connection:
        connection.execute("DELETE FROM results")
        connection.execute(
            "UPDATE memo_entries SET value = ? WHERE scope = ? AND seq = ?",
            (pickle.dumps((scores, broken, verdicts)), scope, seq),
        )
    connection.close()
    assert scan(["pkg"], config) == cold


def test_a_cache_locked_by_another_writer_is_left_alone(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = tree / "cache"
    config = Config(jobs=1, history=False, cache_dir=str(where))
    cold = scan(["pkg"], config)
    holder = sqlite3.connect(where / FILENAME, isolation_level=None)
    holder.execute("DROP INDEX analyses_used")  # an older cache: opening creates the index
    holder.execute("BEGIN EXCLUSIVE")  # another process is writing
    monkeypatch.setattr(cache_module, "LOCK_TIMEOUT", 0.1)
    try:
        during = scan(["pkg"], config)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert during.groups == cold.groups
    assert any("another dupfind may be updating it" in note for note in during.notes)
    assert _runs(where) == (0, 30)  # the file and its entries are still there
    assert not any("rebuilt" in note for note in scan(["pkg"], config).notes)


def test_a_rescan_within_the_hour_does_not_rewrite_last_use(tree: Path) -> None:
    where = tree / "cache"
    config = Config(jobs=1, history=False, cache_dir=str(where))
    scan(["pkg"], config)

    def last_use() -> list[float]:
        with sqlite3.connect(where / FILENAME) as connection:
            return [row[0] for row in connection.execute("SELECT used FROM analyses ORDER BY key")]

    before = last_use()
    (tree / "pkg" / "m0.py").write_text(LOADER + "\n\nX = 1\n", encoding="utf-8")
    scan(["pkg"], config)
    after = last_use()
    assert len(after) == len(before) + 1  # the changed file's new analysis
    assert sorted(after)[: len(before)] == sorted(before)  # the others not rewritten


def test_cache_clear_on_an_unusable_cache_says_so(tree: Path) -> None:
    (tree / "not-a-directory").write_text("x", encoding="utf-8")
    result = invoke("cache", "clear", "--cache-dir", str(tree / "not-a-directory"))
    assert result.exit_code == 2
    assert "is unusable" in result.stderr
    assert "removed" not in result.stdout


def _memo_rows(where: Path) -> list[tuple[int, int]]:
    """Each stored row of memo entries: (seq, how many entries it holds)."""
    with sqlite3.connect(where / FILENAME) as connection:
        rows = connection.execute("SELECT seq, value FROM memo_entries ORDER BY seq")
        found = [(int(seq), sum(map(len, pickle.loads(value)))) for seq, value in rows]
    connection.close()
    return found


def test_a_rescan_stores_what_it_added_and_every_few_scans_all_it_used(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "MEMO_SLACK", 100.0)  # only the count of deltas decides
    monkeypatch.setattr(cache_module, "MEMO_DELTAS", 2)
    where = tree / "cache"
    config = Config(jobs=1, history=False, cache_dir=str(where))
    scan(["pkg"], config)
    assert [seq for seq, _ in _memo_rows(where)] == [0]
    seqs = []
    for number in range(3):
        (tree / "pkg" / "m0.py").write_text(LOADER + f"\n\nX = {number}\n", encoding="utf-8")
        assert scan(["pkg"], config) == scan(["pkg"], replace(config, cache=False))
        rows = _memo_rows(where)
        seqs.append([seq for seq, _ in rows])
        if number == 0:
            (_, whole), (_, delta) = rows
            assert delta < whole / 2  # the edited file's entries, not everything again
    assert seqs == [[0, 1], [0, 1, 2], [3]]  # with two deltas already: written whole, seq 3


def test_memos_are_written_whole_when_deltas_or_unused_entries_outgrow_them() -> None:
    def memos(earlier: int, used: int, fresh: int, held: int = 0) -> tuple[StoredMemos, int]:
        scores: Memo[float] = Memo({b"%d" % i: 1.0 for i in range(earlier)})
        for i in range(used - fresh):
            scores.get(b"%d" % i)
        for i in range(fresh):
            scores.put(b"new %d" % i, 1.0)
        return StoredMemos(scores=scores, held=held, deltas=1 if held else 0), fresh

    assert _compacts(*memos(earlier=0, used=10, fresh=10))  # nothing stored yet
    assert not _compacts(*memos(earlier=100, used=100, fresh=2))
    assert _compacts(*memos(earlier=100, used=100, fresh=2, held=30))  # deltas outgrew them
    assert _compacts(*memos(earlier=100, used=60, fresh=0))  # 40 entries no longer used


def test_an_unreadable_memo_row_leaves_the_scan_without_memos(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "MEMO_SLACK", 100.0)
    where = tree / "cache"
    config = Config(jobs=1, history=False, cache_dir=str(where))
    scan(["pkg"], config)
    (tree / "pkg" / "m0.py").write_text(LOADER + "\n\nX = 1\n", encoding="utf-8")
    scan(["pkg"], config)
    with sqlite3.connect(where / FILENAME) as connection:
        connection.execute("UPDATE memo_entries SET value = ? WHERE seq = 1", (b"garbage",))
        scope = connection.execute("SELECT scope FROM memo_entries").fetchone()[0]
    connection.close()
    cache = AnalysisCache(where)
    assert cache.load_memos(scope) == StoredMemos()
    cache.close()
    (tree / "pkg" / "m0.py").write_text(LOADER + "\n\nX = 2\n", encoding="utf-8")
    assert scan(["pkg"], config) == scan(["pkg"], replace(config, cache=False))
    assert [seq for seq, _ in _memo_rows(where)] == [2]  # stored whole again


def test_a_rescan_that_adds_nothing_stores_no_delta(tree: Path) -> None:
    where = tree / "cache"
    config = Config(jobs=1, history=False, cache_dir=str(where))
    scan(["pkg"], config)
    (tree / "pkg" / "notes.py").write_text("X = 1\n", encoding="utf-8")  # in no group
    assert scan(["pkg"], config) == scan(["pkg"], replace(config, cache=False))
    assert [seq for seq, _ in _memo_rows(where)] == [0]


def test_memos_written_whole_by_another_scan_are_not_followed_by_a_delta(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two scans of one scope at once: when the other one wrote the entries whole after this
    one loaded them, this one writes what it used whole too (a delta would follow entries it
    never read, and what it read would be lost)."""
    monkeypatch.setattr(cache_module, "MEMO_SLACK", 100.0)
    where = tree / "cache"
    config = Config(jobs=1, history=False, cache_dir=str(where))
    scan(["pkg"], config)
    real_load = AnalysisCache.load_memos

    def meanwhile(cache: AnalysisCache, scope: bytes, state: bool = True) -> StoredMemos:
        loaded = real_load(cache, scope, state)
        monkeypatch.setattr(AnalysisCache, "load_memos", real_load)
        monkeypatch.setattr(cache_module, "MEMO_DELTAS", 0)  # the other scan writes whole
        scan(["pkg"], config)
        monkeypatch.setattr(cache_module, "MEMO_DELTAS", 100)
        with sqlite3.connect(where / FILENAME) as connection:  # its result is not this test's
            connection.execute("DELETE FROM results")
        connection.close()
        return loaded

    monkeypatch.setattr(AnalysisCache, "load_memos", meanwhile)
    (tree / "pkg" / "m0.py").write_text(LOADER + "\n\nX = 1\n", encoding="utf-8")
    scan(["pkg"], config)  # loads seq 0; the other scan writes seq 1 whole; this one, seq 2
    assert [seq for seq, _ in _memo_rows(where)] == [2]


class _FullDisk:
    """A cache connection whose VACUUM fails, as on a full disk."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql == "VACUUM":
            raise sqlite3.OperationalError("database or disk is full")
        return self.connection.execute(sql, *args)


def test_a_cache_that_cannot_be_shrunk_is_left_in_wal_and_says_why(tree: Path) -> None:
    where = tree / "cache"
    scan(["pkg"], Config(jobs=1, history=False, cache_dir=str(where)))
    connection = sqlite3.connect(where / FILENAME, isolation_level=None)
    problem = cache_module._vacuum(_FullDisk(connection))  # type: ignore[arg-type]
    assert problem == "database or disk is full"
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()
