"""Grouping: scored candidates → N-way clone groups, keeping only maximal clones.

Units are nodes of a networkx graph and similarities ≥ the threshold are edges; each connected
component is a candidate group, so four copies are one group of four rather than six pairs. A
small component (≤ ``EXACT_SPLIT_LIMIT`` nodes) is checked pair by pair and, where a chain
A~B~C hides A≁C, split greedily into cliques, so every reported pair meets the threshold; a
larger one keeps the measured edges (the minimum is then taken over them). Runs of statements
come grouped already (candidates.py) and are scored member against first member.

Maximality: a group all of whose members lie inside members of another group (a method of a
cloned class, a run inside a cloned function) is not reported again.

A group's id is a BLAKE2b digest of its members' paths, qualified names and normalised content:
stable across runs and line shifts, so baselines and SARIF fingerprints can rely on it.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence

import networkx as nx

from dupfind.candidates import RunMember, UnitRef
from dupfind.fingerprint import digest
from dupfind.models import CloneGroup, CloneKind, FileAnalysis, Member, UnitKind
from dupfind.score import Tokens, similarity

EXACT_SPLIT_LIMIT = 12


class _Copy:
    """One candidate member; its token sequences are built only if it is ever scored."""

    __slots__ = ("_tokens", "analysis", "end", "exact_digest", "member", "shape_digest", "start")

    def __init__(
        self,
        member: Member,
        analysis: FileAnalysis,
        span: tuple[int, int],
        shape_digest: bytes,
        exact_digest: bytes,
    ) -> None:
        self.member = member
        self.analysis = analysis
        self.start, self.end = span
        self.shape_digest = shape_digest
        self.exact_digest = exact_digest
        self._tokens: Tokens | None = None

    @property
    def tokens(self) -> Tokens:
        if self._tokens is None:
            a = self.analysis
            self._tokens = Tokens.of(a.exact, a.shape, a.named, self.start, self.end)
        return self._tokens


def _unit_copy(files: Sequence[FileAnalysis], ref: UnitRef) -> _Copy:
    analysis, unit = files[ref.file], ref.unit
    member = Member(analysis.path, unit.start_line, unit.end_line, unit.qualname, unit.kind)
    span = (unit.tok_start, unit.tok_end)
    return _Copy(member, analysis, span, unit.shape_digest, unit.exact_digest)


def _run_copy(files: Sequence[FileAnalysis], run: RunMember) -> _Copy:
    analysis = files[run.file]
    statements = analysis.statement_lists[run.list_index]
    start, end = statements.tok_starts[run.first], statements.tok_ends[run.last]
    member = Member(
        analysis.path,
        statements.start_lines[run.first],
        statements.end_lines[run.last],
        statements.qualname,
        UnitKind.BLOCK,
    )
    return _Copy(
        member,
        analysis,
        (start, end),
        digest(statements.shape_hashes, run.first, run.last + 1),
        digest(analysis.exact, start, end),
    )


class _Scores:
    """Memoised pairwise similarity over a list of copies."""

    def __init__(self, copies: Sequence[_Copy], cutoff: float) -> None:
        self.copies = copies
        self.cutoff = cutoff
        self.known: dict[tuple[int, int], float] = {}

    def __call__(self, first: int, second: int) -> float:
        key = (first, second) if first < second else (second, first)
        if key not in self.known:
            a, b = self.copies[key[0]], self.copies[key[1]]
            self.known[key] = (
                1.0
                if a.exact_digest == b.exact_digest
                else similarity(a.tokens, b.tokens, self.cutoff)
            )
        return self.known[key]


def build_groups(
    files: Sequence[FileAnalysis],
    units: Sequence[UnitRef],
    buckets: Sequence[Sequence[int]],
    near_pairs: Sequence[tuple[int, int]],
    runs: Sequence[Sequence[RunMember]],
    min_similarity: float,
) -> list[CloneGroup]:
    """All maximal clone groups, sorted by duplicated lines (largest first)."""
    copies = [_unit_copy(files, ref) for ref in units]
    scores = _Scores(copies, min_similarity)
    graph: nx.Graph[int] = nx.Graph()
    for bucket in buckets:
        graph.add_edges_from((bucket[0], other) for other in bucket[1:])
    for first, second in near_pairs:
        if not graph.has_edge(first, second) and scores(first, second) >= min_similarity:
            graph.add_edge(first, second)
    groups: list[CloneGroup] = []
    for component in nx.connected_components(graph):
        for clique in _split(graph, sorted(component), scores, min_similarity):
            group = _make_group([copies[i] for i in clique], _pair_scores(clique, scores, graph))
            if group is not None and group.similarity_min >= min_similarity:
                groups.append(group)
    groups.extend(_run_groups(files, runs, min_similarity))
    return sort_groups(_maximal(groups))


def _split(
    graph: nx.Graph[int], nodes: list[int], scores: Callable[[int, int], float], threshold: float
) -> list[list[int]]:
    if len(nodes) > EXACT_SPLIT_LIMIT:
        stars = _stars(graph.subgraph(nodes))
        return [
            clique
            for star in stars
            for clique in (
                [star] if len(star) > EXACT_SPLIT_LIMIT else _split(graph, star, scores, threshold)
            )
        ]
    pool = list(nodes)
    cliques: list[list[int]] = []
    while len(pool) > 1:
        clique = [pool.pop(0)]
        for node in list(pool):
            if all(scores(node, member) >= threshold for member in clique):
                clique.append(node)
                pool.remove(node)
        if len(clique) > 1:
            cliques.append(clique)
    return cliques


def _stars(graph: nx.Graph[int]) -> list[list[int]]:
    """Cover a large component with stars: best-connected nodes first, each with the
    neighbours not yet taken (degrees measured once: this runs on components of thousands)."""
    taken: set[int] = set()
    stars: list[list[int]] = []
    for centre in sorted(graph.nodes, key=lambda node: (-graph.degree(node), node)):
        if centre in taken:
            continue
        star = sorted({centre} | {n for n in graph.neighbors(centre) if n not in taken})
        if len(star) > 1:
            stars.append(star)
            taken.update(star)
    return stars


def _pair_scores(
    clique: list[int], scores: Callable[[int, int], float], graph: nx.Graph[int]
) -> list[float]:
    if len(clique) <= EXACT_SPLIT_LIMIT:
        return [scores(a, b) for a, b in itertools.combinations(clique, 2)]
    return [scores(a, b) for a, b in graph.subgraph(clique).edges()]


def _run_groups(
    files: Sequence[FileAnalysis], runs: Sequence[Sequence[RunMember]], min_similarity: float
) -> list[CloneGroup]:
    groups: list[CloneGroup] = []
    for run in runs:
        copies = [_run_copy(files, member) for member in run]
        scores = _Scores(copies, min_similarity)
        kept = [0] + [i for i in range(1, len(copies)) if scores(0, i) >= min_similarity]
        if len(kept) < 2:
            continue
        group = _make_group([copies[i] for i in kept], [scores(0, i) for i in kept[1:]])
        if group is not None:
            groups.append(group)
    return groups


def _make_group(copies: Sequence[_Copy], pair_scores: Sequence[float]) -> CloneGroup | None:
    if len(copies) < 2 or not pair_scores:
        return None
    if len({c.exact_digest for c in copies}) == 1:
        kind = CloneKind.EXACT
    elif len({c.shape_digest for c in copies}) == 1:
        kind = CloneKind.RENAMED
    else:
        kind = CloneKind.NEAR_MISS
    ordered = sorted(copies, key=lambda c: c.member)
    return CloneGroup(
        id=_group_id(ordered),
        kind=kind,
        similarity_min=round(min(pair_scores), 4),
        similarity_mean=round(sum(pair_scores) / len(pair_scores), 4),
        members=tuple(c.member for c in ordered),
    )


def _group_id(copies: Sequence[_Copy]) -> str:
    hasher = hashlib.blake2b(digest_size=8)
    for key in sorted((c.member.path, c.member.qualname, c.shape_digest) for c in copies):
        hasher.update(repr(key).encode())
    return hasher.hexdigest()


def _maximal(groups: list[CloneGroup]) -> list[CloneGroup]:
    """Drop groups nested in another group, and duplicates of the same member set."""
    by_path: dict[str, list[tuple[Member, int]]] = defaultdict(list)
    for index, group in enumerate(groups):
        for member in group.members:
            by_path[member.path].append((member, index))
    kept: list[CloneGroup] = []
    seen: set[tuple[Member, ...]] = set()
    for index, group in enumerate(groups):
        if group.members in seen or _nested(index, group, by_path, groups):
            continue
        seen.add(group.members)
        kept.append(group)
    return kept


def _nested(
    index: int,
    group: CloneGroup,
    by_path: dict[str, list[tuple[Member, int]]],
    groups: Sequence[CloneGroup],
) -> bool:
    containers: set[int] | None = None
    for member in group.members:
        holders = {
            other
            for candidate, other in by_path[member.path]
            if other != index and _encloses(candidate, member, other < index)
        }
        containers = holders if containers is None else containers & holders
        if not containers:
            return False
    return any(len(groups[other].members) >= 2 for other in containers or ())


def _encloses(candidate: Member, member: Member, earlier: bool) -> bool:
    """Strictly larger, or the same span found by an earlier (unit-level) group."""
    if not candidate.contains(member):
        return False
    same = (candidate.start_line, candidate.end_line) == (member.start_line, member.end_line)
    return earlier or not same


def sort_groups(groups: Sequence[CloneGroup]) -> list[CloneGroup]:
    """Largest duplication first; ties broken by location, so output order is stable."""
    return sorted(groups, key=lambda g: (-g.lines * (len(g.members) - 1), g.members, g.id))
