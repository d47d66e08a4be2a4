"""Corpus state: the near-miss index's two corpus-wide inputs, carried from one scan of a
scope to the next and updated by what changed rather than recomputed.

1. **Shingle frequencies** (every shingle's count over all analysed files). The previous
   scan's counts, minus the shingles of the files gone or changed (their old analyses are read
   back from the cache by key), plus those of the files new or changed, are exactly a fresh
   count. When an old analysis is no longer cached, or most files changed, they are counted
   afresh instead (the same numbers, only slower).
2. **Each unit's selected shingles** (candidates.select_shingles). A selection reads only its
   own shingles' counts, and only through whether each lies in ``[2, COMMON]`` and their order
   there. So a unit of an unchanged file keeps its previous selection unless its file holds a
   *sensitive* shingle: one whose count changed with the old or new count in that range (one C
   ``isdisjoint`` per file). Every other unit is selected afresh.

Both are stored with the scope's memos (cache.py), so results are identical with or without
them (tests compare). Why: counting and selecting were 4 s of a 10 s rescan of the standard
library after one file changed; this makes them a few tenths of a second.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dupfind.candidates import COMMON, Selection, UnitRef, select_shingles
from dupfind.models import FileAnalysis

Lookup = Callable[[Sequence[bytes]], Mapping[bytes, FileAnalysis]]
RECOUNT_SHARE = 0.25  # past this share of files changed, counting afresh is cheaper


@dataclass(frozen=True, slots=True)
class Corpus:
    """One scan's state: each analysed file's content key by path, the shingle counts, and
    each file's eligible units' selections in order (by file key)."""

    keys: Mapping[str, bytes]
    frequency: Counter[int]
    selections: Mapping[bytes, tuple[array[int], array[int]]]  # (lengths, values)

    def __reduce__(self) -> tuple[Callable[..., Corpus], tuple[object, ...]]:
        counts = self.frequency
        packed = (array("I", counts.keys()), array("I", counts.values()))
        return _unpack, (dict(self.keys), *packed, dict(self.selections))


def _unpack(
    keys: dict[str, bytes],
    shingles: array[int],
    counts: array[int],
    selections: dict[bytes, tuple[array[int], array[int]]],
) -> Corpus:
    return Corpus(keys, Counter(dict(zip(shingles, counts, strict=True))), selections)


def count(analyses: Iterable[FileAnalysis]) -> Counter[int]:
    """Every shingle's count over ``analyses``, afresh."""
    frequency: Counter[int] = Counter()
    for analysis in analyses:
        frequency.update(analysis.shingles)
    return frequency


@dataclass
class Update:
    """The frequencies of this scan's files, and the shingles whose change can alter a
    selection (``sensitive``), from the previous scan's state."""

    frequency: Counter[int]
    sensitive: set[int] = field(default_factory=set)


def update(
    previous: Corpus, analyses: Sequence[FileAnalysis], keys: Mapping[str, bytes], lookup: Lookup
) -> Update | None:
    """``previous`` brought up to ``analyses`` (with their content ``keys``); None when a fresh
    count is needed (an old analysis is gone from the cache, or most files changed)."""
    new = [a for a in analyses if previous.keys.get(a.path) != keys.get(a.path)]
    current = {a.path for a in analyses}
    gone = sorted(
        {key for path, key in previous.keys.items() if path not in current or keys.get(path) != key}
    )
    if len(new) + len(gone) > RECOUNT_SHARE * max(1, len(analyses)):
        return None
    old = lookup(gone)
    if len(old) != len(gone):
        return None
    frequency = previous.frequency.copy()
    before: dict[int, int] = {}
    for analysis in (*old.values(), *new):
        for shingle in set(analysis.shingles) - before.keys():
            before[shingle] = frequency[shingle]
    for analysis in old.values():
        frequency.subtract(Counter(analysis.shingles))
    for analysis in new:
        frequency.update(analysis.shingles)
    sensitive = set()
    for shingle, was in before.items():
        now = frequency[shingle]
        if now <= 0:
            del frequency[shingle]
        if now != was and (2 <= was <= COMMON or 2 <= now <= COMMON):
            sensitive.add(shingle)
    return Update(frequency, sensitive)


class Selector:
    """Chooses every unit's selected shingles (candidates.select_shingles), reusing the
    previous scan's where they cannot have changed, and keeps them for the next scan."""

    def __init__(
        self,
        previous: Corpus | None = None,
        sensitive: set[int] | None = None,
        keys: Mapping[str, bytes] | None = None,
    ) -> None:
        self.previous = previous
        self.sensitive = sensitive if sensitive is not None else set()
        self.keys = keys or {}
        self.files: Sequence[FileAnalysis] = ()
        self.units: Sequence[UnitRef] = ()
        self.chosen: list[Selection] = []

    def __call__(
        self, files: Sequence[FileAnalysis], units: Sequence[UnitRef], frequency: Counter[int]
    ) -> list[Selection]:
        self.files, self.units = files, units
        self.chosen = select_shingles(files, units, frequency, self._known(files, units))
        return self.chosen

    def _known(
        self, files: Sequence[FileAnalysis], units: Sequence[UnitRef]
    ) -> list[Selection | None]:
        known: list[Selection | None] = [None] * len(units)
        if self.previous is None:
            return known
        for file_index, indexes in _by_file(units).items():
            analysis = files[file_index]
            stored = self.previous.selections.get(self.keys.get(analysis.path, b""))
            if stored is None or len(stored[0]) != len(indexes):
                continue
            if self.sensitive and not self.sensitive.isdisjoint(analysis.shingles):
                continue
            for index, selection in zip(indexes, _split(*stored), strict=True):
                known[index] = selection
        return known

    def corpus(self, frequency: Counter[int]) -> Corpus:
        """This scan's state (with its ``frequency``), for the next scan of the scope."""
        selections: dict[bytes, tuple[array[int], array[int]]] = {}
        for file_index, indexes in _by_file(self.units).items():
            key = self.keys.get(self.files[file_index].path)
            if key is not None:
                chosen = [self.chosen[index] for index in indexes]
                lengths = array("I", map(len, chosen))
                values = array("I", [value for selection in chosen for value in selection])
                selections[key] = (lengths, values)
        keys = {a.path: self.keys[a.path] for a in self.files if a.path in self.keys}
        return Corpus(keys, frequency, selections)


def _by_file(units: Sequence[UnitRef]) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = {}
    for index, ref in enumerate(units):
        grouped.setdefault(ref.file, []).append(index)
    return grouped


def _split(lengths: array[int], values: array[int]) -> Iterable[Selection]:
    start = 0
    for length in lengths:
        yield values[start : start + length]
        start += length
