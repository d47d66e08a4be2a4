#!/usr/bin/env python3
"""How dupfind's wall time and memory grow with the size of the tree.

Usage::

    python benchmarks/bench_scaling.py [--source DIR] [--fractions 0.125 0.25 0.5 1.0] [--jobs N]

Takes subsets of a real tree (default: this Python's standard library without site-packages):
every k-th file in sorted order, so each subset samples the whole tree. For each subset, in
the same run: tree-sitter parse-only time in one process (the floor), ``dupfind scan`` wall
time with its per-stage ``--timings``, peak RSS of the whole process tree, and the ratios.
Run it alone on a quiet machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from bench_scan import count_lines, time_parse, tree_rss_kb

DEFAULT_SOURCE = Path(sysconfig.get_paths()["stdlib"])
SKIP = {"site-packages", "__pycache__"}


def python_files(root: Path) -> list[tuple[Path, int]]:
    """Every .py file below root (sorted) with its line count."""
    files = sorted(f for f in root.rglob("*.py") if not SKIP & set(f.relative_to(root).parts))
    return [(f, count_lines(f.read_bytes())) for f in files]


def subset(files: list[tuple[Path, int]], fraction: float) -> list[Path]:
    """Every k-th file, so each subset samples the whole tree, not one corner of it."""
    if fraction >= 1:
        return [f for f, _ in files]
    step = round(1 / fraction)
    return [f for index, (f, _) in enumerate(files) if index % step == 0]


def run(paths: list[Path], jobs: int | None) -> tuple[float, float, str]:
    exe = Path(sys.executable).parent / "dupfind"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(exe), "scan", *map(str, paths), "--format", "json", "--no-cache"]
        cmd += ["--output", f"{tmp}/r.json", "--timings", "--no-gitignore", "--follow-symlinks"]
        cmd += ["--jobs", str(jobs)] if jobs else []
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, tree_rss_kb(proc.pid))
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        stages = proc.stderr.read() if proc.stderr else ""
    if proc.returncode:
        raise SystemExit(f"dupfind failed ({proc.returncode}):\n{stages}")
    return elapsed, peak / 1024, stages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.125, 0.25, 0.5, 1.0])
    parser.add_argument("--jobs", type=int)
    args = parser.parse_args()
    every = python_files(args.source)
    rows = []
    for fraction in args.fractions:
        files = subset(every, fraction)
        parse = time_parse(files)
        with tempfile.TemporaryDirectory() as tmp:
            listing = Path(tmp) / "tree"
            for f in files:  # a tree of links, so dupfind scans exactly this subset
                target = listing / f.relative_to(args.source)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(f)
            elapsed, peak, stages = run([listing], args.jobs)
        rows.append((fraction, parse.files, parse.lines, parse.seconds, elapsed, peak))
        print(f"\n== {fraction:.0%} of {args.source}: {parse.files} files, {parse.lines} lines")
        print(stages.rstrip())
    print("\nfraction  files    lines  parse-s  dupfind-s  ratio  us/line  peak-MB")
    for fraction, count, lines, parse_s, elapsed, peak in rows:
        print(f"{fraction:8.2f} {count:6d} {lines:8d} {parse_s:8.2f} {elapsed:10.2f} "
              f"{elapsed / parse_s:6.2f} {1e6 * elapsed / lines:8.1f} {peak:8.0f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
