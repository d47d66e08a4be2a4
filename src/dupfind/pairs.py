"""Near-miss candidate pairs from the units' selected shingles, as array operations (numpy).

The rule (called from candidates.near_miss_pairs; tests/unit/test_pairs.py spells it out with
dicts): units sharing at least ``min_shared`` selected shingles, counted over postings
(selected shingle → units) of at most ``cap`` units, that pass the plausibility filter (not
one inside the other; shorter >= min_similarity * longer tokens; of one sort: a function never
with a class, ``UnitColumns.sorts``); each unit keeps its
``partners`` partners sharing the most shingles (ties: the lower index), and a pair is a
candidate when either side keeps it.

Why arrays: the same steps as dicts, tuples and a ``Counter`` of pairs cost 1.4 s of a cold
standard-library scan (1.1 s, profiled, of a rescan after one file changed), grew faster than
the corpus (3.4x the time for 2.8x the lines at 2.4M lines) and peaked at ~240 MiB there (the
pair ``Counter`` alone 92 MiB). As sorts over flat integer arrays, grouped by posting length so
that every posting of one length yields its pairs in one step, they take a fraction of that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Ints = NDArray[np.int64]


def candidate_pairs(
    selections: Sequence[Sequence[int]],
    columns: UnitColumns,
    min_similarity: float,
    *,
    cap: int,
    min_shared: int,
    partners: int,
) -> list[tuple[int, int]]:
    """Candidate pairs (indexes into the units), sorted; see the module docstring."""
    count = len(selections)
    first, second, shared = _shared_counts(selections, count, cap)
    keep = shared >= min_shared
    first, second, shared = first[keep], second[keep], shared[keep]
    keep = columns.plausible(first, second, min_similarity)
    return _best(first[keep], second[keep], shared[keep], partners, count)


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

    def plausible(self, first: Ints, second: Ints, min_similarity: float) -> NDArray[np.bool_]:
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
        possible: NDArray[np.bool_] = ~nested & (shorter >= min_similarity * longer) & same_sort
        return possible


def _shared_counts(
    selections: Sequence[Sequence[int]], count: int, cap: int
) -> tuple[Ints, Ints, Ints]:
    """Every pair (first < second) in a posting of 2..``cap`` of the ``count`` units, with
    how many postings it is in."""
    lengths = np.fromiter(map(len, selections), dtype=np.int64, count=count)
    total = int(lengths.sum())
    shingles = np.fromiter(chain.from_iterable(selections), dtype=np.int64, count=total)
    units = np.repeat(np.arange(count, dtype=np.int64), lengths)
    # Stable: a posting's units stay in index order, so a pair's first unit is the lower.
    order = np.argsort(shingles, kind="stable")
    shingles, units = shingles[order], units[order]
    starts = _group_starts(shingles)
    sizes = np.diff(np.r_[starts, total])
    codes: list[Ints] = [np.zeros(0, dtype=np.int64)]
    for size in np.unique(sizes[(sizes >= 2) & (sizes <= cap)]).tolist():
        members = units[starts[sizes == size][:, None] + np.arange(size)]  # postings x size
        rows, columns = np.triu_indices(size, k=1)  # rows < columns: first < second
        codes.append((members[:, rows] * count + members[:, columns]).ravel())
    pairs, shared = np.unique(np.concatenate(codes), return_counts=True)
    return pairs // count, pairs % count, shared.astype(np.int64)


def _group_starts(keys: Ints) -> Ints:
    """Where each run of equal values begins in sorted ``keys``."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def _best(
    first: Ints, second: Ints, shared: Ints, partners: int, count: int
) -> list[tuple[int, int]]:
    """Each unit's ``partners`` pairs sharing the most (ties: the lower other index); the
    union of them, as sorted (smaller, larger) pairs of indexes below ``count``."""
    unit = np.concatenate([first, second])
    other = np.concatenate([second, first])
    times = np.concatenate([shared, shared])
    order = np.lexsort((other, -times, unit))  # by unit, most shared first, then other
    unit, other = unit[order], other[order]
    starts = _group_starts(unit)
    rank = np.arange(len(unit)) - np.repeat(starts, np.diff(np.r_[starts, len(unit)]))
    kept = rank < partners
    low = np.minimum(unit[kept], other[kept])
    high = np.maximum(unit[kept], other[kept])
    codes = np.unique(low * count + high)
    return list(zip((codes // count).tolist(), (codes % count).tolist(), strict=True))
