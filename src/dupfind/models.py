"""The data model shared by every stage: frozen, slotted dataclasses, no dicts between stages.

Conventions decided once: lines are 1-based and inclusive (as in SARIF and editors); paths are
kept as given by discovery (absolute or relative to the working directory) and made relative only
by the report view. Token sequences are ``array('I')`` of small integer codes (see normalise.py).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter
from typing import NamedTuple

from dupfind.fingerprint import DIGEST_SIZE


class UnitKind(StrEnum):
    """What a code unit is."""

    FUNCTION = "function"
    CLASS = "class"
    BLOCK = "block"
    COMMENTED = "commented-out"  # code inside a comment block, matched only against live code


class Verdict(StrEnum):
    """What to do with a clone group."""

    CONSOLIDATE = "consolidate"
    EXTRACT = "extract"
    LEAVE_SEPARATE = "leave-separate"


class LeftoverKind(StrEnum):
    """Leftovers of repeated attempts."""

    VERSIONED_FILE = "versioned-file"
    NEAR_IDENTICAL_SIBLINGS = "near-identical-siblings"
    COMMENTED_OUT = "commented-out-duplicate"


class CloneKind(StrEnum):
    """How a group's members differ: Type-1, Type-2 or Type-3 clones."""

    EXACT = "exact"
    RENAMED = "renamed"
    NEAR_MISS = "near-miss"

    @classmethod
    def of(cls, exact_digests: Collection[bytes], shape_digests: Collection[bytes]) -> CloneKind:
        """The kind of a set of copies, from their distinct exact and shape digests."""
        if len(exact_digests) == 1:
            return cls.EXACT
        return cls.RENAMED if len(shape_digests) == 1 else cls.NEAR_MISS


class _Fields:
    """Pickled as a call of its constructor with its fields: loading (cache, workers) is
    several times faster than with the ``__setstate__`` dataclasses adds to slotted classes,
    which looks up ``fields()`` again for every object. (``Recommendation`` also packs its
    differences: ``Difference``.)"""

    __slots__ = ()

    def __reduce__(self) -> tuple[Callable[..., object], tuple[object, ...]]:
        kind = type(self)
        fields = _FIELDS.get(kind)
        if fields is None:
            names = tuple(self.__dataclass_fields__)  # type: ignore[attr-defined]
            fields = _FIELDS[kind] = attrgetter(*names)  # a tuple: every model has 2+ fields
        return kind, fields(self)


# Each class's fields as one C call (pickling a scan's result calls this ~200,000 times).
_FIELDS: dict[type, attrgetter[tuple[object, ...]]] = {}


@dataclass(frozen=True, slots=True)
class SkippedFile(_Fields):
    """A file that was not analysed, or only partly (``partial``), with the reason."""

    path: str
    reason: str
    line: int | None = None
    partial: bool = False


@dataclass(frozen=True, slots=True)
class StatementList(_Fields):
    """Consecutive sibling statements (a module, class or function body, or a nested block).

    Stored column-wise (one array per field): a file has thousands of statements, and arrays
    are cheap to build, to keep and to send between processes. Statement ``i`` is the token
    slice ``[tok_starts[i], tok_ends[i])`` spanning lines ``start_lines[i]..end_lines[i]``;
    ``boilerplate[i]`` is 1 for statements that never join a run: boilerplate (imports,
    ``__all__``, stubs) and definitions (units of their own). ``shape_hashes[i]`` is a 64-bit
    hash of its Type-2 tokens (a run's group id is made from them) and ``run_hashes[i]``, what
    runs are matched by, the same, or the hash of its Type-1 tokens for data: the statements
    of class bodies and top-level constants, with records ignored (extract.py).
    """

    qualname: str
    tok_starts: array[int]
    tok_ends: array[int]
    start_lines: array[int]
    end_lines: array[int]
    boilerplate: bytes
    shape_hashes: array[int]
    run_hashes: array[int]

    def __len__(self) -> int:
        return len(self.tok_starts)


@dataclass(frozen=True, slots=True)
class StatementTable(_Fields):
    """Every statement list of a file in one set of columns: list ``i`` is rows
    ``bounds[i]:bounds[i + 1]``. One object instead of one per list (a large corpus has
    hundreds of thousands) keeps sending results between processes cheap."""

    qualnames: tuple[str, ...]
    bounds: array[int]
    tok_starts: array[int]
    tok_ends: array[int]
    start_lines: array[int]
    end_lines: array[int]
    boilerplate: bytes
    shape_hashes: array[int]
    run_hashes: array[int]

    @classmethod
    def from_lists(cls, lists: Sequence[StatementList]) -> StatementTable:
        table = cls((), array("I", [0]), array("I"), array("I"), array("I"), array("I"), b"",
                    array("Q"), array("Q"))  # fmt: skip
        boilerplate = bytearray()
        for item in lists:
            table.tok_starts.extend(item.tok_starts)
            table.tok_ends.extend(item.tok_ends)
            table.start_lines.extend(item.start_lines)
            table.end_lines.extend(item.end_lines)
            table.shape_hashes.extend(item.shape_hashes)
            table.run_hashes.extend(item.run_hashes)
            boilerplate.extend(item.boilerplate)
            table.bounds.append(len(table.tok_starts))
        qualnames = tuple(item.qualname for item in lists)
        return cls(qualnames, table.bounds, table.tok_starts, table.tok_ends, table.start_lines,
                   table.end_lines, bytes(boilerplate), table.shape_hashes,
                   table.run_hashes)  # fmt: skip

    def __len__(self) -> int:
        return len(self.qualnames)

    def __getitem__(self, index: int) -> StatementList:
        start, end = self.bounds[index], self.bounds[index + 1]
        return StatementList(
            self.qualnames[index], self.tok_starts[start:end], self.tok_ends[start:end],
            self.start_lines[start:end], self.end_lines[start:end], self.boilerplate[start:end],
            self.shape_hashes[start:end], self.run_hashes[start:end],
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class WindowTable(_Fields):
    """A file's shortest runs of statements meeting the size floor (candidates.run_windows),
    column-wise: window ``i`` is statements ``firsts[i]..lasts[i]`` of statement list
    ``lists[i]``, keyed by the digest of their run hashes (``digest``).
    Columns, not a tuple per window: the stdlib has ~120,000 windows, and every rescan loads
    them (cache.py) and counts their digests (as one numpy array: most occur once)."""

    digests: bytes
    lists: array[int]
    firsts: array[int]
    lasts: array[int]

    def __len__(self) -> int:
        return len(self.lists)

    def digest(self, index: int) -> bytes:
        return self.digests[DIGEST_SIZE * index : DIGEST_SIZE * (index + 1)]


class CodeUnit(NamedTuple):
    """A function or class: a slice ``[tok_start, tok_end)`` of its file's token arrays.
    ``nested``: how many of a class's tokens are in the definitions of its own body (methods,
    nested classes): the rest is its header and data. A class with less than half its tokens
    nested is a record: ``record_digest`` is then the digest of its exact tokens without its
    name (extract.py; commented-out copies keep both).

    A named tuple, like ``Difference``: a rescan of the standard library loads ~67,000 of them
    from the cache, and a frozen dataclass, built one attribute at a time, took twice as long
    to unpickle (0.2 s against 0.1 s)."""

    kind: UnitKind
    qualname: str
    start_line: int
    end_line: int
    tok_start: int
    tok_end: int
    exact_digest: bytes
    shape_digest: bytes
    nested: int = 0
    record_digest: bytes = b""  # a record's digest without its name (extract.py); else empty

    @property
    def tokens(self) -> int:
        return self.tok_end - self.tok_start


@dataclass(frozen=True, slots=True)
class FileAnalysis(_Fields):
    """Everything the per-file (map) stages produce for one file.

    ``exact`` holds Type-1 token codes (identifier and literal text hashed), ``shape`` the
    Type-2 codes (identifiers and literals abstracted), ``named`` the shape codes with the
    identifiers' hashed text (what similarity compares after undoing a renaming), and
    ``offsets`` each token's start and end byte (2 entries a token, for showing differences);
    the first three are parallel arrays.
    """

    path: str
    lines: int
    exact: array[int]
    shape: array[int]
    named: array[int]
    offsets: array[int]
    units: tuple[CodeUnit, ...]
    statement_lists: StatementTable
    shingles: array[int]
    windows: WindowTable
    suppressed: tuple[tuple[int, int], ...] = ()  # line ranges under dupfind: ignore markers
    problem: SkippedFile | None = None
    hotspots: tuple[int, ...] = ()  # lines holding a dupfind: hotspot marker (suppress.py)


@dataclass(frozen=True, slots=True, order=True)
class Member(_Fields):
    """One copy in a clone group."""

    path: str
    start_line: int
    end_line: int
    qualname: str
    unit: UnitKind = field(compare=False)

    @property
    def line_count(self) -> int:
        return self.end_line - self.start_line + 1

    def contains(self, other: Member) -> bool:
        return (
            self.path == other.path
            and self.start_line <= other.start_line
            and other.end_line <= self.end_line
        )


@dataclass(frozen=True, slots=True)
class CloneGroup(_Fields):
    """N copies of the same code: one finding, whatever N is."""

    id: str
    kind: CloneKind
    similarity_min: float
    similarity_mean: float
    members: tuple[Member, ...]

    @property
    def lines(self) -> int:
        """Lines of the largest copy: what one copy of the duplicated code spans."""
        return max(member.line_count for member in self.members)


class Difference(NamedTuple):
    """One place where a group's members differ, aligned on the canonical member.

    ``kind`` is ``identifier`` or ``literal`` (one token, with each member's text in
    ``values``), or ``inserted`` / ``deleted`` / ``changed`` (statements; ``values`` holds each
    member's code there, "" where absent). ``line`` is the line in the canonical member.

    A named tuple, not a dataclass like the rest of the model: a scan of the standard library
    holds ~94,000 of them, and each scan stores them twice (its result, and the memo of
    compared groups). Pickled one object at a time they cost 0.9 s of a rescan after one file
    changed; their holders store them as plain tuples instead (``packed_differences``), which
    pickle and are rebuilt in C, about ten times faster.
    """

    kind: str
    line: int
    values: tuple[str, ...]


DifferenceRow = tuple[str, int, tuple[str, ...]]
Compared = tuple[tuple[Difference, ...], str]  # a group's aligned differences, its signature


def packed_differences(differences: Iterable[Difference]) -> tuple[DifferenceRow, ...]:
    """Differences as plain tuples, for pickling (``Difference``)."""
    return tuple(map(tuple, differences))  # type: ignore[arg-type]


def unpacked_differences(rows: Iterable[DifferenceRow]) -> tuple[Difference, ...]:
    """The differences ``packed_differences`` made rows of."""
    return tuple(map(Difference._make, rows))


@dataclass(frozen=True, slots=True)
class Recommendation(_Fields):
    """The verdict on one group, why, which copy to keep, and what a refactoring gives."""

    verdict: Verdict
    rule: str
    reasons: tuple[str, ...]
    confidence: float
    canonical: int
    canonical_reason: str
    domains: tuple[str, ...]
    differences: tuple[Difference, ...]
    signature: str
    lines_saved: int

    def __reduce__(self) -> tuple[Callable[..., Recommendation], tuple[object, ...]]:
        fields = _RECOMMENDATION_FIELDS(self)
        return _recommendation, (*fields, packed_differences(self.differences))


_RECOMMENDATION_FIELDS = attrgetter(
    *(name for name in Recommendation.__dataclass_fields__ if name != "differences")
)


# A remembered recommendation (classify.py): without its differences, and the memo key of
# those (memo.py), which are remembered once, with the other compared groups.
Classified = tuple[Recommendation, bytes]


def _recommendation(
    verdict: Verdict,
    rule: str,
    reasons: tuple[str, ...],
    confidence: float,
    canonical: int,
    canonical_reason: str,
    domains: tuple[str, ...],
    signature: str,
    lines_saved: int,
    rows: tuple[DifferenceRow, ...],
) -> Recommendation:
    """A pickled ``Recommendation`` rebuilt (``Recommendation.__reduce__``)."""
    return Recommendation(
        verdict=verdict,
        rule=rule,
        reasons=reasons,
        confidence=confidence,
        canonical=canonical,
        canonical_reason=canonical_reason,
        domains=domains,
        differences=unpacked_differences(rows),
        signature=signature,
        lines_saved=lines_saved,
    )


@dataclass(frozen=True, slots=True)
class Location(_Fields):
    """A span of lines in a file."""

    path: str
    start_line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class Leftover(_Fields):
    """A leftover of a repeated attempt: a versioned file, a near-identical sibling, or
    commented-out code that duplicates live code."""

    kind: LeftoverKind
    locations: tuple[Location, ...]
    similarity: float
    lines: int
    reason: str


@dataclass(frozen=True, slots=True)
class ScanStats(_Fields):
    """Totals over the whole scan."""

    files_scanned: int
    lines_scanned: int
    duplicated_lines: int

    @property
    def duplicated_percent(self) -> float:
        if not self.lines_scanned:
            return 0.0
        return 100.0 * self.duplicated_lines / self.lines_scanned


@dataclass(frozen=True, slots=True)
class ScanResult(_Fields):
    """What ``dupfind.scan`` returns: groups sorted by size, skipped files, totals."""

    groups: tuple[CloneGroup, ...]
    skipped: tuple[SkippedFile, ...]
    stats: ScanStats
    recommendations: tuple[Recommendation, ...] = ()  # parallel to groups
    leftovers: tuple[Leftover, ...] = ()
    notes: tuple[str, ...] = ()
    files: tuple[tuple[str, int], ...] = ()  # every analysed file and its line count
    suppressed: int = 0  # groups not reported because of inline suppressions
    timings: tuple[tuple[str, float], ...] = field(default=(), compare=False)


def union_length(intervals: Sequence[tuple[int, int]]) -> int:
    """How many lines a set of inclusive line ranges covers (each line once)."""
    total, reached = 0, 0
    for start, end in sorted(intervals):
        if end > reached:
            total += end - max(start, reached + 1) + 1
            reached = end
    return total


def covered_lines(groups: Iterable[CloneGroup]) -> dict[str, int]:
    """Each path's lines covered by a member of ``groups`` (each line counted once): the
    scan's duplicated lines and the report's per-directory figures."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for group in groups:
        for member in group.members:
            spans.setdefault(member.path, []).append((member.start_line, member.end_line))
    return {path: union_length(held) for path, held in spans.items()}
