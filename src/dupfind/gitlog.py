"""Whole-repository answers from one ``git log`` each, read from its ``--name-status -z``
output (history.py asks; this module only reads what git printed).

**The window** (``WINDOW_LOG``): per file, the commits of the change-frequency window that
touched it. ``git log -L`` counts commits touching a member's lines, so this is a bound on any
member's count, with three exceptions where it is not and the file gets no bound (None):
``git log -L`` follows lines into an older name when the commit that added the file deleted
or renamed another, whether or not the whole-commit rename detection paired them (a file
split in two, more renames than ``diff.renameLimit``); the target of a rename; and anything
git printed that this reader does not know. Merges are listed against each parent (``-m``),
and the root commit is listed (``--root``): either can only raise a bound, and in a history
full of merges a bound is higher than the counts it bounds (more groups are asked about, none
wrongly skipped).

Every git command runs with ``GIT_SETTINGS``: what the user's configuration could change in
what these readers see (signatures printed before a commit's header, merges shown combined,
the root commit hidden) is set back to git's defaults.

**Ages** (``ADDED_LOG``): when each path was first added, oldest commit first, a rename
carrying its old name's age.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

GIT_SETTINGS = ("-c", "log.diffMerges=separate", "-c", "log.showRoot=true",
                "-c", "log.showSignature=false")  # fmt: skip
WINDOW_LOG = ("log", "--root", "-m", "-M", "--name-status", "-z", "--format=%x01%H")
ADDED_LOG = ("log", "--root", "--reverse", "-M", "--diff-filter=AR", "--name-status", "-z",
             "--format=%x01%ct")  # fmt: skip
_KNOWN = frozenset("AMDTRC")  # statuses read; any other leaves its paths unbounded

Entry = tuple[str, list[str]]  # a status letter and its absolute paths (two for R and C)


def window_counts(root: Path, log: str) -> dict[str, int | None]:
    """The window's bound per absolute path (see the module's docstring)."""
    commits: dict[str, set[str]] = {}
    unbounded: set[str] = set()
    for commit, entries in commit_entries(root, log):
        sources = any(status in "DRC" for status, _ in entries)
        for status, paths in entries:
            if status in "RC" or status not in _KNOWN or (status == "A" and sources):
                unbounded.add(paths[-1])
            else:
                commits.setdefault(paths[0], set()).add(commit)
    counts: dict[str, int | None] = {path: len(seen) for path, seen in commits.items()}
    return counts | dict.fromkeys(unbounded)


def added_times(root: Path, log: str) -> dict[str, int]:
    """When each absolute path was first added (see the module's docstring)."""
    added: dict[str, int] = {}
    for stamp, entries in commit_entries(root, log):
        when = int(stamp)
        for status, paths in entries:
            if status == "R":
                added.setdefault(paths[1], added.get(paths[0], when))
            elif status == "A":
                added.setdefault(paths[0], when)
    return added


def touched_paths(root: Path, log: str) -> set[str]:
    """Every absolute path any commit of a ``WINDOW_LOG`` names (both names of a rename)."""
    return {path for _, entries in commit_entries(root, log) for _, paths in entries
            for path in paths}  # fmt: skip


def readable(log: str) -> bool:
    """Output these readers understand: empty, or starting each commit with its header."""
    return not log.strip() or log.lstrip("\n").startswith("\x01")


def commit_entries(root: Path, log: str) -> Iterator[tuple[str, list[Entry]]]:
    """Each commit of a ``git log --name-status -z --format=%x01…`` (a merge once per
    parent with ``-m``): its formatted header and its entries. Read field by field, each in
    its place, so no character of a file name (but NUL, which git never prints in one) is
    taken for a separator."""
    fields = log.split("\0")
    header: str | None = None
    entries: list[Entry] = []
    index = 0
    while index < len(fields):
        field = fields[index].lstrip("\n")
        index += 1
        if field.startswith("\x01"):
            if header is not None:
                yield header, entries
            header, entries = field[1:], []
        elif field:
            width = 2 if field[0] in "RC" else 1
            names = fields[index : index + width]
            entries.append((field[0], [os.path.join(root, name) for name in names]))
            index += width
    if header is not None:
        yield header, entries
