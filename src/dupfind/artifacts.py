"""Leftovers of repeated attempts: versioned files, near-identical siblings, and
commented-out code that duplicates live code.

* **versioned-file**: a file named like ``util_v2.py``, ``util_new.py``, ``util_old.py``,
  ``util_backup.py``/``_bak``, ``_temp``/``_tmp``, ``_copy``, ``_final``, ``_orig``, or with a
  timestamp (``util_20240105.py``, ``util-2024-01-05.py``, ``util_1704412800.py``), marks
  chained (``util_v2_final.py``) or in front (``old_util.py``, ``copy_of_util.py``), next to
  the ``util.py`` (or ``util_v2.py``) it shadows. Measured: the similarity of the two whole
  files.
* **near-identical-siblings**: two files in one directory, each covered at least
  ``SIBLING_SHARE`` by clone groups they share at the consolidate threshold or above (most of
  the file is duplicated next door, nearly as it is); files linked that way form one leftover
  (a family), its similarity the weakest pair's. Weaker groups do not count: networkx's
  ``graph.py`` and ``digraph.py`` (2,082 and 1,363 lines) are each almost wholly covered by
  their classes' 51% group, and were said to "duplicate 98% of each other".
* **commented-out-duplicate**: a comment block that parses as Python and matches live code
  (found through the normal index: extract.extract_commented adds such blocks as units).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations

from dupfind.group import FoundGroup, subgroup
from dupfind.models import (
    CloneGroup,
    FileAnalysis,
    Leftover,
    LeftoverKind,
    Location,
    Member,
    UnitKind,
    union_length,
)
from dupfind.score import Tokens, similarity

SIBLING_SHARE = 0.8
MAX_FILE_TOKENS = 30_000
_VERSIONED = re.compile(
    r"^(?P<base>.+?)(?:[_-](?:v\d+|new|old|backup|bak|temp|tmp|copy\d*|final|orig)"
    r"|[_-]\d{8}(?:[_-]?\d{4,6})?|[_-]\d{4}-\d{2}-\d{2}|[_-]\d{10}| \(\d+\))$",
    re.IGNORECASE,
)
_PREFIXED = re.compile(r"^(?:old|backup|bak|copy[_-]of)[_-](?P<base>.+)$", re.IGNORECASE)
GUESSED_MIN_SIMILARITY = 0.5  # a chained or prefixed mark must also look like its original


def _originals(stem: str) -> list[tuple[str, bool]]:
    """The stems ``stem`` may be another attempt at, nearest first, each with whether it is
    a guess: version marks stripped one at a time from the end (``util_v2_final`` →
    ``util_v2`` → ``util``, a guess), then from the front (``old_util``, ``copy_of_util``:
    guesses too; ``new_york.py`` is not another attempt at ``york.py``, so ``new_`` and
    ``temp_`` are not marks in front)."""
    found: list[tuple[str, bool]] = []
    while (match := _VERSIONED.match(stem) or _PREFIXED.match(stem)) is not None:
        guess = bool(found) or match.re is _PREFIXED
        stem = match.group("base")
        found.append((stem, guess))
    return found


def versioned_files(analyses: Sequence[FileAnalysis]) -> list[Leftover]:
    """Files whose name marks another attempt at a sibling that is also scanned."""
    by_path = {a.path: a for a in analyses}
    found = []
    for analysis in analyses:
        directory, name = os.path.split(analysis.path)
        stem, suffix = os.path.splitext(name)
        siblings = (
            (by_path.get(os.path.join(directory, base + suffix)), guess)
            for base, guess in _originals(stem)
        )
        sibling, guess = next(((s, g) for s, g in siblings if s is not None), (None, False))
        if sibling is None:
            continue
        score = _file_similarity(sibling, analysis)
        if guess and score < GUESSED_MIN_SIMILARITY:
            continue
        found.append(
            Leftover(
                LeftoverKind.VERSIONED_FILE,
                (_whole(analysis), _whole(sibling)),
                score,
                analysis.lines,
                f"{analysis.path} looks like another attempt at {sibling.path} "
                f"({score:.0%} similar): keep one, delete the other",
            )
        )
    return found


def _whole(analysis: FileAnalysis) -> Location:
    return Location(analysis.path, 1, max(1, analysis.lines))


def _file_similarity(first: FileAnalysis, second: FileAnalysis) -> float:
    def tokens(analysis: FileAnalysis) -> Tokens:
        end = min(len(analysis.shape), MAX_FILE_TOKENS)
        return Tokens.of(analysis.exact, analysis.shape, analysis.named, 0, end)

    return round(similarity(tokens(first), tokens(second)), 4)


def near_identical_siblings(
    analyses: Sequence[FileAnalysis],
    groups: Iterable[CloneGroup],
    skip: set[frozenset[str]],
    floor: float,
) -> list[Leftover]:
    """Sibling files most of whose lines are duplicated in each other by groups at least
    ``floor`` similar, as one leftover per family of such files (fifty generated codec
    modules are one finding, not 1,225 pairs)."""
    lines = {a.path: a.lines for a in analyses}
    shared: dict[tuple[str, str], tuple[list[Span], list[Span]]] = defaultdict(lambda: ([], []))
    for group in groups:
        if group.similarity_min < floor:
            continue
        for directory in _by_directory(group.members):
            for first, second in combinations(sorted(directory), 2):
                covered = shared[first, second]
                covered[0].extend(directory[first])
                covered[1].extend(directory[second])
    pairs: dict[tuple[str, str], float] = {}
    for (a, b), (in_a, in_b) in sorted(shared.items()):
        share = min(union_length(in_a) / max(1, lines[a]), union_length(in_b) / max(1, lines[b]))
        if share >= SIBLING_SHARE and frozenset((a, b)) not in skip:
            pairs[a, b] = share
    families = _families(pairs)
    family_of = {path: index for index, family in enumerate(families) for path in family}
    shares = [1.0] * len(families)
    for (a, _), share in pairs.items():
        shares[family_of[a]] = min(shares[family_of[a]], share)
    return [_siblings(f, share, lines) for f, share in zip(families, shares, strict=True)]


Span = tuple[int, int]  # first and last line


def _by_directory(members: Iterable[Member]) -> list[dict[str, list[Span]]]:
    """The members' line spans by path, for each directory holding two or more of the paths
    (siblings are files of one directory)."""
    by_directory: dict[str, dict[str, list[Span]]] = defaultdict(lambda: defaultdict(list))
    for member in members:
        spans = by_directory[os.path.dirname(member.path)][member.path]
        spans.append((member.start_line, member.end_line))
    return [paths for paths in by_directory.values() if len(paths) > 1]


def _families(pairs: dict[tuple[str, str], float]) -> list[list[str]]:
    """The connected sets of files that ``pairs`` link, each sorted, in order."""
    import networkx as nx  # loaded by the grouping already; `dupfind similar` never gets here

    graph: nx.Graph[str] = nx.Graph(list(pairs))
    return sorted(sorted(family) for family in nx.connected_components(graph))


def _siblings(family: list[str], share: float, lines: dict[str, int]) -> Leftover:
    locations = tuple(Location(path, 1, lines[path]) for path in family)
    sizes = [lines[path] for path in family]
    if len(family) == 2:
        reason = (
            f"{family[0]} and {family[1]} duplicate {share:.0%} of each other: merge them into "
            "one module"
        )
    else:
        reason = (
            f"{len(family)} files in {os.path.dirname(family[0]) or '.'} ({family[0]}, ...) "
            f"duplicate {'all' if share >= 1.0 else f'at least {share:.0%}'} of each other: "
            "merge them into one module, or "
            "generate them from one template and data"
        )
    return Leftover(
        LeftoverKind.NEAR_IDENTICAL_SIBLINGS, locations, round(share, 4), sum(sizes) - max(sizes),
        reason,
    )  # fmt: skip


def commented_out(found: Iterable[FoundGroup]) -> tuple[list[FoundGroup], list[Leftover]]:
    """Split off groups involving commented-out code: live groups stay, the commented-out
    copies of live code become leftovers (and two or more live members stay a group of
    their own, measured again); groups of commented code alone are dropped."""
    live: list[FoundGroup] = []
    rests: list[FoundGroup] = []
    leftovers: list[Leftover] = []
    for item in found:
        group = item.group
        commented = [m for m in group.members if m.unit is UnitKind.COMMENTED]
        if not commented:
            live.append(item)
            continue
        alive = [i for i, m in enumerate(group.members) if m.unit is not UnitKind.COMMENTED]
        if not alive:
            continue
        target = group.members[alive[0]]
        leftovers.extend(_commented(member, target, group) for member in commented)
        rest = subgroup(item, alive) if len(alive) > 1 else None
        if rest is not None:
            rests.append(rest)
    if not rests:
        return live, leftovers
    by_path: dict[str, list[tuple[Member, CloneGroup]]] = defaultdict(list)
    for item in live:
        for member in item.group.members:
            by_path[member.path].append((member, item.group))
    return live + [rest for rest in rests if not _covered(rest.group, by_path)], leftovers


def _covered(group: CloneGroup, by_path: dict[str, list[tuple[Member, CloneGroup]]]) -> bool:
    """Whether another group has the same members, or members holding all of ``group``'s
    (a live part of a group with commented code may repeat a core, or sit in a class). The
    others are found by their members on the first member's path (``by_path``): one that
    holds them all holds that one."""
    first = group.members[0]
    held_here = by_path.get(first.path, ())
    others = {id(other): other for held, other in held_here if held.contains(first)}
    return any(
        all(any(h.contains(m) for h in other.members) for m in group.members)
        for other in others.values()
    )


def _commented(member: Member, target: Member, group: CloneGroup) -> Leftover:
    return Leftover(
        LeftoverKind.COMMENTED_OUT,
        (
            Location(member.path, member.start_line, member.end_line),
            Location(target.path, target.start_line, target.end_line),
        ),
        group.similarity_min,
        member.line_count,
        f"commented-out code at {member.path}:{member.start_line}-{member.end_line} "
        f"duplicates live code {target.qualname} at {target.path}:{target.start_line}: "
        "delete the comment",
    )
