"""Near-miss candidate pairs from the units' selected shingles, as array operations (numpy).

The rule (called from candidates.near_miss_pairs; tests/unit/test_pairs.py spells it out with
dicts): units sharing at least ``min_shared`` selected shingles, counted over postings
(selected shingle → units) of at most ``cap`` units, that pass the plausibility filter (not
one inside the other; shorter >= min_similarity * longer tokens; of one sort: a function never
with a class, ``UnitColumns.sorts``); each unit keeps its
``partners`` partners sharing the most (ties: the lower index), and a pair is a
candidate when either side keeps it.

Why arrays: the same steps as dicts, tuples and a ``Counter`` of pairs cost 1.4 s of a cold
standard-library scan (1.1 s, profiled, of a rescan after one file changed), grew faster than
the corpus (3.4x the time for 2.8x the lines at 2.4M lines) and peaked at ~240 MiB there (the
pair ``Counter`` alone 92 MiB). As sorts over flat integer arrays, grouped by posting length so
that every posting of one length yields its pairs in one step, they take a fraction of that.

Why ``KeptPairs`` (a long-lived process: ``dupfind scan --watch``, ``dupfind mcp``): even as
arrays, the full pass is 0.15 s of a one-file rescan of the stdlib (half of it sorting 500,000
selected shingles), which is a tenth of that rescan. It changes little: only postings of a
shingle that a changed unit (new, gone, or with another selection) selects, before or after,
count their pairs differently; only the units in those postings rank their partners again.
So the last pass's sorted postings, pair counts and each unit's kept partners are kept in its
numbering; the next pass renumbers them (units are matched by object identity: an unchanged
file's units are the same objects, state.Resident), subtracts the touched postings' old
pairs, adds their new ones and ranks the touched units again. Ties go to the lower index, so
the renumbering must keep the order of the units it keeps (it does: files in order, units in
file order); when it would not, or when much changed, the pass is made whole. Shingles are
32-bit (CRC-32: fingerprint.py), so a (shingle, unit) pair sorts as one 64-bit integer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Ints = NDArray[np.int64]
    Flags = NDArray[np.bool_]

# A pass is made whole when more than this share of the entries changed (a replaced unit
# counts twice, gone and added): an update costs about what a whole pass does at 20%.
WHOLE_BEYOND = 0.1


@dataclass(frozen=True, slots=True)
class Rule:
    """The rule's settings (module docstring)."""

    min_similarity: float
    cap: int
    min_shared: int
    partners: int


def candidate_pairs(
    selections: Sequence[Sequence[int]], columns: UnitColumns, rule: Rule
) -> list[tuple[int, int]]:
    """Candidate pairs (indexes into the units), sorted; see the module docstring."""
    made = _whole((), selections, columns, rule)
    return _union(*made.rows, len(selections))


class UnitColumns:
    """What plausibility reads of each unit: file index, first and last line, tokens, and
    its sort (``sorts``: 0 a function, 1 a class, -1 either, e.g. commented-out code; all -1
    when not given)."""

    def __init__(
        self,
        files: Iterable[int],
        starts: Iterable[int],
        ends: Iterable[int],
        tokens: Iterable[int],
        sorts: Iterable[int] | None = None,
    ) -> None:
        self.files = np.fromiter(files, dtype=np.int64)
        self.starts = np.fromiter(starts, dtype=np.int64)
        self.ends = np.fromiter(ends, dtype=np.int64)
        self.tokens = np.fromiter(tokens, dtype=np.int64)
        count = len(self.files)
        self.sorts = np.full(count, -1) if sorts is None else np.fromiter(sorts, dtype=np.int64)

    def plausible(self, first: Ints, second: Ints, min_similarity: float) -> Flags:
        """Not one inside the other in the same file, lengths that allow the threshold, and
        of one sort: a function whose tokens look like a whole class's (a test function and
        a class of tests, 52% alike on networkx) is not a copy of it."""
        a_start, b_start = self.starts[first], self.starts[second]
        a_end, b_end = self.ends[first], self.ends[second]
        nested = (self.files[first] == self.files[second]) & (
            ((a_start <= b_start) & (b_end <= a_end)) | ((b_start <= a_start) & (a_end <= b_end))
        )
        a_tokens, b_tokens = self.tokens[first], self.tokens[second]
        shorter, longer = np.minimum(a_tokens, b_tokens), np.maximum(a_tokens, b_tokens)
        a_sort, b_sort = self.sorts[first], self.sorts[second]
        same_sort = (a_sort == b_sort) | (a_sort < 0) | (b_sort < 0)
        possible: Flags = ~nested & (shorter >= min_similarity * longer) & same_sort
        return possible


@dataclass(frozen=True, slots=True)
class _Pass:
    """One pass's index, in its numbering of the units: the units (by identity) and their
    selections; every (shingle, unit) sorted; every pair in a posting of 2..cap units with
    how many (sorted); the (unit, other) rows each unit keeps."""

    rule: Rule
    units: Sequence[object]
    ids: tuple[Ints, Ints]  # _sorted_identities(units)
    selections: Sequence[Sequence[int]]
    shingles: Ints
    members: Ints
    pairs: tuple[Ints, Ints, Ints]
    rows: tuple[Ints, Ints]


class KeptPairs:
    """The last pass of a long-lived process, from which the next is made (module
    docstring). ``wholes``/``updates`` count how each pass was made."""

    def __init__(self) -> None:
        self.last: _Pass | None = None
        self.wholes = 0
        self.updates = 0

    def pairs(
        self,
        units: Sequence[object],
        selections: Sequence[Sequence[int]],
        columns: UnitColumns,
        rule: Rule,
    ) -> list[tuple[int, int]]:
        """``candidate_pairs`` of ``selections`` (those of ``units``, by identity)."""
        last, self.last = self.last, None  # (a pass that fails keeps nothing)
        same_rule = last is not None and last.rule == rule
        change = _Change.between(last, units, selections) if last and same_rule else None
        if last is None or change is None:
            made = _whole(units, selections, columns, rule)
            self.wholes += 1
        else:
            made = _updated(last, change, units, selections, columns)
            self.updates += 1
        self.last = made
        return _union(*made.rows, len(selections))


def _whole(
    units: Sequence[object], selections: Sequence[Sequence[int]], columns: UnitColumns, rule: Rule
) -> _Pass:
    count = len(selections)
    shingles, members = _sorted(*_flat(selections, range(count)))
    starts = _group_starts(shingles)
    sizes = np.diff(np.r_[starts, len(shingles)])
    useful = (sizes >= 2) & (sizes <= rule.cap)
    pairs = _counted(_posting_pairs(members, starts[useful], sizes[useful], count), count)
    rows = _kept_rows(*pairs, columns, rule, None)
    ids = _sorted_identities(units)
    return _Pass(rule, units, ids, selections, shingles, members, pairs, rows)


@dataclass(frozen=True, slots=True)
class _Change:
    """How the units changed since the last pass: each old unit's new index (-1 gone, or
    selecting other shingles now: ``remap``) and the new indexes of the units not kept."""

    remap: Ints
    added: list[int]

    @classmethod
    def between(
        cls, last: _Pass, units: Sequence[object], selections: Sequence[Sequence[int]]
    ) -> _Change | None:
        """The change, or None when the pass is better made whole: much changed, or the
        units kept are in another order, or one is there twice."""
        ids = _identities(units)
        at = np.minimum(np.searchsorted(last.ids[0], ids), max(0, len(last.units) - 1))
        found = np.zeros(len(units), dtype=np.bool_)
        if len(last.units):
            found = last.ids[0][at] == ids
        new = np.flatnonzero(found)
        old = last.ids[1][at[new]]
        olds = [last.selections[index] for index in old.tolist()]
        news = [selections[index] for index in new.tolist()]
        same = np.fromiter(map(_same, olds, news), dtype=np.bool_, count=len(new))
        new, old = new[same], old[same]
        if np.any(np.diff(old) <= 0):
            return None  # the units kept in another order, or one twice
        remap = np.full(len(last.units), -1, dtype=np.int64)
        remap[old] = new
        added = np.ones(len(units), dtype=np.bool_)
        added[new] = False
        change = cls(remap, np.flatnonzero(added).tolist())
        changed = sum(len(selections[index]) for index in change.added)
        changed += sum(len(last.selections[index]) for index in np.flatnonzero(remap < 0).tolist())
        return None if changed > WHOLE_BEYOND * max(1, len(last.shingles)) else change


def _identities(units: Sequence[object]) -> Ints:
    """The units' object identities (``id``: addresses, below 2**63 on the platforms Python
    runs on), as one array."""
    return np.fromiter(map(id, units), dtype=np.int64, count=len(units))


def _sorted_identities(units: Sequence[object]) -> tuple[Ints, Ints]:
    """The units' identities sorted, and the index each came from (``_Pass.ids``)."""
    ids = _identities(units)
    order = np.argsort(ids)
    return ids[order], order


def _same(was: Sequence[int], selection: Sequence[int]) -> bool:
    if was is selection:
        return True
    if type(was) is type(selection):
        return was == selection
    return list(was) == list(selection)


def _updated(
    last: _Pass,
    change: _Change,
    units: Sequence[object],
    selections: Sequence[Sequence[int]],
    columns: UnitColumns,
) -> _Pass:
    """The next pass from ``last`` and what changed (module docstring)."""
    count, rule, remap = len(selections), last.rule, change.remap
    gone = np.flatnonzero(remap < 0)
    touched = np.unique(
        np.concatenate(
            [_flat(last.selections, gone.tolist())[0], _flat(selections, change.added)[0]]
        )
    )
    shingles, members = _renumbered(last, change, selections)
    before = _postings(last.shingles, touched)
    after = _postings(shingles, touched)
    # The units whose pairs may count or rank otherwise: those in a touched posting now (a
    # unit kept that was in one before still is: its selection is the same).
    among = np.zeros(count, dtype=np.bool_)
    among[members[np.repeat(after[0], after[1]) + _offsets(after[1])]] = True
    pairs = _recounted(last, change, before, after, members, count)
    rows = _kept_rows(*pairs, columns, rule, among)
    unit, other = remap[last.rows[0]], remap[last.rows[1]]
    still = unit >= 0
    still[still] = ~among[unit[still]]
    unit, other = unit[still], other[still]
    rows = (np.concatenate([unit, rows[0]]), np.concatenate([other, rows[1]]))
    ids = _sorted_identities(units)
    return _Pass(rule, units, ids, selections, shingles, members, pairs, rows)


def _renumbered(
    last: _Pass, change: _Change, selections: Sequence[Sequence[int]]
) -> tuple[Ints, Ints]:
    """The last pass's sorted (shingle, unit) entries renumbered, the gone ones out and the
    added units' in, still sorted by shingle, then unit."""
    kept_members = change.remap[last.members]
    kept = kept_members >= 0
    shingles, members = last.shingles[kept], kept_members[kept]
    new_shingles, new_members = _sorted(*_flat(selections, change.added))
    count = len(selections)  # (shingle, member) as one sortable int64: shingles are 32-bit
    at = np.searchsorted(shingles * count + members, new_shingles * count + new_members)
    return np.insert(shingles, at, new_shingles), np.insert(members, at, new_members)


def _recounted(
    last: _Pass,
    change: _Change,
    before: tuple[Ints, Ints],
    after: tuple[Ints, Ints],
    members: Ints,
    count: int,
) -> tuple[Ints, Ints, Ints]:
    """The pair counts: the last pass's renumbered (pairs with a gone unit out), less the
    touched postings' pairs before, plus theirs after."""
    remap, cap = change.remap, last.rule.cap
    first, second = remap[last.pairs[0]], remap[last.pairs[1]]
    kept = (first >= 0) & (second >= 0)
    codes, shared = first[kept] * count + second[kept], last.pairs[2][kept]
    old = _posting_pairs(last.members, *_useful(before, cap), len(last.units))
    old_first, old_second = remap[old // len(last.units)], remap[old % len(last.units)]
    survived = (old_first >= 0) & (old_second >= 0)
    minus = old_first[survived] * count + old_second[survived]
    plus = _posting_pairs(members, *_useful(after, cap), count)
    delta, sign = np.unique(np.concatenate([minus, plus]), return_inverse=True)
    weights = np.bincount(
        sign, weights=np.r_[np.full(len(minus), -1.0), np.ones(len(plus))], minlength=len(delta)
    ).astype(np.int64)
    delta, weights = delta[weights != 0], weights[weights != 0]
    at = np.searchsorted(codes, delta)
    hit = at < len(codes)
    hit[hit] = codes[at[hit]] == delta[hit]
    shared = shared.copy()
    shared[at[hit]] += weights[hit]  # (``delta`` is distinct)
    codes = np.insert(codes, at[~hit], delta[~hit])
    shared = np.insert(shared, at[~hit], weights[~hit])
    live = shared > 0
    codes, shared = codes[live], shared[live]
    return codes // count, codes % count, shared


def _useful(postings: tuple[Ints, Ints], cap: int) -> tuple[Ints, Ints]:
    starts, sizes = postings
    useful = (sizes >= 2) & (sizes <= cap)
    return starts[useful], sizes[useful]


def _postings(shingles: Ints, wanted: Ints) -> tuple[Ints, Ints]:
    """Where the postings of ``wanted`` (sorted, distinct) begin in sorted ``shingles``, and
    their sizes (0 for a shingle no unit selects)."""
    starts = np.searchsorted(shingles, wanted, side="left")
    return starts, np.searchsorted(shingles, wanted, side="right") - starts


def _offsets(sizes: Ints) -> Ints:
    """0..size-1 for each size, concatenated."""
    total = int(sizes.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)


def _flat(selections: Sequence[Sequence[int]], indexes: Sequence[int]) -> tuple[Ints, Ints]:
    """The (shingle, unit) entries of the units at ``indexes`` (in that order)."""
    chosen = [selections[index] for index in indexes]
    lengths = np.fromiter(map(len, chosen), dtype=np.int64, count=len(chosen))
    total = int(lengths.sum())
    shingles = np.fromiter(chain.from_iterable(chosen), dtype=np.int64, count=total)
    return shingles, np.repeat(np.array(indexes, dtype=np.int64), lengths)


def _sorted(shingles: Ints, members: Ints) -> tuple[Ints, Ints]:
    """Sorted by shingle, then member (``members`` come ascending; the sort is stable)."""
    order = np.argsort(shingles, kind="stable")
    return shingles[order], members[order]


def _posting_pairs(members: Ints, starts: Ints, sizes: Ints, count: int) -> Ints:
    """Every pair (first < second, as ``first * count + second``) in the postings of
    ``members`` beginning at ``starts``, with ``sizes`` members (each posting's in order)."""
    codes: list[Ints] = [np.zeros(0, dtype=np.int64)]
    for size in np.unique(sizes).tolist():
        held = members[starts[sizes == size][:, None] + np.arange(size)]  # postings x size
        rows, columns = np.triu_indices(size, k=1)  # rows < columns: first < second
        codes.append((held[:, rows] * count + held[:, columns]).ravel())
    return np.concatenate(codes)


def _counted(codes: Ints, count: int) -> tuple[Ints, Ints, Ints]:
    """The distinct pairs of ``codes`` (sorted) with how many times each occurs."""
    pairs, shared = np.unique(codes, return_counts=True)
    return pairs // count, pairs % count, shared.astype(np.int64)


def _group_starts(keys: Ints) -> Ints:
    """Where each run of equal values begins in sorted ``keys``."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def _kept_rows(
    first: Ints, second: Ints, shared: Ints, columns: UnitColumns, rule: Rule, among: Flags | None
) -> tuple[Ints, Ints]:
    """The (unit, other) rows of each unit's ``partners`` plausible pairs sharing at least
    ``min_shared`` and the most (ties: the lower other index); of the units ``among`` only
    (all of their pairs are in ``first``/``second``) when given."""
    keep = shared >= rule.min_shared
    if among is not None:
        keep &= among[first] | among[second]
    first, second, shared = first[keep], second[keep], shared[keep]
    keep = columns.plausible(first, second, rule.min_similarity)
    first, second, shared = first[keep], second[keep], shared[keep]
    unit = np.concatenate([first, second])
    other = np.concatenate([second, first])
    times = np.concatenate([shared, shared])
    if among is not None:
        mine = among[unit]
        unit, other, times = unit[mine], other[mine], times[mine]
    order = np.lexsort((other, -times, unit))  # by unit, most shared first, then other
    unit, other = unit[order], other[order]
    starts = _group_starts(unit)
    rank = np.arange(len(unit)) - np.repeat(starts, np.diff(np.r_[starts, len(unit)]))
    kept = rank < rule.partners
    return unit[kept], other[kept]


def _union(unit: Ints, other: Ints, count: int) -> list[tuple[int, int]]:
    """The kept rows as sorted, distinct (smaller, larger) pairs of indexes below ``count``."""
    codes = np.unique(np.minimum(unit, other) * count + np.maximum(unit, other))
    return list(zip((codes // count).tolist(), (codes % count).tolist(), strict=True))
