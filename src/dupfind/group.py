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

Maximality: a group all of whose members lie inside members of another group (a method of a
cloned class, a run inside a cloned function) is not reported again, unless it is a group of
units (not statement runs) more than ``NESTED_MARGIN`` more similar and under half as long: a
method copied verbatim into an otherwise different class (98% against the classes' 51%), or
the methods a forked class still shares unchanged, are findings of their own, not details of a
weak class-level match. A run inside two similar functions stays a detail of theirs.

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
import struct
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dupfind.candidates import RunMember, UnitRef, ordered
from dupfind.executor import Mapper, serial_map
from dupfind.fingerprint import digest
from dupfind.memo import Memo
from dupfind.models import CloneGroup, CloneKind, FileAnalysis, Member, UnitKind
from dupfind.score import ScoreChunk, Tokens, score_chunk, similarity

if TYPE_CHECKING:
    import networkx as nx

EXACT_SPLIT_LIMIT = 12
LINK_SAMPLE = EXACT_SPLIT_LIMIT
NESTED_MARGIN = 0.25  # a nested unit group this much more similar than its container is kept
ORPHAN_MARGIN = 0.1  # an orphan pairs with its best neighbour this far above the threshold


@dataclass(frozen=True, slots=True)
class FoundGroup:
    """A clone group with each member's token span (file analysis, start, end), in member
    order: what classification needs to read the members back."""

    group: CloneGroup
    spans: tuple[tuple[FileAnalysis, int, int], ...]


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
    table = analysis.statement_lists
    first = table.bounds[run.list_index] + run.first
    last = table.bounds[run.list_index] + run.last
    start, end = table.tok_starts[first], table.tok_ends[last]
    member = Member(
        analysis.path,
        table.start_lines[first],
        table.end_lines[last],
        table.qualnames[run.list_index],
        UnitKind.BLOCK,
    )
    return _Copy(
        member,
        analysis,
        (start, end),
        digest(table.shape_hashes, first, last + 1),
        digest(analysis.exact, start, end),
    )


SCORE_CHUNK_PAIRS = 256  # pairs per shipped chunk (executor.py): milliseconds of work


class _Scores:
    """Memoised pairwise similarity over a list of copies (and, through ``memo``, over the
    previous scan's pairs: memo.py)."""

    def __init__(self, copies: Sequence[_Copy], cutoff: float, memo: Memo[float]) -> None:
        self.copies = copies
        self.cutoff = cutoff
        self.memo = memo
        self.cutoff_text = struct.pack("<d", cutoff)  # part of every memo key
        self.known: dict[tuple[int, int], float] = {}

    def prefill(self, pairs: Iterable[tuple[int, int]], mapper: Mapper) -> None:
        """Score many pairs at once: those decided by their members here, the others in chunks
        of ``SCORE_CHUNK_PAIRS`` through ``mapper`` (executor.py)."""
        todo: list[tuple[int, int]] = []
        memo_keys: list[bytes] = []  # parallel to todo
        for key in dict.fromkeys(ordered(*pair) for pair in pairs):
            if key not in self.known:
                memo_key = self._decide(key)
                if memo_key is not None:
                    todo.append(key)
                    memo_keys.append(memo_key)
        slices = [todo[i : i + SCORE_CHUNK_PAIRS] for i in range(0, len(todo), SCORE_CHUNK_PAIRS)]
        chunks = (self._chunk(keys) for keys in slices)
        values = itertools.chain.from_iterable(mapper(score_chunk, chunks))
        for key, memo_key, value in zip(todo, memo_keys, values, strict=True):
            self.known[key] = value
            self.memo.put(memo_key, value)

    def _decide(self, key: tuple[int, int]) -> bytes | None:
        """Know ``key``'s score if its members decide it or the memo has it; else the memo key
        it is to be scored under."""
        a, b = self.copies[key[0]], self.copies[key[1]]
        if a.member.contains(b.member) or b.member.contains(a.member):
            self.known[key] = 0.0  # a class and its own method are never copies
        elif a.exact_digest == b.exact_digest:
            self.known[key] = 1.0
        elif (value := self.memo.get(memo_key := self._memo_key(key))) is not None:
            self.known[key] = value
        else:
            return memo_key
        return None

    def _memo_key(self, key: tuple[int, int]) -> bytes:
        """Both copies' digests side by side, in order, and the cutoff: fixed-width parts, so
        the concatenation is unambiguous and needs no hashing (one per candidate pair)."""
        a, b = self.copies[key[0]], self.copies[key[1]]
        first, second = a.exact_digest + a.shape_digest, b.exact_digest + b.shape_digest
        return (first + second if first <= second else second + first) + self.cutoff_text

    def _chunk(self, keys: Sequence[tuple[int, int]]) -> ScoreChunk:
        local: dict[int, int] = {}
        for key in keys:
            for index in key:
                local.setdefault(index, len(local))
        tokens = tuple(self.copies[index].tokens for index in local)
        pairs = tuple((local[first], local[second]) for first, second in keys)
        return ScoreChunk(tokens, pairs, self.cutoff)

    def __call__(self, first: int, second: int) -> float:
        key = ordered(first, second)
        value = self.known.get(key)
        if value is None:  # most are decided without scoring: no batch for one pair
            memo_key = self._decide(key)
            if memo_key is not None:
                value = self.known[key] = score_chunk(self._chunk([key]))[0]
                self.memo.put(memo_key, value)
            else:
                value = self.known[key]
        return value


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
) -> list[FoundGroup]:
    """All maximal clone groups, sorted by duplicated lines (largest first). The candidate
    edges are scored through ``mapper`` (executor.py), unless ``memo`` knows them. With
    ``consolidate``, a family below it also yields its cores at or above it (``_cores``)."""
    memo = memo if memo is not None else Memo()
    copies = [_unit_copy(files, ref) for ref in units]
    scores = _Scores(copies, min_similarity, memo)
    bucket_edges = (pair for bucket in buckets for pair in _bucket_pairs(bucket, copies))
    edges = list(dict.fromkeys([*bucket_edges, *near_pairs]))  # each pair once, in order
    scores.prefill(edges, mapper)
    import networkx as nx  # here, not at the top: `dupfind similar` never groups and starts fast

    graph: nx.Graph[int] = nx.Graph()
    for first, second in edges:
        _add_edge(graph, first, second, scores(first, second), min_similarity)
    groups: list[FoundGroup] = []
    cores: list[tuple[FoundGroup, FoundGroup]] = []  # (family, one of its cores)
    for component in nx.connected_components(graph):
        clusters = _clusters(graph, component, scores, min_similarity)
        orphans = component.difference(*clusters)
        clusters.extend(_orphan_pairs(graph, orphans, copies, min_similarity))
        for cluster in clusters:
            group = _make_group([copies[i] for i in cluster], _pair_scores(cluster, scores))
            if group is not None and group.group.similarity_min >= min_similarity:
                groups.append(group)
                if consolidate is not None and group.group.similarity_min < consolidate:
                    found = _cores(cluster, scores, consolidate, copies)
                    cores.extend((group, core) for core in found)
    groups.extend(_run_groups(files, runs, min_similarity, mapper, memo))
    return sort_groups(_with_cores(_maximal(groups), cores))


def _with_cores(
    kept: list[FoundGroup], cores: list[tuple[FoundGroup, FoundGroup]]
) -> list[FoundGroup]:
    """The kept groups and the cores, less those nested in another of them: a core is not
    nested in its own family (which holds the same members), and a kept group is dropped when
    nested in a core (a method of the two exact classes a core of a wider class family
    reports), as ``_maximal`` drops those nested in any other group. A core whose family was
    dropped, nested in a group of containers, is judged like any nested group: a method
    copied verbatim into two otherwise different classes stays a finding even when its looser
    family of look-alike methods is a detail of the classes' group."""
    if not cores:
        return kept
    position = {id(group): index for index, group in enumerate(kept)}
    in_cores = [core.group for _, core in cores]
    everything = [item.group for item in kept] + in_cores
    spans, core_spans = member_spans(everything), member_spans(in_cores)
    # The kept groups are maximal among themselves already (``_maximal``): only the cores can
    # hold one. Index -1: a core with a kept group's very lines is no holder of it, as a later
    # group never is.
    outer = [item for item in kept if not _nested(-1, item.group, core_spans, in_cores)]
    return outer + [
        core
        for offset, (family, core) in enumerate(cores)
        if not _nested(len(kept) + offset, core.group, spans, everything,
                       position.get(id(family), -1))
    ]  # fmt: skip


def _cores(
    cluster: list[int],
    scores: Callable[[int, int], float],
    consolidate: float,
    copies: Sequence[_Copy],
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


def _bucket_pairs(bucket: Sequence[int], copies: Sequence[_Copy]) -> list[tuple[int, int]]:
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


def _add_edge(graph: nx.Graph[int], first: int, second: int, weight: float, cutoff: float) -> None:
    if weight >= cutoff:
        graph.add_edge(first, second, weight=weight)


def _clusters(
    graph: nx.Graph[int],
    component: set[int],
    scores: Callable[[int, int], float],
    threshold: float,
) -> list[list[int]]:
    """Complete-linkage agglomeration, strongest edges first: two clusters merge only if their
    members are pairwise similar enough, so a chain A~B~C with A≁C splits, and a copy stays with
    the code it was copied from rather than with a weaker look-alike. (The component's edges
    are read from the adjacency directly: a networkx subgraph view costs several times more.)"""
    if len(component) == 2:
        return [sorted(component)]
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
    copies: Sequence[_Copy],
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
) -> list[FoundGroup]:
    """Each run's members scored against its first member (all runs' pairs through one
    ``prefill``), the members similar enough kept."""
    families = [[_run_copy(files, member) for member in run] for run in runs]
    starts = list(itertools.accumulate((len(family) for family in families), initial=0))
    scores = _Scores([copy for family in families for copy in family], min_similarity, memo)
    firsts = zip(starts, families, strict=False)  # starts has one more: the end
    scores.prefill(((s, s + i) for s, family in firsts for i in range(1, len(family))), mapper)
    groups: list[FoundGroup] = []
    for start, copies in zip(starts, families, strict=False):
        similar = (i for i in range(1, len(copies)) if scores(start, start + i) >= min_similarity)
        kept = [0, *similar]
        if len(kept) < 2:
            continue
        pair_scores = [scores(start, start + i) for i in kept[1:]]
        group = _make_group([copies[i] for i in kept], pair_scores)
        if group is not None:
            groups.append(group)
    return groups


def _member_order(copy: _Copy) -> tuple[str, int, int, str]:
    """``Member``'s order as a key: comparing the dataclasses costs a tuple per comparison."""
    member = copy.member
    return member.path, member.start_line, member.end_line, member.qualname


def _make_group(copies: Sequence[_Copy], pair_scores: Sequence[float]) -> FoundGroup | None:
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
        copies.append(_Copy(member, analysis, (start, end), shape, exact))
    tokens = [copy.tokens for copy in copies[:EXACT_SPLIT_LIMIT]]
    scores = [similarity(a, b) for a, b in itertools.combinations(tokens, 2)]
    return _make_group(copies, scores)


def _group_id(copies: Sequence[_Copy]) -> str:
    hasher = hashlib.blake2b(digest_size=8)
    for key in sorted((c.member.path, c.member.qualname, c.shape_digest) for c in copies):
        hasher.update(repr(key).encode())
    return hasher.hexdigest()


def _maximal(found: list[FoundGroup]) -> list[FoundGroup]:
    """Drop groups nested in another group, and duplicates of the same member set."""
    groups = [item.group for item in found]
    spans = member_spans(groups)
    kept: list[FoundGroup] = []
    seen: set[tuple[Member, ...]] = set()
    for index, group in enumerate(groups):
        if group.members in seen or _nested(index, group, spans, groups):
            continue
        seen.add(group.members)
        kept.append(found[index])
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
    return sorted(
        found,
        key=lambda f: (-f.group.lines * (len(f.group.members) - 1), f.group.members, f.group.id),
    )
