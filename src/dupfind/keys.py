"""Cache keys: what identifies the code that computes results (``code_identity``) and one
file's analysis (``cache_key``: that code, the per-file settings, the reported path and the
file's bytes), and a scan's keyed files (``Keyed``), which classification reads again to catch
a file edited while it was scanned. Every cached value (cache.py) is stored under such a key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from dupfind import __version__
from dupfind.config import Config
from dupfind.memo import content_key
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
    def of(cls, files: Sequence[str], config: Config) -> Keyed:
        """Each readable file's key (an unreadable one is reported by the map stage)."""
        settings = config.analysis_key()
        keys = {}
        for path in files:
            data = read_source(path)
            if not isinstance(data, SkippedFile):
                keys[path] = cache_key(settings, path, data)
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
