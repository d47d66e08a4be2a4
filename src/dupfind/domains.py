"""Domains: which part of the system a file belongs to, and whether it is test code.

A file's domain is the first matching ``[tool.dupfind.domains]`` entry (name → gitignore-style
globs over the path as reported), else its top-level package: the first directory below a
``src/`` directory, else the first directory below the scanned root it was found under (a
module directly in the root is its own domain). Test code (``test_*.py``, ``*_test.py``,
``conftest.py``, anything under ``tests/``, ``test/`` or ``testing/``) is recognised whatever
domain it sits in: the decision rule never merges test code with production code. Modules
directly in the scanned root belong to the root's own domain (its directory name), as when
scanning one package.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import PurePosixPath

import pathspec

from dupfind.config import Config
from dupfind.memo import Computed

TEST_DIRECTORIES = frozenset({"tests", "test", "testing"})


@lru_cache(maxsize=1 << 16)
def is_test_path(path: str) -> bool:
    """Whether ``path`` is test code by the usual conventions (asked for every member of
    every group: memoised)."""
    parts = PurePosixPath(path.replace(os.sep, "/")).parts
    name = parts[-1] if parts else ""
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or any(part in TEST_DIRECTORIES for part in parts[:-1])
    )


@dataclass(frozen=True)
class DomainMap:
    """Assigns domains to the reported paths of one scan."""

    config: Config
    roots: tuple[str, ...]

    @cached_property
    def _specs(self) -> list[tuple[str, pathspec.PathSpec[pathspec.Pattern]]]:
        return [
            (name, pathspec.GitIgnoreSpec.from_lines(globs)) for name, globs in self.config.domains
        ]

    @cached_property
    def _known(self) -> Computed[str, str]:
        return Computed(self._native_domain)

    def _native_domain(self, path: str) -> str:
        return self._domain(path.replace(os.sep, "/"))

    def domain(self, path: str) -> str:
        """The domain of ``path`` (asked for every member of every group: memoised)."""
        return self._known[path]

    def _domain(self, posix: str) -> str:
        for name, spec in self._specs:
            if spec.match_file(posix):
                return name
        return _package(posix, self._root_of(posix))

    def _root_of(self, path: str) -> str:
        best = ""
        for root in self.roots:
            prefix = root.replace(os.sep, "/").rstrip("/")
            if prefix in ("", ".") or path.startswith(prefix + "/"):
                candidate = "" if prefix == "." else prefix
                best = max(best, candidate, key=len)
        return best


def _package(path: str, root: str) -> str:
    parts = PurePosixPath(path[len(root) :].lstrip("/") if root else path).parts
    if "src" in parts[:-1]:
        below = parts[parts.index("src") + 1 :]
        if len(below) > 1:
            return below[0]
    if len(parts) > 1:
        return parts[0]
    # A module directly in the scanned root belongs to the root itself (scanning a package).
    return PurePosixPath(os.path.abspath(root or ".")).name


def domain_map(config: Config, roots: Sequence[str]) -> DomainMap:
    """The domain assignment for a scan of ``roots`` (as reported: relative to the cwd)."""
    return DomainMap(config, tuple(roots))
