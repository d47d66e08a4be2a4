"""Terminal report with rich: groups (largest first; by priority for ``plan``) with their
verdicts, then leftovers, a summary and skipped files. Colour only on a terminal.

A report is built from ``Styled`` pieces, runs of (text, style), and only made a rich ``Text``
where styles are written or tabs expanded (``Report.write``): each ``Text.append`` cost a few
microseconds, 0.3 s of the plain report of the stdlib's 6,000 groups (a third of a warm scan).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TextIO, TypeAlias

from rich.console import Console
from rich.control import STRIP_CONTROL_CODES, strip_control_codes
from rich.segment import Segment, Segments
from rich.text import Text

from dupfind.report.view import CONTROL_PICTURES, GroupView, ReportView, SkippedView, plural

KIND_STYLE = {"exact": "bold red", "renamed": "bold yellow", "near-miss": "bold cyan"}
VERDICT_STYLE = {"consolidate": "bold green", "extract": "bold magenta", "leave-separate": "dim"}
# Lines still end; C1 controls (U+0080-U+009F: U+009B starts a sequence on some terminals, as
# ESC does) have no pictures, and are shown as U+FFFD.
_PICTURES = {c: p for c, p in CONTROL_PICTURES.items() if c != 10} | dict.fromkeys(
    range(0x80, 0xA0), 0xFFFD
)
_CONTROL = re.compile(f"[{re.escape(''.join(map(chr, _PICTURES)))}]")
_STRIPPED = re.compile(f"[{re.escape(''.join(map(chr, STRIP_CONTROL_CODES)))}]")  # by rich's Text

Run: TypeAlias = tuple[str, str]  # text, and its rich style ("" for none)


class Styled:
    """A piece of a report: runs of text, each with a rich style ("" for none), in order.
    ``Styled(("#1 ", "bold"), " text")`` is ``Text.assemble``'s ``("#1 ", "bold"), " text"``."""

    __slots__ = ("runs",)

    def __init__(self, *parts: str | Run) -> None:
        self.runs: list[Run] = [(part, "") if isinstance(part, str) else part for part in parts]

    def append(self, text: str, style: str = "") -> None:
        self.runs.append((text, style))


def render_terminal(view: ReportView, out: TextIO) -> None:
    """Write the human-readable report to ``out``."""
    report = Report(out)
    if view.mode == "plan":
        report.print(_scorecard(view))
    for number, group in enumerate(view.ordered(), 1):
        report.print(_group_header(number, group))
        report.print(_members(group), end="")
        report.print(_advice(group, detailed=view.mode == "plan"), end="")
    if view.leftovers:
        report.print(Styled((f"\nLeftovers of repeated attempts ({len(view.leftovers)}):", "bold")))
        for leftover in view.leftovers:
            report.print(Styled(f"  {leftover.kind}: {leftover.reason}"))
    print_footer(report, view.notes, _summary(view), view.skipped)
    report.write()


class Report:
    """A terminal report's pieces, written at the end as one: styled by rich on a terminal,
    or as their plain text anywhere else (a file, a pipe, a dumb terminal), where rich would
    drop every style anyway. Rich took 3.2 s to write the stdlib's 6,000 groups one print at
    a time; their plain text takes a tenth of that, their styled segments 0.45 s
    (``_lines``); both are what rich 15 prints (tests compare). Pieces are ``Styled`` runs
    (never markup or emoji codes: a path or name is printed as it is), with the control codes
    rich leaves (an escape in a file name) shown as their pictures (``CONTROL_PICTURES``)."""

    def __init__(self, out: TextIO) -> None:
        self.console = Console(file=out, highlight=False, soft_wrap=True)
        self.runs: list[Run] = []

    def print(self, piece: Styled, end: str = "\n") -> None:
        self.runs.extend(piece.runs)
        self.runs.append((end, ""))

    def rich_text(self) -> Text:
        """The report as one rich ``Text`` (built anew at each call)."""
        text = Text()
        for run, style in self.runs:
            text.append(run, style or None)
        return text

    def write(self) -> None:
        if self.console.color_system is not None:
            text = self.rich_text()
            text.expand_tabs(self.console.tab_size)  # as rich renders them
            if _CONTROL.search(text.plain):
                text.plain = text.plain.translate(_PICTURES)  # one for one: spans hold
            self.console.print(Segments(_lines(text, self.console)), end="")
            return
        plain = "".join([run for run, _ in self.runs])  # nothing to style: no Text per piece
        if _STRIPPED.search(plain):  # rare: what rich's Text drops (a carriage return)
            plain = strip_control_codes(plain)
        if "\t" in plain:
            tabbed = Text(plain)
            tabbed.expand_tabs(self.console.tab_size)
            plain = tabbed.plain
        self._write_plain(plain)

    def _write_plain(self, plain: str) -> None:
        if _CONTROL.search(plain):  # rare: a scan, not a translation (0.2 s)
            plain = plain.translate(_PICTURES)
        try:  # flushed, as rich's prints are: before anything said on stderr afterwards
            self.console.file.write(plain)
            self.console.file.flush()
        except BrokenPipeError:  # a reader that went away (| head): what rich does, exit 1
            self.console.on_broken_pipe()


def _lines(text: Text, console: Console) -> Iterator[Segment]:
    """``text``'s styled segments, each line's styles closed at its end, as rich's own
    wrapping leaves them (no colour is carried over a line's end), but without that wrapping,
    which a soft-wrapped report does not need: 0.45 s for the stdlib's report, against 1.2 s
    for ``console.print(text)``."""
    lines = list(Segment.split_lines(text.render(console)))
    ends = text.plain.endswith("\n")
    for number, line in enumerate(lines, 1):
        yield from line
        if number < len(lines) or ends:
            yield Segment.line()


def print_footer(
    report: Report, notes: Sequence[str], summary: Styled, skipped: Sequence[SkippedView]
) -> None:
    """The end of every terminal report: notes, the summary line and the skipped files."""
    for note in notes:
        report.print(Styled((f"\nNote: {note}", "italic")))
    report.print(summary)
    if skipped:
        report.print(Styled((f"Skipped or partly parsed files ({len(skipped)}):", "bold")))
        for item in skipped:
            where = f"{item.path}:{item.line}" if item.line else item.path
            report.print(Styled(f"  {where}: {item.reason}"))


def _group_header(number: int, group: GroupView) -> Styled:
    similarity = (
        f"{group.similarity_min:.0%}"
        if group.similarity_min == group.similarity_mean
        else f"{group.similarity_min:.0%}-{group.similarity_mean:.0%} (min-mean)"
    )
    return Styled(
        (f"#{number} ", "bold"),
        (group.verdict, VERDICT_STYLE.get(group.verdict, "bold")),
        " · ",
        (group.kind, KIND_STYLE.get(group.kind, "bold")),
        f" · {len(group.members)} copies · {group.lines} lines · similarity {similarity}",
        f" · saves {group.lines_saved} lines" if group.lines_saved else "",
        (f"  [{group.id}]", "dim"),
    )


def _members(group: GroupView) -> Styled:
    lines = Styled()
    for index, member in enumerate(group.members):
        lines.append(f"  {member.path}:{member.start_line}-{member.end_line}")
        unit = " (block)" if member.unit == "block" else ""
        lines.append(f"  {member.qualname}{unit}", "dim")
        lines.append("  ← keep\n" if index == group.canonical else "\n", "green")
    return lines


def _advice(group: GroupView, detailed: bool) -> Styled:
    text = Styled()
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


def _scorecard(view: ReportView) -> Styled:
    card = view.scorecard
    verdicts = ", ".join(f"{count} {name}" for name, count in card.verdicts)
    return Styled(
        ("Refactoring plan\n", "bold underline"),
        f"  {card.duplicated_lines} of {card.lines_scanned} lines duplicated "
        f"({card.duplicated_percent:.1f}%) in {card.groups} groups: {verdicts}\n",
        f"  {card.lines_saved} lines saved if every item is applied; "
        f"{card.leftovers} leftovers of repeated attempts\n",
    )


def _summary(view: ReportView) -> Styled:
    return Styled(
        ("\nSummary: ", "bold"),
        f"{plural(view.files_scanned, 'file')}, {plural(view.lines_scanned, 'line')} scanned; "
        f"{plural(len(view.groups), 'clone group')}; "
        f"{plural(view.duplicated_lines, 'duplicated line')} ({view.duplicated_percent:.1f}%); "
        f"{plural(len(view.skipped), 'file')} skipped",
        f"; {plural(view.suppressed, 'group')} suppressed" if view.suppressed else "",
    )
