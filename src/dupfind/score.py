"""Scoring: two token sequences → similarity in [0, 1].

similarity = 1 - (edit distance + inconsistently renamed identifiers) / length of the longer,
where the edit distance is rapidfuzz's Levenshtein distance over the *shape* sequences
(identifiers and literals abstracted), so renaming and literal edits cost nothing. Blind
abstraction alone would make any two functions of the same shape look alike, so identifiers
that the optimal alignment pairs up are checked for consistency on the *exact* sequences: a pair
(a → b) counts as consistent only when it holds a strict majority of a's and of b's pairings (a
real copy renames consistently; unrelated code does not), and every inconsistent pairing is
charged as one more substitution. Hence 1.0 exactly for Type-1/Type-2 copies with a consistent
renaming, and never above the plain shape similarity, which is the cheap pre-filter.

Symmetric by construction: the pair is put in a canonical order before aligning.
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from dupfind.normalise import identifier_code, shape_text


@dataclass(frozen=True, slots=True)
class Tokens:
    """A unit's token sequences: exact codes, and shape codes as a string (one char a token)."""

    exact: array[int]
    shape: str

    @classmethod
    def of(cls, exact: array[int], shape: array[int], start: int, end: int) -> Tokens:
        """The tokens ``[start, end)`` of a file's arrays."""
        return cls(exact[start:end], shape_text(shape[start:end]))


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
    distance, inconsistent = _alignment_cost(a, b)
    return max(0.0, 1.0 - (distance + inconsistent) / longest)


def _key(tokens: Tokens) -> tuple[int, str, bytes]:
    return len(tokens.shape), tokens.shape, tokens.exact.tobytes()


def _alignment_cost(a: Tokens, b: Tokens) -> tuple[int, int]:
    ident = chr(identifier_code())
    pairs: Counter[tuple[int, int]] = Counter()
    distance = 0
    for opcode in Levenshtein.opcodes(a.shape, b.shape):
        a_start, a_end = opcode.src_start, opcode.src_end
        b_start, b_end = opcode.dest_start, opcode.dest_end
        if opcode.tag != "equal":
            distance += max(a_end - a_start, b_end - b_start)
            continue
        pairs.update(
            (x, y)
            for x, y, kind in zip(
                a.exact[a_start:a_end], b.exact[b_start:b_end], a.shape[a_start:a_end], strict=True
            )
            if kind == ident
        )
    return distance, _inconsistent(pairs)


def _inconsistent(pairs: Counter[tuple[int, int]]) -> int:
    if not pairs:
        return 0
    from_a: Counter[int] = Counter()
    to_b: Counter[int] = Counter()
    for (x, y), count in pairs.items():
        from_a[x] += count
        to_b[y] += count
    return sum(
        count
        for (x, y), count in pairs.items()
        if not (2 * count > from_a[x] and 2 * count > to_b[y])
    )
