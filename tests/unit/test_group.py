"""Grouping rules that the case corpus reaches only through whole scans: which neighbour a unit
left alone by complete linkage is paired with, and when a nested group is kept."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import cast

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from dupfind import Config
from dupfind.candidates import eligible_units, statement_runs
from dupfind.copies import Copy
from dupfind.executor import serial_map
from dupfind.group import ORPHAN_MARGIN, FoundGroup, Regrouping, _orphan_pairs, build_groups
from dupfind.maximal import maximal as _maximal
from dupfind.maximal import sort_groups
from dupfind.memo import Memo
from dupfind.models import CloneGroup, CloneKind, FileAnalysis, Member, UnitKind
from dupfind.pipeline import analyse_source
from dupfind.score import ScoreChunk
from tests.conftest import SUMMED, TOTAL

THRESHOLD = 0.5


def _copies(*kinds: UnitKind) -> list[Copy]:
    members = [
        Member("m.py", 10 * i + 1, 10 * i + 8, f"u{i}", kind) for i, kind in enumerate(kinds)
    ]
    return [Copy(member, None, (0, 0), b"s%d" % i, b"e%d" % i) for i, member in enumerate(members)]  # type: ignore[arg-type]


def _graph(*edges: tuple[int, int, float]) -> nx.Graph[int]:
    graph: nx.Graph[int] = nx.Graph()
    for first, second, weight in edges:
        graph.add_edge(first, second, weight=weight)
    return graph


def test_an_orphan_pairs_with_its_most_similar_neighbour_of_the_same_sort() -> None:
    f, c = UnitKind.FUNCTION, UnitKind.CLASS
    copies = _copies(f, f, f, c)
    graph = _graph((0, 1, 0.66), (0, 2, 0.7), (0, 3, 0.95))
    assert _orphan_pairs(graph, [0], copies, THRESHOLD) == [[0, 2]]


def test_an_orphan_whose_edges_are_all_near_the_threshold_stays_alone() -> None:
    copies = _copies(UnitKind.FUNCTION, UnitKind.FUNCTION)
    just_under = THRESHOLD + ORPHAN_MARGIN - 0.01
    assert _orphan_pairs(_graph((0, 1, just_under)), [0], copies, THRESHOLD) == []
    assert _orphan_pairs(_graph((0, 1, just_under + 0.01)), [0], copies, THRESHOLD) == [[0, 1]]


def test_two_orphans_that_are_each_others_best_make_one_pair() -> None:
    copies = _copies(UnitKind.FUNCTION, UnitKind.FUNCTION, UnitKind.FUNCTION)
    graph = _graph((0, 1, 0.8), (1, 2, 0.7))
    assert _orphan_pairs(graph, [0, 1], copies, THRESHOLD) == [[0, 1]]


def _found(members: list[tuple[int, int, UnitKind]], similarity: float) -> object:
    from dupfind.group import FoundGroup

    group = CloneGroup(
        id=str(members),
        kind=CloneKind.NEAR_MISS,
        similarity_min=similarity,
        similarity_mean=similarity,
        members=tuple(
            Member(f"f{i}.py", start, end, f"q{start}", kind)
            for i, (start, end, kind) in enumerate(members)
        ),
    )
    return FoundGroup(group, ())


def test_a_nested_unit_group_is_kept_only_when_far_more_similar_and_small() -> None:
    c, f, b = UnitKind.CLASS, UnitKind.FUNCTION, UnitKind.BLOCK
    outer = _found([(1, 100, c), (1, 100, c)], 0.55)
    small_exact = _found([(10, 18, f), (10, 18, f)], 1.0)
    small_close = _found([(20, 28, f), (20, 28, f)], 0.75)
    large_exact = _found([(40, 95, f), (40, 95, f)], 1.0)  # over half of outer
    small_block = _found([(30, 38, b), (30, 38, b)], 1.0)
    found = [outer, small_exact, small_close, large_exact, small_block]
    kept = _maximal(found)  # type: ignore[arg-type]
    assert kept == [outer, small_exact]


def test_a_nested_group_that_fills_most_of_each_container_member_is_dropped() -> None:
    c, f = UnitKind.CLASS, UnitKind.FUNCTION
    outer = _found([(1, 20, c), (1, 20, c), (1, 20, c), (1, 20, c)], 0.5)  # four classes
    method = _found([(3, 18, f), (3, 18, f)], 1.0)  # 16 of each 20-line class
    assert _maximal([outer, method]) == [outer]  # type: ignore[list-item]


def test_a_nested_group_small_in_some_of_its_holders_is_kept() -> None:
    c, f = UnitKind.CLASS, UnitKind.FUNCTION
    outer = _found([(1, 40, c), (1, 40, c), (1, 14, c)], 0.5)  # the third class is small
    method = _found([(10, 18, f), (10, 18, f), (3, 11, f)], 1.0)  # most of that small class
    assert _maximal([outer, method]) == [outer, method]  # type: ignore[list-item]


def test_nesting_decided_again_only_on_paths_whose_groups_changed() -> None:
    """maximal with a Nesting (a long-lived process): the same groups are decided as before;
    a group whose paths gained a container is decided again (dropped), and kept again once
    the container goes; each result is what a fresh ``maximal`` gives."""
    from dupfind.maximal import Nesting

    c, f = UnitKind.CLASS, UnitKind.FUNCTION
    method = _found([(3, 18, f), (3, 18, f)], 1.0)
    other = _found([(40, 60, f), (40, 60, f)], 0.9)
    nesting = Nesting()
    assert _maximal([method, other], nesting) == [method, other]  # type: ignore[list-item]
    assert _maximal([method, other], nesting) == [method, other]  # type: ignore[list-item]
    outer = _found([(1, 20, c), (1, 20, c), (1, 20, c), (1, 20, c)], 0.5)  # holds method
    found = [outer, method, other]
    assert _maximal(found, nesting) == _maximal(found) == [outer, other]  # type: ignore[arg-type]
    assert _maximal([method, other], nesting) == [method, other]  # type: ignore[list-item]


def test_a_group_nested_in_a_core_is_dropped_like_one_nested_in_any_group() -> None:
    from dupfind.maximal import with_cores as _with_cores

    c, f = UnitKind.CLASS, UnitKind.FUNCTION
    family = _found([(1, 23, c), (1, 23, c)], 0.5)
    core = _found([(1, 23, c), (1, 23, c)], 1.0)  # the family's exact classes
    render = _found([(17, 23, f), (17, 23, f)], 1.0)  # a method of those two classes
    kept = _with_cores([family, render], [(family, core)])  # type: ignore[list-item]
    assert kept == [family, core]  # render, a method of the core's classes, is dropped


def test_the_core_of_a_family_nested_in_a_class_group_is_kept() -> None:
    """Two classes 55% alike; their methods a 55% family of three, a detail of the classes'
    group; two of those methods exact copies: the exact pair is the finding a reviewer
    wants, as when the exact methods were a group of their own."""
    from dupfind.group import FoundGroup
    from dupfind.maximal import with_cores as _with_cores

    c, f = UnitKind.CLASS, UnitKind.FUNCTION

    def found(members: list[tuple[str, int, int, UnitKind]], similarity: float) -> FoundGroup:
        group = CloneGroup(
            id=str(members),
            kind=CloneKind.NEAR_MISS,
            similarity_min=similarity,
            similarity_mean=similarity,
            members=tuple(Member(p, a, b, f"q{a}", k) for p, a, b, k in members),
        )
        return FoundGroup(group, ())

    classes = found([("a.py", 1, 100, c), ("b.py", 1, 100, c)], 0.55)
    methods = [("a.py", 10, 18, f), ("b.py", 10, 18, f), ("a.py", 30, 38, f)]
    family = found(methods, 0.55)
    core = found(methods[:2], 1.0)
    kept = _maximal([classes, family])
    assert kept == [classes]  # the family is a detail of the classes' group
    assert _with_cores(kept, [(family, core)]) == [classes, core]
    close = found(methods[:2], 0.8)  # not far more similar than the classes: a detail too
    assert _with_cores(kept, [(family, close)]) == [classes]


def _one_pass(
    regrouping: Regrouping | None, build: Callable[[], list[FoundGroup]]
) -> list[FoundGroup]:
    """``build`` as one scan of a long-lived process (pipeline.find_groups's begin and turn)."""
    if regrouping is not None:
        regrouping.begin()
    found = build()
    if regrouping is not None:
        regrouping.turn()
    return found


TOTAL_LOGGED = TOTAL.replace('    print("total", result)\n', '    log("total", result, rows)\n')


def test_a_reused_component_gives_the_same_groups_and_marks_the_scores_it_read() -> None:
    """A component the last scan grouped is reused whole (the very group objects), and the
    score-memo entries its clustering read are marked used again, as a fresh grouping marks
    them, even one no longer a candidate pair (a memo written whole would lose it)."""
    config = Config(jobs=1, history=False)
    texts = {"a.py": TOTAL, "b.py": SUMMED, "c.py": TOTAL_LOGGED}
    files = [analyse_source(n, textwrap.dedent(t).encode(), config) for n, t in texts.items()]
    analyses = [file for file in files if isinstance(file, FileAnalysis)]
    units = eligible_units(analyses, config)
    assert len(units) == 3  # a~c 97%, a~b 78%, b~c 74% alike
    threshold = 0.76  # edges a-c and a-b; b~c is read when b would join {a, c}

    def grouped(
        memo: Memo[float], regrouping: Regrouping | None, pairs: list[tuple[int, int]]
    ) -> list[FoundGroup]:
        return _one_pass(regrouping, lambda: build_groups(
            analyses, units, [], pairs, [], threshold, memo=memo, regrouping=regrouping
        ))  # fmt: skip

    every, later = [(0, 1), (0, 2), (1, 2)], [(0, 1), (0, 2)]  # b~c no longer a candidate
    first = Memo[float]()
    fresh = grouped(first, None, every)
    assert len(first.used) == 3 and [[m.path for m in f.group.members] for f in fresh] == [
        ["a.py", "c.py"]
    ]
    regrouping = Regrouping()
    remembered = grouped(Memo(dict(first.used)), regrouping, every)
    again = Memo(dict(first.used))
    reused = grouped(again, regrouping, later)
    assert again.used == first.used
    assert [f.group for f in reused] == [f.group for f in remembered] == [f.group for f in fresh]
    assert all(a is b for a, b in zip(reused, remembered, strict=True))
    one_edge = grouped(Memo(dict(first.used)), regrouping, [(0, 1)])  # another component
    assert [[m.path for m in f.group.members] for f in one_edge] == [["a.py", "b.py"]]


BLOCK = """
def {name}({arg}):
    {pre}
    {total} = 0
    for {row} in {arg}:
        if {row}.active:
            {total} += {row}.amount * {row}.rate
        else:
            {total} -= {row}.fee
    print("{name}", {total})
    log({total}, {arg})
    return round({total}, 2)
"""


def test_a_reused_run_gives_the_same_group_and_marks_the_scores_it_read() -> None:
    """A run of statements the last scan grouped (the same statements of the same analyses)
    is not grouped again, and the score-memo entries it read are marked used again."""
    config = Config(jobs=1, history=False, min_lines=4, min_tokens=20)
    texts = {
        "a.py": BLOCK.format(name="first", arg="rows", pre="check(rows)", total="t", row="r"),
        "b.py": BLOCK.format(name="second", arg="items", pre="x = 1 + 2 * 3", total="acc",
                             row="item"),
    }  # fmt: skip
    files = [analyse_source(n, textwrap.dedent(t).encode(), config) for n, t in texts.items()]
    analyses = [file for file in files if isinstance(file, FileAnalysis)]
    runs = statement_runs(analyses)
    assert runs

    def grouped(memo: Memo[float], regrouping: Regrouping | None) -> list[FoundGroup]:
        return _one_pass(regrouping, lambda: build_groups(
            analyses, [], [], [], runs, THRESHOLD, memo=memo, regrouping=regrouping))  # fmt: skip

    first = Memo[float]()
    fresh = grouped(first, None)
    assert first.used and fresh
    regrouping = Regrouping()
    remembered = grouped(Memo(dict(first.used)), regrouping)
    again = Memo(dict(first.used))
    reused = grouped(again, regrouping)
    assert again.used == first.used
    assert [f.group for f in reused] == [f.group for f in remembered] == [f.group for f in fresh]
    assert all(a is b for a, b in zip(reused, remembered, strict=True))


def test_runs_recalled_by_their_analyses_are_the_runs_made_afresh_after_files_move() -> None:
    """statement_runs with what the last scan extended (group.Regrouping.extended): a file
    added before the others shifts every file index, and the runs are still those made
    afresh, in the same order."""
    config = Config(jobs=1, history=False, min_lines=4, min_tokens=20)
    texts = {
        "b.py": BLOCK.format(name="first", arg="rows", pre="check(rows)", total="t", row="r"),
        "c.py": BLOCK.format(name="second", arg="items", pre="x = 1", total="acc", row="i"),
        "a.py": "X = 1\n",  # no run in common
    }
    files = [analyse_source(n, textwrap.dedent(t).encode(), config) for n, t in texts.items()]
    analyses = [file for file in files if isinstance(file, FileAnalysis)]
    regrouping = Regrouping()
    before = statement_runs(analyses[:2], regrouping.extended)
    assert before and before == statement_runs(analyses[:2])
    regrouping.turn()
    moved = [analyses[2], *analyses[:2]]  # a.py sorts first
    after = statement_runs(moved, regrouping.extended)
    last, now = regrouping.extended.previous, regrouping.extended.current
    assert now.keys() == last.keys() and all(now[k] is last[k] for k in now)  # recalled
    assert after == statement_runs(moved)
    assert [[m.file - 1 for m in run] for run in after] == [[m.file for m in run] for run in before]


def test_a_unit_keeps_its_copy_while_its_analysis_is_the_same_object() -> None:
    """copies.copies_of: a unit of the same analysis object keeps its copy even when every file
    index moved (a file sorting first was added); a file analysed again gets new copies."""
    config = Config(jobs=1, history=False)
    texts = {"b.py": TOTAL, "c.py": SUMMED}
    analyses = [
        cast(FileAnalysis, analyse_source(n, textwrap.dedent(t).encode(), config))
        for n, t in texts.items()
    ]
    regrouping = Regrouping()

    def copies(files: list[FileAnalysis]) -> dict[str, Copy]:
        units = eligible_units(files, config)
        _one_pass(regrouping, lambda: build_groups(files, units, [], [], [], THRESHOLD,
                                                   regrouping=regrouping))  # fmt: skip
        return {c.member.qualname: c for c in regrouping.copies.previous.values()}

    before = copies(analyses)
    first = cast(FileAnalysis, analyse_source("a.py", b"X = 1\n", config))
    shifted = copies([first, *analyses])
    assert shifted["total"] is before["total"] and shifted["summed"] is before["summed"]
    again = cast(FileAnalysis, analyse_source("b.py", textwrap.dedent(TOTAL).encode(), config))
    renewed = copies([first, again, analyses[1]])
    assert renewed["total"] is not before["total"] and renewed["summed"] is before["summed"]
    moved = replace(analyses[1], path="d.py")  # the same units under another path (the cache)
    assert copies([first, again, moved])["summed"].member.path == "d.py"


def test_edge_scores_are_recalled_by_their_copies() -> None:
    """A long-lived process's next scan takes each candidate edge's score from the last scan
    while both copies are the same objects: nothing is scored again, even with an empty memo,
    and the memo entries marked used are a fresh scan's. A file analysed again (new copies)
    has its edges scored again, and so has every edge under another threshold."""
    config = Config(jobs=1, history=False)
    texts = {"a.py": TOTAL, "b.py": SUMMED, "c.py": TOTAL_LOGGED}

    def analysed(name: str) -> FileAnalysis:
        return cast(FileAnalysis, analyse_source(name, textwrap.dedent(texts[name]).encode(),
                                                 config))  # fmt: skip

    scored: list[int] = []

    def counting(function: Callable[[ScoreChunk], list[float]], chunks: Iterable[ScoreChunk]
                 ) -> list[list[float]]:  # fmt: skip
        made = list(chunks)
        scored.extend(len(chunk.pairs) for chunk in made)
        return serial_map(function, made)

    def grouped(
        memo: Memo[float],
        regrouping: Regrouping | None,
        files: list[FileAnalysis],
        threshold: float = 0.5,
    ) -> list[FoundGroup]:
        units = eligible_units(files, config)
        return _one_pass(regrouping, lambda: build_groups(
            files, units, [], [(0, 1), (0, 2), (1, 2)], [], threshold, counting, memo,
            regrouping=regrouping,
        ))  # fmt: skip

    analyses = [analysed(name) for name in texts]
    fresh = Memo[float]()
    groups = grouped(fresh, None, analyses)
    assert sum(scored) == 3 and len(fresh.used) == 3
    regrouping = Regrouping()
    grouped(Memo(), regrouping, analyses)
    scored.clear()
    again = Memo[float]()  # knows nothing: only the recalled scores spare the scoring
    assert [f.group for f in grouped(again, regrouping, analyses)] == [f.group for f in groups]
    assert scored == [] and again.used == fresh.used
    changed = [analyses[0], analysed("b.py"), analyses[2]]
    grouped(Memo(), regrouping, changed)
    assert sum(scored) == 2  # b's two edges
    scored.clear()
    grouped(Memo(), regrouping, changed, threshold=0.6)  # scores under another cutoff
    assert sum(scored) == 3


member_rows = st.tuples(
    st.sampled_from(["a.py", "b.py"]), st.integers(1, 3), st.integers(3, 5),
    st.sampled_from(["f", "g"]), st.sampled_from([UnitKind.FUNCTION, UnitKind.CLASS]),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.lists(member_rows, min_size=2, max_size=3), st.text("xy", max_size=2)),
                max_size=12))  # fmt: skip
def test_groups_sort_by_lines_then_members_then_id(
    rows: list[tuple[list[tuple[str, int, int, str, UnitKind]], str]],
) -> None:
    """sort_groups orders as the dataclasses would: by duplicated lines, then members (by
    path, lines and name; their sort is no part of it), then id; ties are common."""
    found = [
        FoundGroup(CloneGroup(id=gid, kind=CloneKind.NEAR_MISS, similarity_min=0.6,
                              similarity_mean=0.6,
                              members=tuple(Member(*member) for member in members)), ())
        for members, gid in rows
    ]  # fmt: skip
    expected = sorted(
        found, key=lambda f: (-f.group.lines * (len(f.group.members) - 1), f.group.members,
                              f.group.id)
    )  # fmt: skip
    assert [id(f) for f in sort_groups(found)] == [id(f) for f in expected]
