"""Discovery: paths given on the command line → the sorted source files to scan.

Directories are walked with ``os.walk``; default excludes (VCS, virtualenvs, build output,
caches) and ``exclude`` globs prune whole directories early. ``.gitignore`` files (those inside
the scanned tree and those between it and the repository root) are honoured with pathspec's
git-compatible matcher. Symlinks are not followed unless asked (then loops are cut by remembering
real directory paths). Oversized files are skipped with a reason. No file contents are read here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pathspec

from dupfind.config import Config
from dupfind.errors import UsageError
from dupfind.memo import Computed
from dupfind.models import SkippedFile

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "build",
    "dist",
    "node_modules",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "site-packages",
)


@dataclass(frozen=True, slots=True)
class Discovery:
    """The files to scan (sorted, unique) and the ones passed over, with reasons."""

    files: tuple[str, ...]
    skipped: tuple[SkippedFile, ...]


@dataclass(frozen=True, slots=True)
class _Ignore:
    base: Path
    spec: pathspec.PathSpec[pathspec.Pattern]
    prefix: str = ""  # for a .gitignore above the scanned root: the root's path below it

    def verdict(self, relative: str, is_dir: bool) -> bool | None:
        """True (ignored), False (re-included by a ``!`` pattern) or None (no pattern), for a
        path ``relative`` to ``base``."""
        return self.spec.check_file(self.prefix + relative + ("/" if is_dir else "")).include


def discover_files(paths: Sequence[str], config: Config) -> Discovery:
    """Expand ``paths`` into source files; a missing path is a usage error."""
    files: dict[str, str] = {}
    skipped: list[SkippedFile] = []
    real_directories = Computed[str, str](os.path.realpath)
    for given in paths:
        path = Path(given)
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"{given}: no such file or directory. Check the path and try again.")
        found = _walk(path, config, skipped) if path.is_dir() else iter([(str(path), None)])
        for file, link in found:
            problem = _size_problem(file, config)
            if problem is not None:
                skipped.append(problem)
            else:
                files.setdefault(_resolved(file, link, real_directories), display_path(file))
    unique_skipped = {item.path: item for item in skipped}
    return Discovery(
        files=tuple(sorted(files.values())),
        skipped=tuple(sorted(unique_skipped.values(), key=lambda s: s.path)),
    )


def display_path(path: str | Path, base: Path | None = None) -> str:
    """How dupfind spells a path everywhere: relative to ``base`` (default: the working
    directory) when below it, else absolute, with forward slashes. One spelling per file, so
    group ids do not depend on how the user wrote the path, and reports never show ``../..``."""
    cwd = os.getcwd()
    return _display(os.fspath(path), os.fspath(base) if base is not None else cwd, cwd)


@lru_cache(maxsize=1 << 16)
def _display(path: str, base: str, cwd: str) -> str:
    """``display_path`` for one working directory (the same path is spelled for every group
    and member it appears in: memoised)."""
    absolute = os.path.abspath(os.path.join(cwd, path))
    try:
        relative = os.path.relpath(absolute, os.path.join(cwd, base))
    except ValueError:  # another drive on Windows
        return Path(absolute).as_posix()
    if relative == ".." or relative.startswith(".." + os.sep):
        return Path(absolute).as_posix()
    return Path(relative).as_posix()


def _size_problem(path: str, config: Config) -> SkippedFile | None:
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        return SkippedFile(display_path(path), f"cannot read file: {exc.strerror}")
    if size > config.max_file_size:
        return SkippedFile(
            display_path(path),
            f"file is {_size(size)}, over the max-file-size limit of "
            f"{_size(config.max_file_size)}; raise --max-file-size to scan it",
        )
    return None


def _size(count: int) -> str:
    if count >= 1048576:
        return f"{count / 1048576:.1f} MiB"
    if count >= 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count} bytes"


def _walk(root: Path, config: Config, skipped: list[SkippedFile]) -> Iterator[tuple[str, bool]]:
    """The source files under ``root`` not excluded, each with whether it is a symbolic link
    (only when following them: the others are skipped here)."""
    excludes = pathspec.GitIgnoreSpec.from_lines(config.exclude)
    inherited: dict[Path, list[_Ignore]] = {
        root: _ancestor_ignores(root) if config.gitignore else []
    }
    suffixes = (".py", ".pyi") if config.include_pyi else (".py",)
    seen_dirs: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=config.follow_symlinks):
        directory = Path(dirpath)
        scoped = inherited.pop(directory, [])
        if config.follow_symlinks and not _first_visit(directory, seen_dirs):
            dirnames.clear()
            continue
        local = _load_ignore(directory) if config.gitignore else None
        if local is not None:
            scoped = [*scoped, local]
        rules = _Rules(directory, root, excludes, scoped, config)
        dirnames[:] = sorted(name for name in dirnames if not rules.excluded(name, True))
        inherited.update((directory / name, scoped) for name in dirnames)
        for name in sorted(filenames):
            if not name.endswith(suffixes) or rules.excluded(name, False):
                continue
            file = os.path.join(dirpath, name)
            link = os.path.islink(file)
            if link and not config.follow_symlinks:
                skipped.append(
                    SkippedFile(display_path(file), "symbolic link (use --follow-symlinks)")
                )
                continue
            yield file, link


def _first_visit(directory: Path, seen: set[str]) -> bool:
    real = os.path.realpath(directory)
    if real in seen:
        return False
    seen.add(real)
    return True


class _Rules:
    """What excludes a name in one directory: the default excludes, ``exclude`` globs (by the
    path below ``root``) and the .gitignore files in scope (by the path below each one's
    directory), each prefix worked out once per directory, not per name."""

    def __init__(
        self,
        directory: Path,
        root: Path,
        excludes: pathspec.PathSpec[pathspec.Pattern],
        ignores: Sequence[_Ignore],
        config: Config,
    ) -> None:
        self.directory = directory
        self.excludes = excludes
        self.config = config
        self.below_root = _prefix(directory, root) or ""
        # outermost first: the deepest .gitignore with a verdict wins
        self.ignores = [(ignore, _prefix(directory, ignore.base)) for ignore in ignores]

    def excluded(self, name: str, is_dir: bool) -> bool:
        if is_dir and (name in DEFAULT_EXCLUDES or name.endswith(".egg-info")):
            return True
        if is_dir and not self.config.follow_symlinks and (self.directory / name).is_symlink():
            return True
        relative = self.below_root + name
        if self.excludes.match_file(relative + "/" if is_dir else relative):
            return True
        ignored = False
        for ignore, below in self.ignores:
            verdict = ignore.verdict(below + name, is_dir) if below is not None else None
            if verdict is not None:
                ignored = verdict
        return ignored


def _prefix(directory: Path, base: Path) -> str | None:
    """``directory``'s path below ``base`` as a prefix for its names ("" for ``base``
    itself), None when it is not below ``base``."""
    try:
        relative = directory.relative_to(base).as_posix()
    except ValueError:
        return None
    return "" if relative == "." else relative + "/"


def _load_ignore(directory: Path) -> _Ignore | None:
    gitignore = directory / ".gitignore"
    if not gitignore.is_file():
        return None
    try:
        lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return _Ignore(directory, pathspec.GitIgnoreSpec.from_lines(lines))


def _ancestor_ignores(root: Path) -> list[_Ignore]:
    """The .gitignore files above ``root`` up to the repository root, outermost first.

    A directory the user names explicitly is scanned even if a parent .gitignore hides it.
    """
    resolved = root.resolve()
    if (resolved / ".git").exists():
        return []
    chain: list[Path] = []
    for directory in resolved.parents:
        chain.append(directory)
        if (directory / ".git").exists():
            break
    else:
        return []
    found = (_load_ignore(directory) for directory in reversed(chain))
    ignores = [
        _Ignore(root, item.spec, resolved.relative_to(item.base).as_posix() + "/")
        for item in found
        if item is not None
    ]
    if any(item.spec.match_file(item.prefix) for item in ignores):
        return [item for item in ignores if not item.spec.match_file(item.prefix)]
    return ignores


def _resolved(file: str, link: bool | None, real_directories: Computed[str, str]) -> str:
    """``file``'s real path (one file named twice is scanned once). On POSIX a file that is
    not a link (``link``: None when not known yet) resolves as its directory plus its name,
    each directory once (the real path of every file was a quarter of discovery); Windows'
    also corrects the name's case."""
    if os.name == "nt" or (link if link is not None else os.path.islink(file)):
        return os.path.realpath(file)
    directory, name = os.path.split(file)
    return os.path.join(real_directories[directory], name)
