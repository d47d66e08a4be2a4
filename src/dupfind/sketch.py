"""Sketches: a small, persistent summary of every function and class, so that ``dupfind
similar`` finds the code most like a target without loading the whole corpus.

Design (decided for issue 6, "search before writing"):

* **What.** For every function and class of a file (commented-out code excluded), its
  bottom-``K`` sketch: the ``K`` smallest distinct values among its shingles (CRC-32 of every
  6-token window of the anchor sequence, ``fingerprint.shingles``), with its token count and its
  number of distinct shingles. A sketch depends on nothing but the file's own analysis (unlike
  the near-miss index of candidates.py, which picks each unit's *rarest* shingles by corpus
  frequency and so changes whenever any file changes), so it can be stored once per file.
* **Where.** A ``sketches`` table in the analysis cache's SQLite file, one row per file, keyed by
  the file's cache key (version, settings, path, content): written whenever the map stage has
  analysed files (``pipeline.cached_map``), so a normal ``dupfind scan`` warms it, and reused
  until the file changes. The value is five ``uint32`` arrays back to back (no pickle): about
  2,000 rows and 6 MB for the standard library, read in a few tens of milliseconds.
* **Query.** For a target's full shingle set T, a unit's ``c = |sketch ∩ T|`` out of its
  ``k`` sketch values estimates the share of its ``n`` distinct shingles found in T, hence
  ``|U ∩ T| ≈ min(c·n/k, |T|)`` (exact when ``n ≤ K``) and the Jaccard similarity
  ``|U ∩ T| / (n + |T| - |U ∩ T|)``. Units failing the length filter (normalised similarity can
  never exceed shorter/longer) are passed over first. One C set intersection per unit: about
  0.1 s for the standard library's 70,000 units. The caller (similar.py) rescores the best few
  dozen exactly with ``score.similarity`` from their files' cached analyses.
* **Rejected.** An inverted index in SQLite (one row per unit and sketch value, about 2 million
  rows for the standard library): its cold-scan writes and disk footprint are ten times larger,
  and the common structural shingles give posting lists of thousands of rows, so a query is no
  faster than scanning the sketches. MinHash with several hash functions: one Python-level hash
  per shingle and function would add seconds to every cold scan; the bottom-``K`` of CRC values
  costs one C sort per unit (about 3% of a cold scan).

A cache that cannot be read or written never fails a command: the problem becomes a note and
``dupfind similar`` analyses the files it has no sketch for.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from dupfind.cache import AnalysisCache
from dupfind.fingerprint import SHINGLE, window
from dupfind.models import FileAnalysis, UnitKind

K = 32
_SCHEMA = "CREATE TABLE IF NOT EXISTS sketches (key BLOB PRIMARY KEY, value BLOB NOT NULL)"
_WANTED = "CREATE TEMP TABLE IF NOT EXISTS wanted (key BLOB PRIMARY KEY)"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FileSketch:
    """The sketches of one file's units, column-wise: unit ``i`` is ``analysis.units[units[i]]``,
    with ``tokens[i]`` tokens, ``distinct[i]`` distinct shingles and the sketch
    ``hashes[bounds[i]:bounds[i + 1]]``."""

    units: array[int]
    tokens: array[int]
    distinct: array[int]
    bounds: array[int]
    hashes: array[int]

    def estimates(
        self, target: frozenset[int], shortest: float, longest: float
    ) -> Iterator[tuple[float, int]]:
        """(estimated Jaccard similarity with ``target``, unit index into the analysis) for each
        unit sharing a sketch value with it and between ``shortest`` and ``longest`` tokens."""
        size = len(target)
        bounds, hashes, distinct = self.bounds, self.hashes, self.distinct
        for i, tokens in enumerate(self.tokens):
            if tokens < shortest or tokens > longest:
                continue
            sketch = hashes[bounds[i] : bounds[i + 1]]
            shared = len(target.intersection(sketch))
            if shared:
                common = min(shared * distinct[i] / len(sketch), size)
                yield common / (distinct[i] + size - common), self.units[i]

    def encode(self) -> bytes:
        header = array("I", [len(self.units), len(self.hashes)])
        columns = (header, self.units, self.tokens, self.distinct, self.bounds, self.hashes)
        return b"".join(column.tobytes() for column in columns)

    @classmethod
    def decode(cls, value: bytes) -> FileSketch | None:
        """The sketch stored as ``value``; None if it is not one (a damaged row)."""
        data = array("I")
        try:
            data.frombytes(value)
        except ValueError:
            return None
        if len(data) < 3 or len(data) != 3 + 4 * data[0] + data[1]:
            return None
        count = data[0]
        starts = [2 + i * count for i in range(4)] + [3 + 4 * count]
        return cls(
            data[starts[0] : starts[1]], data[starts[1] : starts[2]], data[starts[2] : starts[3]],
            data[starts[3] : starts[4]], data[starts[4] :],
        )  # fmt: skip


def sketch_of(analysis: FileAnalysis) -> FileSketch:
    """The sketches of every function and class of one analysed file."""
    sketch = FileSketch(array("I"), array("I"), array("I"), array("I", [0]), array("I"))
    for index, unit in enumerate(analysis.units):
        if unit.kind is UnitKind.COMMENTED or unit.tokens < SHINGLE:
            continue
        shingles = window(analysis.shingles, unit.tok_start, unit.tok_end)
        sketch.units.append(index)
        sketch.tokens.append(unit.tokens)
        sketch.distinct.append(len(shingles))
        sketch.hashes.extend(sorted(shingles)[:K])
        sketch.bounds.append(len(sketch.hashes))
    return sketch


def record_sketches(cache: AnalysisCache, analyses: Mapping[bytes, FileAnalysis]) -> None:
    """Store the sketches of the analyses (by cache key) that have none yet."""

    def record(connection: sqlite3.Connection) -> None:
        stored = {bytes(key) for (key,) in _select(connection, analyses, "key")}
        rows = [(key, sketch_of(a).encode()) for key, a in analyses.items() if key not in stored]
        if rows:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(
                    "INSERT OR REPLACE INTO sketches (key, value) VALUES (?, ?)", rows
                )

    if analyses:
        _safely(cache, "written", record, None)


def load_sketches(cache: AnalysisCache, keys: Iterable[bytes]) -> dict[bytes, FileSketch]:
    """The stored sketches among ``keys``; damaged rows are deleted (and so made again the
    next time their files' analyses pass through the map stage)."""

    def load(connection: sqlite3.Connection) -> dict[bytes, FileSketch]:
        rows = _select(connection, keys, "key, value")
        found = {bytes(key): FileSketch.decode(bytes(value)) for key, value in rows}
        damaged = [(key,) for key, sketch in found.items() if sketch is None]
        if damaged:
            with connection:
                connection.executemany("DELETE FROM sketches WHERE key = ?", damaged)
        return {key: sketch for key, sketch in found.items() if sketch is not None}

    return _safely(cache, "read", load, {})


def clear_sketches(cache: AnalysisCache) -> None:
    """Delete every stored sketch (``dupfind cache clear``)."""

    def clear(connection: sqlite3.Connection) -> None:
        with connection:
            connection.execute("DELETE FROM sketches")

    _safely(cache, "cleared", clear, None)


def _safely(
    cache: AnalysisCache, doing: str, action: Callable[[sqlite3.Connection], T], default: T
) -> T:
    """``action`` on the cache's database (made ready for sketches); a cache that cannot be
    used gives ``default`` and a note, never an error."""
    if cache.connection is None:
        return default
    try:
        cache.connection.execute(_SCHEMA)
        return action(cache.connection)
    except sqlite3.Error as exc:
        cache.notes.append(f"cache {cache.path}: sketches could not be {doing} ({exc})")
        return default


def _select(
    connection: sqlite3.Connection, keys: Iterable[bytes], columns: str
) -> list[tuple[bytes, ...]]:
    """``columns`` of the sketches whose key is among ``keys``: the keys go to a temporary
    table and are joined, so any number of them is one query."""
    connection.execute(_WANTED)
    connection.execute("DELETE FROM temp.wanted")
    try:
        connection.execute("BEGIN")
        connection.executemany("INSERT OR IGNORE INTO temp.wanted VALUES (?)", ((k,) for k in keys))
        connection.execute("COMMIT")
        query = f"SELECT {columns} FROM sketches JOIN temp.wanted USING (key)"
        return list(connection.execute(query).fetchall())
    finally:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        connection.execute("DELETE FROM temp.wanted")
