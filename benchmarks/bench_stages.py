#!/usr/bin/env python3
"""Per-stage counts, throughput on one core and memory per item: the inputs of docs/scaling.md.

Usage::

    python benchmarks/bench_stages.py [--size 850k] [--wheels DIR]

In one process, on one core: the tree-sitter parse-only time of one corpus of bench_scaling.py
(the floor), then dupfind's stages called one by one, as pipeline.scan calls them: the map
(``analyse_file`` per file, plus the corpus-wide shingle count), then the global stages (near-miss
selection, postings and pair counting, statement runs, edge scoring, grouping, classification).
For each: items, seconds, items per second, and the growth of resident memory (and its peak,
reset before each step through /proc/self/clear_refs), per item. Also the volume a distributed
scan would move: pickled FileAnalysis bytes per line, selected shingles per unit, posting entries.
Run it alone: ``flock /tmp/dupfind-bench.lock python ...``.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from bench_scaling import SIZES, corpus
from measure import time_parse

from dupfind import pipeline
from dupfind.candidates import (
    MAX_NEAR_MISS_TOKENS,
    POSTING_CAP,
    eligible_units,
    exact_buckets,
    near_miss_pairs,
    select_shingles,
    statement_runs,
)
from dupfind.config import Config
from dupfind.context import Context
from dupfind.corpus import Frequency, count, references
from dupfind.group import build_groups
from dupfind.models import FileAnalysis
from dupfind.score import ScoreChunk

X = TypeVar("X")
Y = TypeVar("Y")
KIB = 1024


def rss_kb(field: str = "VmRSS") -> int:
    """This process's resident memory (``VmRSS``) or its peak since the last reset (``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


class _GcClock:
    """Seconds spent in the cyclic garbage collector (gc.callbacks)."""

    seconds = 0.0
    _started = 0.0

    @classmethod
    def callback(cls, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            cls._started = time.perf_counter()
        else:
            cls.seconds += time.perf_counter() - cls._started


class Step:
    """Time (and the garbage collector's share), resident-memory growth and peak of one step."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> Step:
        reset_peak()
        self.before = rss_kb()
        self.gc_before = _GcClock.seconds
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
        self.gc_seconds = _GcClock.seconds - self.gc_before
        self.grown = (rss_kb() - self.before) * KIB
        self.peak = (rss_kb("VmHWM") - self.before) * KIB

    def report(self, items: int, unit: str) -> None:
        rate = items / self.seconds if self.seconds else float("inf")
        grown, peak = self.grown / 2**20, self.peak / 2**20
        print(f"{self.name:34s} {items:>10,} {unit:9s} {self.seconds:8.2f}s "
              f"(gc {self.gc_seconds:5.2f}s) {rate:>12,.0f}/s  RSS +{grown:5.0f} MiB "
              f"({self.grown / max(1, items):5.0f} B/{unit}), peak +{peak:5.0f} MiB")  # fmt: skip


class TimedMapper:
    """A serial Mapper (executor.py) that times itself and counts the pairs it scored."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.pairs = 0

    def __call__(self, function: Callable[[X], Y], items: Iterable[X]) -> list[Y]:
        results = []
        for item in items:  # building a chunk (slicing tokens) is not timed: only scoring
            started = time.perf_counter()
            results.append(function(item))
            self.seconds += time.perf_counter() - started
            self.pairs += len(item.pairs) if isinstance(item, ScoreChunk) else 1
        return results


def map_stage(paths: list[str], config: Config) -> tuple[list[FileAnalysis], Counter[int]]:
    analyses = []
    with Step("map: analyse_file") as step:
        for path in paths:
            result = pipeline.analyse_file(path, config)
            if isinstance(result, FileAnalysis):
                analyses.append(result)
    lines = sum(a.lines for a in analyses)
    step.report(lines, "lines")
    with Step("map: count shingles (main process)") as step:
        frequency = count(analyses)
    step.report(sum(len(a.shingles) for a in analyses), "shingles")
    counter = sys.getsizeof(frequency) + sum(  # the dict, its keys, and counts not cached
        sys.getsizeof(key) + (sys.getsizeof(count) if count > 256 else 0)
        for key, count in frequency.items()
    )
    print(f"  frequency Counter {counter / 2**20:.1f} MiB = {counter / len(frequency):.0f} B/entry")
    print(f"  distinct shingles {len(frequency):,}; tokens {sum(len(a.shape) for a in analyses):,}"
          f"; units {sum(len(a.units) for a in analyses):,}; statements "
          f"{sum(len(a.statement_lists.tok_starts) for a in analyses):,}; windows "
          f"{sum(len(a.windows) for a in analyses):,}")  # fmt: skip
    describe_analyses(analyses, lines)
    return analyses, frequency


def describe_analyses(analyses: list[FileAnalysis], lines: int) -> None:
    """Bytes per line of each part of FileAnalysis in memory (deep sizeof), and pickled."""
    parts = ("exact", "shape", "named", "offsets", "shingles", "statement_lists", "units",
             "windows")  # fmt: skip
    sizes = {part: sum(deep_size(getattr(a, part)) for a in analyses) for part in parts}
    sizes["whole, in memory"] = sum(map(deep_size, analyses))
    sizes["whole, pickled"] = sum(len(pickle.dumps(a, protocol=5)) for a in analyses)
    for part, size in sizes.items():
        print(f"  {part:22s} {size / 2**20:8.1f} MiB = {size / lines:6.1f} B/line")


def deep_size(value: object, seen: set[int] | None = None) -> int:
    """sys.getsizeof of ``value`` and everything it holds (each object once)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)
    if isinstance(value, tuple | list):
        size += sum(deep_size(item, seen) for item in value)
    elif hasattr(type(value), "__slots__"):
        slots = [s for cls in type(value).__mro__ for s in getattr(cls, "__slots__", ())]
        size += sum(deep_size(getattr(value, slot), seen) for slot in slots)
    return size


def global_stages(analyses: list[FileAnalysis], frequency: Counter[int], config: Config) -> None:
    with Step("eligible units, exact buckets") as step:
        units = eligible_units(analyses, config)
        buckets = exact_buckets(units, not config.ignore_records)
    step.report(len(units), "units")
    with Step("near-miss index: selection") as step:
        started = time.perf_counter()
        counts = Frequency.of(frequency)  # as the pipeline holds them
        selections = select_shingles(analyses, units, counts, None, not config.ignore_records)
        seconds = time.perf_counter() - started
    step.report(len(units), "units")
    window = sum(ref.unit.tokens for ref in units if ref.unit.tokens <= MAX_NEAR_MISS_TOKENS)
    print(f"  {window / seconds:,.0f} unit tokens/s")
    with Step("near-miss index: postings and pairs") as step:
        pairs = near_miss_pairs(units, selections, config.min_similarity)
    step.report(len(units), "units")
    describe_postings(selections, len(pairs))
    with Step("statement runs") as step:
        runs = statement_runs(analyses)
    step.report(sum(len(a.windows) for a in analyses), "windows")
    print(f"  runs {len(runs):,}, members {sum(map(len, runs)):,}, "
          f"largest {max(map(len, runs), default=0):,}")  # fmt: skip
    scoring = TimedMapper()
    with Step("score and group") as step:
        found = build_groups(analyses, units, buckets, pairs, runs, config.min_similarity, scoring)
    print(f"  of which edge scoring {scoring.seconds:.2f}s = "
          f"{scoring.pairs / scoring.seconds:,.0f} pairs/s ({scoring.pairs:,} pairs)")  # fmt: skip
    step.report(scoring.pairs, "pairs")
    with Step("classify") as step:
        history = pipeline._history([], config)
        context = Context(config, pipeline._domains([], config), history, references(analyses))
        pipeline._classify(found, context, pipeline._Stopwatch())
    step.report(len(found), "groups")


def describe_postings(selections: Sequence[Sequence[int]], pairs: int) -> None:
    postings: Counter[int] = Counter()
    for selected in selections:
        postings.update(selected)
    lengths = list(postings.values())
    kept = [n for n in lengths if n <= POSTING_CAP]
    print(f"  selected shingles {sum(lengths):,} ({sum(lengths) / max(1, len(selections)):.1f} "
          f"a unit) in {len(lengths):,} postings; postings > {POSTING_CAP} dropped: "
          f"{len(lengths) - len(kept):,}; pair increments {sum(n * (n - 1) // 2 for n in kept):,}; "
          f"candidate pairs kept {pairs:,}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="850k")
    default_wheels = Path(tempfile.gettempdir(), "dupfind-wheels")
    parser.add_argument("--wheels", type=Path, default=default_wheels)
    args = parser.parse_args()
    files = corpus(args.size, args.wheels.resolve())
    parse = time_parse(files)
    print(f"{args.size}: {parse.files} files, {parse.lines:,} lines; parse-only "
          f"{parse.seconds:.2f}s = {parse.lines / parse.seconds:,.0f} lines/s")  # fmt: skip
    config = Config(history=False, cache=False, jobs=1)
    gc.callbacks.append(_GcClock.callback)
    analyses, frequency = map_stage([str(f) for f in files], config)
    global_stages(analyses, frequency, config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
