"""Maximal clones: which of the groups found are reported, and in what order.

Maximality: a group all of whose members lie inside members of another group (a method of a
cloned class, a run inside a cloned function) is not reported again, unless it is a group of
units (not statement runs) more than ``NESTED_MARGIN`` more similar and under half as long: a
method copied verbatim into an otherwise different class (98% against the classes' 51%), or
the methods a forked class still shares unchanged, are findings of their own, not details of a
weak class-level match. A run inside two similar functions stays a detail of theirs.

Cores (group.py) are judged here too: a core is not nested in its own family, and a group
nested in a core is dropped as it would be in any other group (``with_cores``).

Whether a group is nested reads only the groups with a member in one of its paths (their spans,
sizes and similarities, and their order where spans are equal), and whether an earlier one with
the same members was kept (on the same paths). So a long-lived process (``Nesting``) decides
again only the groups on a path whose groups changed: each path's groups, in span order, are
compared by identity with the last scan's (a group a component left unchanged is the same
object: group.Regrouping).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dupfind.models import CloneGroup, Member, UnitKind

if TYPE_CHECKING:
    from dupfind.group import FoundGroup

NESTED_MARGIN = 0.25  # a nested unit group this much more similar than its container is kept


def with_cores(
    kept: list[FoundGroup], cores: list[tuple[FoundGroup, FoundGroup]]
) -> list[FoundGroup]:
    """The kept groups and the cores, less those nested in another of them: a core is not
    nested in its own family (which holds the same members), and a kept group is dropped when
    nested in a core (a method of the two exact classes a core of a wider class family
    reports), as ``maximal`` drops those nested in any other group. A core whose family was
    dropped, nested in a group of containers, is judged like any nested group: a method
    copied verbatim into two otherwise different classes stays a finding even when its looser
    family of look-alike methods is a detail of the classes' group."""
    if not cores:
        return kept
    position = {id(group): index for index, group in enumerate(kept)}
    in_cores = [core.group for _, core in cores]
    everything = [item.group for item in kept] + in_cores
    spans, core_spans = member_spans(everything), member_spans(in_cores)
    # The kept groups are maximal among themselves already (``maximal``): only the cores can
    # hold one. Index -1: a core with a kept group's very lines is no holder of it, as a later
    # group never is.
    outer = [item for item in kept if not _nested(-1, item.group, core_spans, in_cores)]
    return outer + [
        core
        for offset, (family, core) in enumerate(cores)
        if not _nested(len(kept) + offset, core.group, spans, everything,
                       position.get(id(family), -1))
    ]  # fmt: skip


class Nesting:
    """What a long-lived process's last scan decided (module docstring): whether each group
    was kept, and which groups each path held, in span order (by object identity: the groups
    are held, so no other object takes their ids)."""

    def __init__(self) -> None:
        self.kept: dict[int, tuple[FoundGroup, bool]] = {}
        self.paths: dict[str, list[int]] = {}


def maximal(found: list[FoundGroup], nesting: Nesting | None = None) -> list[FoundGroup]:
    """Drop groups nested in another group, and duplicates of the same member set. With
    ``nesting``, a group of the last scan whose paths hold the same groups as then is decided
    as it was (module docstring)."""
    groups = [item.group for item in found]
    spans = member_spans(groups)
    paths = {path: [id(found[index]) for _, _, index in held] for path, held in spans.items()}
    last = nesting.kept if nesting is not None else {}
    same = {path for path, ids in paths.items() if nesting and nesting.paths.get(path) == ids}
    kept: list[FoundGroup] = []
    seen: set[tuple[Member, ...]] = set()
    decided: dict[int, tuple[FoundGroup, bool]] = {}
    for index, group in enumerate(groups):
        known = last.get(id(found[index]))
        if known is not None and all(member.path in same for member in group.members):
            keep = known[1]
        else:
            keep = group.members not in seen and not _nested(index, group, spans, groups)
        decided[id(found[index])] = (found[index], keep)
        if keep:
            seen.add(group.members)
            kept.append(found[index])
    if nesting is not None:
        nesting.kept, nesting.paths = decided, paths
    return kept


def member_spans(groups: Sequence[CloneGroup]) -> dict[str, list[tuple[int, int, int]]]:
    """Every member's (start, end, group index), by path, in order (``_holders`` stops at the
    first span starting after the lines it looks for)."""
    spans: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for index, group in enumerate(groups):
        for member in group.members:
            spans[member.path].append((member.start_line, member.end_line, index))
    for held in spans.values():
        held.sort()
    return spans


def _nested(
    index: int,
    group: CloneGroup,
    spans: dict[str, list[tuple[int, int, int]]],
    groups: Sequence[CloneGroup],
    exempt: int = -1,
) -> bool:
    """Every member lies inside a member of one other group: strictly larger, or the same
    span found by an earlier (unit-level) group; and that group is about as similar
    (``NESTED_MARGIN``) or each member is over half of the member holding it (then both
    describe the same code)."""
    blocks = any(member.unit is UnitKind.BLOCK for member in group.members)
    floor = -1.0 if blocks else group.similarity_min - NESTED_MARGIN
    containers: dict[int, list[int]] | None = None  # group -> its holding members' lengths
    for member in group.members:
        holders = _holders(member.path, member.start_line, member.end_line, spans, index, exempt)
        if containers is None:
            containers = {other: [length] for other, length in holders.items()}
        else:
            containers = {o: [*ls, holders[o]] for o, ls in containers.items() if o in holders}
        if not containers:
            return False
    sizes = [member.line_count for member in group.members]
    return any(
        len(groups[other].members) >= 2
        and (
            groups[other].similarity_min >= floor
            or all(2 * size > length for size, length in zip(sizes, lengths, strict=True))
        )
        for other, lengths in (containers or {}).items()
    )


def _holders(
    path: str,
    start: int,
    end: int,
    spans: dict[str, list[tuple[int, int, int]]],
    index: int,
    exempt: int,
) -> dict[int, int]:
    """The groups (but ``index`` and ``exempt``) with a member holding lines ``start..end``
    of ``path``: strictly larger, or the same span in an earlier group; with the length of
    their shortest such member."""
    holders: dict[int, int] = {}
    for first, last, other in spans[path]:
        if first > start:
            break
        if (
            end <= last
            and other not in (index, exempt)
            and (other < index or first != start or last != end)
        ):
            holders[other] = min(holders.get(other, last - first + 1), last - first + 1)
    return holders


def sort_groups(found: Sequence[FoundGroup]) -> list[FoundGroup]:
    """Largest duplication first; ties broken by location, so output order is stable."""
    return sorted(found, key=_order)


def _order(found: FoundGroup) -> tuple[int, tuple[tuple[str, int, int, str], ...], str]:
    """``sort_groups``' key: the members as the tuples their order compares (``Member`` is
    ordered by path, lines and name), which compare in C, not through dataclass methods
    (ties on the duplicated lines are many); the lines are measured in the same pass."""
    group = found.group
    members = [(m.path, m.start_line, m.end_line, m.qualname) for m in group.members]
    lines = max([end - start for _, start, end, _ in members]) + 1  # group.lines, inline
    return -lines * (len(members) - 1), tuple(members), group.id
