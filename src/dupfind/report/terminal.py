"""Terminal report with rich: groups (largest first; by priority for ``plan``) with their
verdicts, then leftovers, a summary and skipped files. Colour only on a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.text import Text

from dupfind.report.view import GroupView, ReportView, SkippedView, plural

KIND_STYLE = {"exact": "bold red", "renamed": "bold yellow", "near-miss": "bold cyan"}
VERDICT_STYLE = {"consolidate": "bold green", "extract": "bold magenta", "leave-separate": "dim"}


def render_terminal(view: ReportView, out: TextIO) -> None:
    """Write the human-readable report to ``out``."""
    console = Console(file=out, highlight=False, soft_wrap=True)
    if view.mode == "plan":
        console.print(_scorecard(view))
    for number, group in enumerate(view.ordered(), 1):
        console.print(_group_header(number, group))
        console.print(_members(group), end="")
        console.print(_advice(group, detailed=view.mode == "plan"), end="")
    if view.leftovers:
        console.print(Text(f"\nLeftovers of repeated attempts ({len(view.leftovers)}):", "bold"))
        for leftover in view.leftovers:
            console.print(f"  {leftover.kind}: {leftover.reason}", markup=False)
    print_footer(console, view.notes, _summary(view), view.skipped)


def print_footer(
    console: Console, notes: Sequence[str], summary: Text, skipped: Sequence[SkippedView]
) -> None:
    """The end of every terminal report: notes, the summary line and the skipped files."""
    for note in notes:
        console.print(Text(f"\nNote: {note}", "italic"))
    console.print(summary)
    if skipped:
        console.print(Text(f"Skipped or partly parsed files ({len(skipped)}):", "bold"))
        for item in skipped:
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
        (group.verdict, VERDICT_STYLE.get(group.verdict, "bold")),
        " · ",
        (group.kind, KIND_STYLE.get(group.kind, "bold")),
        f" · {len(group.members)} copies · {group.lines} lines · similarity {similarity}",
        f" · saves {group.lines_saved} lines" if group.lines_saved else "",
        (f"  [{group.id}]", "dim"),
    )


def _members(group: GroupView) -> Text:
    lines = Text()
    for index, member in enumerate(group.members):
        lines.append(f"  {member.path}:{member.start_line}-{member.end_line}")
        unit = " (block)" if member.unit == "block" else ""
        lines.append(f"  {member.qualname}{unit}", "dim")
        lines.append("  ← keep\n" if index == group.canonical else "\n", "green")
    return lines


def _advice(group: GroupView, detailed: bool) -> Text:
    text = Text()
    for reason in group.reasons:
        text.append(f"  why: {reason}\n", "italic")
    if group.signature and group.verdict != "leave-separate":
        text.append(f"  signature: {group.signature}\n")
    if detailed:
        text.append(f"  keep: {group.canonical_reason}\n", "italic")
        for diff in group.differences[:5]:
            values = " | ".join(v or "—" for v in diff.values[:3])
            text.append(f"  differs at line {diff.line} ({diff.kind}): {values}\n", "dim")
    return text


def _scorecard(view: ReportView) -> Text:
    card = view.scorecard
    verdicts = ", ".join(f"{count} {name}" for name, count in card.verdicts)
    return Text.assemble(
        ("Refactoring plan\n", "bold underline"),
        f"  {card.duplicated_lines} of {card.lines_scanned} lines duplicated "
        f"({card.duplicated_percent:.1f}%) in {card.groups} groups: {verdicts}\n",
        f"  {card.lines_saved} lines saved if every item is applied; "
        f"{card.leftovers} leftovers of repeated attempts\n",
    )


def _summary(view: ReportView) -> Text:
    return Text.assemble(
        ("\nSummary: ", "bold"),
        f"{plural(view.files_scanned, 'file')}, {plural(view.lines_scanned, 'line')} scanned; "
        f"{plural(len(view.groups), 'clone group')}; "
        f"{plural(view.duplicated_lines, 'duplicated line')} ({view.duplicated_percent:.1f}%); "
        f"{plural(len(view.skipped), 'file')} skipped",
        f"; {plural(view.suppressed, 'group')} suppressed" if view.suppressed else "",
    )
