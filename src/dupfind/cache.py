"""Incremental cache: per-file map results in one SQLite file, so a rescan only re-analyses
the files that changed.

Key: BLAKE2b of dupfind's version, the settings that change per-file results
(``Config.analysis_key``), the reported path and the file's bytes. Value: the pickled
``FileAnalysis``. SQLite (stdlib) in WAL mode with short transactions: several dupfind
processes can share one cache, and a scan interrupted at any point leaves it consistent (a
transaction is either in or not). A cache that cannot be opened or read (corrupt, not a
database) is deleted and rebuilt, and the scan says so; it is never a reason to fail a scan.

Second table: whole-scan results (``ScanResult``) keyed by everything a result depends on
(pipeline.``_result_key``), so a scan of unchanged inputs is answered without the global stages;
the ``KEPT_BLOBS`` most recently used are kept. Third table: per scope, the corpus state of
the last scan (corpus.py) and its git answers (history.py); with, in a fourth, the scope's memo
entries (memo.py): the entries a scan used, then one delta per rescan holding only what it
added (``MEMO_DELTAS``, ``MEMO_SLACK``: ``_compacts``). So a rescan after a small change scores,
compares and asks git only about what changed, and stores little more than that.
Fifth: per analysis, the sketches ``dupfind similar`` searches (sketch.py). Growth is bounded:
an analysis no scan used for ``MAX_AGE_DAYS`` is deleted with its sketch, and only the last
``KEPT_RUNS`` hit-rate records are kept.

A long-lived process (``dupfind scan --watch``, ``dupfind mcp``) passes a ``Resident``
(state.py): what it read or stored is served from memory; the file is still written as by any
scan. The file's generation (``PRAGMA user_version``, stamped when made and when cleared) tells
a Resident when what it holds no longer came from this file.

Default location: ``$XDG_CACHE_HOME/dupfind`` (else ``~/.cache/dupfind``); ``--cache-dir``
moves it, ``--no-cache`` turns it off.
"""

from __future__ import annotations

import os
import pickle
import secrets
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeGuard, cast

from dupfind.corpus import Corpus
from dupfind.history import Remembered
from dupfind.memo import Memo
from dupfind.models import (
    Classified,
    Compared,
    DifferenceRow,
    FileAnalysis,
    ScanResult,
    packed_differences,
    unpacked_differences,
)
from dupfind.state import Resident, StoredMemos

FILENAME = "cache.sqlite3"
_StoredCompared = tuple[tuple[DifferenceRow, ...], str]  # Compared, packed (models.Difference)
_Entries = tuple[dict[bytes, float], dict[bytes, _StoredCompared], dict[bytes, Classified]]
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS analyses (key BLOB PRIMARY KEY, value BLOB NOT NULL, "
    "used REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, at REAL, hits INTEGER, "
    "misses INTEGER)",
    "CREATE TABLE IF NOT EXISTS results (key BLOB PRIMARY KEY, value BLOB NOT NULL, "
    "used REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS memos (key BLOB PRIMARY KEY, value BLOB NOT NULL, "
    "used REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS memo_entries (scope BLOB NOT NULL, seq INTEGER NOT NULL, "
    "value BLOB NOT NULL, PRIMARY KEY (scope, seq))",
    "CREATE TABLE IF NOT EXISTS sketches (key BLOB PRIMARY KEY, value BLOB NOT NULL)",
    # Expiry reads "used" on every scan: an index, not a pass over every row of the cache.
    "CREATE INDEX IF NOT EXISTS analyses_used ON analyses (used)",
)
MAX_AGE_DAYS = 30  # an analysis no scan used for this long is deleted
CHUNK = 500  # keys per query (SQLite allows at least 999 parameters)
TOUCH_SECONDS = 3600  # an analysis's last use is recorded to this precision
LOCK_TIMEOUT = 30.0  # seconds to wait for another process's write before giving up
KEPT_RUNS = 100  # hit-rate records
# Pages of 16 KiB, not SQLite's 4: every analysis (80 KB on average) and stored result is a
# chain of overflow pages. A rescan of the stdlib then stores in 0.12 s instead of 0.17 s.
PAGE_SIZE = 16384
KEPT_BLOBS = 16  # whole-scan results, and memos, kept (one per tree, settings, git state)
MEMO_DELTAS = 8  # a scope's memo deltas before its entries are written whole again
MEMO_SLACK = 0.25  # ... or once deltas, or entries the scan did not use, pass this share of it
_INSERT = "INSERT OR REPLACE INTO {} (key, value, used) VALUES (?, ?, ?)"
_PRUNE = "DELETE FROM {0} WHERE key NOT IN (SELECT key FROM {0} ORDER BY used DESC LIMIT ?)"


def _compacts(memos: StoredMemos, fresh: int) -> bool:
    """Whether a scan writes its memos' entries whole: when ``MEMO_DELTAS`` deltas are stored
    after them already, or they hold more than ``MEMO_SLACK`` of the entries this scan used, or
    when more than that share of the stored entries went unused; or when it used none of them
    (nothing was stored, or it could not be read: a delta after it would not be read either).
    ``fresh``: how many entries the scan added."""
    parts = (memos.scores, memos.compared, memos.verdicts)
    used = sum(len(memo.used) for memo in parts)
    unused = sum(len(memo.earlier) for memo in parts) - (used - fresh)
    slack = MEMO_SLACK * used
    if used == fresh or memos.deltas >= MEMO_DELTAS:  # nothing stored (or read) is used
        return True
    return memos.held + fresh > slack or unused > slack


def _result_layout(value: object) -> TypeGuard[tuple[ScanResult, tuple[bytes | None, ...]]]:
    """Whether a stored value is a result with its memo keys, as ``store_result`` writes."""
    if not isinstance(value, tuple) or len(value) != 2:
        return False
    result, keys = value
    return (
        isinstance(result, ScanResult)
        and isinstance(keys, tuple)
        and len(keys) == len(result.recommendations)
        and all(key is None or isinstance(key, bytes) for key in keys)
    )


def _unpickled_entries(value: bytes) -> _Entries | None:
    """A stored row of memo entries: (scores, compared, verdicts); None if unreadable."""
    try:
        parts = pickle.loads(value)
    except Exception:
        return None
    ok = isinstance(parts, tuple) and len(parts) == 3 and all(isinstance(p, dict) for p in parts)
    return cast(_Entries, parts) if ok else None


def default_directory() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dupfind"


@dataclass(frozen=True, slots=True)
class CacheInfo:
    path: str
    entries: int
    size_bytes: int
    last_hits: int
    last_misses: int

    @property
    def hit_rate(self) -> float:
        total = self.last_hits + self.last_misses
        return self.last_hits / total if total else 0.0


class AnalysisCache:
    """One SQLite cache file; every failure to use it degrades to "no cache" plus a note."""

    @classmethod
    def at(cls, cache_dir: str | None, resident: Resident | None = None) -> AnalysisCache:
        """The cache in ``cache_dir`` (``--cache-dir``), or in the default location, read
        through ``resident`` when the process keeps one."""
        return cls(Path(cache_dir) if cache_dir else default_directory(), resident)

    def __init__(self, directory: Path, resident: Resident | None = None) -> None:
        self.path = directory / FILENAME
        self.notes: list[str] = []
        self.resident = resident
        self.generation: int | None = None  # read when opened (``_generation``)
        self.held: list[tuple[str, Sequence[tuple[object, ...]]]] | None = None  # ``hold``
        self.connection = self._open()
        if resident is not None:  # what it holds came from this file, as it is now
            resident.adopt((str(self.path), self.generation))

    def _open(self) -> sqlite3.Connection | None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return self._connect()
        except sqlite3.OperationalError as exc:
            if not _in_use(exc):
                return self._rebuilt(exc)
            self.notes.append(
                f"cache {self.path} could not be opened ({exc}): another dupfind may be "
                "updating it, or it is read-only; scanning without it"
            )
        except sqlite3.DatabaseError as exc:
            return self._rebuilt(exc)
        except OSError as exc:
            self.notes.append(f"cache {self.path} is unusable ({exc}); scanning without")
        return None

    def _rebuilt(self, exc: sqlite3.DatabaseError) -> sqlite3.Connection | None:
        """A corrupt or unreadable cache file, replaced by an empty one (with a note)."""
        self.notes.append(f"cache {self.path} was unreadable ({exc}); rebuilt it")
        try:
            self.path.unlink(missing_ok=True)
            return self._connect()
        except (OSError, sqlite3.Error) as again:
            self.notes.append(f"cache {self.path} is unusable ({again}); scanning without")
        return None

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT, isolation_level=None)
        connection.execute(f"PRAGMA page_size={PAGE_SIZE}")  # a new file's only: before WAL
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            connection.execute(statement)
        connection.execute("SELECT count(*) FROM analyses").fetchone()  # fails if corrupt
        if _generation(connection) == 0:
            _restamp(connection)
        self.generation = _generation(connection)
        return connection

    def lookup(self, keys: Sequence[bytes]) -> dict[bytes, FileAnalysis]:
        """The cached analyses among ``keys`` (unreadable entries count as misses), those the
        process keeps (``Resident``) not read again."""
        held = self.resident.analyses if self.resident is not None else {}
        found = {key: held[key] for key in keys if key in held}
        missing = [key for key in keys if key not in found]
        if missing:
            found.update(_unpickled(self.rows("analyses", missing) or ()))
        return found

    def keep(self, *analyses: Mapping[bytes, FileAnalysis]) -> None:
        """The analyses a scan used (in one or more mappings), kept in memory for the next when
        the process keeps a ``Resident`` (only these: the others are dropped)."""
        if self.resident is not None:
            self.resident.analyses = {key: a for part in analyses for key, a in part.items()}

    def rows(
        self, table: str, keys: Iterable[bytes], columns: str = "key, value", by: str = "key"
    ) -> list[tuple[bytes, ...]] | None:
        """``columns`` of the rows of ``table`` whose ``by`` column is among ``keys``, in
        chunks of ``CHUNK`` keys per query (the one way rows are read by key); None, with a
        note, when the cache cannot be read."""
        if self.connection is None:
            return None
        wanted = list(keys)
        found: list[tuple[bytes, ...]] = []
        try:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT {columns} FROM {table} WHERE {by} IN ({marks})"
                found.extend(self.connection.execute(query, chunk).fetchall())
        except sqlite3.DatabaseError as exc:
            self.notes.append(f"cache {self.path}: {table} could not be read ({exc})")
            return None
        return found

    def store(
        self,
        items: Iterable[tuple[bytes, bytes]],
        hits: int,
        misses: int,
        reused: Iterable[bytes] = (),
    ) -> None:
        """Add new analyses (``pack``ed), mark the ``reused`` ones as used now, record this
        run's hit rate and drop what no scan used for ``MAX_AGE_DAYS``, in one transaction."""
        if self.connection is None:
            return
        now = time.time()
        rows = [(key, value, now) for key, value in items]
        stale = now - MAX_AGE_DAYS * 86400
        self.write(
            ("INSERT OR REPLACE INTO analyses (key, value, used) VALUES (?, ?, ?)", rows),
            (  # marked used at most once an hour: expiry counts in days (no rewrite per rescan)
                "UPDATE analyses SET used = ? WHERE key = ? AND used < ?",
                [(now, key, now - TOUCH_SECONDS) for key in reused],
            ),
            ("INSERT INTO runs (at, hits, misses) VALUES (?, ?, ?)", [(now, hits, misses)]),
            (  # the expiring analyses' sketches (by the index), not a pass over every sketch
                "DELETE FROM sketches WHERE key IN (SELECT key FROM analyses WHERE used < ?)",
                [(stale,)],
            ),
            ("DELETE FROM analyses WHERE used < ?", [(stale,)]),
            ("DELETE FROM runs WHERE id <= (SELECT max(id) FROM runs) - ?", [(KEPT_RUNS,)]),
        )

    def hold(self) -> None:
        """Queue what is written from now until ``release`` (or ``close``): a long-lived
        process writes a rescan's fresh analyses after it reported (pipeline.flush), with the
        rest it stores, not while the report waits (0.03 s of a one-file stdlib rescan). Not
        its first scan's: the next would wait for all of them (0.5 s on the stdlib); nor
        many (``pipeline.HOLD_FRESH_UP_TO``), which would stay in memory to the store."""
        self.held = []

    def release(self) -> None:
        """Write what ``hold`` queued, in one transaction, and stop holding."""
        held, self.held = self.held, None
        if held:
            self.write(*held)

    def write(self, *statements: tuple[str, Sequence[tuple[object, ...]]]) -> bool:
        """Run each statement over its rows, all in one transaction (a failure is a note): the
        one way anything writes to the cache (sketch.py too). Whether it was written (queued,
        while writes are held: ``hold``)."""
        if self.connection is None:
            return False
        if self.held is not None:
            self.held.extend(statements)
            return True
        try:
            with self.connection:
                self.connection.execute("BEGIN IMMEDIATE")
                for sql, rows in statements:
                    self.connection.executemany(sql, rows)
        except sqlite3.Error as exc:
            self.notes.append(f"cache {self.path} could not be written ({exc})")
            return False
        return True

    def load_memos(self, scope: bytes, state: bool = True) -> StoredMemos:
        """The memos (memo.py), corpus state (corpus.py) and git answers (history.py) the last
        scan of ``scope`` stored; empty ones if none, or if any part is unreadable. (The
        scope's key holds the code's identity: a stored value is in this code's layout.)
        Without ``state``, the memos alone (what a stored result needs): ``with_state``
        reads the rest. Those a ``Resident`` keeps are not read again."""
        kept = self._kept(scope)
        if kept is not None:
            reopened = kept.reopened()
            return reopened if state else replace(reopened, corpus=None, history=None)
        rows = self.rows("memo_entries", [scope], "seq, value", "scope")
        if rows is None:
            return StoredMemos()
        scores: dict[bytes, float] = {}
        compared: dict[bytes, _StoredCompared] = {}
        verdicts: dict[bytes, Classified] = {}
        held = deltas = 0
        ordered = sorted(cast(list[tuple[int, bytes]], rows))  # written whole, then the deltas
        for seq, value in ordered:
            parts = _unpickled_entries(value)
            if parts is None:
                return StoredMemos()
            scores.update(parts[0])
            compared.update(parts[1])
            verdicts.update(parts[2])
            if seq != ordered[0][0]:
                held += len(parts[0]) + len(parts[1]) + len(parts[2])
                deltas += 1
        try:
            rebuilt = {
                key: (unpacked_differences(rows), sig) for key, (rows, sig) in compared.items()
            }
        except (TypeError, ValueError):  # not this layout: unreadable
            return StoredMemos()
        memos = Memo(scores), Memo(rebuilt), Memo(verdicts)
        base = ordered[0][0] if ordered else None
        loaded = StoredMemos(*memos, held=held, deltas=deltas, base=base)
        return self.with_state(scope, loaded) if state else loaded

    def with_state(self, scope: bytes, memos: StoredMemos) -> StoredMemos:
        """``memos`` of ``scope`` with the corpus state and git answers stored with them
        (``load_memos``); empty memos if those are missing or unreadable."""
        kept = self._kept(scope)
        if kept is not None:
            return replace(memos, corpus=kept.corpus, history=kept.history)
        state = self._blob("memos", scope)  # its last use: when the scan stores, or its result
        if not isinstance(state, tuple) or len(state) != 2:
            return StoredMemos()  # none, unreadable, or not this layout
        corpus, history = cast(tuple[Corpus | None, Remembered | None], state)
        return replace(memos, corpus=corpus, history=history)

    def _kept(self, scope: bytes) -> StoredMemos | None:
        """The memos of ``scope`` the process keeps, if it keeps any (``Resident``)."""
        return self.resident.memos.get(scope) if self.resident is not None else None

    def store_memos(self, scope: bytes, memos: StoredMemos) -> None:
        """Keep what this scan added to the scope's memos as a delta (nothing if it added
        nothing), or, once ``_compacts`` or when another scan wrote them whole since they were
        loaded (a delta would follow entries it never read), what it used, replacing the
        scope's entries; and its corpus state and git answers. Seqs only grow: a row written
        whole gets the next one and the rows before it go, in one transaction."""
        first = cast(
            list[tuple[int | None]] | None, self.rows("memo_entries", [scope], "min(seq)", "scope")
        )
        added = memos.scores.fresh(), memos.compared.fresh(), memos.verdicts.fresh()
        fresh = len(added[0]) + len(added[1]) + len(added[2])
        whole = _compacts(memos, fresh) or first != [(memos.base,)]
        if whole:
            scores, compared, verdicts = memos.scores.used, memos.compared.used, memos.verdicts.used
        else:
            scores, compared, verdicts = added
        packed = {key: (packed_differences(d), sig) for key, (d, sig) in compared.items()}
        state = pickle.dumps((memos.corpus, memos.history), protocol=5)
        statements: list[tuple[str, Sequence[tuple[object, ...]]]] = [
            (_INSERT.format("memos"), [(scope, state, time.time())]),
            (_PRUNE.format("memos"), [(KEPT_BLOBS,)]),
            ("DELETE FROM memo_entries WHERE scope NOT IN (SELECT key FROM memos)", [()]),
        ]
        if whole or scores or packed or verdicts:
            entries = pickle.dumps((scores, packed, verdicts), protocol=5)
            statements.append((
                "INSERT INTO memo_entries (scope, seq, value) "
                "SELECT ?, coalesce(max(seq) + 1, 0), ? FROM memo_entries WHERE scope = ?",
                [(scope, entries, scope)],
            ))  # fmt: skip
        if whole:
            statements.append((
                "DELETE FROM memo_entries WHERE scope = ? AND seq < "
                "(SELECT max(seq) FROM memo_entries WHERE scope = ?)",
                [(scope, scope)],
            ))  # fmt: skip
        written = self.write(*statements)
        if self.resident is not None:
            self._reside(scope, memos, written, whole)

    def _reside(self, scope: bytes, memos: StoredMemos, written: bool, whole: bool) -> None:
        """Keep ``memos`` as the next ``load_memos`` of ``scope`` would read them back
        (``Resident.roll``), under the seq read back when written ``whole``. Dropped when the
        file was not written or cannot be read back: the next scan reads the file."""
        resident = cast(Resident, self.resident)
        resident.memos.pop(scope, None)
        if not written:
            return
        base = memos.base
        if whole:
            seq = cast(list[tuple[int | None]] | None,
                       self.rows("memo_entries", [scope], "min(seq)", "scope"))  # fmt: skip
            if not seq or seq[0][0] is None:
                return
            base = seq[0][0]
        resident.roll(scope, memos, whole, base)

    def preload(self, scope: bytes, memos: StoredMemos, keys: Mapping[str, bytes]) -> None:
        """After a stored result was reused, what the next scan of ``scope`` would read from
        the file, read into the ``Resident`` now: ``memos`` (as ``load_memos`` read them)
        with their state, and the files' analyses (by their ``keys``)."""
        resident = cast(Resident, self.resident)
        if scope not in resident.memos:
            self.keep(self.lookup(list(keys.values())))
            resident.hold(scope, self.with_state(scope, memos))

    def load_result(
        self, key: bytes, scope: bytes, compared: Mapping[bytes, Compared]
    ) -> ScanResult | None:
        """The stored result of a scan of exactly these inputs, if any (see pipeline.py), its
        recommendations' differences and signatures read from ``compared``, the memo entries
        of its ``scope`` (``store_result``); None if one is no longer there (a later scan of
        the scope wrote the memos whole without it): the scan runs again. A result used marks
        its scope's memos used too, or they would be pruned under it."""
        value = self._blob("results", key)
        if not _result_layout(value):
            return None
        result, keys = value
        recommendations = []
        for recommendation, compared_key in zip(result.recommendations, keys, strict=True):
            if compared_key is not None:
                known = compared.get(compared_key)
                if known is None:  # not marked used: a rescan may not use it
                    return None
                recommendation = replace(recommendation, differences=known[0], signature=known[1])
            recommendations.append(recommendation)
        now = time.time()
        self.write(*((f"UPDATE {table} SET used = ? WHERE key = ?", [(now, row)])
                     for table, row in (("results", key), ("memos", scope))))  # fmt: skip
        return replace(result, recommendations=tuple(recommendations))

    def store_result(
        self, key: bytes, result: ScanResult, compared: Sequence[bytes | None]
    ) -> None:
        """Keep ``result`` under ``key``. A recommendation's differences and signature are
        in the scope's memos already, under its ``compared`` key (classify.py): the result
        refers to them rather than holding a second copy, which was two thirds of the 9.5 MB
        the stdlib's result took, and a fifth of a rescan's time to pickle and write."""
        bare = tuple(
            recommendation
            if compared_key is None
            else replace(recommendation, differences=(), signature="")
            for recommendation, compared_key in zip(result.recommendations, compared, strict=True)
        )
        self._put_blob("results", key, (replace(result, recommendations=bare), tuple(compared)))

    def _blob(self, table: str, key: bytes) -> object:
        """The unpickled value under ``key`` in ``table`` (None if missing or unreadable)."""
        if self.connection is None:
            return None
        try:
            row = self.connection.execute(
                f"SELECT value FROM {table} WHERE key = ?", (key,)
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            self.notes.append(f"cache {self.path} could not be read ({exc}); not used")
            return None
        if row is None:
            return None
        try:
            value = pickle.loads(row[0])
        except Exception:
            return None
        return value

    def _put_blob(self, table: str, key: bytes, value: object) -> None:
        """Store ``value`` under ``key``; only the ``KEPT_BLOBS`` most recent are kept."""
        row = (key, pickle.dumps(value, protocol=5), time.time())
        self.write((_INSERT.format(table), [row]), (_PRUNE.format(table), [(KEPT_BLOBS,)]))

    def info(self) -> CacheInfo:
        if self.connection is None:
            return CacheInfo(str(self.path), 0, 0, 0, 0)
        entries = self.connection.execute("SELECT count(*) FROM analyses").fetchone()[0]
        last = self.connection.execute(
            "SELECT hits, misses FROM runs ORDER BY id DESC LIMIT 1"
        ).fetchone() or (0, 0)
        size = sum(p.stat().st_size for p in self.path.parent.glob(FILENAME + "*"))
        return CacheInfo(str(self.path), int(entries), size, int(last[0]), int(last[1]))

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        if self.connection is None:
            return 0
        with self.connection:
            count = int(self.connection.execute("SELECT count(*) FROM analyses").fetchone()[0])
            self.connection.execute("DELETE FROM analyses")
            self.connection.execute("DELETE FROM runs")
            self.connection.execute("DELETE FROM results")
            self.connection.execute("DELETE FROM memos")
            self.connection.execute("DELETE FROM memo_entries")
            self.connection.execute("DELETE FROM sketches")
        _restamp(self.connection)
        problem = _vacuum(self.connection)
        if problem is not None:
            self.notes.append(
                f"cache {self.path} was emptied but not shrunk ({problem}): run dupfind cache "
                "clear again once no other dupfind uses it"
            )
        return count

    def close(self) -> None:
        self.release()
        if self.connection is not None:
            self.connection.close()


def _vacuum(connection: sqlite3.Connection) -> str | None:
    """Shrink an emptied cache file. Outside WAL, VACUUM also rewrites it in the page size
    ``_connect`` asks for (``PAGE_SIZE``): a file made with other pages gets them now (not
    while another process has it open: it stays in WAL then). None, or why the file was not
    shrunk; it is left in WAL whatever happened."""
    with suppress(sqlite3.OperationalError):
        connection.execute("PRAGMA journal_mode=DELETE")
    try:
        connection.execute("VACUUM")
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        with suppress(sqlite3.OperationalError):
            connection.execute("PRAGMA journal_mode=WAL")
    return None


def _generation(connection: sqlite3.Connection) -> int:
    """The file's generation (``PRAGMA user_version``): a random stamp given when the file is
    made, and again when it is cleared. A ``Resident`` holds what it read from one generation
    of one file; another (a cleared or rebuilt cache, another directory) drops it."""
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def _restamp(connection: sqlite3.Connection) -> None:
    """A new generation (``_generation``); left as it is if another process holds the file."""
    with suppress(sqlite3.OperationalError):
        connection.execute(f"PRAGMA user_version = {secrets.randbits(31) | 1}")


def _in_use(exc: sqlite3.OperationalError) -> bool:
    """A file locked by another writer, or not writable: not damaged, never to be deleted."""
    primary = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # extended codes keep it low
    return primary in {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY}


def pack(analysis: FileAnalysis) -> bytes:
    """An analysis as the cache stores it (made by the worker that analysed it when there is
    one: pipeline.Packed)."""
    return pickle.dumps(analysis, protocol=5)


def _unpickled(rows: Iterable[tuple[bytes, ...]]) -> Iterable[tuple[bytes, FileAnalysis]]:
    for key, value in rows:
        try:
            analysis = pickle.loads(value)
        except Exception:
            continue
        if isinstance(analysis, FileAnalysis):
            yield bytes(key), analysis
