"""Change history from git: how often each member's lines changed, and how old each file is.

``git log -L START,END:PATH --since=… -s`` follows the lines through edits, so the count is of
commits that touched this code, not the whole file. One git process per member, run on a few
threads (git does the work), and only for groups where the rule could fire: one ``git log``
over the window first counts the commits touching each file (``History.window``, gitlog.py),
a bound on any of its members' counts, so a group none of whose files changed ``history-hot``
times is not asked about (on the stdlib committed as one repository: 2,000 processes before,
none now). Files' ages come from one ``git log`` over the whole history (``History.added``).
Outside a git repository, or without git, there is no history: ``History.available`` is False
and the change-frequency rule is skipped (the report says so).

Those git processes were most of a rescan inside a repository (4.3 of 5.0 s for dupfind's own
tree after one file changed), so a scan's answers are remembered for the next one
(``Remembered``, kept with the cache's memos) while they stay true. A count at commit A holds
at commit B when B is A or a descendant of A, no commit in between touched the file (an edit
and its revert leave the file as it was, not its history), the shallow boundary is the same
and so is the window (the UTC day); ages and the window's bounds only at A itself. Only
tracked files with no uncommitted edits are ever asked about, as before. A scan asks for
exactly what it would ask without them (the ``MAX_QUERIES`` cap is applied first), so its
results are the same.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Generic, TypeVar

from dupfind.gitlog import (
    ADDED_LOG,
    GIT_SETTINGS,
    WINDOW_LOG,
    added_times,
    readable,
    touched_paths,
    window_counts,
)
from dupfind.memo import Computed
from dupfind.models import Member

THREADS = 8
MAX_QUERIES = 2000  # git processes per scan; members beyond have no known history
MAX_PER_GROUP = 12
A = TypeVar("A")


Lines = tuple[str, int, int]  # a member's absolute path, first and last line


@dataclass(frozen=True, slots=True)
class Remembered:
    """A scan's git answers: at which commit (and shallow boundary: ``History.graft``), for
    which window. Only answers git gave: a failure (a partial clone offline, say) is asked
    again by the next scan."""

    root: str
    head: str
    graft: str
    since: str
    changes: Mapping[Lines, int]
    added: Mapping[str, int] | None = None  # History.added, at this head
    window: Mapping[str, int | None] | None = None  # History.window, at this head and since


@dataclass
class Known(Generic[A]):
    """A whole-repository answer: asked of git once (None if git could not give it), or
    given by the earlier scan."""

    value: A | None = None
    asked: bool = False

    def __post_init__(self) -> None:
        self.asked = self.asked or self.value is not None


@dataclass
class History:
    """Lazy, memoised git queries for one repository (or none)."""

    root: Path | None
    days: int
    truncated: bool = False
    _answers: dict[Lines, int] = field(default_factory=dict)  # counts git gave this scan
    _earlier: dict[Lines, int] = field(default_factory=dict)  # the previous scan's, still true
    _added: Known[Mapping[str, int]] = field(default_factory=lambda: Known())
    _window: Known[Mapping[str, int | None]] = field(default_factory=lambda: Known())
    _absolute: Computed[str, str] = field(
        default_factory=lambda: Computed[str, str](os.path.abspath)
    )
    _unknown: set[Lines] = field(default_factory=set)  # git could not count these this scan
    _asked: int = 0  # members counted this scan, of MAX_QUERIES

    @property
    def available(self) -> bool:
        return self.root is not None

    def prefetch(self, groups: Iterable[Sequence[Member]], hot: int = 0) -> None:
        """Count changes for the members of many groups at once, on a few threads (the first
        ``MAX_PER_GROUP`` members of each group, ``MAX_QUERIES`` in all); answers the
        previous scan left (``remember``) are not asked again.

        With ``hot``, in two rounds, asking only what can change a recommendation: first the
        members whose file changed at least ``hot`` times in the window (``window``: no
        other member can be hot); then, in the groups where one of those is hot, every other
        member asked about at all (the rule reports the group's highest and lowest counts, and
        reads every member's: one past a group's first ``MAX_PER_GROUP`` has a count when it
        is among another group's first). In the remaining groups no member is hot and the
        change-frequency rule cannot fire: their other counts would change nothing."""
        if not self.available:
            return
        groups = [list(g) for g in groups]
        eligible = {self._lines(m) for g in groups for m in g[:MAX_PER_GROUP]}
        self.truncated = False
        if hot:
            self._ask([m for g in groups for m in g[:MAX_PER_GROUP] if self._may_be_hot(m, hot)])
            groups = [g for g in groups if any((self.changes(m) or 0) >= hot for m in g)]
        self._ask([m for g in groups for m in g if self._lines(m) in eligible])

    def _ask(self, members: Iterable[Member]) -> None:
        """Count the changes of ``members`` not known yet, up to ``MAX_QUERIES`` asked of git
        in a scan (in path order: the same members whatever was remembered)."""
        tracked = self.tracked
        wanted = {self._lines(m) for m in members if self._path(m.path) in tracked}
        todo = sorted(wanted - self._answers.keys() - self._unknown)
        budget = MAX_QUERIES - self._asked
        self.truncated = self.truncated or len(todo) > budget
        ask = []
        for key in todo[: max(0, budget)]:
            if key in self._earlier:
                self._answers[key] = self._earlier[key]
            else:
                ask.append(key)
        self._asked += min(len(todo), max(0, budget))
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            for key, count in zip(ask, pool.map(self._count, ask), strict=True):
                if count is None:
                    self._unknown.add(key)
                else:
                    self._answers[key] = count

    def _may_be_hot(self, member: Member, hot: int) -> bool:
        """Whether the member's file changed at least ``hot`` times in the window (or no bound
        is known)."""
        window = self.window
        if window is None:
            return True  # no bound known: ask
        bound = window.get(self._path(member.path), 0)
        return bound is None or bound >= hot

    @property
    def window(self) -> Mapping[str, int | None] | None:
        """Per absolute path, the commits in the window that touched the file: a bound on any
        of its members' counts (``git log -L`` counts commits touching their lines); None if
        git could not list them. One ``git log`` for the whole window (gitlog.py says what
        has no bound)."""
        return self._read(self._window, (*WINDOW_LOG, f"--since={self.since}"), window_counts)

    @property
    def added(self) -> Mapping[str, int]:
        """Per absolute path, when the commit that added it was made, following the renames
        git detects in that commit (a file renamed keeps its age; a copy has its own): one
        ``git log`` over the history, instead of one ``git log --follow`` per file in a group
        (1,109 on the stdlib, each walking the whole history). Empty if git could not list
        them (every age unknown, and asked again by the next scan)."""
        return self._read(self._added, (*ADDED_LOG, "HEAD"), added_times) or {}

    def _read(
        self, known: Known[A], args: tuple[str, ...], reader: Callable[[Path, str], A]
    ) -> A | None:
        """What ``reader`` makes of one ``git log`` (None if git failed), once."""
        if not known.asked:
            log = self._git(*args)
            known.value = reader(self._root, log) if log is not None and readable(log) else None
            known.asked = True
        return known.value

    def remember(self, earlier: Remembered | None) -> None:
        """Take the answers of an earlier scan that are still true (see the module's
        docstring); the others are asked again when needed."""
        if earlier is None or self.root is None or earlier.root != str(self.root):
            return
        if earlier.graft != self.graft:
            return  # deepened or made shallow: the history itself changed
        if earlier.head != self.head:
            touched = self._touched_since(earlier.head)
            if touched is None:
                return
            changes = {key: n for key, n in earlier.changes.items() if key[0] not in touched}
            earlier = Remembered(earlier.root, self.head, self.graft, earlier.since, changes)
        if earlier.since != self.since:
            earlier = replace(earlier, changes={}, window=None)
        self._earlier = dict(earlier.changes)
        self._added, self._window = Known(earlier.added), Known(earlier.window)

    def _touched_since(self, head: str) -> set[str] | None:
        """Absolute paths of the files any commit from ``head`` to HEAD touched, merges and
        those of merged branches included, when HEAD descends from ``head`` (None otherwise:
        nothing earlier is known to hold). Commits, not the two snapshots: an edit and its
        revert leave a file as it was, but add two commits to its lines' history."""
        if not self._descends_from(head):
            return None
        return self._read(Known(), (*WINDOW_LOG, "--no-renames", f"{head}..HEAD"), touched_paths)

    def _descends_from(self, commit: str) -> bool:
        """HEAD is ``commit`` or a descendant of it."""
        return bool(commit) and self._git("merge-base", "--is-ancestor", commit, "HEAD") is not None

    def remembered(self) -> Remembered | None:
        """This scan's answers, for the next scan (None outside a repository): those it asked
        or took from the earlier scan."""
        if self.root is None:
            return None
        return Remembered(str(self.root), self.head, self.graft, self.since,
                          dict(self._answers), self._added.value, self._window.value)  # fmt: skip

    @property
    def _root(self) -> Path:
        assert self.root is not None
        return self.root

    def _path(self, path: str) -> str:
        """``path`` made absolute (once per path: a scan asks for each many times)."""
        return self._absolute[path]

    def _lines(self, member: Member) -> Lines:
        return self._path(member.path), member.start_line, member.end_line

    @cached_property
    def head(self) -> str:
        """The commit checked out ("" without one)."""
        return (self._git("rev-parse", "HEAD") or "").strip()

    @cached_property
    def graft(self) -> str:
        """A digest of the shallow clone's boundary ("" for a complete history): fetching
        more history changes every answer without moving HEAD."""
        where = (self._git("rev-parse", "--git-path", "shallow") or "").strip()
        try:
            boundary = (self._root / where).read_bytes() if where else b""
        except OSError:
            return ""
        return hashlib.blake2b(boundary, digest_size=8).hexdigest() if boundary else ""

    @cached_property
    def listed(self) -> set[str]:
        """Absolute paths of the files in git's index."""
        return self._names("ls-files", "-z")

    @cached_property
    def tracked(self) -> set[str]:
        """Absolute paths of the files git tracks unchanged from HEAD: ``git log -L`` reads
        line numbers in HEAD, so files with uncommitted edits (or untracked) have no known
        history."""
        return self.listed - self._names("diff", "--name-only", "-z", "HEAD")

    def _names(self, *args: str) -> set[str]:
        """The absolute paths a git command lists (``-z``); none outside a repository."""
        if self.root is None:
            return set()
        return {os.path.join(self.root, name) for name in (self._git(*args) or "").split("\0")
                if name}  # fmt: skip

    @cached_property
    def state(self) -> str:
        """What the change-frequency rule's answers depend on besides file contents: the
        repository, the commit checked out (and shallow boundary), what is staged or modified
        and the day the window ends ("no repository" outside one). Part of a stored result's
        key (pipeline.py)."""
        if self.root is None:
            return "no repository"
        index = self._git("status", "--porcelain", "-z", "--untracked-files=no") or ""
        digest = hashlib.blake2b(index.encode("utf-8", "surrogateescape"), digest_size=8)
        return f"{self.root} {self.head} {self.graft} {digest.hexdigest()} {_today()}"

    @cached_property
    def since(self) -> str:
        """The window's start: ``days`` before the start of today (UTC), so every scan of a
        day counts the same commits."""
        start = datetime.strptime(_today(), "%Y-%m-%d").replace(tzinfo=UTC)
        return (start - timedelta(days=self.days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def changes(self, member: Member) -> int | None:
        """Commits in the window that touched the member's lines (None when unknown)."""
        return self._answers.get(self._lines(member))

    def _count(self, key: Lines) -> int | None:
        path, start, end = key
        output = self._git("log", f"--since={self.since}", "--format=%H", "-s",
                           f"-L{start},{end}:{path}")  # fmt: skip
        if output is None:
            return None  # git could not follow these lines: unknown, not "never changed"
        return len([line for line in output.splitlines() if line.strip()])

    def first_commit_time(self, path: str) -> int | None:
        """Unix time of the commit that added ``path`` (None if unknown or untracked)."""
        if not self.available:
            return None
        absolute = self._path(path)
        return self.added.get(absolute) if absolute in self.tracked else None

    def _git(self, *args: str) -> str | None:
        assert self.root is not None
        return git_output(self.root, *GIT_SETTINGS, *args)


def run_git(directory: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    """``git -C directory args…`` (None when git is not installed). The one place dupfind
    starts git."""
    try:
        return subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            encoding="utf-8",
            errors="surrogateescape",  # file names need not be UTF-8: kept, not fatal
            check=False,
        )
    except FileNotFoundError:
        return None


def git_output(directory: Path, *args: str) -> str | None:
    """Standard output of a git command that succeeded, else None."""
    result = run_git(directory, *args)
    return result.stdout if result is not None and result.returncode == 0 else None


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
