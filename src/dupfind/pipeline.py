"""The pipeline: the only place the stages meet.

Map (per file, pure): read → parse → extract/normalise → fingerprint, giving one
``FileAnalysis`` or a ``SkippedFile``. Reduce (global, once): candidates → score → group →
classify. Files are read here and analysed in batches of up to ``BATCH_FILES`` by
``analyse_batch`` (a ``FileBatch`` carries each path with its bytes), whichever executor runs
it (executor.py): in this process; in a local process pool with ``jobs != 1`` (a pool costs more
than it saves below ``POOL_MIN_FILES`` files); or, with ``executor = "dask"``, on a Dask cluster
that needs no shared filesystem and also scores the candidate pairs. Results come back in input
order, so the output is identical whatever ran it; cached files are not sent at all.
"""

from __future__ import annotations

import gc
import itertools
import os
import pickle
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager as ContextManager
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import NamedTuple, TypeVar, cast

from dupfind.artifacts import commented_out, near_identical_siblings, versioned_files
from dupfind.cache import AnalysisCache, pack
from dupfind.candidates import (
    eligible_units,
    exact_buckets,
    near_miss_pairs,
    run_windows,
    statement_runs,
)
from dupfind.classify import classify_all
from dupfind.config import Config
from dupfind.context import Context
from dupfind.corpus import Corpus, Frequency, References, Selector, count, references, update
from dupfind.discover import Discovery, discover_files, display_path
from dupfind.domains import DomainMap, domain_map
from dupfind.executor import (
    DaskMapper,
    Mapper,
    ProcessPoolMapper,
    cluster_for,
    serial_map,
    streaming_map,
)
from dupfind.extract import extract, extract_commented
from dupfind.fingerprint import shingles
from dupfind.group import FoundGroup, Regrouping, build_groups
from dupfind.history import MAX_QUERIES, History, open_history
from dupfind.keys import Keyed, code_identity
from dupfind.memo import Memo, content_key
from dupfind.models import (
    CloneGroup,
    FileAnalysis,
    Recommendation,
    ScanResult,
    ScanStats,
    SkippedFile,
    StatementTable,
    covered_lines,
)
from dupfind.normalise import named_codes
from dupfind.parse import parse_source, parse_tree, read_source
from dupfind.sketch import record_sketches, sketch_of
from dupfind.state import Resident, StoredMemos
from dupfind.suppress import hotspot_lines, is_suppressed, suppressed_ranges

Progress = Callable[[int, int], None]
X = TypeVar("X")
POOL_MIN_FILES = 24
HOLD_FRESH_UP_TO = 64  # fresh analyses a rescan holds until its store (AnalysisCache.hold)
GC_YOUNG_THRESHOLD = 50_000  # allocations between young-generation collections (default 700)


BATCH_FILES = 32  # files per shipped batch (executor.py)


@dataclass(frozen=True, slots=True)
class FileBatch:
    """Files to analyse, each path with its bytes (or why it could not be read): self-contained
    and picklable, so any worker can analyse it without seeing this machine's files. With
    ``pack``, each analysis comes back ``Packed`` for the cache."""

    config: Config
    files: tuple[tuple[str, bytes | SkippedFile], ...]
    pack: bool = False


@dataclass(frozen=True, slots=True)
class Packed:
    """An analysis as the cache stores it (``cache.pack``) with its encoded sketch
    (sketch.py), both made by the worker that analysed the file: this process, which would
    otherwise pickle and sketch every fresh file after the map (1.6 s of a cold scan of the
    standard library, with the second core idle), only unpacks it."""

    blob: bytes
    sketch: bytes


Analysed = FileAnalysis | SkippedFile


def analyse_batch(batch: FileBatch) -> list[Analysed | Packed]:
    """The per-file stages over one batch, in order (run by every executor)."""
    results: list[Analysed | Packed] = [
        data if isinstance(data, SkippedFile) else analyse_source(path, data, batch.config)
        for path, data in batch.files
    ]
    if not batch.pack:
        return results
    return [
        Packed(pack(result), sketch_of(result).encode())
        if isinstance(result, FileAnalysis)
        else result
        for result in results
    ]


def analyse_file(path: str, config: Config) -> FileAnalysis | SkippedFile:
    """Run every per-file stage on one file."""
    data = read_source(path)
    return data if isinstance(data, SkippedFile) else analyse_source(path, data, config)


def analyse_source(path: str, data: bytes, config: Config) -> FileAnalysis | SkippedFile:
    """Run every per-file stage on one file's bytes (pure: touches no file)."""
    parsed = parse_source(path, data)
    if isinstance(parsed, SkippedFile):
        return parsed
    try:
        result = extract(parsed.tree, config, parsed.blanked)
        extract_commented(parsed.source, result, config, parse_tree)
    except RecursionError:
        return SkippedFile(path, "nesting too deep to analyse")
    lists = tuple(result.lists)
    return FileAnalysis(
        path=path,
        lines=_count_lines(parsed.source),
        exact=result.sink.exact,
        shape=result.sink.shape,
        named=named_codes(result.sink.exact, result.sink.shape),
        offsets=result.sink.offsets,
        units=tuple(result.units),
        statement_lists=StatementTable.from_lists(lists),
        shingles=shingles(result.sink.anchor),
        windows=run_windows(lists, config),
        suppressed=suppressed_ranges(parsed.source, result.units),
        hotspots=hotspot_lines(parsed.source),
        problem=parsed.problem,
    )


def _count_lines(source: bytes) -> int:
    if not source:
        return 0
    return source.count(b"\n") + (0 if source.endswith(b"\n") else 1)


def _batches(
    files: Sequence[str], config: Config, size: int, keyed: Keyed | None, pack: bool
) -> Iterator[FileBatch]:
    """Batches of ``size`` files, each read only when its batch is submitted."""
    for start in range(0, len(files), size):
        chunk = [(path, read_source(path)) for path in files[start : start + size]]
        if keyed is not None:
            for path, data in chunk:
                keyed.check(path, data)
        yield FileBatch(config, tuple(chunk), pack)


def _map_files(
    files: Sequence[str],
    config: Config,
    progress: Progress | None,
    remote: DaskMapper | None,
    keyed: Keyed | None = None,
) -> Iterator[Analysed | Packed]:
    """Every file through ``analyse_batch``: on the cluster, in a local process pool, or here.
    Workers elsewhere pack the analyses of a cached scan (``keyed``) for the cache."""
    jobs = _jobs(config)
    mapper: ContextManager[Mapper]
    if remote is not None:
        mapper, workers = nullcontext(remote), remote.workers
    elif jobs == 1 or len(files) < POOL_MIN_FILES:
        mapper, workers = nullcontext(streaming_map), 0
    else:
        mapper, workers = ProcessPoolMapper(jobs), jobs
    size = max(1, min(BATCH_FILES, len(files) // (max(1, workers) * 8)))
    pack = keyed is not None and workers > 0
    with mapper as run:
        batches = run(analyse_batch, _batches(files, config, size, keyed, pack))
        yield from _counted(itertools.chain.from_iterable(batches), len(files), progress)


def _counted(results: Iterable[X], total: int, progress: Progress | None) -> Iterator[X]:
    for done, result in enumerate(results, 1):
        if progress is not None:
            progress(done, total)
        yield result


class _Stopwatch:
    """Wall time per stage, for ``--timings`` and the benchmarks (never in reports)."""

    def __init__(self) -> None:
        self.laps: list[tuple[str, float]] = []
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps.append((stage, round(now - self.last, 3)))
        self.last = now


def cached_map(
    files: Sequence[str],
    config: Config,
    progress: Progress | None,
    cache: AnalysisCache | None,
    keyed: Keyed | None,
    remote: DaskMapper | None = None,
) -> Iterator[FileAnalysis | SkippedFile]:
    """The map stage through the cache (``keyed`` holds the files' keys, needed with a cache):
    cached files are not analysed again; results come in ``files`` order whatever was cached.
    A file whose bytes no longer match its key when analysed (``keyed.moved``) is not stored."""
    if cache is None or keyed is None:  # nothing is packed without keys
        yield from cast(Iterator[Analysed], _map_files(files, config, progress, remote))
        return
    keys = keyed.keys
    cached = cache.lookup([keys[path] for path in files if path in keys])
    todo = [path for path in files if keys.get(path) not in cached]
    if len(todo) > HOLD_FRESH_UP_TO:  # (a branch switch): written as they come, not held
        cache.release()
    fresh = _Fresh(keyed)
    for path, result in zip(todo, _map_files(todo, config, progress, remote, keyed), strict=True):
        fresh.add(path, result)
    cache.store(fresh.blobs.items(), len(files) - len(todo), len(todo), reused=cached)
    record_sketches(cache, fresh.stored, fresh.sketches)  # what `dupfind similar` searches
    cache.keep(cached, fresh.stored)
    for path in files:
        key = keys.get(path)
        yield cached[key] if key is not None and key in cached else fresh.results[path]


class _Fresh:
    """The map's fresh results, and what of them the cache stores: each file's packed analysis
    and sketch (made by its worker when one analysed it), unless it moved (``Keyed.check``)."""

    def __init__(self, keyed: Keyed) -> None:
        self.keyed = keyed
        self.results: dict[str, Analysed] = {}
        self.stored: dict[bytes, FileAnalysis] = {}
        self.blobs: dict[bytes, bytes] = {}
        self.sketches: dict[bytes, bytes] = {}

    def add(self, path: str, result: Analysed | Packed) -> None:
        analysis = self.results[path] = _unpacked(result) if isinstance(result, Packed) else result
        key = self.keyed.keys.get(path)
        if key is None or path in self.keyed.moved or not isinstance(analysis, FileAnalysis):
            return
        self.stored[key] = analysis
        if isinstance(result, Packed):
            self.blobs[key], self.sketches[key] = result.blob, result.sketch
        else:
            self.blobs[key] = pack(analysis)


def _unpacked(result: Packed) -> FileAnalysis:
    return cast(FileAnalysis, pickle.loads(result.blob))  # analyse_batch packed an analysis


def _result_key(
    scope: bytes,
    config: Config,
    discovery: Discovery,
    keys: Mapping[str, bytes],
    history: History,
) -> bytes:
    """Everything a scan's result depends on: its scope (the code, the settings, where it runs
    from, the roots), which files were found (and skipped) with their contents, and the git
    state the change-frequency rule reads (``History.state``). Equal keys, equal results."""
    state = history.state if config.history else ""
    files = (keys.get(path) or b"unreadable " + path.encode("utf-8", "surrogateescape")
             for path in discovery.files)  # fmt: skip
    return content_key((scope, state, repr(discovery.skipped), *files))


def scan(
    paths: Sequence[str],
    config: Config,
    progress: Progress | None = None,
    resident: Resident | None = None,
    defer: bool = False,
) -> ScanResult:
    """Find the clone groups in ``paths`` (files or directories).

    With the cache on, a scan of exactly the inputs of an earlier one (same files and
    contents, settings and git state: ``_result_key``) returns that scan's stored result. A
    long-lived process passes the same ``resident`` to each of its scans (state.py); with
    ``defer``, storing the result and memos waits for ``flush`` (``--watch`` reports first).
    """
    cluster = cluster_for(config.executor, config.scheduler)
    watch = _Stopwatch()
    discovery = discover_files(paths, config)
    history = _history(paths, config)  # one for the result's key and the rules
    watch.lap("discover")
    if not config.cache:
        with cluster as remote:
            return _scan(paths, config, progress, discovery, watch, history, remote=remote).result
    flushed = flush(resident) if resident is not None else []  # before anything reads the file
    cache = AnalysisCache.at(config.cache_dir, resident)
    if resident is not None and defer and resident.analyses:  # a rescan (the first writes
        cache.hold()  # its analyses as it goes): written after its report, or on closing
    deferred = False
    try:
        keyed = Keyed.of(discovery.files, config, resident.stats if resident is not None else None)
        keys = keyed.keys
        scope = _scope_key(paths, config)
        key = _result_key(scope, config, discovery, keys, history)
        memos = cache.load_memos(scope, state=False)
        result = cache.load_result(key, scope, memos.compared.earlier)
        if result is not None:
            cache.store((), len(discovery.files), 0, reused=keys.values())
            watch.lap("reuse the stored result (nothing changed)")
            if resident is not None:  # what the next scan reads: now, not after the next edit
                deferred = _then(partial(cache.preload, scope, memos, keys), cache, resident, defer)
        else:
            memos = cache.with_state(scope, memos)
            with cluster as remote:
                found = _scan(paths, config, progress, discovery, watch, history,
                              cache, keyed, remote, memos, resident)  # fmt: skip
            if resident is not None:
                resident.stats.forget(keyed)
            if resident is None or keyed.moved:  # the report says it was not stored
                result = _store(cache, key, scope, found, keyed)
            else:  # nothing moved: storing leaves the result as it is
                result, store = found.result, partial(_store, cache, key, scope, found, keyed)
                deferred = _then(store, cache, resident, defer)
        notes = (*flushed, *cache.notes, *result.notes)
        return replace(result, notes=notes, timings=tuple(watch.laps))
    finally:
        if not deferred:
            cache.close()


def flush(resident: Resident) -> list[str]:
    """Store what the last scan with ``defer`` left to store; the notes that made (a failed
    write: its report was written already)."""
    pending, resident.pending = resident.pending, None
    return pending() if pending is not None else []


def _then(
    action: Callable[[], object], cache: AnalysisCache, resident: Resident, defer: bool
) -> bool:
    """Run ``action`` now, or with ``defer`` when ``flush`` is called (``cache`` stays open
    until then): whether it was deferred."""
    if not defer:
        action()
        return False
    resident.pending = partial(_later, cache, action)
    return True


def _later(cache: AnalysisCache, action: Callable[[], object]) -> list[str]:
    """A deferred ``action`` run, then ``cache`` closed; the notes it made meanwhile."""
    before = len(cache.notes)
    try:
        action()
    finally:
        cache.close()
    return cache.notes[before:]


class _Scanned(NamedTuple):
    """A scan's result, the memos it leaves, and the memo key of each recommendation's
    differences (classify.py; None without the cache)."""

    result: ScanResult
    memos: StoredMemos
    compared: tuple[bytes | None, ...]


def _store(
    cache: AnalysisCache, key: bytes, scope: bytes, found: _Scanned, keyed: Keyed
) -> ScanResult:
    """Store the result and the memos, unless a file the scan read after keying it had other
    contents (``keyed.moved``: checked when the map and classification read it). A file never
    read again was used through its cached analysis, which matches its key: no second pass."""
    cache.release()  # what the scan held (``hold``) first; from here a write says if it was
    result, memos, compared = found
    moved = sorted(keyed.moved)
    if moved:
        note = (
            f"{len(moved)} file(s) changed while they were scanned (first: {moved[0]}); this "
            "result was not stored in the cache: scan again for an up-to-date report"
        )
        return replace(result, notes=(*result.notes, note))
    cache.store_memos(scope, memos)
    cache.store_result(key, result, compared)
    return result


def _scan(
    paths: Sequence[str],
    config: Config,
    progress: Progress | None,
    discovery: Discovery,
    watch: _Stopwatch,
    history: History,
    cache: AnalysisCache | None = None,
    keyed: Keyed | None = None,
    remote: DaskMapper | None = None,
    memos: StoredMemos | None = None,
    resident: Resident | None = None,
) -> _Scanned:
    """The scan itself, with the memos of the previous scan of its scope (cache.py), and what a
    long-lived process's last scan grouped (``resident``: group.py)."""
    memos = memos or StoredMemos()
    analyses: list[FileAnalysis] = []
    skipped = list(discovery.skipped)
    counting: Counter[int] = Counter()
    for result in cached_map(discovery.files, config, progress, cache, keyed, remote):
        if isinstance(result, SkippedFile):
            skipped.append(result)
            continue
        analyses.append(result)
        if memos.corpus is None:  # overlaps the reduce's first step with the map
            count([result], into=counting)
        if result.problem is not None:
            skipped.append(result.problem)
    keys = keyed.keys if keyed is not None else {}
    frequency, counted, select = _corpus(memos.corpus, analyses, keys, cache, counting, config)
    watch.lap("map (read, parse, extract, fingerprint)")
    with _collector_spared():
        found, leftovers = commented_out(
            find_groups(analyses, config, frequency, watch, remote or serial_map, memos.scores,
                        select, resident.regrouping if resident is not None else None)
        )  # fmt: skip
    if keyed is not None:
        memos = replace(memos, corpus=select.corpus(frequency, counted))
    found, suppressed = _unsuppressed(found) if config.suppress else (found, 0)
    context = Context(config, _domains(paths, config), history, counted)
    context.keyed, context.memo, context.verdicts = keyed, memos.compared, memos.verdicts
    context.recalled = resident.recommendations if resident is not None else None
    history.remember(memos.history)
    classified, notes = _classify(found, context, watch)
    if keyed is not None:
        memos = replace(memos, history=history.remembered())
    watch.lap("classify")
    groups = [item.group for item in found]
    versioned = versioned_files(analyses)
    known = {frozenset(loc.path for loc in item.locations) for item in versioned}
    siblings = near_identical_siblings(analyses, groups, known, config.consolidate_similarity)
    leftovers = versioned + siblings + leftovers
    stats = ScanStats(
        files_scanned=len(analyses),
        lines_scanned=sum(a.lines for a in analyses),
        duplicated_lines=duplicated_lines(groups),
    )
    skipped.sort(key=lambda s: s.path)
    scanned = ScanResult(
        tuple(groups),
        tuple(skipped),
        stats,
        recommendations=tuple(recommendation for recommendation, _ in classified),
        leftovers=tuple(leftovers),
        notes=tuple(notes),
        files=tuple((a.path, a.lines) for a in analyses),
        suppressed=suppressed,
        timings=tuple(watch.laps),
    )
    return _Scanned(scanned, memos, tuple(key for _, key in classified))


def _corpus(
    previous: Corpus | None,
    analyses: Sequence[FileAnalysis],
    keys: Mapping[str, bytes],
    cache: AnalysisCache | None,
    counted: Counter[int],
    config: Config,
) -> tuple[Frequency, References, Selector]:
    """The shingle frequencies (``counted`` during the map when there was no previous corpus
    state), the references and the selector of this scan, from the previous scan's state
    when there is one (corpus.py)."""
    records = not config.ignore_records
    if previous is None or cache is None:
        return Frequency.of(counted), references(analyses), Selector(keys=keys, records=records)
    updated = update(previous, analyses, keys, cache.lookup)
    if updated is None:
        fresh = Frequency.of(count(analyses))
        return fresh, references(analyses), Selector(keys=keys, records=records)
    select = Selector(previous, updated.sensitive, keys, records)
    return updated.frequency, updated.references, select


def _unsuppressed(found: Sequence[FoundGroup]) -> tuple[list[FoundGroup], int]:
    """Groups with no member in code marked ``# dupfind: ignore``, and how many were not."""
    kept = [
        item
        for item in found
        if not any(
            analysis.suppressed  # (most files have no marker: no call)
            and is_suppressed(analysis.suppressed, member.start_line, member.end_line)
            for member, (analysis, _, _) in zip(item.group.members, item.spans, strict=True)
        )
    ]
    return kept, len(found) - len(kept)


def _scope_key(paths: Sequence[str], config: Config) -> bytes:
    """Scans of one scope (version, settings, working directory, roots) share memos."""
    return content_key((code_identity(), config.result_key(), os.getcwd(), repr(list(paths))))


def _domains(paths: Sequence[str], config: Config) -> DomainMap:
    return domain_map(config, [display_path(Path(path)) for path in paths])


def _history(paths: Sequence[str], config: Config) -> History:
    return open_history(paths, config.history, config.history_days)


def _classify(
    found: Sequence[FoundGroup], context: Context, watch: _Stopwatch
) -> tuple[list[tuple[Recommendation, bytes | None]], list[str]]:
    history, config = context.history, context.config
    notes = []
    if config.history and not history.available:
        notes.append(
            "git history is not available (not inside a git repository, or git is missing): "
            "the change-frequency rule was skipped"
        )
    history.prefetch((item.group.members for item in found), config.history_hot)
    watch.lap("git history (change counts)")
    if history.truncated:
        notes.append(
            f"git history was read for the first {MAX_QUERIES} members only: the "
            "change-frequency rule did not look at the others"
        )
    return classify_all(found, context), notes


@contextmanager
def _collector_spared() -> Iterator[None]:
    """The reduce allocates millions of small objects (selections, pairs, token lists) while
    the analyses stay alive to the end: the cyclic garbage collector spent 15-65% of its
    stages walking them again and again (measured at 2.4M lines). Freeze what exists (the
    analyses) and collect the young generation less often; both are restored afterwards."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _jobs(config: Config) -> int:
    return config.jobs or os.cpu_count() or 1


def find_groups(
    analyses: Sequence[FileAnalysis],
    config: Config,
    frequency: Frequency,
    watch: _Stopwatch | None = None,
    mapper: Mapper = serial_map,
    memo: Memo[float] | None = None,
    select: Selector | None = None,
    regrouping: Regrouping | None = None,
) -> list[FoundGroup]:
    """The reduce: candidates → score → group over every analysed file (candidate edges
    scored through ``mapper``, unless ``memo`` knows them; near-miss selections through
    ``select``, which may reuse the previous scan's: corpus.py)."""
    watch = watch or _Stopwatch()
    units = eligible_units(analyses, config)
    records = not config.ignore_records
    buckets = exact_buckets(units, records)
    selections = (select or Selector(records=records))(analyses, units, frequency)
    near = regrouping.pairs() if regrouping is not None else None
    pairs = near_miss_pairs(units, selections, config.min_similarity, near)
    watch.lap("candidates: near-miss index")
    if regrouping is not None:
        regrouping.begin()
    runs = statement_runs(analyses, regrouping.extended if regrouping is not None else None)
    watch.lap("candidates: statement runs")
    groups = build_groups(
        analyses, units, buckets, pairs, runs, config.min_similarity, mapper, memo,
        config.consolidate_similarity, regrouping,
    )  # fmt: skip
    if regrouping is not None:
        regrouping.turn()
    watch.lap("score and group")
    return groups


def duplicated_lines(groups: Sequence[CloneGroup]) -> int:
    """Lines covered by any member of any group (each line counted once)."""
    return sum(covered_lines(groups).values())
