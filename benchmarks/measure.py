"""Measurement helpers shared by the benchmark scripts (one implementation each).

* ``time_parse``: the floor every dupfind figure is compared with, tree-sitter alone parsing
  the same files in one process, after a read that fills the page cache;
* ``run_dupfind``: wall time and peak resident memory of a command's whole process tree
  (dupfind and its pool workers), sampled from ``/proc`` every ``POLL_SECONDS``; the samples
  are kept, so a caller can split them by stage (see ``stage_table``), and the CPU time of the
  process tree (less sensitive than wall time to other work on a shared machine);
* ``stage_table``: per-stage seconds from ``--timings`` and peak memory per stage, from the
  stage boundaries that ``staged_dupfind.py`` stamps on stderr.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter
import tree_sitter_python

POLL_SECONDS = 0.05
STAMP = "@stage"  # staged_dupfind.py: "@stage <epoch seconds> <stage>" on stderr
_TIMING = re.compile(r"^\s*(\d+\.\d+)s  (.+)$")  # dupfind --timings: "   1.234s  stage"


@dataclass(frozen=True)
class ParseStats:
    files: int
    lines: int
    megabytes: float
    seconds: float
    with_errors: int


@dataclass(frozen=True)
class RunStats:
    seconds: float
    maxrss_mb: float  # largest single process (ru_maxrss of children)
    tree_rss_mb: float  # sampled peak of the summed RSS of dupfind and its descendants
    cpu_seconds: float = 0.0  # user + system time of dupfind and its descendants
    samples: tuple[tuple[float, int], ...] = field(default=(), repr=False)  # (epoch s, KiB)


@dataclass(frozen=True)
class Stage:
    name: str
    seconds: float
    peak_mb: float  # peak summed RSS of the process tree while the stage ran
    end_mb: float  # summed RSS at the stage's end (what it left for the next stage)


def count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def time_parse(files: list[Path]) -> ParseStats:
    """Time tree-sitter parsing every file (after a warm-up read to fill the page cache)."""
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_python.language()))
    blobs = [f.read_bytes() for f in files]
    lines = sum(count_lines(b) for b in blobs)
    size = sum(len(b) for b in blobs)
    del blobs
    errors = 0
    started = time.perf_counter()
    for path in files:
        errors += parser.parse(path.read_bytes()).root_node.has_error
    elapsed = time.perf_counter() - started
    return ParseStats(len(files), lines, size / 2**20, elapsed, errors)


def tree_rss_kb(root_pid: int) -> int:
    """Summed RSS (KiB) of root_pid and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        rss[int(entry.name)] = int(fields[21]) * page_kb
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_dupfind(cmd: list[str], cwd: Path, log: Path, accept: tuple[int, ...] = (0,)) -> RunStats:
    """Run ``cmd`` (stdout and stderr to ``log``), sampling its process tree's RSS."""
    can_poll = Path("/proc/self/stat").exists()
    peak = 0
    samples: list[tuple[float, int]] = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            if can_poll:
                samples.append((time.time(), tree_rss_kb(proc.pid)))
                peak = max(peak, samples[-1][1])
            time.sleep(POLL_SECONDS)
        elapsed = time.perf_counter() - started
    if proc.returncode not in accept:
        sys.stdout.write(log.read_text(errors="replace")[-4000:])
        raise SystemExit(f"dupfind exited with status {proc.returncode}: {' '.join(cmd)}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return RunStats(elapsed, after.ru_maxrss / 1024, peak / 1024, cpu, tuple(samples))


def stage_table(output: str, run: RunStats) -> list[Stage]:
    """Seconds per stage (``--timings`` lines of ``output``) with the peak and final RSS of the
    process tree in each, from the stamps of staged_dupfind.py. Time outside the stages
    (interpreter start and imports before; leftovers and writing the report after) is the
    stage ``other``; its memory is that of the samples outside every stamped interval."""
    timings = [(m[2], float(m[1])) for m in map(_TIMING.match, output.splitlines()) if m]
    stamps = [
        (float(parts[1]), parts[2])
        for parts in (line.split(" ", 2) for line in output.splitlines())
        if len(parts) == 3 and parts[0] == STAMP
    ]
    stages = []
    for index, (name, seconds) in enumerate(timings):
        window: list[int] = []
        if index + 1 < len(stamps):
            (begin, _), (end, _) = stamps[index], stamps[index + 1]
            window = [kb for at, kb in run.samples if begin <= at <= end]
        stages.append(_stage(name, seconds, window))
    inside = (stamps[0][0], stamps[-1][0]) if stamps else (0.0, 0.0)
    outside = [kb for at, kb in run.samples if not inside[0] <= at <= inside[1]]
    stages.append(_stage("other", max(0.0, run.seconds - sum(t for _, t in timings)), outside))
    return stages


def _stage(name: str, seconds: float, window: list[int]) -> Stage:
    """No sample in a stage shorter than POLL_SECONDS: its memory figures are 0 (unknown)."""
    return Stage(name, seconds, max(window, default=0) / 1024, (window or [0])[-1] / 1024)
