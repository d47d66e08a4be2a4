"""``--watch``: report, then report again each time a scanned file changes, in one process.

Why a long-lived process: a one-file rescan from the command line spends half a second loading
and unpickling what the previous scan stored (analyses, memos, corpus state: cache.py) and
0.2 s starting the interpreter. Kept in memory (``state.Resident``), with what the last scan
made from unchanged objects (group.Regrouping), a rescan of the stdlib after one file changed
takes about 5% of the cold scan (benchmarks/README.md). The cache file is still written after
every scan, so other dupfind processes see the same cache.

Changes come from watchfiles (the operating system's notifications through Rust's ``notify``;
an optional extra, ``dupfind[watch]``), not from polling every file: changes within
``STEP_MS`` of each other make one rescan. What is watched is what a scan reads:
- under each directory named, recursively, Python sources, ``pyproject.toml`` and
  ``.gitignore``, outside the directories discovery never enters (``DEFAULT_EXCLUDES``) and
  editors' swap and backup files;
- each file named (and ``--config``, a ``--baseline``), through its directory: an editor that
  saves by renaming a new file over the old one would end a watch on the file itself;
- ``pyproject.toml`` and ``.gitignore`` in the directories above each path, up to the git
  repository's top (or the filesystem's root outside one): where configuration and ignore
  rules are found (config.find_pyproject, discover._ancestor_ignores). Those directories are
  watched alone, not recursively; one that cannot be read is passed over.
A directory removed or replaced (a branch switch) is watched again once it is back, with a
rescan; so is every directory when watchfiles loses a batch (a name that is not UTF-8). Every
event is filtered here, not by watchfiles: it yields nothing for a batch its filter empties, so
a log written every 20 ms would hold a watch's start back. Not seen: git commits alone, and a
symbolic link named on the command line pointed elsewhere. The rescan finds what changed by
content, so a change that changes nothing costs a stored result's reuse.
"""

from __future__ import annotations

import errno
import re
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from queue import Empty, Queue

from dupfind.discover import DEFAULT_EXCLUDES
from dupfind.errors import UsageError, optional_extra

STEP_MS = 50  # changes this close together are one rescan (watchfiles' step)
DEBOUNCE_MS = 1600  # ... but a rescan starts at the latest this long after the first
TICK_MS = 100  # how often a watching thread looks whether a root vanished
SOURCES = (".py", ".pyi")
SETTINGS_FILES = ("pyproject.toml", ".gitignore")
# Editors' swap, backup and lock files (watchfiles' default filter's), by file name.
SCRATCH = re.compile(r"\.py[cod]$|\.___jb_...___$|\.sw.$|~$|^\.#|^\.DS_Store$|^flycheck_")


class Watcher:
    """Changes that can change a report of ``paths`` (module docstring), seen from threads
    that watch from the moment this is made, so a change made while a scan runs (the first one
    too) is not lost: it is the next batch. ``files``: more files read (``--config``...)."""

    def __init__(self, paths: Sequence[str], files: Iterable[Path] = ()) -> None:
        with optional_extra("watchfiles", "--watch", "watchfiles", "watch"):
            import watchfiles  # noqa: F401
        named = [Path(path).resolve() for path in paths]
        self.directories = {path for path in named if path.is_dir()}
        self.files = {path for path in named if path not in self.directories}
        self.files |= {Path(path).resolve() for path in files}
        self.settings = _above([*self.directories, *(path.parent for path in self.files)])
        self.batches: Queue[list[str]] = Queue()
        self.stop = threading.Event()
        alone = {
            directory
            for directory in self.settings | {path.parent for path in self.files}
            if not any(directory.is_relative_to(root) for root in self.directories)
        }  # (those inside a directory named are watched with it)
        self.threads = [
            _Watching(sorted(roots), recursive, self)
            for roots, recursive in ((self.directories, True), (alone, False))
            if roots
        ]
        for thread in self.threads:
            thread.ready.wait()
        try:
            self._raise_failure()
        except BaseException:
            self.close()
            raise

    def relevant(self, path: str) -> bool:
        """Whether a change to ``path`` can change a report (module docstring)."""
        where = Path(path)
        if where in self.files or (where.name in SETTINGS_FILES and where.parent in self.settings):
            return True
        if where.suffix not in SOURCES and where.name not in SETTINGS_FILES:
            return False
        if SCRATCH.search(where.name):
            return False
        for root in self.directories:
            if where.is_relative_to(root):
                inside = where.relative_to(root).parts[:-1]
                return not any(p in DEFAULT_EXCLUDES or p.endswith(".egg-info") for p in inside)
        return False

    def next(self, timeout: float | None = None) -> list[str]:
        """The files changed since the last call (waiting for one, at most ``timeout``
        seconds if given: then ``queue.Empty``), sorted."""
        while True:
            changed = set(self.batches.get(timeout=timeout))
            while True:
                self._raise_failure()
                try:
                    changed.update(self.batches.get_nowait())
                except Empty:
                    break
            if changed:
                return sorted(changed)

    def _raise_failure(self) -> None:
        for thread in self.threads:
            if thread.failure is not None:
                raise _watch_error(thread.roots, thread.failure)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


class _Watching(threading.Thread):
    """One watchfiles watch of ``roots`` (recursive or not), its relevant batches put on the
    watcher's queue; it ends with the watcher, or with a failure it keeps (``failure``, and
    an empty batch to wake the main thread, which raises it)."""

    def __init__(self, roots: list[Path], recursive: bool, watcher: Watcher) -> None:
        super().__init__(name="dupfind-watch", daemon=True)
        self.roots, self.recursive, self.watcher = roots, recursive, watcher
        self.ready = threading.Event()
        self.failure: BaseException | None = None
        self.start()

    def run(self) -> None:
        from watchfiles._rust_notify import WatchfilesRustInternalError

        try:
            while not self.watcher.stop.is_set():
                seen = _identity(self.roots)
                try:
                    self._watch(seen)
                except FileNotFoundError:  # a root went as the watch began: as below
                    if all(root.is_dir() for root in self.roots):
                        raise
                except WatchfilesRustInternalError:  # a name that is not UTF-8: batch lost
                    pass
                if self.watcher.stop.is_set():
                    break
                gone = [str(root) for root in self.roots if not root.is_dir()]
                if gone:  # the rescan says it is missing; another when it is back
                    self.ready.set()
                    self.watcher.batches.put(gone)
                    self._until_back()
                self.watcher.batches.put([str(root) for root in self.roots])
        except BaseException as exc:  # handed to the main thread
            self.failure = exc
            self.watcher.batches.put([])
        finally:
            self.ready.set()

    def _watch(self, seen: list[tuple[int, int] | None]) -> None:
        """Until the watcher stops or a root is gone or replaced."""
        from watchfiles import watch

        relevant = self.watcher.relevant
        for batch in watch(
            *self.roots, watch_filter=None, debounce=DEBOUNCE_MS,
            step=STEP_MS, stop_event=self.watcher.stop, rust_timeout=TICK_MS,
            yield_on_timeout=True, recursive=self.recursive, raise_interrupt=False,
            ignore_permission_denied=not self.recursive,
        ):  # fmt: skip
            self.ready.set()
            changed = sorted({path for _, path in batch if relevant(path)})
            if changed:
                self.watcher.batches.put(changed)
            if _identity(self.roots) != seen or any(
                change.name == "deleted" and Path(path) in self.roots for change, path in batch
            ):
                return

    def _until_back(self) -> None:
        while not all(root.is_dir() for root in self.roots):
            if self.watcher.stop.wait(TICK_MS / 1000):
                return


def _identity(roots: Sequence[Path]) -> list[tuple[int, int] | None]:
    """Which directories ``roots`` are (None: gone): a root replaced keeps its name only."""
    found: list[tuple[int, int] | None] = []
    for root in roots:
        try:
            stat = root.stat()
        except OSError:
            found.append(None)
            continue
        found.append((stat.st_dev, stat.st_ino) if root.is_dir() else None)
    return found


def _above(directories: Iterable[Path]) -> set[Path]:
    """Each directory and those above it, up to a git repository's top (else the root)."""
    found: set[Path] = set()
    for directory in directories:
        for level in (directory, *directory.parents):
            if level in found:
                break
            found.add(level)
            if (level / ".git").exists():
                break
    return found


def _watch_error(roots: Sequence[Path], failure: BaseException) -> BaseException:
    """A watch that failed, as dupfind says it: an OS error (a watch limit reached, a
    directory that cannot be read) or a name watchfiles cannot take is the user's to fix;
    anything else stays as it is."""
    if not isinstance(failure, OSError | UnicodeError):
        return failure
    where = ", ".join(str(root) for root in roots)
    if isinstance(failure, UnicodeError):  # watchfiles takes only UTF-8 names
        return UsageError(
            f"cannot watch {where}: a name is not valid UTF-8; rename it, or scan without --watch"
        )
    if isinstance(failure, FileNotFoundError):
        return UsageError(f"cannot watch {where}: no such directory")
    limited = failure.errno == errno.ENOSPC or "limit" in str(failure).lower()
    hint = (
        ". On Linux, the directories one user can watch are limited by "
        "fs.inotify.max_user_watches: raise it (sysctl), or watch a smaller tree"
        if limited
        else ""
    )
    return UsageError(f"cannot watch {where}: {failure}{hint}")
