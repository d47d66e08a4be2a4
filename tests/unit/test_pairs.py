"""pairs.py (arrays) against the rule written plainly with dicts and a Counter."""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, defaultdict
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from dupfind import pairs
from dupfind.pairs import KeptPairs, Rule, UnitColumns, candidate_pairs

Unit = tuple[int, int, int, int, int]  # file, start line, end line, tokens, sort


def reference(
    selections: list[list[int]], units: list[Unit], min_similarity: float, cap: int, best: int
) -> list[tuple[int, int]]:
    postings: dict[int, list[int]] = defaultdict(list)
    for index, selected in enumerate(selections):
        for shingle in selected:
            postings[shingle].append(index)
    shared: Counter[tuple[int, int]] = Counter()
    for posting in postings.values():
        if len(posting) <= cap:
            shared.update(itertools.combinations(posting, 2))
    partners: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for (a, b), count in shared.items():
        (fa, sa, ea, ta, ka), (fb, sb, eb, tb, kb) = units[a], units[b]
        nested = fa == fb and ((sa <= sb and eb <= ea) or (sb <= sa and ea <= eb))
        same_sort = ka == kb or ka < 0 or kb < 0  # a function never pairs with a class
        plausible = not nested and min(ta, tb) >= min_similarity * max(ta, tb) and same_sort
        if count >= 2 and plausible:
            partners[a].append((-count, b))
            partners[b].append((-count, a))
    kept = set()
    for unit, found in partners.items():
        for _, other in heapq.nsmallest(best, found):
            kept.add((min(unit, other), max(unit, other)))
    return sorted(kept)


units_and_selections = st.integers(0, 40).flatmap(
    lambda n: st.tuples(
        st.lists(
            st.tuples(
                st.integers(0, 3),
                st.integers(1, 30),
                st.integers(0, 30),
                st.integers(50, 200),
                st.integers(-1, 1),
            ),
            min_size=n,
            max_size=n,
        ),
        st.lists(  # distinct shingles, in any order (stored selections are rarest first)
            st.lists(st.integers(0, 2**32 - 1 if n % 2 else 25), max_size=8, unique=True),
            min_size=n,
            max_size=n,
        ),
    )
)


@settings(max_examples=200, deadline=None)
@given(
    data=units_and_selections,
    min_similarity=st.sampled_from([0.0, 0.5, 0.8]),
    limits=st.sampled_from([(4, 3), (64, 6), (2, 1)]),
)
def test_array_pairs_follow_the_rule(
    data: tuple[list[Unit], list[list[int]]], min_similarity: float, limits: tuple[int, int]
) -> None:
    raw, selections = data
    units = [(f, s, s + length, t, k) for f, s, length, t, k in raw]
    columns = (
        UnitColumns(*(list(column) for column in zip(*units, strict=True)))
        if units
        else (UnitColumns([], [], [], [], []))
    )
    cap, best = limits
    found = candidate_pairs(selections, columns, Rule(min_similarity, cap, 2, best))
    assert found == reference(selections, units, min_similarity, cap, best)
    assert all(type(a) is int and type(b) is int for a, b in found)


def test_near_miss_candidates_are_of_one_sort() -> None:
    """A function never pairs with a class (a test function and a class of tests looked 52%
    alike on networkx); commented-out code pairs with either."""
    from dupfind.candidates import UnitRef, near_miss_pairs
    from dupfind.models import CodeUnit, UnitKind

    def ref(file: int, kind: UnitKind) -> UnitRef:
        return UnitRef(file, CodeUnit(kind, "u", 1, 10, 0, 100, b"e%d" % file, b"s%d" % file))

    shared = [[1, 2, 3], [1, 2, 3]]
    function, klass = UnitKind.FUNCTION, UnitKind.CLASS
    assert near_miss_pairs([ref(0, function), ref(1, function)], shared, 0.5) == [(0, 1)]
    assert near_miss_pairs([ref(0, klass), ref(1, klass)], shared, 0.5) == [(0, 1)]
    assert near_miss_pairs([ref(0, function), ref(1, klass)], shared, 0.5) == []
    commented = UnitKind.COMMENTED
    assert near_miss_pairs([ref(0, commented), ref(1, klass)], shared, 0.5) == [(0, 1)]


class _Unit:
    """A unit as KeptPairs knows it: an object, with what plausibility reads of it."""

    def __init__(self, file: int, start: int, length: int, tokens: int, sort: int) -> None:
        self.row = (file, start, start + length, tokens, sort)


unit_rows = st.tuples(
    st.integers(0, 3), st.integers(1, 30), st.integers(0, 30), st.integers(50, 200),
    st.integers(-1, 1),
)  # fmt: skip
small_selections = st.lists(st.integers(0, 30), max_size=6, unique=True)
EDITS = ["gone", "added", "reselect", "same", "moved", "twice"]


@settings(max_examples=200, deadline=None)
@given(
    start=st.lists(st.tuples(unit_rows, small_selections), max_size=40),
    data=st.data(),
    min_similarity=st.sampled_from([0.0, 0.5]),
    limits=st.sampled_from([(4, 2), (64, 6), (3, 1)]),
)
def test_kept_pairs_are_the_whole_passes(
    start: list[tuple[tuple[int, int, int, int, int], list[int]]],
    data: st.DataObject,
    min_similarity: float,
    limits: tuple[int, int],
) -> None:
    """Pass after pass, with units gone, added, reselecting, moved or named twice, the kept
    passes give what a whole pass gives; they are updated, not made whole, when the units
    kept keep their order (every change is small enough here)."""
    units = [_Unit(*row) for row, _ in start]
    selections = [selected for _, selected in start]
    rule = Rule(min_similarity, limits[0], 2, limits[1])
    kept, reordered = KeptPairs(), True
    with patch.object(pairs, "WHOLE_BEYOND", 100.0):
        for _ in range(data.draw(st.integers(1, 6))):
            rows = [unit.row for unit in units]
            columns = UnitColumns(*([row[field] for row in rows] for field in range(5)))
            updates = kept.updates
            found = kept.pairs(units, list(selections), columns, rule)
            assert found == candidate_pairs(selections, columns, rule)
            assert kept.last is not None
            first, second, _ = kept.last.pairs  # each pair once, the lower index first
            assert (first < second).all()
            assert kept.updates == updates + 1 or reordered
            twice = len(set(map(id, units))) < len(units)  # (no order then)
            units, selections, reordered = _edited(units, selections, data)
            reordered |= twice or len(set(map(id, units))) < len(units)


def _edited(
    units: list[_Unit], selections: list[list[int]], data: st.DataObject
) -> tuple[list[_Unit], list[list[int]], bool]:
    """``units`` and their ``selections`` edited, and whether a kept unit may have moved."""
    units, selections, reordered = list(units), list(selections), False
    for _ in range(data.draw(st.integers(0, 4))):
        edit = data.draw(st.sampled_from(EDITS if units else ["added"]))
        at = data.draw(st.integers(0, max(0, len(units) - 1)))
        if edit == "added":
            units.insert(at, _Unit(*data.draw(unit_rows)))
            selections.insert(at, data.draw(small_selections))
        elif edit == "gone":
            del units[at], selections[at]
        elif edit == "reselect":
            selections[at] = data.draw(small_selections)
        elif edit == "same":
            selections[at] = list(selections[at])  # another object, the same shingles
        else:  # moved to the end, or named twice
            units.append(units[at] if edit == "twice" else units.pop(at))
            selections.append(selections[at] if edit == "twice" else selections.pop(at))
            reordered = True
    return units, selections, reordered
