"""Terminal report with rich: the groups (largest first), then a summary and skipped files."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.text import Text

from dupfind.report.view import GroupView, ReportView

KIND_STYLE = {"exact": "bold red", "renamed": "bold yellow", "near-miss": "bold cyan"}


def render_terminal(view: ReportView, out: TextIO) -> None:
    """Write the human-readable report to ``out`` (colour only on a terminal)."""
    console = Console(file=out, highlight=False, soft_wrap=True)
    for number, group in enumerate(view.groups, 1):
        console.print(_group_header(number, group))
        console.print(_members(group), end="")
    console.print(_summary(view))
    if view.skipped:
        console.print(Text(f"Skipped or partly parsed files ({len(view.skipped)}):", "bold"))
        for item in view.skipped:
            where = f"{item.path}:{item.line}" if item.line else item.path
            console.print(f"  {where}: {item.reason}", markup=False)


def _group_header(number: int, group: GroupView) -> Text:
    similarity = (
        f"{group.similarity_min:.0%}"
        if group.similarity_min == group.similarity_mean
        else f"{group.similarity_min:.0%}-{group.similarity_mean:.0%} (min-mean)"
    )
    return Text.assemble(
        (f"#{number} ", "bold"),
        (group.kind, KIND_STYLE.get(group.kind, "bold")),
        f" · {len(group.members)} copies · {group.lines} lines · similarity {similarity}",
        (f"  [{group.id}]", "dim"),
    )


def _members(group: GroupView) -> Text:
    lines = Text()
    for member in group.members:
        lines.append(f"  {member.path}:{member.start_line}-{member.end_line}")
        lines.append(f"  {member.qualname}\n", "dim")
    return lines


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _summary(view: ReportView) -> Text:
    return Text.assemble(
        ("\nSummary: ", "bold"),
        f"{_plural(view.files_scanned, 'file')}, {_plural(view.lines_scanned, 'line')} scanned; "
        f"{_plural(len(view.groups), 'clone group')}; "
        f"{_plural(view.duplicated_lines, 'duplicated line')} ({view.duplicated_percent:.1f}%); "
        f"{_plural(len(view.skipped), 'file')} skipped",
    )
