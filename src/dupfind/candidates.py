"""Candidates: fingerprints of every file → the pairs and runs worth scoring. Never all pairs.

Three indexes, each built in one pass:

1. **Exact buckets** (Type-1/2): units grouped by their shape digest. O(units).
2. **Near-miss index**: every unit (but records: ``is_record``) is represented by its rarest
   shingles (``SELECTED``, plus one per ``SELECTED_PER_TOKENS`` tokens: a longer unit can lose
   more of them to edits) among those occurring at least twice in the whole corpus (a shingle
   seen once cannot be shared).
   A copy shares its rare shingles with its original, so both tend to select them: the same idea
   as prefix filtering, with corpus frequency as the global order. Units sharing at least
   ``MIN_SHARED`` selected shingles become candidates; posting lists longer than ``POSTING_CAP``
   (shapes common everywhere) are dropped. A length filter removes pairs that cannot reach the
   threshold (normalised similarity ≤ shorter / longer). Cost O(tokens + Σ posting²) with
   bounded postings.
3. **Statement runs** (clones of half a function, or of module-level code): every statement
   list is cut into windows of consecutive statements just long enough to meet the size floor;
   windows with equal shape hashes are bucketed, and each bucket is extended left and right over
   the statements its members still share, giving maximal runs. O(statements).
"""

from __future__ import annotations

import itertools
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import TYPE_CHECKING, Protocol

from dupfind.config import Config
from dupfind.fingerprint import DIGEST_SIZE, digest, window
from dupfind.memo import LastPass
from dupfind.models import CodeUnit, FileAnalysis, StatementList, UnitKind, WindowTable

if TYPE_CHECKING:
    from dupfind.pairs import KeptPairs

SELECTED = 10
SELECTED_PER_TOKENS = 25  # one more selected shingle per this many tokens
MAX_SELECTED = 40
MIN_SHARED = 2
POSTING_CAP = 64
MAX_PARTNERS = 6
COMMON = 200
MAX_NEAR_MISS_TOKENS = 6000
FEW = 8  # fewer than one unit in this many to select: look up only their shingles' counts


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A unit and the index of its file."""

    file: int
    unit: CodeUnit


@dataclass(frozen=True, slots=True)
class RunMember:
    """A run of statements ``first..last`` (inclusive) of one statement list."""

    file: int
    list_index: int
    first: int
    last: int


def eligible_units(files: Sequence[FileAnalysis], config: Config) -> list[UnitRef]:
    """Units meeting the size floor (lines and tokens), in file order."""
    return [
        UnitRef(index, unit)
        for index, analysis in enumerate(files)
        for unit in analysis.units
        if unit.tokens >= config.min_tokens
        and unit.end_line - unit.start_line + 1 >= config.min_lines
    ]


def exact_buckets(units: Sequence[UnitRef], records: bool = False) -> list[list[int]]:
    """Indexes into ``units`` sharing a shape digest, for buckets of two or more. Without
    ``records``, records (``is_record``, live or commented out) share a bucket only when
    their tokens are the same but for the class's name (``CodeUnit.record_digest``): two
    records of the same shape with other field names are different records, not renamed
    copies."""
    buckets: dict[bytes, list[int]] = defaultdict(list)
    for index, ref in enumerate(units):
        unit = ref.unit
        record = not records and unit.record_digest
        buckets[b"record" + unit.record_digest if record else unit.shape_digest].append(index)
    return [members for members in buckets.values() if len(members) > 1]


Selection = Sequence[int]  # a unit's selected shingles


class Counts(Protocol):
    """Every shingle's count over the corpus (``corpus.Frequency``)."""

    def __getitem__(self, shingle: int, /) -> int: ...

    def table(self) -> Mapping[int, int]:
        """Every counted shingle's count, as a dictionary."""
        ...


def select_shingles(
    files: Sequence[FileAnalysis],
    units: Sequence[UnitRef],
    frequency: Counts,
    known: Sequence[Selection | None] | None = None,
    records: bool = False,
    copies: Sequence[int] | None = None,
) -> list[Selection]:
    """Each unit's selected shingles (parallel to ``units``), taken from ``known`` where it
    has them (corpus.py: the previous scan's, where they cannot have changed). Without
    ``records``, a record (``is_record``) selects none: it is matched only as an exact or
    renamed copy.

    ``frequency`` counts every shingle of every file (corpus.py; only the selected units'
    shingles are looked up when they are few); ``copies`` (parallel to
    ``units``; ``exact_copies`` by default) how many live exact copies each unit has.
    """
    if known is None:
        known = [None] * len(units)
    if not records:
        known = [[] if is_record(ref.unit) else s for ref, s in zip(units, known, strict=True)]
    reused = [selection for selection in known if selection is not None]
    if len(reused) == len(units):
        return reused
    # Shingles no other place has, or so common that they would never be among the rarest:
    # removed from every window by set difference (C), before the per-unit sort. Looked up
    # among the shingles of the units to select only, when they are few (a rescan).
    todo = [ref for ref, selection in zip(units, known, strict=True) if selection is None]
    table: Mapping[int, int]
    if len(todo) * FEW < len(units):
        table = {s: frequency[s] for s in set().union(*(_window(files, ref) for ref in todo))}
    else:
        table = frequency.table()
    unshared = {s for s, count in table.items() if count == 1 or count > COMMON}
    copies = copies if copies is not None else exact_copies(units)
    return [
        _selected(files[ref.file].shingles, ref.unit, unshared, table, count)
        if selection is None
        else selection
        for ref, selection, count in zip(units, known, copies, strict=True)
    ]


def exact_copies(units: Sequence[UnitRef]) -> list[int]:
    """For each unit, how many live (not commented-out) units have its exact tokens. A
    commented-out copy is not counted: it must still pair with the live code it copies."""
    live = Counter(
        ref.unit.exact_digest for ref in units if ref.unit.kind is not UnitKind.COMMENTED
    )
    return [live[ref.unit.exact_digest] for ref in units]


def is_record(unit: CodeUnit) -> bool:
    """A class that is mostly data: less than half of its tokens are in its methods (and
    nested classes), as extract.py measured it (a commented-out copy stays one). Dataclasses,
    enums, models and named tuples whose fields merely look alike are the near-miss
    look-alikes reviewers reject; their methods stay units of their own, matched as usual, and
    an exact copy of the whole class, or one whose only change is the class's name, is still
    found (``exact_buckets``)."""
    return bool(unit.record_digest)


def near_miss_pairs(
    units: Sequence[UnitRef],
    selections: Sequence[Selection],
    min_similarity: float,
    kept: KeptPairs | None = None,
) -> list[tuple[int, int]]:
    """Candidate pairs (indexes into ``units``) for near-miss scoring, sorted: units sharing
    ``MIN_SHARED`` selected shingles in postings of at most ``POSTING_CAP`` units, plausible
    (not one inside the other; lengths that allow the threshold; a function with a function,
    a class with a class), each unit's ``MAX_PARTNERS`` partners sharing the most (pairs.py
    computes it on arrays; from the last pass that ``kept`` holds, in a long-lived process)."""
    from dupfind.pairs import Rule, UnitColumns, candidate_pairs  # numpy: only scans need it

    columns = UnitColumns(
        (ref.file for ref in units),
        (ref.unit.start_line for ref in units),
        (ref.unit.end_line for ref in units),
        (ref.unit.tokens for ref in units),
        (_SORTS.get(ref.unit.kind, -1) for ref in units),
    )
    rule = Rule(min_similarity, POSTING_CAP, MIN_SHARED, MAX_PARTNERS)
    if kept is not None:
        return kept.pairs([ref.unit for ref in units], selections, columns, rule)
    return candidate_pairs(selections, columns, rule)


_SORTS = {UnitKind.FUNCTION: 0, UnitKind.CLASS: 1}  # pairs.UnitColumns; others pair with both


def _window(files: Sequence[FileAnalysis], ref: UnitRef) -> set[int]:
    return window(files[ref.file].shingles, ref.unit.tok_start, ref.unit.tok_end)


def _selected(
    shingles: array[int],
    unit: CodeUnit,
    unshared: set[int],
    frequency: Mapping[int, int],
    copies: int = 1,
) -> list[int]:
    """The unit's ``SELECTED`` rarest shingles among those occurring at least twice (ties
    broken by value). Set algebra and sorts with a C key: no Python loop per token.

    A unit with exact copies (``copies`` of it, itself included) selects among shingles that
    occur more often than that: its rarest would otherwise be the ones only its own copies
    share, and it would lose every near-miss relative to them (exact copies meet in
    ``exact_buckets`` anyway)."""
    if unit.tokens > MAX_NEAR_MISS_TOKENS:
        return []
    selectable = window(shingles, unit.tok_start, unit.tok_end) - unshared
    if copies > 1:
        selectable = {s for s in selectable if frequency[s] > copies}
    return sorted(sorted(selectable), key=frequency.__getitem__)[: _keep(unit)]


def _keep(unit: CodeUnit) -> int:
    """How many shingles a unit selects at most."""
    return min(MAX_SELECTED, SELECTED + unit.tokens // SELECTED_PER_TOKENS)


def still_selected(
    selection: Selection, changed: set[int], counts: Counts, unit: CodeUnit, copies: int
) -> bool:
    """Whether ``selection``, what ``_selected`` chose for a unit before the counts of the
    ``changed`` shingles of its window moved, is what it would choose with ``counts``. It is
    when no changed shingle is in it, and none it may now select (``_selected``: counted 2 to
    ``COMMON`` times, and more than its ``copies``) ranks before its last one by (count,
    value), or, when it holds fewer than it may (every shingle it could select), none at
    all. A common shingle whose count moved (a statement like ``X = 1`` added) then leaves
    the selections of the units around it alone, instead of every one in every file that
    holds it being selected again (0.3-0.8 s of such a rescan of the stdlib)."""
    if unit.tokens > MAX_NEAR_MISS_TOKENS or not changed:
        return True
    if not changed.isdisjoint(selection):
        return False
    last = (counts[selection[-1]], selection[-1]) if len(selection) >= _keep(unit) else None
    for shingle in changed:
        count = counts[shingle]
        selectable = 2 <= count <= COMMON and (copies <= 1 or count > copies)
        if selectable and (last is None or (count, shingle) < last):
            return False
    return True


def ordered(first: int, second: int) -> tuple[int, int]:
    """A pair of indexes, smaller first (the one spelling of an unordered pair)."""
    return (first, second) if first < second else (second, first)


def run_windows(lists: Sequence[StatementList], config: Config) -> WindowTable:
    """Per file (map stage): every shortest run meeting the size floor, keyed by its shapes."""
    digests = bytearray()
    indexes, firsts, lasts = array("I"), array("I"), array("I")
    for list_index, statements in enumerate(lists):
        for first, last in _windows(statements, config):
            digests += digest(statements.run_hashes, first, last + 1)
            indexes.append(list_index)
            firsts.append(first)
            lasts.append(last)
    return WindowTable(bytes(digests), indexes, firsts, lasts)


# A bucket's run: each member's position in the bucket and last statement; and the analyses
# whose identity it is recalled by (held: no other object can take their ids).
Extended = tuple[tuple[tuple[int, int], ...], tuple[FileAnalysis, ...]]


def statement_runs(
    files: Sequence[FileAnalysis], extended: LastPass[tuple[int, ...], Extended] | None = None
) -> list[list[RunMember]]:
    """Maximal runs of consecutive statements that occur (by shape) in two or more places.
    Most windows occur once (94% on the stdlib): their digests are counted as one numpy
    array, and only the others are bucketed in Python (a fifth of the time). A long-lived
    process passes what the last scan's buckets ``extended`` to (group.Regrouping): a bucket
    of the same windows of the same analyses extends as it did."""
    import numpy as np  # only scans need it (as in pairs.py)

    # Counted by each digest's first 8 bytes as one integer (5x faster than the whole digests
    # as bytes): two windows that only share those are bucketed by their whole digests below
    # and each stays alone, so a run never comes of a collision.
    digests = b"".join(a.windows.digests for a in files)
    rest = np.dtype((np.void, DIGEST_SIZE - 8))
    heads = np.frombuffer(digests, np.dtype([("head", "<u8"), ("rest", rest)]))["head"]
    _, inverse, counts = np.unique(heads, return_inverse=True, return_counts=True)
    shared = (counts[inverse] > 1).tolist()
    buckets: dict[bytes, list[RunMember]] = defaultdict(list)
    start = 0
    for file_index, analysis in enumerate(files):
        table = analysis.windows
        for index in compress(range(len(table)), shared[start : start + len(table)]):
            member = RunMember(file_index, table.lists[index], table.firsts[index],
                               table.lasts[index])  # fmt: skip
            buckets[table.digest(index)].append(member)
        start += len(table)
    runs: list[list[RunMember]] = []
    for members in buckets.values():
        if len(members) > 1:
            run = _extended(files, members, extended)
            if run:
                runs.append(run)
    return runs


def _extended(
    files: Sequence[FileAnalysis],
    members: list[RunMember],
    extended: LastPass[tuple[int, ...], Extended] | None,
) -> list[RunMember]:
    """The run a bucket's ``members`` extend to (empty if none), as ``extended`` recalls it
    (by the identity of the members' analyses and their windows) or made now."""
    if extended is None:
        return _extend(files, _without_overlaps(members)) or []
    places = ((id(files[m.file]), m.list_index, m.first, m.last) for m in members)
    key = tuple(itertools.chain.from_iterable(places))
    known = extended.recall(key)
    if known is None:
        position = {id(member): index for index, member in enumerate(members)}
        kept = _without_overlaps(members)
        run = _extend(files, kept) or []
        ends = (
            tuple((position[id(k)], m.last) for k, m in zip(kept, run, strict=True)) if run else ()
        )
        known = (ends, tuple(files[m.file] for m in members))
    extended.keep(key, known)
    return [RunMember(m.file, m.list_index, m.first, last)
            for m, last in ((members[index], last) for index, last in known[0])]  # fmt: skip


def _windows(statements: StatementList, config: Config) -> Iterator[tuple[int, int]]:
    """For each start, the shortest run of non-boilerplate statements meeting the floor."""
    count = len(statements)
    starts, ends = statements.tok_starts, statements.tok_ends
    first_lines, last_lines = statements.start_lines, statements.end_lines
    boilerplate = statements.boilerplate
    for first in range(count):
        tokens = 0
        for last in range(first, count):
            if boilerplate[last]:
                break
            tokens += ends[last] - starts[last]
            lines = last_lines[last] - first_lines[first] + 1
            if tokens >= config.min_tokens and lines >= config.min_lines:
                yield first, last
                break


def _without_overlaps(members: list[RunMember]) -> list[RunMember]:
    kept: list[RunMember] = []
    for member in sorted(members, key=lambda m: (m.file, m.list_index, m.first)):
        previous = kept[-1] if kept else None
        if (
            previous is not None
            and (previous.file, previous.list_index) == (member.file, member.list_index)
            and member.first <= previous.last
        ):
            continue
        kept.append(member)
    return kept


def _extend(files: Sequence[FileAnalysis], members: list[RunMember]) -> list[RunMember] | None:
    """Extend a bucket's runs right while all members agree; None if not left-maximal."""
    if len(members) < 2:
        return None
    views: dict[tuple[int, int], StatementList] = {}
    for m in members:  # one view per list: a list can hold thousands of members
        if (m.file, m.list_index) not in views:
            views[m.file, m.list_index] = files[m.file].statement_lists[m.list_index]
    lists = [views[m.file, m.list_index] for m in members]
    if _shared_hash(lists, [m.first - 1 for m in members]):
        return None
    last = [m.last for m in members]
    while _shared_hash(lists, [index + 1 for index in last]) and _no_collision(members, last):
        last = [index + 1 for index in last]
    return [
        RunMember(m.file, m.list_index, m.first, end) for m, end in zip(members, last, strict=True)
    ]


def _shared_hash(lists: Sequence[StatementList], positions: Sequence[int]) -> bool:
    values = set()
    for statements, position in zip(lists, positions, strict=True):
        if position < 0 or position >= len(statements) or statements.boilerplate[position]:
            return False
        values.add(statements.run_hashes[position])
    return len(values) == 1


def _no_collision(members: Sequence[RunMember], last: Sequence[int]) -> bool:
    """Growing must not make a member run into the next member of the same list."""
    for (member, end), (other, _) in itertools.pairwise(zip(members, last, strict=True)):
        same_list = (member.file, member.list_index) == (other.file, other.list_index)
        if same_list and end + 1 >= other.first:
            return False
    return True
