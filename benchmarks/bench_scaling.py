#!/usr/bin/env python3
"""How dupfind's time and memory grow with the tree: 60k, 330k, 850k and 2.4M lines.

Usage::

    python benchmarks/bench_scaling.py [--sizes 60k 330k 850k 2.4M] [--wheels DIR] [--jobs N]
                                       [--summary FILE]

The corpora (deterministic; this Python's standard library, never its site-packages):

* ``60k``: the stdlib packages in ``PIECE_60K`` (about 61k lines on Python 3.11);
* ``330k``: the stdlib without its tests (no ``test``, ``tests`` or ``idle_test`` directory);
* ``850k``: the whole stdlib (without ``venv/``, which dupfind skips like a virtualenv);
* ``2.4M``: the whole stdlib plus the ``.py`` files of the wheels pinned in ``WHEELS``. Wheels
  missing from ``--wheels DIR`` (default ``$TMPDIR/dupfind-wheels``) are downloaded there with
  ``pip download --no-deps`` (the script says so) and their ``.py`` files unpacked once. Never
  commit them.

For each size, in the same run: tree-sitter parse-only time of the same files (the floor), a
cold ``dupfind scan --no-cache --timings`` (through staged_dupfind.py, which stamps the stage
boundaries) with its wall time, per-stage seconds and peak resident memory of the whole process
tree per stage; then the growth from 850k to 2.4M lines per stage, against the targets (time
≤ 3.2x, peak memory ≤ 1.5 GB). Run it alone: ``flock /tmp/dupfind-bench.lock python ...``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from measure import ParseStats, RunStats, Stage, run_dupfind, stage_table, time_parse

from dupfind.discover import DEFAULT_EXCLUDES

STDLIB = Path(sysconfig.get_paths()["stdlib"])
PIECE_60K = ("asyncio", "email", "http", "importlib", "json", "logging", "multiprocessing",
             "xml", "zoneinfo")  # fmt: skip
TEST_DIRS = {"test", "tests", "idle_test"}
SKIP = set(DEFAULT_EXCLUDES)  # directories dupfind never enters (site-packages, venv, ...)
# Pure-Python sources, pinned so the corpus is reproducible (pandas: the .py files of its
# wheel for this platform; the compiled extensions are not scanned).
WHEELS = (("django", "5.1.4"), ("sympy", "1.13.3"), ("pandas", "2.2.3"), ("docutils", "0.21.2"))
SIZES = ("60k", "330k", "850k", "2.4M")
TIME_TARGET = 3.2  # 2.4M-line scan / 850k-line scan
MEMORY_TARGET_MB = 1.5e9 / 2**20  # 1.5 GB, in MiB like every RSS figure here
STAGE_NAMES = {
    "discover": "discover",
    "map (read, parse, extract, fingerprint)": "map",
    "candidates: near-miss index": "index",
    "candidates: statement runs": "runs",
    "score and group": "score+group",
    "git history (change counts)": "git",
    "classify": "classify",
    "other": "other",
}


@dataclass(frozen=True)
class Result:
    size: str
    parse: ParseStats
    run: RunStats
    stages: list[Stage]
    scanned: tuple[int, int]  # files and lines dupfind says it scanned
    groups: int
    skipped: tuple[str, ...]  # files dupfind did not analyse at all, with the reason


# ------------------------------------------------------------------------------ corpora


def stdlib_files(keep: Callable[[tuple[str, ...]], bool] = lambda parts: True) -> list[Path]:
    """The stdlib's .py files (sorted) whose path below the stdlib satisfies ``keep``."""
    found = []
    for path in sorted(STDLIB.rglob("*.py")):
        parts = path.relative_to(STDLIB).parts
        if not SKIP & set(parts) and keep(parts):
            found.append(path)
    return found


def wheel_sources(directory: Path) -> list[Path]:
    """The .py files of every pinned wheel, downloading and unpacking what is missing."""
    files = []
    for name, version in WHEELS:
        unpacked = directory / "src" / f"{name}-{version}"
        if not (unpacked / ".complete").exists():
            _unpack(_wheel(directory, name, version), unpacked)
        files += sorted(
            p for p in unpacked.rglob("*.py") if not SKIP & set(p.relative_to(unpacked).parts)
        )
    return files


def _wheel(directory: Path, name: str, version: str) -> Path:
    def matching() -> list[Path]:
        return [
            path
            for path in directory.glob("*.whl")
            if path.name.lower().startswith(f"{name}-{version}-".lower())
        ]

    if not matching():
        print(f"downloading {name}=={version} (wheel, no dependencies) into {directory}")
        directory.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--only-binary=:all:", f"{name}=={version}", "--dest", str(directory)]  # fmt: skip
        subprocess.run(cmd, check=True)
    if not matching():
        raise SystemExit(f"pip download did not leave a {name}-{version} wheel in {directory}")
    return sorted(matching())[0]


def _unpack(wheel: Path, target: Path) -> None:
    print(f"unpacking the .py files of {wheel.name} into {target}")
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            top = info.filename.split("/", 1)[0]
            if info.filename.endswith(".py") and not top.endswith((".dist-info", ".data")):
                archive.extract(info, target)
    (target / ".complete").touch()


def corpus(size: str, wheels: Path) -> list[Path]:
    if size == "60k":
        return stdlib_files(lambda parts: parts[0] in PIECE_60K)
    if size == "330k":
        return stdlib_files(lambda parts: not TEST_DIRS & set(parts[:-1]))
    if size == "850k":
        return stdlib_files()
    return stdlib_files() + wheel_sources(wheels)


def link_tree(files: Sequence[Path], tree: Path, wheels: Path) -> None:
    """A tree of symbolic links, so dupfind scans exactly ``files`` (stdlib/..., <wheel>/...)."""
    for path in files:
        if path.is_relative_to(STDLIB):
            target = tree / "stdlib" / path.relative_to(STDLIB)
        else:
            target = tree / path.relative_to(wheels / "src")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(path)


# ---------------------------------------------------------------------------- measuring


def measure(size: str, files: list[Path], wheels: Path, jobs: int | None) -> Result:
    parse = time_parse(files)
    print(f"\n== {size}: {parse.files} files, {parse.lines:,} lines; "
          f"parse-only {parse.seconds:.2f}s", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="dupfind-scaling-") as tmp:
        tree = Path(tmp) / "tree"
        link_tree(files, tree, wheels)
        staged = Path(__file__).resolve().with_name("staged_dupfind.py")
        cmd = [sys.executable, str(staged), "scan", ".", "--format", "json",
               "--output", f"{tmp}/report.json", "--no-cache", "--timings", "--no-gitignore",
               "--follow-symlinks"]  # fmt: skip
        cmd += ["--jobs", str(jobs)] if jobs else []
        run = run_dupfind(cmd, tree, Path(tmp) / "dupfind.log")
        output = (Path(tmp) / "dupfind.log").read_text(errors="replace")
        report = json.loads(Path(tmp, "report.json").read_text(encoding="utf-8"))
    stages = stage_table(output, run)
    scanned = (report["files_scanned"], report["lines_scanned"])
    skipped = tuple(
        f"{item['path']}: {item['reason']}" for item in report["skipped"] if not item["partial"]
    )
    result = Result(size, parse, run, stages, scanned, len(report["groups"]), skipped)
    print_result(result)
    return result


def fastest(results: list[Result]) -> Result:
    """Of repeated runs of one size: the fastest dupfind run, with the fastest parse-only time
    (the least disturbed by other work on the machine)."""
    best = min(results, key=lambda r: r.run.seconds)
    parse = min((r.parse for r in results), key=lambda p: p.seconds)
    return replace(best, parse=parse)


def print_result(result: Result) -> None:
    parse, run = result.parse, result.run
    if result.scanned != (parse.files, parse.lines):
        print(f"note: dupfind scanned {result.scanned[0]} files, {result.scanned[1]:,} lines; "
              f"not analysed: {'; '.join(result.skipped) or '-'}")  # fmt: skip
    print(f"dupfind {run.seconds:.2f}s = {run.seconds / parse.seconds:.2f}x parse-only, "
          f"{1e6 * run.seconds / parse.lines:.1f} us/line, CPU {run.cpu_seconds:.1f}s; peak RSS "
          f"{run.tree_rss_mb:.0f} MiB (process tree), {result.groups} groups")  # fmt: skip
    print("  seconds  peak-MiB  end-MiB  stage")
    for stage in result.stages:
        end = f"{stage.end_mb:.0f}" if stage.end_mb else "-"
        print(f"  {stage.seconds:7.2f}  {_mb(stage):>8}  {end:>7}  {stage.name}")


def print_summary(results: list[Result]) -> None:
    names = [STAGE_NAMES.get(stage.name, stage.name) for stage in results[0].stages]
    print("\n== summary (seconds; peak RSS of the process tree in MiB)")
    header = ["size", "files", "lines", "parse", "dupfind", "ratio", "us/line", "cpu", "peak",
              *names]  # fmt: skip
    rows = [
        [r.size, str(r.parse.files), f"{r.parse.lines:,}", f"{r.parse.seconds:.2f}",
         f"{r.run.seconds:.2f}", f"{r.run.seconds / r.parse.seconds:.2f}x",
         f"{1e6 * r.run.seconds / r.parse.lines:.1f}", f"{r.run.cpu_seconds:.1f}",
         f"{r.run.tree_rss_mb:.0f}", *(f"{s.seconds:.2f}" for s in r.stages)]
        for r in results
    ]  # fmt: skip
    _table(header, rows)
    print("\npeak RSS per stage (MiB)")
    _table(["size", *names], [[r.size, *map(_mb, r.stages)] for r in results])
    by_size = {r.size: r for r in results}
    if "850k" in by_size and "2.4M" in by_size:
        print_growth(by_size["850k"], by_size["2.4M"])
    peak = max(r.run.tree_rss_mb for r in results)
    verdict = "met" if peak <= MEMORY_TARGET_MB else "NOT met"
    print(f"peak memory {peak:.0f} MiB (largest size) against {MEMORY_TARGET_MB:.0f} MiB "
          f"(1.5 GB): {verdict}")  # fmt: skip


def print_growth(small: Result, large: Result) -> None:
    lines = large.parse.lines / small.parse.lines
    seconds = large.run.seconds / small.run.seconds
    verdict = "met" if seconds <= TIME_TARGET else "NOT met"
    cpu = large.run.cpu_seconds / small.run.cpu_seconds
    print(f"\n2.4M / 850k: lines x{lines:.2f}, parse-only x"
          f"{large.parse.seconds / small.parse.seconds:.2f}, dupfind x{seconds:.2f} against "
          f"x{TIME_TARGET} ({verdict}); per line x{seconds / lines:.2f}; "
          f"CPU time x{cpu:.2f}")  # fmt: skip
    print("per stage (time ratio / line ratio > 1.15 is flagged super-linear):")
    for before, after in zip(small.stages, large.stages, strict=True):
        ratio = after.seconds / before.seconds if before.seconds else float("nan")
        flag = "  <- super-linear" if ratio / lines > 1.15 else ""
        print(f"  {STAGE_NAMES.get(after.name, after.name):12s} {before.seconds:7.2f}s -> "
              f"{after.seconds:7.2f}s  x{ratio:.2f}{flag}")  # fmt: skip


def _mb(stage: Stage) -> str:
    return f"{stage.peak_mb:.0f}" if stage.peak_mb else "-"  # no sample: under POLL_SECONDS


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=SIZES, default=list(SIZES))
    default_wheels = Path(tempfile.gettempdir(), "dupfind-wheels")
    parser.add_argument("--wheels", type=Path, default=default_wheels)
    parser.add_argument("--jobs", type=int, help="passed to dupfind as --jobs N")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the fastest counts")
    parser.add_argument("--summary", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    wheels = args.wheels.resolve()
    corpora = {size: corpus(size, wheels) for size in args.sizes}  # downloads before timing
    runs: dict[str, list[Result]] = {size: [] for size in corpora}
    for _ in range(args.repeat):  # sizes interleaved: a busy minute spoils one run of each
        for size, files in corpora.items():
            runs[size].append(measure(size, files, wheels, args.jobs))
    results = [fastest(found) for found in runs.values()]
    print_summary(results)
    if args.summary:
        rows = [
            {"size": r.size, "parse": asdict(r.parse), "seconds": r.run.seconds,
             "cpu_seconds": r.run.cpu_seconds, "peak_mb": r.run.tree_rss_mb,
             "stages": [asdict(s) for s in r.stages]}
            for r in results
        ]  # fmt: skip
        args.summary.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
