"""The one presentation model every renderer reads: built once, so no renderer recomputes.

A long-lived process (``--watch``, ``dupfind mcp``) builds a view after every scan, and most
groups are unchanged: it passes ``KeptViews`` (held by state.Resident), and the group views of
its previous build are reused by content (a group and its recommendation that compare equal,
spelled from the same directory, give the same view), so the renderers can reuse what they
wrote for them too (report/json.py). Only the last build's are kept. Views with source code
(HTML) are always built afresh, and a one-off scan hashes nothing for a next build.

Paths are spelled by ``discover.display_path`` (relative to the working directory), groups
keep the pipeline's order (largest duplication first) and ``plan`` lists them by priority
(lines saved times confidence), figures are rounded, and nothing time- or machine-dependent is
included, so the same input gives byte-identical reports whatever the file order. Source
snippets are read only when a renderer shows code (``with_code``: HTML).
"""

from __future__ import annotations

import os
from bisect import bisect_left, bisect_right, insort
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dupfind.discover import display_path
from dupfind.memo import Computed, Held, LastPass
from dupfind.models import (
    CloneGroup,
    Difference,
    Leftover,
    Recommendation,
    ScanResult,
    UnitKind,
    Verdict,
    covered_lines,
    union_length,
)

# Control characters but tab as their Unicode pictures (U+2400...), DEL as U+2421: how a report
# shows them in a name or in code, never as themselves (the HTML report, and the terminal
# report, where an escape sequence in a file name would drive the reader's terminal).
CONTROL_PICTURES = {c: 0x2400 + c for c in range(32) if c != 9} | {0x7F: 0x2421}


@dataclass(frozen=True, slots=True)
class MemberView:
    path: str
    start_line: int
    end_line: int
    qualname: str
    unit: str
    domain: str
    code: str

    @property
    def lines(self) -> int:
        return self.end_line - self.start_line + 1


# The model's differences are immutable and already hold what a report shows: shared, not
# copied (copying the ~90,000 of a stdlib scan cost a third of building the view).
DifferenceView = Difference


@dataclass(frozen=True, slots=True)
class GroupView:
    id: str
    kind: str
    similarity_min: float
    similarity_mean: float
    lines: int
    members: tuple[MemberView, ...]
    verdict: str
    rule: str
    reasons: tuple[str, ...]
    confidence: float
    canonical: int
    canonical_reason: str
    signature: str
    lines_saved: int
    differences: tuple[DifferenceView, ...]

    @property
    def priority(self) -> float:
        return self.lines_saved * self.confidence


@dataclass(frozen=True, slots=True)
class LocationView:
    path: str
    start_line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class LeftoverView:
    kind: str
    locations: tuple[LocationView, ...]
    similarity: float
    lines: int
    reason: str


@dataclass(frozen=True, slots=True)
class SkippedView:
    path: str
    reason: str
    line: int | None
    partial: bool


@dataclass(frozen=True, slots=True)
class DirectoryView:
    path: str
    lines: int
    duplicated_lines: int


@dataclass(frozen=True, slots=True)
class Scorecard:
    files_scanned: int
    lines_scanned: int
    duplicated_lines: int
    duplicated_percent: float
    lines_saved: int
    groups: int
    verdicts: tuple[tuple[str, int], ...]
    leftovers: int


@dataclass(frozen=True, slots=True)
class ReportView:
    files_scanned: int
    lines_scanned: int
    duplicated_lines: int
    duplicated_percent: float
    groups: tuple[GroupView, ...]
    skipped: tuple[SkippedView, ...]
    leftovers: tuple[LeftoverView, ...]
    notes: tuple[str, ...]
    scorecard: Scorecard
    plan: tuple[int, ...]  # indexes into groups, highest priority first
    directories: tuple[DirectoryView, ...]
    mode: str = "scan"  # "scan" and "check": groups by size; "plan": by priority
    suppressed: int = 0
    # What the renderers may reuse (``KeptViews``); not part of any report.
    kept: KeptViews | None = field(
        default=None, compare=False, repr=False, metadata={"reported": False}
    )

    def ordered(self) -> tuple[GroupView, ...]:
        """The groups in the order this report presents them."""
        if self.mode == "plan":
            return tuple(self.groups[i] for i in self.plan)
        return self.groups


class _Snippets:
    """Member source text, read once per file."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.files: dict[str, list[str]] = {}

    def code(self, path: str, start: int, end: int) -> str:
        if not self.enabled:
            return ""
        if path not in self.files:
            try:
                text = Path(path).read_bytes().decode("utf-8", "replace")
            except OSError:
                text = ""
            # Lines as the parser counts them: only "\n" ends a line (not form feeds etc.).
            self.files[path] = [line.removesuffix("\r") for line in text.split("\n")]
        return "\n".join(self.files[path][start - 1 : end])


Speller = Callable[[str], str]


def _speller(base: Path | None) -> Speller:
    """``display_path`` against ``base``, once per path (a path is spelled for each of its
    members: 19,000 calls, each reading the working directory, for the stdlib's report)."""
    spelled: Computed[str, str] = Computed(lambda path: display_path(path, base))
    return spelled.__getitem__


def _group_view(
    group: CloneGroup, advice: Recommendation, spell: Speller, snippets: _Snippets
) -> GroupView:
    members = tuple(
        MemberView(
            spell(m.path), m.start_line, m.end_line, m.qualname, m.unit.value,
            advice.domains[i] if i < len(advice.domains) else "",
            snippets.code(m.path, m.start_line, m.end_line),
        )
        for i, m in enumerate(group.members)
    )  # fmt: skip
    return GroupView(
        id=group.id,
        kind=group.kind.value,
        similarity_min=group.similarity_min,
        similarity_mean=group.similarity_mean,
        lines=group.lines,
        members=members,
        verdict=advice.verdict.value,
        rule=advice.rule,
        reasons=advice.reasons,
        confidence=round(advice.confidence, 4),
        canonical=advice.canonical,
        canonical_reason=advice.canonical_reason,
        signature=advice.signature,
        lines_saved=advice.lines_saved,
        differences=advice.differences,
    )


# A group, its members' sorts (not part of Member's equality), its advice, and where paths are
# spelled from: everything a GroupView is made of.
_Key = tuple[CloneGroup, tuple[UnitKind, ...], Recommendation, str]


class KeptViews:
    """What a long-lived process's last report made (module docstring): its group views, by
    content, and the JSON text written for each view (report/json.py), by identity (kept with
    its view, so that no other object takes its id)."""

    def __init__(self) -> None:
        self.views: LastPass[_Key, GroupView] = LastPass()
        self.texts: Held[GroupView, str] = Held()
        # First by the group and recommendation objects: an unchanged group is the same object
        # in the next scan and so, mostly, is its recommendation, and hashing both by content
        # was most of a rebuild's time.
        self.same: Held[CloneGroup, tuple[Recommendation, str, GroupView]] = Held()


def _group_views(
    result: ScanResult, advice: Sequence[Recommendation], spell: Speller, snippets: _Snippets,
    base: Path | None, kept: KeptViews | None,
) -> tuple[GroupView, ...]:  # fmt: skip
    """Every group's view, those of the last build ``kept`` reused unless code is shown."""
    pairs = zip(result.groups, advice, strict=True)
    if kept is None or snippets.enabled:
        return tuple(_group_view(group, rec, spell, snippets) for group, rec in pairs)
    where = f"{os.getcwd()}\0{base}"
    views = []
    for group, rec in pairs:
        same = kept.same.recall(group)
        if same is not None and same[0] is rec and same[1] == where:
            view = same[2]
        else:
            key = (group, tuple(member.unit for member in group.members), rec, where)
            view = kept.views.recall(key) or _group_view(group, rec, spell, snippets)
            kept.views.keep(key, view)
        views.append(kept.same.keep(group, (rec, where, view))[2])
    kept.views.turn()
    kept.same.turn()
    return tuple(views)


# For a ScanResult built without classification (the library's callers may do that).
_UNCLASSIFIED = Recommendation(
    Verdict.LEAVE_SEPARATE, "unclassified", (), 0.0, 0, "", (), (), "", 0
)


def _leftover_view(item: Leftover, spell: Speller) -> LeftoverView:
    return LeftoverView(
        kind=item.kind.value,
        locations=tuple(
            LocationView(spell(loc.path), loc.start_line, loc.end_line) for loc in item.locations
        ),
        similarity=item.similarity,
        lines=item.lines,
        reason=item.reason,
    )


def _directories(result: ScanResult, spell: Speller) -> tuple[DirectoryView, ...]:
    lines: Counter[str] = Counter()
    directory_of: dict[str, str] = {}
    for path, count in result.files:
        directory_of[path] = os.path.dirname(spell(path)) or "."
        lines[directory_of[path]] += count
    covered: Counter[str] = Counter()
    for path, count in covered_lines(result.groups).items():
        covered[directory_of.get(path, ".")] += count
    return tuple(
        DirectoryView(directory, lines[directory], covered[directory])
        for directory in sorted(lines)
    )


def _total_saved(groups: Sequence[GroupView]) -> int:
    """Lines saved if every item is applied, each line counted once. Groups overlap (a family
    and its exact core, a class and a method copied verbatim into it, a copy paired with a
    member of a family), so, in priority order: a group whose kept copy an earlier group
    already removes saves nothing more, and of each copy it removes only the lines that no
    earlier group removes or keeps count."""
    removed: dict[str, _Removed] = defaultdict(_Removed)
    kept: dict[str, list[tuple[int, int]]] = defaultdict(list)  # each sorted
    total = 0
    for group in sorted(groups, key=lambda g: -g.priority):
        members = group.members
        alive = [not removed[m.path].holds(m.start_line, m.end_line) for m in members]
        if sum(alive) < 2:
            continue  # earlier groups already remove all copies but one
        chosen = group.canonical if alive[group.canonical] else alive.index(True)
        others = [(i, m) for i, m in enumerate(members) if i != chosen]
        lines = sum(m.lines for _, m in others)
        fresh = sum(_fresh(m, removed[m.path], kept[m.path]) for i, m in others if alive[i])
        total += group.lines_saved * fresh // lines if lines else 0
        for _, member in others:
            removed[member.path].add(member.start_line, member.end_line)
        insort(kept[members[chosen].path], (members[chosen].start_line, members[chosen].end_line))
    return total


class _Removed:
    """The line spans earlier groups remove from one path, as those no other of them holds:
    sorted by first line, their last lines then increase too, so whether a span is inside
    one, and which overlap a span, are binary searches (a list scanned per member took 0.07 s
    of the stdlib's report, on test files with 200 groups)."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def holds(self, start: int, end: int) -> bool:
        """Whether a removed span holds lines ``start..end`` (the last starting at or before
        ``start`` ends furthest)."""
        index = bisect_right(self.starts, start) - 1
        return index >= 0 and self.ends[index] >= end

    def add(self, start: int, end: int) -> None:
        if self.holds(start, end):
            return
        first = last = bisect_left(self.starts, start)
        while last < len(self.ends) and self.ends[last] <= end:
            last += 1  # (those it holds: they start at or after it and end before it)
        self.starts[first:last], self.ends[first:last] = [start], [end]

    def overlapping(self, start: int, end: int) -> list[tuple[int, int]]:
        """The removed lines among ``start..end``, as spans (their union is all of them)."""
        low, high = bisect_left(self.ends, start), bisect_right(self.starts, end)
        spans = zip(self.starts[low:high], self.ends[low:high], strict=True)
        return [(max(first, start), min(last, end)) for first, last in spans]


def _fresh(member: MemberView, removed: _Removed, kept: list[tuple[int, int]]) -> int:
    """The lines of ``member`` (not inside a removed copy) that no earlier group removes, nor
    keeps as a copy inside it."""
    start, end = member.start_line, member.end_line
    inside = kept[bisect_left(kept, (start,)) : bisect_left(kept, (end + 1,))]
    taken = removed.overlapping(start, end) + [(a, b) for a, b in inside if b <= end]
    return member.lines - union_length(taken)


def _scorecard(result: ScanResult, groups: tuple[GroupView, ...]) -> Scorecard:
    stats = result.stats
    verdicts = Counter(g.verdict for g in groups)
    return Scorecard(
        files_scanned=stats.files_scanned,
        lines_scanned=stats.lines_scanned,
        duplicated_lines=stats.duplicated_lines,
        duplicated_percent=round(stats.duplicated_percent, 2),
        lines_saved=_total_saved(groups),
        groups=len(groups),
        verdicts=tuple((v.value, verdicts[v.value]) for v in Verdict),
        leftovers=len(result.leftovers),
    )


def build_view(
    result: ScanResult,
    base: Path | None = None,
    with_code: bool = False,
    mode: str = "scan",
    kept: KeptViews | None = None,
) -> ReportView:
    """The presentation model of one scan (``mode`` "plan" orders groups by priority); with
    ``kept``, the views and texts of the last report reused (module docstring)."""
    stats = result.stats
    snippets, spell = _Snippets(with_code), _speller(base)
    advice = result.recommendations or (_UNCLASSIFIED,) * len(result.groups)
    groups = _group_views(result, advice, spell, snippets, base, kept)
    plan = tuple(
        sorted(range(len(groups)), key=lambda i: (-groups[i].priority, -groups[i].lines, i))
    )
    return ReportView(
        files_scanned=stats.files_scanned,
        lines_scanned=stats.lines_scanned,
        duplicated_lines=stats.duplicated_lines,
        duplicated_percent=round(stats.duplicated_percent, 2),
        groups=groups,
        skipped=tuple(
            SkippedView(spell(s.path), s.reason, s.line, s.partial) for s in result.skipped
        ),
        leftovers=tuple(_leftover_view(item, spell) for item in result.leftovers),
        notes=result.notes,
        scorecard=_scorecard(result, groups),
        plan=plan,
        directories=_directories(result, spell),
        mode=mode,
        suppressed=result.suppressed,
        kept=kept,
    )


def plural(count: int, noun: str) -> str:
    """``1 file``, ``2 files``: how every report counts."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
