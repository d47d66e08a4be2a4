"""``--watch``: report, then report again each time a scanned file changes, in one process.

Why a long-lived process: a one-file rescan from the command line spends half a second loading
and unpickling what the previous scan stored (analyses, memos, corpus state: cache.py) and
0.2 s starting the interpreter. Kept in memory (``cache.Resident``), a rescan of the stdlib
after one file changed takes about a tenth of the cold scan (benchmarks/README.md). The cache
file is still written after every scan, so other dupfind processes see the same cache.

Changes come from watchfiles (the operating system's notifications through Rust's ``notify``;
an optional extra, ``dupfind[watch]``), not from polling every file: changes within
``STEP_MS`` of each other make one rescan. A change counts when it is to a Python source, or
to a file that decides what is scanned or how (``pyproject.toml``, ``.gitignore``, the
``--config`` file); watchfiles' default filter already leaves out ``.git``, ``__pycache__``,
virtual environments and editors' swap files. The rescan itself finds what changed (by content),
so a change that turns out to change nothing costs a stored result's reuse.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from queue import Empty, Queue

from dupfind.errors import optional_extra

STEP_MS = 50  # changes this close together are one rescan (watchfiles' step)
DEBOUNCE_MS = 1600  # ... but a rescan starts at the latest this long after the first
TICK_MS = 100  # how often the watching thread looks whether it is asked to stop
SOURCES = (".py", ".pyi")
SETTINGS_FILES = ("pyproject.toml", ".gitignore")


class Watcher:
    """Changes under the directories among ``paths``, and to the files among them and to
    ``config_file``, seen from a thread that watches from the moment this is made, so a change
    made while a scan runs (the first one too) is not lost: it is the next batch. A file is
    watched through its directory: an editor that saves by writing a new file and renaming it
    over the old one would end a watch on the file itself."""

    def __init__(self, paths: Sequence[str], config_file: Path | None = None) -> None:
        with optional_extra("watchfiles", "--watch", "watchfiles", "watch"):
            import watchfiles  # noqa: F401
        named = [Path(path).resolve() for path in paths]
        self.directories = {path for path in named if path.is_dir()}
        self.files = {path for path in named if path not in self.directories}
        if config_file is not None:
            self.files.add(Path(config_file).resolve())
        self.roots = sorted(self.directories | {path.parent for path in self.files})
        self.batches: Queue[list[str] | BaseException] = Queue()
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="dupfind-watch", daemon=True)
        self.thread.start()
        self.ready.wait()

    def relevant(self, path: str) -> bool:
        """Whether a change to ``path`` can change a report: a file named on the command line,
        or a Python source or settings file under a directory named there."""
        where = Path(path)
        if where in self.files:
            return True
        wanted = where.suffix in SOURCES or where.name in SETTINGS_FILES
        return wanted and any(where.is_relative_to(root) for root in self.directories)

    def _watch(self) -> None:
        try:
            for batch in _batches(self.roots, self.relevant, self.stop):
                self.ready.set()
                if batch:
                    self.batches.put(batch)
        except BaseException as exc:  # handed to the main thread, which raises it
            self.batches.put(exc)
        finally:
            self.ready.set()

    def next(self, timeout: float | None = None) -> list[str]:
        """The files changed since the last call (waiting for one, at most ``timeout``
        seconds if given: then ``queue.Empty``), sorted."""
        changed: set[str] = set()
        item = self.batches.get(timeout=timeout)
        while True:
            if isinstance(item, BaseException):
                raise item
            changed.update(item)
            try:
                item = self.batches.get_nowait()
            except Empty:
                return sorted(changed)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def _batches(
    roots: Sequence[Path], relevant: Callable[[str], bool], stop: threading.Event
) -> Iterator[list[str]]:
    """watchfiles' batches of ``relevant`` changes under ``roots`` (its default filter leaves
    out version-control and cache directories and editors' swap files), an empty batch every
    ``TICK_MS`` without any."""
    from watchfiles import Change, DefaultFilter, watch

    default = DefaultFilter()

    def wanted(change: Change, path: str) -> bool:
        return relevant(path) and default(change, path)

    for batch in watch(
        *roots, watch_filter=wanted, debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=stop,
        rust_timeout=TICK_MS, yield_on_timeout=True,
    ):  # fmt: skip
        yield sorted({path for _, path in batch})
