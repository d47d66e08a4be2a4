"""Change history from git: how often each member's lines changed, and how old each file is.

``git log -L START,END:PATH --since=… -s`` follows the lines through edits, so the count is of
commits that touched this code, not the whole file. One git process per member, run on a few
threads (git does the work). Outside a git repository, or without git, there is no history:
``History.available`` is False and the change-frequency rule is skipped (the report says so).

Those git processes were most of a rescan inside a repository (4.3 of 5.0 s for dupfind's own
tree after one file changed), so a scan's answers are remembered for the next one
(``Remembered``, kept with the cache's memos). They stay true while the lines' history does:
an answer at commit A is the answer at commit B when B is A or a descendant of A and no
commit between them touched the file (``git log`` walks back through commits that do not
touch it to A, and the file's lines are the same); counts also need the same window (the
UTC day). Only tracked files with no uncommitted edits are ever asked about, as before. A
scan asks for exactly what it would ask without them (the ``MAX_QUERIES`` cap is applied
first), so its results are the same.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

from dupfind.models import Member

THREADS = 8
MAX_QUERIES = 2000  # git processes per scan; members beyond have no known history
MAX_PER_GROUP = 12


Lines = tuple[str, int, int]  # a member's absolute path, first and last line


@dataclass(frozen=True, slots=True)
class Remembered:
    """A scan's git answers: at which commit, for which window; None where git could not
    answer (as good an answer as a count: asking again would give it again)."""

    root: str
    head: str
    since: str
    changes: Mapping[Lines, int | None]
    first: Mapping[str, int | None]  # absolute path -> when it was added


@dataclass
class History:
    """Lazy, memoised git queries for one repository (or none)."""

    root: Path | None
    days: int
    _changes: dict[tuple[str, int, int], int] = field(default_factory=dict)
    truncated: bool = False
    _earlier: Remembered | None = None  # still-true answers of the previous scan
    _asked: dict[Lines, int | None] = field(default_factory=dict)  # this scan's, to remember
    _first: dict[str, int | None] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.root is not None

    def prefetch(self, groups: Iterable[Sequence[Member]]) -> None:
        """Count changes for the members of many groups at once, on a few threads (the first
        ``MAX_PER_GROUP`` members of each group, ``MAX_QUERIES`` in all); answers the
        previous scan left (``remember``) are not asked again."""
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
        earlier = self._earlier.changes if self._earlier is not None else {}
        ask = []
        for key in todo[:MAX_QUERIES]:
            lines = (os.path.abspath(key[0]), key[1], key[2])
            if lines in earlier:
                self._answer(key, earlier[lines])
            else:
                ask.append(key)
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            for key, count in zip(ask, pool.map(self._count, ask), strict=True):
                self._answer(key, count)

    def _answer(self, key: tuple[str, int, int], count: int | None) -> None:
        self._asked[(os.path.abspath(key[0]), key[1], key[2])] = count
        if count is not None:
            self._changes[key] = count

    def remember(self, earlier: Remembered | None) -> None:
        """Take the answers of an earlier scan that are still true (see the module's
        docstring); the others are asked again when needed."""
        if earlier is None or self.root is None or earlier.root != str(self.root):
            return
        if earlier.head != self.head:
            touched = self._touched_since(earlier.head)
            if touched is None:
                return
            earlier = Remembered(
                earlier.root,
                earlier.head,
                earlier.since,
                {key: n for key, n in earlier.changes.items() if key[0] not in touched},
                {path: t for path, t in earlier.first.items() if path not in touched},
            )
        if earlier.since != self.since:
            earlier = replace(earlier, changes={})
        self._earlier = earlier

    def _touched_since(self, head: str) -> set[str] | None:
        """Absolute paths of the files changed from ``head`` to HEAD, when HEAD descends from
        it (None otherwise: nothing earlier is known to hold)."""
        if not head or run_git_status(self._root, "merge-base", "--is-ancestor", head, "HEAD"):
            return None
        names = self._git("diff", "--name-only", "--no-renames", "-z", head, "HEAD")
        if names is None:
            return None
        return {os.path.join(self._root, name) for name in names.split("\0") if name}

    def remembered(self) -> Remembered | None:
        """This scan's answers, for the next scan (None outside a repository)."""
        if self.root is None:
            return None
        return Remembered(str(self.root), self.head, self.since, self._asked, self._first)

    @property
    def _root(self) -> Path:
        assert self.root is not None
        return self.root

    @cached_property
    def head(self) -> str:
        """The commit checked out ("" without one)."""
        return (self._git("rev-parse", "HEAD") or "").strip()

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
        index = self._git("status", "--porcelain", "-z", "--untracked-files=no") or ""
        digest = hashlib.blake2b(index.encode("utf-8", "surrogateescape"), digest_size=8)
        return f"{self.root} {self.head} {digest.hexdigest()} {_today()}"

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
        if not self.available:
            return None
        absolute = os.path.abspath(path)
        if absolute not in self.tracked:
            return None
        if absolute not in self._first:
            earlier = self._earlier.first if self._earlier is not None else {}
            self._first[absolute] = (
                earlier[absolute] if absolute in earlier else _first_commit(self._root, absolute)
            )
        return self._first[absolute]

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


def run_git_status(directory: Path, *args: str) -> int:
    """The exit status of a git command (127 when git is not installed)."""
    result = run_git(directory, *args)
    return 127 if result is None else result.returncode


def git_output(directory: Path, *args: str) -> str | None:
    """Standard output of a git command that succeeded, else None."""
    result = run_git(directory, *args)
    return result.stdout if result is not None and result.returncode == 0 else None


def _first_commit(root: Path, path: str) -> int | None:
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
