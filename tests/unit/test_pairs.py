"""pairs.py (arrays) against the rule written plainly with dicts and a Counter."""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from dupfind.pairs import UnitColumns, candidate_pairs

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
    found = candidate_pairs(
        selections, columns, min_similarity, cap=cap, min_shared=2, partners=best
    )
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
