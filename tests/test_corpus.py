"""The corpus state carried between scans (corpus.py): updated frequencies equal a fresh count,
reused selections equal fresh ones, and a rescan after any kind of change gives exactly the
result of a scan without the cache, while selecting afresh only what the change touched."""

from __future__ import annotations

import hashlib
import shutil
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dupfind import Config, pipeline, scan
from dupfind import candidates as candidates_module
from dupfind.cache import AnalysisCache
from dupfind.candidates import eligible_units, select_shingles
from dupfind.corpus import Corpus, Frequency, Selector, Update, count, references, update
from dupfind.keys import Keyed
from dupfind.models import CodeUnit, FileAnalysis, UnitKind
from dupfind.pipeline import Packed, analyse_source
from dupfind.sketch import load_sketches
from tests.conftest import FIXTURES

CASES = ("near_miss_55", "near_miss_75", "near_miss_90", "class_clone", "three_copies",
         "block_in_function", "module_level", "renamed_vars", "same_file")  # fmt: skip
SOURCES = sorted(path for case in CASES for path in (FIXTURES / "cases" / case).rglob("*.py"))
CONFIG = Config(jobs=1, history=False)


def _analysis(path: str, source: bytes) -> FileAnalysis:
    analysed = analyse_source(path, source, CONFIG)
    assert isinstance(analysed, FileAnalysis)
    return analysed


def _counted(analyses: Sequence[FileAnalysis]) -> Frequency:
    return Frequency.of(count(analyses))


def _key(analysis: FileAnalysis, source: bytes) -> bytes:
    return hashlib.blake2b(analysis.path.encode() + b"\0" + source, digest_size=16).digest()


POOL = [path.read_bytes() for path in SOURCES]
Tree = dict[str, int]  # path -> index into POOL
PATHS = [f"p/m{i}.py" for i in range(20)] + [f"tests/test_{i}.py" for i in range(4)]
BASE = {path: index % len(POOL) for index, path in enumerate(PATHS)}
# Up to 3 edits of the base tree: a path gets another source, or (None) is deleted.
edits = st.dictionaries(st.sampled_from([*PATHS, "p/new.py", "tests/test_new.py"]),
                        st.none() | st.integers(0, len(POOL) - 1), max_size=3)  # fmt: skip


def _analysed(tree: Tree) -> tuple[list[FileAnalysis], dict[str, bytes]]:
    analyses = [_analysis(path, POOL[index]) for path, index in sorted(tree.items())]
    keys = {a.path: _key(a, POOL[tree[a.path]]) for a in analyses}
    return analyses, keys


@settings(max_examples=40, deadline=None)
@given(changes=edits)
def test_an_updated_corpus_equals_a_fresh_one(changes: dict[str, int | None]) -> None:
    after = {p: i for p, i in (BASE | changes).items() if i is not None}
    old, old_keys = _analysed(BASE)
    select = Selector(keys=old_keys)
    select(old, eligible_units(old, CONFIG), _counted(old))
    previous = select.corpus(_counted(old), references(old))
    new, keys = _analysed(after)
    stored = {old_keys[a.path]: a for a in old}
    updated = update(previous, new, keys, lambda wanted: {k: stored[k] for k in wanted})
    assert updated is not None  # few files changed
    fresh = _counted(new)
    assert updated.frequency == fresh
    assert updated.references == references(new)
    units = eligible_units(new, CONFIG)
    reused = Selector(previous, updated.sensitive, keys)(new, units, updated.frequency)
    assert [list(s) for s in reused] == [list(s) for s in select_shingles(new, units, fresh)]


def test_selections_are_not_reused_once_an_exact_copy_is_renamed() -> None:
    """A renamed local changes a unit's exact tokens, not its shingles: no count changes, but
    the other copy's selection (made above its copy count) must be made afresh."""
    family = FIXTURES / "cases" / "family_member_copy" / "settings"
    copy, relatives = (family / "workers.py").read_bytes(), (family / "loaders.py").read_bytes()
    fillers = {f"f{i}.py": b"def f%d(x):\n    return x + %d\n" % (i, i) for i in range(10)}
    before = {"a.py": copy, "b.py": copy, "c.py": relatives, **fillers}
    after = before | {"b.py": copy.replace(b"handle", b"fh")}
    old = [_analysis(path, source) for path, source in sorted(before.items())]
    old_keys = {a.path: _key(a, before[a.path]) for a in old}
    select = Selector(keys=old_keys)
    select(old, eligible_units(old, CONFIG), _counted(old))
    previous = select.corpus(_counted(old), references(old))
    new = [_analysis(path, source) for path, source in sorted(after.items())]
    keys = {a.path: _key(a, after[a.path]) for a in new}
    stored = {old_keys[a.path]: a for a in old}
    updated = update(previous, new, keys, lambda wanted: {k: stored[k] for k in wanted})
    assert updated is not None and not updated.sensitive
    units = eligible_units(new, CONFIG)
    reused = Selector(previous, updated.sensitive, keys)(new, units, updated.frequency)
    fresh = select_shingles(new, units, _counted(new))
    assert [list(s) for s in reused] == [list(s) for s in fresh]


def test_a_corpus_survives_pickling_as_arrays() -> None:
    import pickle

    analyses, keys = _analysed({"p/a.py": 0, "p/b.py": 1})
    select = Selector(keys=keys)
    select(analyses, eligible_units(analyses, CONFIG), _counted(analyses))
    corpus = select.corpus(_counted(analyses), references(analyses))
    again = pickle.loads(pickle.dumps(corpus))
    assert isinstance(again, Corpus)
    assert again == corpus


def test_no_update_without_the_old_analyses_or_when_most_files_changed() -> None:
    analyses, keys = _analysed({f"p/m{i}.py": i for i in range(8)})
    select = Selector(keys=keys)
    select(analyses, eligible_units(analyses, CONFIG), _counted(analyses))
    previous = select.corpus(_counted(analyses), references(analyses))
    stored = {keys[a.path]: a for a in analyses}

    def lookup(wanted: Sequence[bytes]) -> dict[bytes, FileAnalysis]:
        return {key: stored[key] for key in wanted}

    changed = [_analysis("p/m0.py", POOL[9]), *analyses[1:]]
    changed_keys = keys | {"p/m0.py": b"new"}
    assert update(previous, changed, changed_keys, lookup) is not None
    assert update(previous, changed, changed_keys, lambda wanted: {}) is None  # evicted
    assert update(previous, analyses[:7], keys, lookup) is not None  # 1 of 8 gone
    assert update(previous, analyses[:1], keys, lookup) is None  # 7 of 8 gone: count afresh
    short = Counter(previous.frequency.table()) - count(analyses[:1])
    inflated = replace(previous, frequency=Frequency.of(short))
    assert update(inflated, analyses[1:], keys, lookup) is None  # counts that do not add up


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for case in CASES:
        shutil.copytree(FIXTURES / "cases" / case, tmp_path / "src" / case,
                        ignore=shutil.ignore_patterns("expected.json"))  # fmt: skip
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def selected(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[CodeUnit]]:
    """The units selected afresh (not reused from the previous scan)."""
    calls: list[CodeUnit] = []
    real = candidates_module._selected

    def counting(shingles: object, unit: CodeUnit, *rest: object) -> list[int]:
        calls.append(unit)
        return real(shingles, unit, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(candidates_module, "_selected", counting)
    yield calls


def _edits(root: Path) -> Iterator[str]:
    src = root / "src"
    near = sorted((src / "near_miss_90").rglob("*.py"))
    with near[0].open("a", encoding="utf-8") as handle:
        handle.write("\n\nX = 1\n")
    yield "a line appended to one file"
    shutil.copy(near[0], src / "copied.py")
    yield "a file copied: its shingles are now shared"
    near[0].unlink()
    yield "the original deleted: the copy stands alone"
    near[1].rename(src / "moved.py")
    yield "a file moved"
    text = (src / "three_copies").rglob("*.py").__next__()
    text.write_text(text.read_text(encoding="utf-8").replace("return", "return  0 or"), "utf-8")
    yield "every return of a file edited"


def test_rescans_after_every_kind_of_change_equal_scans_without_the_cache(
    project: Path, selected: list[CodeUnit], monkeypatch: pytest.MonkeyPatch
) -> None:
    updates: list[Update | None] = []

    def recording(*args: Any) -> Update | None:
        updates.append(update(*args))
        return updates[-1]

    monkeypatch.setattr(pipeline, "update", recording)
    config = replace(CONFIG, cache_dir=str(project / "cache"))
    scan(["src"], config)
    everything = len(selected)
    assert everything > 20
    for change in _edits(project):
        selected.clear()
        updates.clear()
        rescan = scan(["src"], config)
        afresh = len(selected)
        assert len(updates) == 1 and updates[0] is not None, change  # updated, not recounted
        assert rescan == scan(["src"], replace(config, cache=False)), change
        if change.startswith("a line appended"):
            assert 0 < afresh < everything / 4  # the changed file's units, not the others


def test_worker_packed_analyses_give_the_same_results_and_sketches(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(project / "src", project / "more")  # past POOL_MIN_FILES: a process pool
    packed: list[int] = []
    real = pipeline._unpacked

    def counting(result: Packed) -> FileAnalysis:
        packed.append(1)
        return real(result)

    monkeypatch.setattr(pipeline, "_unpacked", counting)
    config = Config(jobs=2, history=False, cache_dir=str(project / "cache"))
    files = len(list(project.rglob("*.py")))
    assert files >= pipeline.POOL_MIN_FILES
    cold = scan(["src", "more"], config)
    assert len(packed) == files
    assert cold == scan(["src", "more"], replace(config, cache=False, jobs=1))
    cache = AnalysisCache.at(str(project / "cache"))
    try:
        keys = Keyed.of(sorted(str(p.relative_to(project)) for p in project.rglob("*.py")), config)
        assert set(load_sketches(cache, keys.keys.values())) == set(keys.keys.values())
    finally:
        cache.close()


_COUNTS = st.dictionaries(st.integers(0, 2**32 - 1), st.integers(1, 300), max_size=40)


@settings(max_examples=100, deadline=None)
@given(base=_COUNTS, changes=st.dictionaries(st.integers(0, 2**32 - 1), st.integers(0, 300)))
def test_stored_counts_with_changes_read_as_the_counts_they_stand_for(
    base: dict[int, int], changes: dict[int, int]
) -> None:
    """A rescan's counts are the stored arrays plus changes (0: the shingle is gone): every
    lookup, the table, the stored form and equality agree with a plain dictionary."""
    expected = {s: c for s, c in (base | changes).items() if c}
    stored = Frequency(*Frequency.of(base).packed())
    assert list(stored.shingles) == sorted(base)  # the stored form is sorted
    frequency = stored.changed(changes)
    for shingle in [*base, *changes, 7, 2**32 - 1]:
        assert frequency[shingle] == expected.get(shingle, 0)
    assert frequency.table() == expected
    shingles, counts = frequency.packed()
    assert list(shingles) == sorted(expected)
    assert dict(zip(shingles, counts, strict=True)) == expected
    assert frequency == Frequency.of(expected)
    assert (frequency == stored) == (base == expected)


@settings(max_examples=500, deadline=None)
@given(
    window=st.lists(st.integers(0, 29), min_size=1, max_size=90).map(lambda w: [*range(30), *w]),
    before=st.lists(st.integers(1, 230), min_size=30, max_size=30),
    moved=st.dictionaries(st.integers(0, 29), st.integers(1, 230), max_size=8),
    copies=st.integers(1, 4),
)
def test_a_selection_said_to_hold_is_the_one_made_afresh(
    window: list[int], before: list[int], moved: dict[int, int], copies: int
) -> None:
    """``still_selected`` may ask for more selecting than needed, never for less: whenever it
    says a unit's selection holds after some counts moved, selecting afresh gives it."""
    from dupfind.candidates import COMMON, _selected, still_selected
    from dupfind.fingerprint import SHINGLE

    shingles = array("I", window)
    unit = CodeUnit(UnitKind.FUNCTION, "f", 1, 2, 0, len(window) + SHINGLE - 1, b"e", b"s")
    old = {s: before[s] for s in window}
    new = old | {s: count for s, count in moved.items() if s in old}
    changed = {s for s in old if old[s] != new[s]}

    def chosen(counts: dict[int, int]) -> list[int]:
        unshared = {s for s, count in counts.items() if count == 1 or count > COMMON}
        return _selected(shingles, unit, unshared, counts, copies)

    selection = chosen(old)
    if still_selected(selection, changed, Frequency.of(new), unit, copies):
        assert chosen(new) == selection


def test_a_common_shingle_whose_count_moved_leaves_a_selection_alone() -> None:
    """A statement like ``X = 1`` added somewhere moves the counts of common shingles: the
    units holding them keep their selections of rarer ones."""
    from dupfind.candidates import _selected, still_selected

    unit = CodeUnit(UnitKind.FUNCTION, "f", 1, 2, 0, 35, b"e", b"s")
    shingles = array("I", range(30))
    counts = {s: 2 + s for s in range(29)} | {29: 150}
    selection = _selected(shingles, unit, set(), counts)
    assert 29 not in selection
    moved = Frequency.of(counts | {29: 151})
    assert still_selected(selection, {29}, moved, unit, 1)
    assert not still_selected(selection, {29}, Frequency.of(counts | {29: 2}), unit, 1)


class _Shingled:
    def __init__(self, values: list[int]) -> None:
        self.shingles = array("I", values)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 20), max_size=30), max_size=8),
    st.sets(st.integers(0, 20), min_size=1),
)
def test_sensitive_positions_are_found_in_every_file_at_once(
    files: list[list[int]], wanted: set[int]
) -> None:
    """corpus._positions over all files at once: each file's positions of the wanted
    shingles, in order, as a pass over each file finds them (files with none left out)."""
    import numpy as np

    from dupfind.corpus import _positions

    shingled = cast(list[FileAnalysis], [_Shingled(values) for values in files])
    expected = {
        index: [position for position, value in enumerate(values) if value in wanted]
        for index, values in enumerate(files)
        if any(value in wanted for value in values)
    }
    assert _positions(shingled, np.array(sorted(wanted), np.uint32)) == expected
