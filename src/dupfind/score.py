"""Scoring: two token sequences → similarity in [0, 1].

similarity = normalised Levenshtein similarity (rapidfuzz) between the two units' token
sequences after *undoing a consistent renaming*: literals are abstracted to their kind, and each
identifier of the second unit is renamed to the identifier of the first that the alignment of
their shapes pairs it with, when that pairing is consistent (a strict majority of both names'
pairings). So a Type-1 or Type-2 copy scores exactly 1.0, an edited copy scores what its edits
cost (one per token inserted, deleted or changed, as on the raw tokens), and two unrelated units
of the same shape do not look alike, since their names do not pair up consistently.

Cost: one alignment of the shape strings (rapidfuzz, C) whose equal blocks yield the name
pairs (counted in C), and one Levenshtein distance; the plain shape similarity, an upper bound,
is checked first and rejects most candidates. Symmetric by construction: the pair is put in a
canonical order before aligning.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import cast

from rapidfuzz.distance import Levenshtein

from dupfind.normalise import HIGH_BIT, named_codes, shape_text


@dataclass(frozen=True, slots=True)
class Tokens:
    """A unit's tokens: exact codes; shape codes as a string (one character a token); and
    ``named``, the shape codes with each identifier's hashed text in its place."""

    exact: array[int]
    shape: str
    named: array[int]  # an array, not a list: 4 bytes a token instead of ~60 while it waits

    @classmethod
    def of(
        cls, exact: array[int], shape: array[int], named: array[int], start: int, end: int
    ) -> Tokens:
        """The tokens ``[start, end)`` of a file's arrays."""
        return cls(exact[start:end], shape_text(shape[start:end]), named[start:end])

    @classmethod
    def whole(cls, exact: array[int], shape: array[int]) -> Tokens:
        """All of two parallel exact/shape sequences."""
        return cls.of(exact, shape, named_codes(exact, shape), 0, len(shape))


def similarity(first: Tokens, second: Tokens, cutoff: float = 0.0) -> float:
    """Similarity of two units, or 0.0 when it is certainly below ``cutoff``."""
    if first.exact == second.exact:
        return 1.0
    longest = max(len(first.shape), len(second.shape))
    if longest == 0 or min(len(first.shape), len(second.shape)) < cutoff * longest:
        return 0.0
    if Levenshtein.normalized_similarity(first.shape, second.shape, score_cutoff=cutoff) == 0:
        return 0.0
    a, b = (first, second) if _key(first) <= _key(second) else (second, first)
    a_named, b_named = a.named.tolist(), b.named.tolist()  # lists for the C loops below
    mapping = _renaming(a.shape, b.shape, a_named, b_named)
    renamed = list(map(mapping.get, b_named, b_named))
    return float(Levenshtein.normalized_similarity(a_named, renamed, score_cutoff=cutoff))


@dataclass(frozen=True, slots=True)
class ScoreChunk:
    """Candidate pairs and exactly the token sequences they name (``pairs`` index ``tokens``):
    self-contained and picklable, so any worker can score it (executor.py)."""

    tokens: tuple[Tokens, ...]
    pairs: tuple[tuple[int, int], ...]
    cutoff: float


def score_chunk(chunk: ScoreChunk) -> list[float]:
    """``similarity`` of each pair of ``chunk``, in order."""
    tokens, cutoff = chunk.tokens, chunk.cutoff
    return [similarity(tokens[first], tokens[second], cutoff) for first, second in chunk.pairs]


def _key(tokens: Tokens) -> tuple[int, str, array[int]]:
    return len(tokens.shape), tokens.shape, tokens.exact


Opcode = tuple[str, int, int, int, int]


def opcode_tuples(first: Sequence[Hashable], second: Sequence[Hashable]) -> list[Opcode]:
    """Levenshtein alignment blocks as plain (tag, a_start, a_end, b_start, b_end) tuples:
    much cheaper to unpack than rapidfuzz's Opcode objects (its stub says Opcode, hence the
    cast)."""
    return cast(list[Opcode], Levenshtein.opcodes(first, second).as_list())


def _renaming(a_shape: str, b_shape: str, first: list[int], second: list[int]) -> dict[int, int]:
    """b's identifiers → a's, for the pairs the shape alignment makes consistently."""
    blocks = opcode_tuples(a_shape, b_shape)
    pairs: Counter[tuple[int, int]] = Counter(
        chain.from_iterable(
            zip(first[a_start:a_end], second[b_start:b_end], strict=True)
            for tag, a_start, a_end, b_start, b_end in blocks
            if tag == "equal"
        )
    )
    from_a: Counter[int] = Counter()
    to_b: Counter[int] = Counter()
    names = [(pair, count) for pair, count in pairs.items() if pair[0] >= HIGH_BIT]
    for (x, y), count in names:
        from_a[x] += count
        to_b[y] += count
    return {
        y: x for (x, y), count in names if 2 * count > from_a[x] and 2 * count > to_b[y] and x != y
    }
