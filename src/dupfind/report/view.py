"""The one presentation model every renderer reads: built once, so no renderer recomputes.

Paths are made relative to the working directory, groups keep the pipeline's order (largest
duplication first), figures are rounded, and nothing time- or machine-dependent is included, so
the same input gives byte-identical reports whatever the file order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dupfind.models import CloneGroup, ScanResult


@dataclass(frozen=True, slots=True)
class MemberView:
    path: str
    start_line: int
    end_line: int
    qualname: str
    unit: str

    @property
    def lines(self) -> int:
        return self.end_line - self.start_line + 1


@dataclass(frozen=True, slots=True)
class GroupView:
    id: str
    kind: str
    similarity_min: float
    similarity_mean: float
    lines: int
    members: tuple[MemberView, ...]


@dataclass(frozen=True, slots=True)
class SkippedView:
    path: str
    reason: str
    line: int | None
    partial: bool


@dataclass(frozen=True, slots=True)
class ReportView:
    files_scanned: int
    lines_scanned: int
    duplicated_lines: int
    duplicated_percent: float
    groups: tuple[GroupView, ...]
    skipped: tuple[SkippedView, ...]


def relative_path(path: str, base: Path | None = None) -> str:
    """``path`` relative to ``base`` (default: the working directory), with forward slashes.

    Paths outside ``base`` are shown absolute rather than as a chain of ``..``.
    """
    start = str(base if base is not None else Path.cwd())
    try:
        relative = os.path.relpath(path, start)
    except ValueError:  # another drive on Windows
        relative = os.path.abspath(path)
    if relative == ".." or relative.startswith(".." + os.sep):
        relative = os.path.abspath(path)
    return Path(relative).as_posix()


def _group_view(group: CloneGroup, base: Path | None) -> GroupView:
    return GroupView(
        id=group.id,
        kind=group.kind.value,
        similarity_min=group.similarity_min,
        similarity_mean=group.similarity_mean,
        lines=group.lines,
        members=tuple(
            MemberView(
                relative_path(m.path, base), m.start_line, m.end_line, m.qualname, m.unit.value
            )
            for m in group.members
        ),
    )


def build_view(result: ScanResult, base: Path | None = None) -> ReportView:
    """The presentation model of one scan."""
    stats = result.stats
    return ReportView(
        files_scanned=stats.files_scanned,
        lines_scanned=stats.lines_scanned,
        duplicated_lines=stats.duplicated_lines,
        duplicated_percent=round(stats.duplicated_percent, 2),
        groups=tuple(_group_view(group, base) for group in result.groups),
        skipped=tuple(
            SkippedView(relative_path(s.path, base), s.reason, s.line, s.partial)
            for s in result.skipped
        ),
    )
