from __future__ import annotations

import sqlite3
from array import array
from pathlib import Path

from dupfind.cache import AnalysisCache
from dupfind.config import Config
from dupfind.fingerprint import window
from dupfind.models import FileAnalysis, UnitKind
from dupfind.pipeline import analyse_source
from dupfind.sketch import FileSketch, K, load_sketches, record_sketches, sketch_of
from tests.conftest import LOADER, LOADER_RENAMED

BIG = "\n".join(
    [LOADER, *(LOADER.replace("load_settings", f"load_{i}") for i in range(3)), "class Holder:\n"]
) + "".join(f"    def m{i}(self, x):\n        return x + {i} * self.field_{i}\n" for i in range(40))
NO_SHAPE = bytes(16)
READ_ONLY = "attempt to write a readonly database"
COMMENTED = LOADER + "\n# def old(a, b):\n#     total = a + b\n#     return total * 2\n"


def _analysis(source: str) -> FileAnalysis:
    found = analyse_source("m.py", source.encode(), Config())
    assert isinstance(found, FileAnalysis)
    return found


def test_each_function_and_class_gets_its_k_smallest_shingles() -> None:
    analysis = _analysis(BIG)
    sketch = sketch_of(analysis)
    assert len(sketch.units) == len(analysis.units) == 45
    holder = list(sketch.units).index(
        next(i for i, u in enumerate(analysis.units) if u.qualname == "Holder")
    )
    unit = analysis.units[sketch.units[holder]]
    shingles = window(analysis.shingles, unit.tok_start, unit.tok_end)
    assert sketch.distinct[holder] == len(shingles) > K
    values = sketch.hashes[sketch.bounds[holder] : sketch.bounds[holder + 1]]
    assert list(values) == sorted(shingles)[:K]


def test_commented_out_code_is_not_sketched() -> None:
    analysis = _analysis(COMMENTED)
    assert {u.kind for u in analysis.units} == {UnitKind.FUNCTION, UnitKind.COMMENTED}
    sketch = sketch_of(analysis)
    assert [analysis.units[i].kind for i in sketch.units] == [UnitKind.FUNCTION]


def test_estimates_are_jaccard_similarities_when_the_sketch_is_complete() -> None:
    analysis = _analysis("def f(a, b):\n    total = a + b\n    return total * 2\n")
    sketch = sketch_of(analysis)
    (unit,) = analysis.units
    whole = frozenset(window(analysis.shingles, unit.tok_start, unit.tok_end))
    assert len(whole) <= K
    assert list(sketch.estimates(whole, NO_SHAPE, 0, 1000)) == [(1.0, 0)]
    half = frozenset(sorted(whole)[: len(whole) // 2])
    ((estimate, _),) = sketch.estimates(half, NO_SHAPE, 0, 1000)
    assert estimate == len(half) / len(whole)
    assert (
        list(sketch.estimates(whole, unit.shape_digest, unit.tokens + 1, 1000)) == []
    )  # the length filter
    assert list(sketch.estimates(frozenset({1, 2, 3}), NO_SHAPE, 0, 1000)) == []  # nothing shared


def test_estimates_never_exceed_one_when_the_sketch_is_a_sample() -> None:
    analysis = _analysis(LOADER)
    (unit,) = analysis.units
    whole = sorted(window(analysis.shingles, unit.tok_start, unit.tok_end))
    assert len(whole) > K
    for size in (K, len(whole) // 2, len(whole) - 1):
        ((estimate, _),) = sketch_of(analysis).estimates(frozenset(whole[:size]), NO_SHAPE, 0, 1000)
        assert 0 < estimate <= size / len(whole)


def test_encoding_round_trips_and_damage_is_detected() -> None:
    sketch = sketch_of(_analysis(BIG))
    assert FileSketch.decode(sketch.encode()) == sketch
    assert FileSketch.decode(b"\x01\x02\x03") is None  # not whole uint32s
    assert FileSketch.decode(array("I", [5, 0, 1]).tobytes()) is None  # counts do not add up
    assert FileSketch.decode(b"") is None


def test_the_store_keeps_one_row_per_key_and_fails_softly(tmp_path: Path) -> None:
    cache = AnalysisCache(tmp_path)
    first, second = _analysis(LOADER), _analysis(LOADER_RENAMED)
    record_sketches(cache, {b"a": first})
    record_sketches(cache, {b"a": second, b"b": second})  # "a" is kept as it was
    stored = load_sketches(cache, [b"a", b"b", b"missing"])
    assert stored == {b"a": sketch_of(first), b"b": sketch_of(second)}
    cache.clear()  # the cache's own clear empties the sketches too
    assert load_sketches(cache, [b"a", b"b"]) == {}
    assert cache.connection is not None
    cache.connection.close()
    assert load_sketches(cache, [b"a"]) == {}
    record_sketches(cache, {b"c": first})
    assert [n.split(" (")[0] for n in cache.notes] == [
        f"cache {cache.path}: sketches could not be read",
        f"cache {cache.path}: sketches could not be read",  # which are stored already
    ]


def test_sketches_are_written_through_the_cache_and_a_failed_write_is_a_note(
    tmp_path: Path,
) -> None:
    """A cache that can be read but not written: the search still gets the sketches it can
    read, and each failed write (a new sketch, a damaged row deleted) is a note."""
    cache = AnalysisCache(tmp_path)
    record_sketches(cache, {b"a": _analysis(LOADER)})
    assert cache.connection is not None
    cache.connection.execute("INSERT INTO sketches VALUES (x'64', x'0102')")  # damaged
    cache.connection.close()
    cache.connection = sqlite3.connect(f"file:{cache.path}?mode=ro", uri=True, isolation_level=None)
    record_sketches(cache, {b"b": _analysis(LOADER_RENAMED)})
    assert set(load_sketches(cache, [b"a", b"b", b"d"])) == {b"a"}
    assert cache.notes == [f"cache {cache.path} could not be written ({READ_ONLY})"] * 2


def test_without_a_usable_cache_nothing_is_stored(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    cache = AnalysisCache(tmp_path / "file")
    assert cache.connection is None
    notes = list(cache.notes)
    record_sketches(cache, {b"a": _analysis(LOADER)})  # does nothing, and does not fail
    assert load_sketches(cache, [b"a"]) == {}
    assert cache.notes == notes  # the unusable cache was reported once, when opened
    assert (tmp_path / "file").read_text() == "not a directory"


def test_a_unit_of_the_same_shape_is_a_certain_candidate_even_sharing_no_shingle() -> None:
    """Renamed attributes change most shingles (attribute names are kept in them) but not the
    shape: such a copy is a certain candidate through its shape digest."""
    first = _analysis("def f(p):\n    return p.alpha + p.beta * p.gamma - p.delta\n")
    second = _analysis("def g(q):\n    return q.one + q.two * q.three - q.four\n")
    (unit,) = first.units
    shingles = frozenset(window(first.shingles, unit.tok_start, unit.tok_end))
    other = sketch_of(second)
    ((estimate, _),) = other.estimates(shingles, NO_SHAPE, 0, 1000)
    assert estimate < 0.2  # only the shingles without an attribute name are shared
    assert list(other.estimates(shingles, unit.shape_digest, 0, 1000)) == [(1.0, 0)]


def test_enclosing_units_are_sketched_from_their_parts_exactly() -> None:
    """A class of methods larger than K: its K smallest values are those of its whole span, and
    its distinct count an estimate close to the truth."""
    body = "".join(
        "    " + line + "\n"
        for i in range(6)
        for line in LOADER.replace("load_settings", f"load_{i}")
        .replace("settings", f"s{i}")
        .splitlines()
    )
    analysis = _analysis("class Loaders:\n" + body)
    sketch = sketch_of(analysis)
    for row, index in enumerate(sketch.units):
        unit = analysis.units[index]
        whole = window(analysis.shingles, unit.tok_start, unit.tok_end)
        assert list(sketch.hashes[sketch.bounds[row] : sketch.bounds[row + 1]]) == sorted(whole)[:K]
        assert 0.6 * len(whole) <= sketch.distinct[row] <= 1.6 * len(whole)
