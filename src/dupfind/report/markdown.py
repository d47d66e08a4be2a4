"""Markdown report: the scorecard and the plan, fit for a pull request, an issue or a CI job
summary (GitHub-flavoured tables; no HTML)."""

from __future__ import annotations

from typing import TextIO

from dupfind.report.view import GroupView, LeftoverView, ReportView

MAX_GROUPS = 100
MAX_DIFFERENCES = 8


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(view: ReportView, out: TextIO) -> None:
    """Write the Markdown report."""
    title = "Refactoring plan" if view.mode == "plan" else "Duplicate code"
    out.write(f"# dupfind: {title}\n\n")
    _scorecard(view, out)
    groups = view.ordered()
    if groups:
        out.write(f"## {'Plan' if view.mode == 'plan' else 'Clone groups'}\n\n")
    for number, group in enumerate(groups[:MAX_GROUPS], 1):
        _group(number, group, out)
    if len(groups) > MAX_GROUPS:
        out.write(f"_{len(groups) - MAX_GROUPS} more groups in the JSON or HTML report._\n\n")
    _leftovers(view.leftovers, out)
    if view.skipped:
        out.write("## Skipped files\n\n| file | line | reason |\n|---|---|---|\n")
        for item in view.skipped:
            out.write(f"| `{item.path}` | {item.line or ''} | {_cell(item.reason)} |\n")
        out.write("\n")


def _scorecard(view: ReportView, out: TextIO) -> None:
    card = view.scorecard
    verdicts = ", ".join(f"{name}: {count}" for name, count in card.verdicts)
    out.write(
        "| files | lines | duplicated lines | lines saved if applied | groups | leftovers |\n"
    )
    out.write("|---:|---:|---:|---:|---|---:|\n")
    out.write(
        f"| {card.files_scanned} | {card.lines_scanned} | {card.duplicated_lines} "
        f"({card.duplicated_percent:.1f}%) | {card.lines_saved} | {card.groups} ({verdicts}) "
        f"| {card.leftovers} |\n\n"
    )
    for note in view.notes:
        out.write(f"> {note}\n\n")


def _group(number: int, group: GroupView, out: TextIO) -> None:
    canonical = group.members[group.canonical]
    out.write(
        f"### {number}. {group.verdict}: `{canonical.qualname}` "
        f"({len(group.members)} copies, {group.lines} lines, {group.kind}, "
        f"similarity {group.similarity_min:.0%}, saves {group.lines_saved} lines)\n\n"
    )
    for reason in group.reasons:
        out.write(f"- **Why** ({group.rule}): {reason}\n")
    out.write(f"- **Keep** `{canonical.path}:{canonical.start_line}` — {group.canonical_reason}\n")
    if group.signature:
        out.write(f"- **Signature**: `{group.signature}`\n")
    out.write("\n| member | lines | qualname | domain |\n|---|---:|---|---|\n")
    for index, member in enumerate(group.members):
        mark = " (keep)" if index == group.canonical else ""
        out.write(
            f"| `{member.path}:{member.start_line}-{member.end_line}`{mark} | {member.lines} "
            f"| `{_cell(member.qualname)}` | {member.domain} |\n"
        )
    out.write("\n")
    if group.differences:
        out.write("Differences (canonical first):\n\n")
        for diff in group.differences[:MAX_DIFFERENCES]:
            values = " / ".join(f"`{_cell(v)}`" if v else "—" for v in diff.values[:4])
            out.write(f"- line {diff.line}, {diff.kind}: {values}\n")
        if len(group.differences) > MAX_DIFFERENCES:
            out.write(f"- … {len(group.differences) - MAX_DIFFERENCES} more\n")
        out.write("\n")


def _leftovers(items: tuple[LeftoverView, ...], out: TextIO) -> None:
    if not items:
        return
    out.write("## Leftovers of repeated attempts\n\n| kind | where | similarity | reason |\n")
    out.write("|---|---|---:|---|\n")
    for item in items:
        where = ", ".join(f"`{loc.path}:{loc.start_line}-{loc.end_line}`" for loc in item.locations)
        out.write(f"| {item.kind} | {where} | {item.similarity:.0%} | {_cell(item.reason)} |\n")
    out.write("\n")
