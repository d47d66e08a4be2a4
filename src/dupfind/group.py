"""Grouping: scored candidates → N-way clone groups, keeping only maximal clones.

Units are nodes of a networkx graph and similarities ≥ the threshold are weighted edges; each
connected component is clustered by complete linkage, strongest edges first, so four copies are
one group of four rather than six pairs, a chain A~B~C with A≁C is split, and a copy stays with
its original. Cluster links are checked on up to ``LINK_SAMPLE`` members a side, and group
statistics on up to ``EXACT_SPLIT_LIMIT`` members (bounded cost on families of hundreds of
look-alike tests). Runs of statements come grouped already (candidates.py) and are scored
member against first member.

A unit that complete linkage leaves alone while it has edges (its original joined a family
the copy is not similar enough to as a whole) is paired with its most similar neighbour of the
same sort, if that edge is ``ORPHAN_MARGIN`` above the threshold: otherwise a 67% copy of a
function with two 80% siblings is reported nowhere (held-out plants, 2026-11-27). The margin
keeps out the weakest look-alikes, which made most of the extra groups at the threshold itself.

Maximality and the final order: maximal.py.

A long-lived process (``--watch``, ``dupfind mcp``) keeps what each connected component made
(``Regrouping``), keyed by the identity of its units' objects and its edges: a unit whose file
is unchanged is the same object in the next scan (state.Resident), and a component's groups
are a function of its units and edges alone (clustering reads indices only through their
order, and scores only of its own members). A run's group likewise (by its members'
analyses and statements), a bucket's extended run, a unit's copy, and each candidate edge's
score by its two copies (so ``prefill`` neither looks up nor scores it again: half of its
0.1 s over the stdlib's 46,000 edges, memo keys made and hashed). A one-file rescan of the
stdlib groups again a few of its 3,800 components and 2,500 runs, not all of them; candidate
pairs come from the last scan's too (pairs.KeptPairs, held here as ``near``).

Cores: a family below the consolidate threshold (a copy's original among its 55%
look-alikes) also yields, as groups of their own, its subsets that are exact or renamed copies
of each other (one shape, and at least that similar): an exact copy of one member is a copy to
remove, and a CI gate failing on consolidate must see it, not only the family's "extract a
shared abstraction". Near-miss subsets are not cores: at the consolidate threshold they
multiplied groups by a fifth on the stdlib.

A group's id is a BLAKE2b digest of its members' paths, qualified names and normalised content:
stable across runs and line shifts, so baselines and SARIF fingerprints can rely on it.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dupfind.candidates import Extended, RunMember, UnitRef, ordered
from dupfind.copies import Copy, Scored, Scores, copies_of, run_copy
from dupfind.executor import Mapper, serial_map
from dupfind.fingerprint import digest
from dupfind.maximal import Nesting, maximal, sort_groups, with_cores
from dupfind.memo import LastPass, Memo
from dupfind.models import CloneGroup, CloneKind, FileAnalysis, UnitKind
from dupfind.score import similarity

if TYPE_CHECKING:
    import networkx as nx

    from dupfind.pairs import KeptPairs

EXACT_SPLIT_LIMIT = 12
LINK_SAMPLE = EXACT_SPLIT_LIMIT
ORPHAN_MARGIN = 0.1  # an orphan pairs with its best neighbour this far above the threshold
Core = tuple["FoundGroup", "FoundGroup"]  # (a family, one of its cores)
Key = tuple[object, ...]  # what a component or run is recalled by (Regrouping)


@dataclass(frozen=True, slots=True)
class FoundGroup:
    """A clone group with each member's token span (file analysis, start, end), in member
    order: what classification needs to read the members back."""

    group: CloneGroup
    spans: tuple[tuple[FileAnalysis, int, int], ...]


def build_groups(
    files: Sequence[FileAnalysis],
    units: Sequence[UnitRef],
    buckets: Sequence[Sequence[int]],
    near_pairs: Sequence[tuple[int, int]],
    runs: Sequence[Sequence[RunMember]],
    min_similarity: float,
    mapper: Mapper = serial_map,
    memo: Memo[float] | None = None,
    consolidate: float | None = None,
    regrouping: Regrouping | None = None,
) -> list[FoundGroup]:
    """All maximal clone groups, sorted by duplicated lines (largest first). The candidate
    edges are scored through ``mapper`` (executor.py), unless ``memo`` knows them. With
    ``consolidate``, a family below it also yields its cores at or above it (``_cores``).
    ``regrouping`` reuses what the last scan's components made (module docstring)."""
    memo = memo if memo is not None else Memo()
    copies = copies_of(files, units, regrouping.copies if regrouping is not None else None)
    scores = Scores(copies, min_similarity, memo, recorded=regrouping is not None)
    bucket_edges = (pair for bucket in buckets for pair in _bucket_pairs(bucket, copies))
    edges = list(dict.fromkeys([*bucket_edges, *near_pairs]))  # each pair once, in order
    scores.prefill(edges, mapper, regrouping.scores if regrouping is not None else None)
    import networkx as nx  # here, not at the top: `dupfind similar` never groups and starts fast

    graph: nx.Graph[int] = nx.Graph()
    known = scores.known  # every edge's score, after prefill
    weights = map(known.__getitem__, edges)  # (each edge is ordered: first < second)
    weighted = zip(edges, weights, strict=True)
    graph.add_weighted_edges_from((a, b, w) for (a, b), w in weighted if w >= min_similarity)
    grouping = _Grouping(graph, copies, scores, min_similarity, consolidate)
    groups: list[FoundGroup] = []
    cores: list[Core] = []
    for component in nx.connected_components(graph):
        made = grouping.recalled(regrouping, units, sorted(component))
        groups.extend(made.groups)
        cores.extend(made.cores)
    groups.extend(_run_groups(files, runs, min_similarity, mapper, memo, regrouping))
    nesting = regrouping.nesting if regrouping is not None else None
    return sort_groups(with_cores(maximal(groups, nesting), cores))


@dataclass(frozen=True, slots=True)
class _Made:
    """What one connected component (or run) made: its groups and their cores, the score-memo
    entries it read (marked used again when it is reused, as reading them marks them: a pair
    it read may be no candidate of the later scan, whose ``prefill`` then does not: memo.py),
    and the objects whose identity keys it (held, so that no other object takes their ids)."""

    groups: tuple[FoundGroup, ...]
    cores: tuple[Core, ...]
    touched: dict[bytes, float]
    held: tuple[object, ...]


class Regrouping:
    """What this process's last scan made that the next one recalls by the identity of the
    objects it was made from (module docstring): each connected component's groups, each
    statement run's group, each bucket's extended run (candidates.statement_runs), each
    unit's copy and each candidate edge's score; and the near-miss pairs' last pass
    (``near``). ``begin`` and ``turn`` bound a scan (pipeline.find_groups)."""

    def __init__(self) -> None:
        self.components: LastPass[Key, _Made] = LastPass()
        self.runs: LastPass[Key, _Made] = LastPass()
        self.extended: LastPass[tuple[int, ...], Extended] = LastPass()  # statement_runs
        self.copies: LastPass[int, Copy] = LastPass()  # by unit object
        self.scores: Scored = LastPass()  # the candidate edges' (Scores.prefill)
        self.nesting = Nesting()  # maximal.maximal
        self.near: KeptPairs | None = None  # candidates.near_miss_pairs (made by ``pairs``)

    def pairs(self) -> KeptPairs:
        """The near-miss pairs' last pass (pairs.py imports numpy: made when first needed)."""
        if self.near is None:
            from dupfind.pairs import KeptPairs

            self.near = KeptPairs()
        return self.near

    def begin(self) -> None:
        for made in (self.components, self.runs, self.extended, self.copies, self.scores):
            made.begin()

    def turn(self) -> None:
        for copy in self.copies.current.values():
            copy.forget()  # scored again only if a new partner comes: not worth its memory
        for made in (self.components, self.runs, self.extended, self.copies, self.scores):
            made.turn()


@dataclass(frozen=True, slots=True)
class _Grouping:
    """What grouping a component reads: the graph, the copies and their scores, the settings."""

    graph: nx.Graph[int]
    copies: Sequence[Copy]
    scores: Scores
    threshold: float
    consolidate: float | None

    def recalled(
        self, regrouping: Regrouping | None, units: Sequence[UnitRef], nodes: list[int]
    ) -> _Made:
        """What ``nodes`` (a component, in order) make: remembered by ``regrouping`` when the
        last scan had the same units joined by the same edges, else made (and remembered)."""
        if regrouping is None:
            return self.made(nodes)
        local = {node: index for index, node in enumerate(nodes)}
        adjacency = self.graph.adj
        edges = sorted((local[a], local[b]) for a in nodes for b in adjacency[a] if a < b)
        held = (*(units[node].unit for node in nodes), *(self.copies[n].analysis for n in nodes))
        settings = (self.threshold, self.consolidate, len(nodes))  # the count: ids end there
        key = (*settings, *map(id, held), *itertools.chain.from_iterable(edges))
        made = regrouping.components.recall(key)
        if made is None:
            made = self.made(nodes, held)
        else:
            self.scores.memo.used.update(made.touched)
        return regrouping.components.keep(key, made)

    def made(self, nodes: list[int], held: tuple[object, ...] = ()) -> _Made:
        """The groups and cores of the component ``nodes`` (in order), and (to be remembered:
        ``held`` given) the memo entries its scores read."""
        scores, copies, threshold = self.scores, self.copies, self.threshold
        scores.reading = set() if held else None
        clusters = _clusters(self.graph, nodes, scores, threshold)
        orphans = set(nodes).difference(*clusters)
        clusters.extend(_orphan_pairs(self.graph, orphans, copies, threshold))
        groups: list[FoundGroup] = []
        cores: list[Core] = []
        for cluster in clusters:
            group = _make_group([copies[i] for i in cluster], _pair_scores(cluster, scores))
            if group is not None and group.group.similarity_min >= threshold:
                groups.append(group)
                if self.consolidate is not None and group.group.similarity_min < self.consolidate:
                    found = _cores(cluster, scores, self.consolidate, copies)
                    cores.extend((group, core) for core in found)
        touched = scores.touched(scores.reading or ())
        scores.reading = None
        return _Made(tuple(groups), tuple(cores), touched, held)


def _cores(
    cluster: list[int],
    scores: Callable[[int, int], float],
    consolidate: float,
    copies: Sequence[Copy],
) -> list[FoundGroup]:
    """The exact or renamed copies among a family's members (same shape), as groups of their
    own when at least ``consolidate`` similar (module docstring)."""
    shapes: dict[bytes, list[int]] = defaultdict(list)
    for index in cluster:
        if copies[index].member.unit is not UnitKind.COMMENTED:  # those become leftovers
            shapes[copies[index].shape_digest].append(index)
    found = []
    for core in shapes.values():
        if 2 <= len(core) < len(cluster):
            group = _make_group([copies[i] for i in core], _pair_scores(core, scores))
            if group is not None and group.group.similarity_min >= consolidate:
                found.append(group)
    return found


def _bucket_pairs(bucket: Sequence[int], copies: Sequence[Copy]) -> list[tuple[int, int]]:
    """Edges worth scoring in a bucket of same-shape units: exact copies to each other, and
    between the exact sub-buckets' representatives (all pairs while few, else a chain)."""
    exact: dict[bytes, list[int]] = defaultdict(list)
    for index in bucket:
        exact[copies[index].exact_digest].append(index)
    pairs = [(same[0], other) for same in exact.values() for other in same[1:]]
    heads = [same[0] for same in exact.values()]
    if len(heads) <= EXACT_SPLIT_LIMIT:
        pairs.extend(itertools.combinations(heads, 2))
    else:
        pairs.extend(itertools.pairwise(heads))
        pairs.extend((heads[0], head) for head in heads[2:])
    return pairs


def _clusters(
    graph: nx.Graph[int],
    component: list[int],
    scores: Callable[[int, int], float],
    threshold: float,
) -> list[list[int]]:
    """Complete-linkage agglomeration, strongest edges first: two clusters merge only if their
    members are pairwise similar enough, so a chain A~B~C with A≁C splits, and a copy stays with
    the code it was copied from rather than with a weaker look-alike. (The component's edges
    are read from the adjacency directly: a networkx subgraph view costs several times more.)
    ``component`` comes in order, so the clusters, and their order, depend on the order of the
    indices only, not on their values (a component's units are recalled by identity)."""
    if len(component) == 2:
        return [list(component)]
    owner = {node: node for node in component}
    members = {node: [node] for node in component}
    adjacency = graph.adj
    edges = sorted(
        (
            (-data["weight"], first, second)
            for first in component
            for second, data in adjacency[first].items()
            if first < second
        ),
    )
    for _, first, second in edges:
        keep, other = owner[first], owner[second]
        if keep == other or not _linked(members[keep], members[other], scores, threshold):
            continue
        if len(members[keep]) < len(members[other]):
            keep, other = other, keep
        for node in members[other]:
            owner[node] = keep
        members[keep].extend(members.pop(other))
    return [sorted(cluster) for cluster in members.values() if len(cluster) > 1]


def _orphan_pairs(
    graph: nx.Graph[int],
    orphans: Iterable[int],
    copies: Sequence[Copy],
    threshold: float,
) -> list[list[int]]:
    """Each unit that complete linkage left alone, paired with its most similar neighbour
    of the same sort (class with class, function with function) when that edge is
    ``ORPHAN_MARGIN`` above the threshold: the neighbour joined a family the unit is not
    similar enough to as a whole (``fuzz`` with its siblings ``idempotent`` and ``ufunc``;
    its copy ``my_fuzz`` too far from ``ufunc``), and the copy would be reported nowhere."""
    floor = threshold + ORPHAN_MARGIN
    pairs: set[tuple[int, int]] = set()
    for orphan in sorted(orphans):
        is_class = copies[orphan].member.unit is UnitKind.CLASS
        best = max(
            (
                (data["weight"], -other)
                for other, data in graph.adj[orphan].items()
                if data["weight"] >= floor
                and (copies[other].member.unit is UnitKind.CLASS) == is_class
            ),
            default=None,
        )
        if best is not None:
            pairs.add(ordered(orphan, -best[1]))
    return [list(pair) for pair in sorted(pairs)]


def _linked(
    first: list[int], second: list[int], scores: Callable[[int, int], float], threshold: float
) -> bool:
    """All pairs across the two clusters meet the threshold (checked on up to LINK_SAMPLE
    members of each: the earliest merged, i.e. the most central)."""
    return all(scores(a, b) >= threshold for a in first[:LINK_SAMPLE] for b in second[:LINK_SAMPLE])


def _pair_scores(cluster: list[int], scores: Callable[[int, int], float]) -> list[float]:
    """Pairwise similarities of a group (of its first ``EXACT_SPLIT_LIMIT`` members)."""
    return [scores(a, b) for a, b in itertools.combinations(cluster[:EXACT_SPLIT_LIMIT], 2)]


def _run_groups(
    files: Sequence[FileAnalysis],
    runs: Sequence[Sequence[RunMember]],
    min_similarity: float,
    mapper: Mapper,
    memo: Memo[float],
    regrouping: Regrouping | None = None,
) -> list[FoundGroup]:
    """Each run's members scored against its first member (all runs' pairs through one
    ``prefill``), the members similar enough kept; what ``regrouping`` recalls of a run (the
    same statements of the same analyses) is reused."""
    if regrouping is None:
        made = _scored_runs(files, runs, min_similarity, mapper, memo)
        return [group for item in made for group in item.groups]
    keys = [_run_key(files, run, min_similarity) for run in runs]
    recalled = [regrouping.runs.recall(key) for key in keys]
    todo = [run for run, item in zip(runs, recalled, strict=True) if item is None]
    scored = iter(_scored_runs(files, todo, min_similarity, mapper, memo, record=True))
    groups: list[FoundGroup] = []
    for key, known in zip(keys, recalled, strict=True):
        if known is not None:
            memo.used.update(known.touched)
        item = regrouping.runs.keep(key, known or next(scored))
        groups.extend(item.groups)
    return groups


def _run_key(files: Sequence[FileAnalysis], run: Sequence[RunMember], threshold: float) -> Key:
    """A run by the identity of its members' analyses and their statements' positions."""
    places = ((id(files[m.file]), m.list_index, m.first, m.last) for m in run)
    return (threshold, *itertools.chain.from_iterable(places))


def _scored_runs(
    files: Sequence[FileAnalysis],
    runs: Sequence[Sequence[RunMember]],
    min_similarity: float,
    mapper: Mapper,
    memo: Memo[float],
    record: bool = False,
) -> list[_Made]:
    """What each run makes: its group (if any), and with ``record`` the memo entries its
    scores read."""
    families = [[run_copy(files, member) for member in run] for run in runs]
    starts = list(itertools.accumulate((len(family) for family in families), initial=0))
    scores = Scores([c for family in families for c in family], min_similarity, memo, record)
    firsts = zip(starts, families, strict=False)  # starts has one more: the end
    scores.prefill(((s, s + i) for s, family in firsts for i in range(1, len(family))), mapper)
    made: list[_Made] = []
    for start, copies in zip(starts, families, strict=False):
        pairs = [(start, start + i) for i in range(1, len(copies))]
        kept = [0, *(p[1] - start for p in pairs if scores(*p) >= min_similarity)]
        pair_scores = [scores(start, start + i) for i in kept[1:]]
        group = _make_group([copies[i] for i in kept], pair_scores)
        held = tuple(copy.analysis for copy in copies)
        touched = scores.touched(pairs)  # none unless recorded
        made.append(_Made((group,) if group is not None else (), (), touched, held))
    return made


def _member_order(copy: Copy) -> tuple[str, int, int, str]:
    """``Member``'s order as a key: comparing the dataclasses costs a tuple per comparison."""
    member = copy.member
    return member.path, member.start_line, member.end_line, member.qualname


def _make_group(copies: Sequence[Copy], pair_scores: Sequence[float]) -> FoundGroup | None:
    if len(copies) < 2 or not pair_scores:
        return None
    kind = CloneKind.of({c.exact_digest for c in copies}, {c.shape_digest for c in copies})
    ordered = sorted(copies, key=_member_order)
    group = CloneGroup(
        id=_group_id(ordered),
        kind=kind,
        similarity_min=round(min(pair_scores), 4),
        similarity_mean=round(sum(pair_scores) / len(pair_scores), 4),
        members=tuple(c.member for c in ordered),
    )
    return FoundGroup(group, tuple((c.analysis, c.start, c.end) for c in ordered))


def subgroup(found: FoundGroup, keep: Sequence[int]) -> FoundGroup | None:
    """The group of ``found``'s members at ``keep`` alone, its similarities measured again
    (artifacts.py keeps the live members of a group that also held commented-out code)."""
    copies = []
    for index in keep:
        member, (analysis, start, end) = found.group.members[index], found.spans[index]
        shape, exact = digest(analysis.shape, start, end), digest(analysis.exact, start, end)
        copies.append(Copy(member, analysis, (start, end), shape, exact))
    tokens = [copy.tokens for copy in copies[:EXACT_SPLIT_LIMIT]]
    scores = [similarity(a, b) for a, b in itertools.combinations(tokens, 2)]
    return _make_group(copies, scores)


def _group_id(copies: Sequence[Copy]) -> str:
    hasher = hashlib.blake2b(digest_size=8)
    for key in sorted((c.member.path, c.member.qualname, c.shape_digest) for c in copies):
        hasher.update(repr(key).encode())
    return hasher.hexdigest()
