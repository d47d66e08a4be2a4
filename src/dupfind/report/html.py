"""Self-contained HTML report: one file, no network, no JavaScript; the pictures are inline SVG.

Rendered from ``templates/report.html.j2`` with Jinja2's autoescaping. The side-by-side diffs
come from :class:`difflib.HtmlDiff`, which escapes the code itself (its column headers are
escaped here). The output is deterministic: the same view gives byte-identical HTML.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, TextIO

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from dupfind import __version__
from dupfind.report.pictures import VERDICT_COLOURS, clone_graph, directory_chart
from dupfind.report.view import CONTROL_PICTURES, GroupView, MemberView, ReportView

MAX_GROUPS = 200  # detailed groups, to bound the file size
MAX_DIFFS = 4  # side-by-side diffs per group
MAX_DIFFERENCES = 50  # listed differences per group
CONTEXT_FROM = 80  # members longer than this are diffed with context only
# Changed line pairs a side-by-side diff may have (the sum, over the runs of changed lines, of
# one side's lines times the other's): HtmlDiff looks for the most alike pair among them all
# for its intraline marks, quadratic in a run's length. On the stdlib's plan, 8 of 599 tables
# (copies of data tables, 10,000-65,000 pairs) took 5 of the report's 8 s.
MAX_PAIRED_LINES = 5_000
WRAP_COLUMN = 100


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One detailed group of the plan, with its diffs rendered."""

    rank: int
    group: GroupView
    canonical: MemberView
    diffs: tuple[Markup, ...]
    diffs_left_out: int
    too_different: int = 0  # copies past MAX_PAIRED_LINES, not shown side by side


class _NumberedDiff(difflib.HtmlDiff):
    """HtmlDiff whose anchor ids come from the table's number in this report.

    The standard class numbers its tables with a process-wide counter, which would make the
    output depend on what was rendered before.
    """

    def __init__(self, number: int) -> None:
        super().__init__(wrapcolumn=WRAP_COLUMN)
        self._number = number

    def _make_prefix(self) -> None:
        self._prefix = [f"from{self._number}_", f"to{self._number}_"]


def render_html(view: ReportView, out: TextIO) -> None:
    """Write one HTML file that needs no network to view."""
    template = _environment().get_template("report.html.j2")
    out.write(template.render(_context(view)))


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("dupfind.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["percent"] = _percent
    return environment


def _percent(value: float, digits: int = 0) -> str:
    return f"{value:.{digits}%}"


def _context(view: ReportView) -> dict[str, Any]:
    tables = itertools.count()
    items = [
        _plan_item(rank, view.groups[index], tables)
        for rank, index in enumerate(view.plan[:MAX_GROUPS], 1)
    ]
    return {
        "view": view,
        "card": view.scorecard,
        "items": items,
        "groups_left_out": len(view.plan) - len(items),
        "has_code": any(m.code for g in view.groups for m in g.members),
        "chart": directory_chart(view),
        "graph": clone_graph(view),
        "verdict_colours": VERDICT_COLOURS,
        "max_differences": MAX_DIFFERENCES,
        "version": __version__,
    }


def _plan_item(rank: int, group: GroupView, tables: Iterator[int]) -> PlanItem:
    canonical = group.canonical  # always a member's index (build_view)
    others = [m for n, m in enumerate(group.members) if n != canonical]
    first = group.members[canonical]
    if not first.code:
        return PlanItem(rank, group, first, (), 0)
    left = _code_lines(first.code)
    diffs = []
    for other in others[:MAX_DIFFS]:
        right = _code_lines(other.code)
        if _paired_lines(left, right) <= MAX_PAIRED_LINES:
            diffs.append(_diff_table((first, left), (other, right), next(tables)))
    shown = min(len(others), MAX_DIFFS)
    return PlanItem(rank, group, first, tuple(diffs), len(others) - shown, shown - len(diffs))


def _paired_lines(left: list[str], right: list[str]) -> int:
    """The changed line pairs HtmlDiff would compare (``MAX_PAIRED_LINES``)."""
    opcodes = difflib.SequenceMatcher(None, left, right).get_opcodes()  # as Differ matches
    return sum((i2 - i1) * (j2 - j1) for tag, i1, i2, j1, j2 in opcodes if tag == "replace")


def _diff_table(
    canonical: tuple[MemberView, list[str]], other: tuple[MemberView, list[str]], number: int
) -> Markup:
    (first, left), (second, right) = canonical, other
    table = _NumberedDiff(number).make_table(
        left,
        right,
        fromdesc=_location(first) + " (canonical)",
        todesc=_location(second),
        context=max(len(left), len(right)) > CONTEXT_FROM,
        numlines=3,
    )
    return Markup(table)  # HtmlDiff escapes the code, _location the headers


def _code_lines(code: str) -> list[str]:
    # Control characters as their pictures: HtmlDiff uses \0 and \1 as its own change markers,
    # and HTML does not allow most control characters.
    return [line.translate(CONTROL_PICTURES) for line in code.split("\n")]


def _location(member: MemberView) -> str:
    """``path:start-end``, escaped: HtmlDiff puts its column headers in the HTML as they are."""
    text = f"{member.path}:{member.start_line}-{member.end_line}"
    return str(escape(text.translate(CONTROL_PICTURES)))
