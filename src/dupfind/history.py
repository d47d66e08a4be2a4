"""Change history from git: how often each member's lines changed, and how old each file is.

``git log -L START,END:PATH --since=… -s`` follows the lines through edits, so the count is of
commits that touched this code, not the whole file. One git process per member, run on a few
threads (git does the work). Outside a git repository, or without git, there is no history:
``History.available`` is False and the change-frequency rule is skipped (the report says so).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property
from pathlib import Path

from dupfind.models import Member

THREADS = 8
MAX_QUERIES = 2000  # git processes per scan; members beyond have no known history
MAX_PER_GROUP = 12


@dataclass
class History:
    """Lazy, memoised git queries for one repository (or none)."""

    root: Path | None
    days: int
    _changes: dict[tuple[str, int, int], int] = field(default_factory=dict)
    truncated: bool = False

    @property
    def available(self) -> bool:
        return self.root is not None

    def prefetch(self, groups: Iterable[Sequence[Member]]) -> None:
        """Count changes for the members of many groups at once, on a few threads (the first
        ``MAX_PER_GROUP`` members of each group, ``MAX_QUERIES`` in all)."""
        if not self.available:
            return
        tracked = self.tracked
        wanted = {
            (m.path, m.start_line, m.end_line)
            for g in groups
            for m in g[:MAX_PER_GROUP]
            if os.path.abspath(m.path) in tracked
        }
        todo = sorted(wanted - set(self._changes))
        self.truncated = len(todo) > MAX_QUERIES
        todo = todo[:MAX_QUERIES]
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            for key, count in zip(todo, pool.map(self._count, todo), strict=True):
                if count is not None:
                    self._changes[key] = count

    @cached_property
    def tracked(self) -> set[str]:
        """Absolute paths of the files git tracks unchanged from HEAD: ``git log -L`` reads
        line numbers in HEAD, so files with uncommitted edits (or untracked) have no known
        history."""
        if self.root is None:
            return set()
        modified = (self._git("diff", "--name-only", "-z", "HEAD") or "").split("\0")
        dirty = {os.path.join(self.root, name) for name in modified if name}
        listed = (self._git("ls-files", "-z") or "").split("\0")
        return {os.path.join(self.root, name) for name in listed if name} - dirty

    @cached_property
    def state(self) -> str:
        """What the change-frequency rule's answers depend on besides file contents: the
        repository, the commit checked out, what is staged or modified and the day the window
        ends ("no repository" outside one). Part of a stored result's key (pipeline.py)."""
        if self.root is None:
            return "no repository"
        head = self._git("rev-parse", "HEAD") or ""
        index = self._git("status", "--porcelain", "-z", "--untracked-files=no") or ""
        digest = hashlib.blake2b(index.encode("utf-8", "surrogateescape"), digest_size=8)
        return f"{self.root} {head.strip()} {digest.hexdigest()} {_today()}"

    @cached_property
    def since(self) -> str:
        """The window's start: ``days`` before the start of today (UTC), so every scan of a
        day counts the same commits."""
        start = datetime.strptime(_today(), "%Y-%m-%d").replace(tzinfo=UTC)
        return (start - timedelta(days=self.days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def changes(self, member: Member) -> int | None:
        """Commits in the window that touched the member's lines (None when unknown)."""
        return self._changes.get((member.path, member.start_line, member.end_line))

    def _count(self, key: tuple[str, int, int]) -> int | None:
        path, start, end = key
        output = self._git(
            "log", f"--since={self.since}", "--format=%H", "-s",
            f"-L{start},{end}:{os.path.abspath(path)}",
        )  # fmt: skip
        if output is None:
            return None  # git could not follow these lines: unknown, not "never changed"
        return len([line for line in output.splitlines() if line.strip()])

    def first_commit_time(self, path: str) -> int | None:
        """Unix time of the commit that added ``path`` (None if unknown or untracked)."""
        if not self.available or os.path.abspath(path) not in self.tracked:
            return None
        return _first_commit(self.root, os.path.abspath(path))

    def _git(self, *args: str) -> str | None:
        assert self.root is not None
        return git_output(self.root, *args)


def run_git(directory: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    """``git -C directory args…`` (None when git is not installed). The one place dupfind
    starts git."""
    try:
        return subprocess.run(
            ["git", "-C", str(directory), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return None


def git_output(directory: Path, *args: str) -> str | None:
    """Standard output of a git command that succeeded, else None."""
    result = run_git(directory, *args)
    return result.stdout if result is not None and result.returncode == 0 else None


@cache
def _first_commit(root: Path | None, path: str) -> int | None:
    if root is None:
        return None
    output = git_output(root, "log", "--diff-filter=A", "--follow", "--format=%ct", "--", path)
    lines = (output or "").split()
    return int(lines[-1]) if lines else None


def _today() -> str:
    """The UTC day: the change-frequency window ends at its start, so a day's scans agree."""
    return time.strftime("%Y-%m-%d", time.gmtime())


def open_history(paths: Iterable[str], enabled: bool, days: int) -> History:
    """History of the git repository holding ``paths`` (none if disabled or not a repo)."""
    top = _toplevel(paths, enabled)
    return History(Path(top) if top else None, days)


def _toplevel(paths: Iterable[str], enabled: bool) -> str:
    """The top of the repository holding the first path ("" if disabled, no git or none)."""
    if not enabled or shutil.which("git") is None:
        return ""
    directory = Path(next(iter(paths), ".")).resolve()
    if not directory.is_dir():
        directory = directory.parent
    return (git_output(directory, "rev-parse", "--show-toplevel") or "").strip()
