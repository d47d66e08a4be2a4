"""Candidate members ("copies": a unit or a run of statements, with its tokens built only if
it is ever scored) and their pairwise similarity, memoised: decided by the members where they
can be (a class and its own method never; exact copies always), else looked up in the score
memo of earlier scans (memo.py), else scored through an executor in chunks (executor.py).
group.py groups them.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterable, Sequence

from dupfind.candidates import RunMember, UnitRef, ordered
from dupfind.executor import Mapper
from dupfind.fingerprint import digest
from dupfind.memo import LastPass, Memo
from dupfind.models import FileAnalysis, Member, UnitKind
from dupfind.score import ScoreChunk, Tokens, score_chunk


class Copy:
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

    def forget(self) -> None:
        self._tokens = None

    @property
    def tokens(self) -> Tokens:
        if self._tokens is None:
            a = self.analysis
            self._tokens = Tokens.of(a.exact, a.shape, a.named, self.start, self.end)
        return self._tokens


# Each pair of copies' score and memo key (None: decided by its members), and the cutoff it
# was found under (in the value, compared on a hit: a float in the key cost a third more).
Scored = LastPass[tuple[Copy, Copy], tuple[float, bytes | None, float]]


def unit_copy(files: Sequence[FileAnalysis], ref: UnitRef) -> Copy:
    analysis, unit = files[ref.file], ref.unit
    member = Member(analysis.path, unit.start_line, unit.end_line, unit.qualname, unit.kind)
    span = (unit.tok_start, unit.tok_end)
    return Copy(member, analysis, span, unit.shape_digest, unit.exact_digest)


def copies_of(
    files: Sequence[FileAnalysis], units: Sequence[UnitRef], recalled: LastPass[int, Copy] | None
) -> list[Copy]:
    """Each unit's copy: the last scan's of the same unit of the same analysis, if any (by
    the unit object's identity, in ``recalled``: group.Regrouping)."""
    if recalled is None:
        return [unit_copy(files, ref) for ref in units]
    last, now = recalled.previous, recalled.current
    copies = []
    for ref in units:
        copy = last.get(id(ref.unit))  # held by its analysis, held by the copy
        if copy is None or copy.analysis is not files[ref.file]:
            copy = unit_copy(files, ref)
        now[id(ref.unit)] = copy
        copies.append(copy)
    return copies


def run_copy(files: Sequence[FileAnalysis], run: RunMember) -> Copy:
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
    return Copy(
        member,
        analysis,
        (start, end),
        digest(table.shape_hashes, first, last + 1),
        digest(analysis.exact, start, end),
    )


SCORE_CHUNK_PAIRS = 256  # pairs per shipped chunk (executor.py): milliseconds of work


class Scores:
    """Memoised pairwise similarity over a list of copies (and, through ``memo``, over the
    previous scan's pairs: memo.py)."""

    def __init__(
        self, copies: Sequence[Copy], cutoff: float, memo: Memo[float], recorded: bool = False
    ) -> None:
        self.copies = copies
        self.cutoff = cutoff
        self.memo = memo
        self.cutoff_text = struct.pack("<d", cutoff)  # part of every memo key
        self.known: dict[tuple[int, int], float] = {}
        # With ``recorded`` (to be remembered: Regrouping), the memo key of every pair not
        # decided by its members, so that the entries a component or run read can be told.
        self.memo_keys: dict[tuple[int, int], bytes] | None = {} if recorded else None
        self.reading: set[tuple[int, int]] | None = None  # the pairs read, when recorded

    def prefill(
        self, pairs: Iterable[tuple[int, int]], mapper: Mapper, recalled: Scored | None = None
    ) -> None:
        """Score many pairs (each ``first < second``) at once: those decided by their members
        here, the others in chunks of ``SCORE_CHUNK_PAIRS`` through ``mapper`` (executor.py).
        ``recalled``: each pair of copies' score and memo key as the last scan of this process
        found them (by the copies' identity: an unchanged unit's copy is the same object),
        found and kept again."""
        known = self.known
        keys = [key for key in dict.fromkeys(pairs) if key not in known]
        if recalled is not None:
            keys = self._recalled(keys, recalled)
        todo: list[tuple[int, int]] = []
        memo_keys: list[bytes] = []  # parallel to todo
        for key in keys:
            memo_key = self._decide(key)
            if recalled is not None and key in known:
                recalled.keep(self._both(key), (known[key], memo_key, self.cutoff))
            if key in known or memo_key is None:
                continue  # decided by its members, or the memo had it
            todo.append(key)
            memo_keys.append(memo_key)
        slices = [todo[i : i + SCORE_CHUNK_PAIRS] for i in range(0, len(todo), SCORE_CHUNK_PAIRS)]
        chunks = (self._chunk(keys) for keys in slices)
        values = itertools.chain.from_iterable(mapper(score_chunk, chunks))
        for key, memo_key, value in zip(todo, memo_keys, values, strict=True):
            known[key] = value
            self.memo.put(memo_key, value)
            if recalled is not None:
                recalled.keep(self._both(key), (value, memo_key, self.cutoff))

    def _both(self, key: tuple[int, int]) -> tuple[Copy, Copy]:
        return self.copies[key[0]], self.copies[key[1]]

    def _recalled(self, keys: list[tuple[int, int]], recalled: Scored) -> list[tuple[int, int]]:
        """The ``keys`` that ``recalled`` did not know; those it knew are known (their memo
        entries marked used, as looking them up or scoring them would: memo.py) and kept for
        the next scan. (One loop over the dictionaries: it runs once per candidate edge.)"""
        known, copies, cutoff, used = self.known, self.copies, self.cutoff, self.memo.used
        last, now, memo_keys = recalled.previous, recalled.current, self.memo_keys
        unknown = []
        for key in keys:
            both = (copies[key[0]], copies[key[1]])
            found = last.get(both)
            if found is None or found[2] != cutoff:
                unknown.append(key)
                continue
            now[both] = found
            value, memo_key, _ = found
            known[key] = value
            if memo_key is not None:
                used[memo_key] = value
                if memo_keys is not None:
                    memo_keys[key] = memo_key
        return unknown

    def _decide(self, key: tuple[int, int]) -> bytes | None:
        """Know ``key``'s score if its members decide it or the memo has it; the memo key it is
        remembered under, if any (the score is still to be made when ``key`` is not known)."""
        a, b = self.copies[key[0]], self.copies[key[1]]
        if a.member.contains(b.member) or b.member.contains(a.member):
            self.known[key] = 0.0  # a class and its own method are never copies
            return None
        if a.exact_digest == b.exact_digest:
            self.known[key] = 1.0
            return None
        memo_key = self._memo_key(key)
        if (value := self.memo.get(memo_key)) is not None:
            self.known[key] = value
        if self.memo_keys is not None:
            self.memo_keys[key] = memo_key
        return memo_key

    def touched(self, pairs: Iterable[tuple[int, int]]) -> dict[bytes, float]:
        """The memo entries of ``pairs`` (each scored by now): what reading them marked used."""
        memo_keys, known = self.memo_keys or {}, self.known
        return {memo_keys[pair]: known[pair] for pair in pairs if pair in memo_keys}

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
            if memo_key is not None and key not in self.known:
                self.known[key] = score_chunk(self._chunk([key]))[0]
                self.memo.put(memo_key, self.known[key])
            value = self.known[key]
        if self.reading is not None:
            self.reading.add(key)
        return value
