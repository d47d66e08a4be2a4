"""Cache keys: what identifies the code that computes results (``code_identity``) and one
file's analysis (``cache_key``: that code, the per-file settings, the reported path and the
file's bytes), and a scan's keyed files (``Keyed``), which classification reads again to catch
a file edited while it was scanned. Every cached value (cache.py) is stored under such a key.

A long-lived process (``--watch``, ``dupfind mcp``) keys again only the files whose status changed
(``StatKeys``: modification and status-change times, size, inode, device), as git's index
does: reading and hashing every file of the stdlib took 0.07 s of each rescan, a ``stat`` of
each 5 ms. A file modified (or its status changed) within ``RACY_NS`` of being read is always read
again: a second write in the same timestamp tick would leave its status as it was (git's
"racily clean").
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from dupfind import __version__
from dupfind.config import Config
from dupfind.memo import content_key, put_recent
from dupfind.models import SkippedFile
from dupfind.parse import read_source


@lru_cache(maxsize=1)
def code_identity() -> str:
    """The code that computes results: dupfind's version, a digest of its own source files (a
    development checkout changes without a version bump) and the parser's versions. Every
    cached value is keyed by it."""
    package = Path(__file__).parent
    hasher = hashlib.blake2b(digest_size=8)
    for path in sorted(package.rglob("*.py")):
        hasher.update(path.relative_to(package).as_posix().encode() + b"\0")
        hasher.update(path.read_bytes())
    parsers = []
    for name in ("tree-sitter", "tree-sitter-python"):
        try:
            parsers.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parsers.append(f"{name} unknown")
    return f"dupfind {__version__} ({hasher.hexdigest()}; {', '.join(parsers)})"


class Keyed:
    """The cache keys of a scan's files (read before the map), and the files found with other
    contents when read again (by the map or by classification: ``check``): edited during the
    scan, so nothing computed from them may be stored under their keys."""

    def __init__(self, keys: Mapping[str, bytes], settings: str) -> None:
        self.keys = keys
        self.settings = settings
        self.moved: set[str] = set()

    @classmethod
    def of(cls, files: Sequence[str], config: Config, known: StatKeys | None = None) -> Keyed:
        """Each readable file's key (an unreadable one is reported by the map stage); those
        ``known`` by an unchanged status are not read again."""
        settings = config.analysis_key()
        last = known.last(settings) if known is not None else {}
        now: dict[str, tuple[Status, bytes]] = {}
        trusted = time.time_ns() - RACY_NS  # statuses older than this can be trusted later
        keys = {}
        for path in files:
            status = _status(path) if known is not None else None  # taken before reading
            entry = last.get(path)
            if entry is not None and status is not None and status == entry[0]:
                key = entry[1]
            else:
                data = read_source(path)
                if isinstance(data, SkippedFile):
                    continue
                key = cache_key(settings, path, data)
            keys[path] = key
            if status is not None and max(status[:2]) < trusted:
                now[path] = (status, key)
        if known is not None:
            known.keep(settings, now)
        return cls(keys, settings)

    def check(self, path: str, data: bytes | SkippedFile) -> None:
        """Note ``path`` as moved if ``data``, read now, is not what its key was made from
        (including a file unreadable when keyed and readable now, or the other way round)."""
        key = None if isinstance(data, SkippedFile) else cache_key(self.settings, path, data)
        if key != self.keys.get(path):
            self.moved.add(path)


def cache_key(settings_key: str, path: str, data: bytes) -> bytes:
    """The cache key of one file's analysis."""
    return content_key((code_identity(), settings_key, path, data))


RACY_NS = 2_000_000_000  # a file modified this close to its reading is read again next time
SETTINGS_KEPT = 2  # analysis settings whose files' statuses are kept (MCP: two projects)
Status = tuple[int, int, int, int, int]  # mtime_ns, ctime_ns, size, inode, device


class StatKeys:
    """Files' keys by the status they had when read, per settings (the last
    ``SETTINGS_KEPT``), for a long-lived process's next scans (module docstring)."""

    def __init__(self) -> None:
        self.known: dict[str, dict[str, tuple[Status, bytes]]] = {}

    def last(self, settings: str) -> dict[str, tuple[Status, bytes]]:
        return self.known.get(settings, {})

    def keep(self, settings: str, known: dict[str, tuple[Status, bytes]]) -> None:
        """The files of the last keying under ``settings`` (no others: what is no longer
        scanned is forgotten)."""
        put_recent(self.known, settings, known, SETTINGS_KEPT)

    def forget(self, keyed: Keyed) -> None:
        """Files read with other contents than their keys' (``Keyed.check``) are read again
        next time, whatever their status says (a file system whose status does not follow
        every write: a creation time for ctime, attributes cached by NFS)."""
        known = self.known.get(keyed.settings, {})
        for path in keyed.moved:
            known.pop(path, None)


def _status(path: str) -> Status | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino, info.st_dev
