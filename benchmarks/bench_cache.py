#!/usr/bin/env python3
"""Cold, warm and one-file-changed scans with the incremental cache, in one run.

Usage::

    python benchmarks/bench_cache.py [--source DIR]

Copies the tree (default: this Python's standard library, without site-packages) to a temporary
directory, then times, each against the tree-sitter parse-only time of the same files measured
in the same run: a cold scan (empty cache), a warm scan (nothing changed), and a rescan after
one file changed. With ``--git`` the copy is a git repository (one commit), as a team's tree
is: every scan then also reads git history for the change-frequency rule, and a fourth scan
follows a commit of the changed file. ``--commits N`` (implies ``--git``) adds a year of
history: N commits, each inserting a comment line into one to three files (half of them
among 40 busy files), dated over the last 360 days (seeded: the same history every run).
``--format`` picks the report written (default json; terminal is what ``dupfind scan`` prints).
``--edits N`` (default 5) then edits N other files one at a time, each followed by a rescan, and
prints their median: the first rescan after a cold scan is the slowest, and single rescans vary
by about ±0.3 s. ``--watch`` runs the same scans in one ``dupfind scan --watch`` process (what
a developer leaves running; the "warm" scan follows a save that changed nothing): each is timed
from the edit to the report written, notification included. Each edit comes ``PAUSE`` seconds
after the previous report, as a developer's next save does: the process stores the last scan's
memos in the cache meanwhile (0.3 s on the stdlib). Run it alone on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from measure import ParseStats, time_parse

PAUSE = 1.0  # seconds between a --watch report and the next edit
Run = tuple[str, float, str]  # what was timed, seconds, its --timings lines

SKIP = shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc")


def timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr[-2000:])
    return time.perf_counter() - started, done.stderr


def git(tree: Path, *args: str, when: datetime | None = None) -> None:
    """git in ``tree``, without the user's configuration (dated ``when``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", *identity, *args], cwd=tree, env=env, check=True)


def history(tree: Path, files: list[Path], commits: int) -> None:
    """``commits`` commits over the last 360 days (see the module's docstring)."""
    rng = random.Random(7)
    busy = rng.sample(files, min(40, len(files)))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=360)
    for number in range(commits):
        picks = [rng.choice(busy) if rng.random() < 0.5 else rng.choice(files)
                 for _ in range(rng.randint(1, 3))]  # fmt: skip
        for path in set(picks):
            lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines(True)
            at = rng.randrange(len(lines) + 1)
            line = lines[at] if at < len(lines) else ""
            lines.insert(at, f"{line[: len(line) - len(line.lstrip())]}# edit {number}\n")
            path.write_text("".join(lines), encoding="utf-8", errors="surrogateescape")
        git(tree, "commit", "-q", "-am", f"edit {number}",
            when=start + timedelta(days=360 * number / commits))  # fmt: skip


def _edit(path: Path) -> None:
    """One file changed: a statement appended."""
    path.write_text(path.read_text(encoding="utf-8", errors="replace") + "\nX = 1\n")


class Watching:
    """One ``dupfind scan --watch`` process: each scan timed from ``start`` (the process's
    start, or an edit) to the line saying its report is written."""

    def __init__(self, cmd: list[str], tree: Path) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [*cmd, "--watch"], cwd=tree, stderr=subprocess.PIPE, text=True
        )  # fmt: skip

    def reported(self) -> tuple[float, str]:
        stderr = self.process.stderr
        assert stderr is not None
        lines = []
        for line in stderr:
            if line.startswith("dupfind: reported in"):
                return time.perf_counter() - self.started, "".join(lines)
            lines.append(line)
        raise SystemExit("".join(lines)[-2000:])

    def after(self, edit: Callable[[], None]) -> tuple[float, str]:
        time.sleep(PAUSE)
        self.started = time.perf_counter()
        edit()
        return self.reported()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait()


def watched(cmd: list[str], tree: Path, files: list[Path], edits: int) -> list[Run]:
    """The cold, warm (a save that changed nothing), one-file and median rescans of ``--watch``."""
    watching = Watching(cmd, tree)
    try:
        runs = [("cold (--watch, from the process's start)", *watching.reported())]
        same = files[len(files) // 2]
        runs.append(("warm (a save that changed nothing)",
                     *watching.after(lambda: same.write_bytes(same.read_bytes()))))  # fmt: skip
        runs.append(("one file changed", *watching.after(lambda: _edit(same))))
        rescans = [watching.after(partial(_edit, files[(n + 1) * len(files) // (edits + 2)]))
                   for n in range(edits)]  # fmt: skip
    finally:
        watching.stop()
    return runs + _median(rescans)


def _median(rescans: list[tuple[float, str]]) -> list[Run]:
    if not rescans:
        return []
    seconds, stages = sorted(rescans)[len(rescans) // 2]
    each = ", ".join(f"{s:.2f}" for s, _ in rescans)
    return [(f"one file changed, median of {len(rescans)} more ({each} s)", seconds, stages)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--git", action="store_true", help="scan a git repository of the copy")
    parser.add_argument("--commits", type=int, default=0, help="a year of history (implies --git)")
    parser.add_argument("--format", default="json", help="the report's format (json, terminal…)")
    parser.add_argument("--edits", type=int, default=5, help="more one-file rescans (median)")
    parser.add_argument("--watch", action="store_true", help="in one dupfind scan --watch")
    args = parser.parse_args()
    args.git = args.git or args.commits > 0
    exe = str(Path(sys.executable).parent / "dupfind")
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        shutil.copytree(args.source, tree, ignore=SKIP, symlinks=True)
        files = sorted(tree.rglob("*.py"))
        if args.git:
            git(tree, "init", "-q")
            git(tree, "add", "-A")
            git(tree, "commit", "-q", "-m", "tree", when=datetime.now(UTC) - timedelta(days=400))
            history(tree, files, args.commits)
        parse = time_parse(files)
        cmd = [exe, "scan", ".", "--format", args.format, "--output", f"{tmp}/report",
               "--cache-dir", f"{tmp}/cache", "--no-gitignore", "--timings"]  # fmt: skip
        if args.watch:
            runs = watched(cmd, tree, files, args.edits)
            return _print(parse, runs)
        cold, cold_stages = timed(cmd, tree)
        warm, warm_stages = timed(cmd, tree)
        _edit(files[len(files) // 2])
        one, one_stages = timed(cmd, tree)
        runs: list[Run] = [("cold", cold, cold_stages), ("warm", warm, warm_stages)]
        runs.append(("one file changed", one, one_stages))
        if args.git:
            git(tree, "commit", "-q", "-am", "one file")
            runs.append(("after committing it", *timed(cmd, tree)))
        rescans = []
        for number in range(args.edits):  # files spread over the tree, never the first one
            _edit(files[(number + 1) * len(files) // (args.edits + 2)])
            rescans.append(timed(cmd, tree))
        runs += _median(rescans)
    return _print(parse, runs)


def _print(parse: ParseStats, runs: list[Run]) -> int:
    cold = runs[0][1]
    print(f"files {parse.files}, lines {parse.lines}; parse-only {parse.seconds:.2f}s")
    for name, seconds, stages in runs:
        print(f"\n== {name}: {seconds:.2f}s = {seconds / parse.seconds:.2f}x parse-only, "
              f"{100 * seconds / cold:.0f}% of cold")  # fmt: skip
        print(stages.rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
