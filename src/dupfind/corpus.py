"""Corpus state: what the near-miss index and classification compute over the whole corpus,
carried from one scan of a scope to the next and updated by what changed, not recomputed.

1. **Shingle frequencies** (every shingle's count over all analysed files). The previous
   scan's counts, minus the shingles of the files gone or changed (their old analyses are read
   back from the cache by key), plus those of the files new or changed, are exactly a fresh
   count. When an old analysis is no longer cached, or more than ``RECOUNT_SHARE`` of the files
   changed, they are counted afresh instead (the same numbers, only slower).
2. **Each unit's selected shingles** (candidates.select_shingles). A selection reads only its
   own shingles' counts, and only through whether each lies in ``[2, COMMON]`` and their order
   there. So a unit of an unchanged file keeps its previous selection unless one of the file's
   units gained or lost a live exact copy (a unit with copies selects above their count:
   candidates.py; the counts are stored too), or its window holds a *sensitive* shingle (one
   whose count changed with the old or new count in that range; found in every file by one
   numpy pass) that is in its selection or would now enter it (``candidates.still_selected``).
   Every other unit is selected afresh.

3. **References**: every identifier's occurrences, in all files and in test files (which copy
   of a group to keep: classify.py), updated like the frequencies.

All are stored with the scope's memos (cache.py), so results are identical with or without
them (tests compare). Why: counting and selecting were 4 s of a 10 s rescan of the standard
library after one file changed, and counting references another 0.4 s; this makes them a few
tenths of a second.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress
from typing import TYPE_CHECKING

from dupfind.candidates import (
    COMMON,
    Selection,
    UnitRef,
    exact_copies,
    select_shingles,
    still_selected,
)
from dupfind.domains import is_test_path
from dupfind.fingerprint import SHINGLE
from dupfind.models import CodeUnit, FileAnalysis
from dupfind.normalise import identifier_code

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

Lookup = Callable[[Sequence[bytes]], Mapping[bytes, FileAnalysis]]
RECOUNT_SHARE = 0.25  # past this share of files changed, counting afresh is cheaper


@dataclass(frozen=True, slots=True)
class References:
    """Occurrences of every identifier (by its exact code): in all files, and in test files."""

    everywhere: Counter[int]
    in_tests: Counter[int]


@dataclass(frozen=True, slots=True, eq=False)
class Frequency:
    """Every shingle's count: sorted ``shingles`` with their ``counts`` (two arrays), and the
    counts that differ from them (``changes``; 0 for a shingle gone). A scan without a
    previous state counts into ``changes`` alone (``of``); a rescan loads the stored arrays
    as they are and looks up only the shingles it needs: building the stdlib's 651,000
    counts into a dictionary took 0.13 s of a 3.5 s rescan. Compared by content."""

    shingles: array[int] = field(default_factory=lambda: array("I"))
    counts: array[int] = field(default_factory=lambda: array("I"))
    changes: Mapping[int, int] = field(default_factory=dict)

    @classmethod
    def of(cls, counted: Mapping[int, int]) -> Frequency:
        return cls(changes=counted)

    def __getitem__(self, shingle: int, /) -> int:
        count = self.changes.get(shingle)
        if count is not None:
            return count
        index = bisect_left(self.shingles, shingle)
        found = index < len(self.shingles) and self.shingles[index] == shingle
        return self.counts[index] if found else 0

    def changed(self, changes: Mapping[int, int]) -> Frequency:
        """These counts with ``changes`` (new counts by shingle) applied."""
        return Frequency(self.shingles, self.counts, {**self.changes, **changes})

    def table(self) -> Mapping[int, int]:
        """Every counted shingle's count, as a dictionary (built only when many units are
        selected afresh: ``candidates.select_shingles``)."""
        if not self.shingles and 0 not in self.changes.values():
            return self.changes  # counted afresh
        table = dict(zip(self.shingles, self.counts, strict=True))
        table.update(self.changes)
        return {shingle: count for shingle, count in table.items() if count}

    def packed(self) -> tuple[array[int], array[int]]:
        """The arrays with the changes applied (the stored form): the shingles sorted, none
        with a count of 0. Merged in numpy: a rescan changes a few thousand of 651,000."""
        if not self.changes:
            return self.shingles, self.counts
        import numpy as np  # only scans that store need it (as in pairs.py)

        changed = np.fromiter(self.changes, np.uint32, len(self.changes))
        values = np.fromiter(self.changes.values(), np.uint32, len(self.changes))
        base = np.frombuffer(self.shingles, np.uint32)
        kept = ~np.isin(base, changed)
        order = np.argsort(changed)
        changed, values = changed[order], values[order]
        changed, values = changed[values > 0], values[values > 0]
        at = np.searchsorted(base[kept], changed)
        shingles = np.insert(base[kept], at, changed)
        counts = np.insert(np.frombuffer(self.counts, np.uint32)[kept], at, values)
        return array("I", shingles.tobytes()), array("I", counts.tobytes())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Frequency) and self.packed() == other.packed()

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Corpus:
    """One scan's state: each analysed file's content key by path, the shingle counts, the
    references, and each file's eligible units' selections in order (by file key)."""

    keys: Mapping[str, bytes]
    frequency: Frequency
    references: References
    selections: Mapping[bytes, tuple[array[int], array[int], array[int]]]  # lengths, values, copies

    def __reduce__(self) -> tuple[Callable[..., Corpus], tuple[object, ...]]:
        counters = (self.references.everywhere, self.references.in_tests)
        packed = [(array("I", c.keys()), array("I", c.values())) for c in counters]
        frequency = self.frequency.packed()
        return _unpack, (dict(self.keys), frequency, packed, dict(self.selections))


def _unpack(
    keys: dict[str, bytes],
    frequency: tuple[array[int], array[int]],
    packed: list[tuple[array[int], array[int]]],
    selections: dict[bytes, tuple[array[int], array[int], array[int]]],
) -> Corpus:
    counters: list[Counter[int]] = []
    for values, counts in packed:
        counter: Counter[int] = Counter()
        dict.update(counter, zip(values, counts, strict=True))  # C, not Counter.update's loop
        counters.append(counter)
    everywhere, in_tests = counters
    return Corpus(keys, Frequency(*frequency), References(everywhere, in_tests), selections)


def count(analyses: Iterable[FileAnalysis], into: Counter[int] | None = None) -> Counter[int]:
    """Every shingle's count over ``analyses``, afresh (added to ``into`` if given: the map
    stage counts each file as it comes)."""
    frequency: Counter[int] = Counter() if into is None else into
    for analysis in analyses:
        frequency.update(analysis.shingles)
    return frequency


def references(analyses: Sequence[FileAnalysis]) -> References:
    """The references of ``analyses``, afresh (each file counted once)."""
    in_tests = _identifiers(a for a in analyses if is_test_path(a.path))
    everywhere = _identifiers(a for a in analyses if not is_test_path(a.path))
    everywhere.update(in_tests)
    return References(everywhere, in_tests)


def _identifiers(analyses: Iterable[FileAnalysis]) -> Counter[int]:
    ident = identifier_code()
    return Counter(
        chain.from_iterable(compress(a.exact, map(ident.__eq__, a.shape)) for a in analyses)
    )


@dataclass(frozen=True, slots=True)
class Update:
    """This scan's frequencies and references from the previous scan's, and the shingles
    whose change can alter a selection (``sensitive``)."""

    frequency: Frequency
    references: References
    sensitive: set[int]


def update(
    previous: Corpus, analyses: Sequence[FileAnalysis], keys: Mapping[str, bytes], lookup: Lookup
) -> Update | None:
    """``previous`` brought up to ``analyses`` (with their content ``keys``); None when a fresh
    count is needed: an analysis has no key, an old analysis is gone from the cache, more than
    ``RECOUNT_SHARE`` of the files changed, or the counts do not add up (a negative count)."""
    if any(a.path not in keys for a in analyses):
        return None  # unreadable when keyed, read by the map: its counts cannot be reconciled
    new = [a for a in analyses if previous.keys.get(a.path) != keys.get(a.path)]
    current = {a.path for a in analyses}
    gone = sorted(
        {key for path, key in previous.keys.items() if path not in current or keys.get(path) != key}
    )
    if len(new) + len(gone) > RECOUNT_SHARE * max(1, len(analyses)):
        return None
    old = list(lookup(gone).values())
    if len(old) != len(gone):
        return None
    counted = _recounted(previous.frequency, old, new)
    if counted is None:
        return None
    frequency, sensitive = counted
    return Update(frequency, _updated(previous.references, old, new), sensitive)


def _recounted(
    previous: Frequency, old: Sequence[FileAnalysis], new: Sequence[FileAnalysis]
) -> tuple[Frequency, set[int]] | None:
    """The counts without ``old`` and with ``new``, and the sensitive shingles among those
    whose count changed; None if a count would fall below zero."""
    delta: Counter[int] = Counter()
    for analysis in new:
        delta.update(analysis.shingles)
    for analysis in old:
        delta.subtract(analysis.shingles)
    changes: dict[int, int] = {}
    sensitive = set()
    for shingle, change in delta.items():
        if change:
            was = previous[shingle]
            now = changes[shingle] = was + change
            if now < 0:
                return None
            if 2 <= was <= COMMON or 2 <= now <= COMMON:
                sensitive.add(shingle)
    return previous.changed(changes), sensitive


def _updated(
    previous: References, old: Sequence[FileAnalysis], new: Sequence[FileAnalysis]
) -> References:
    everywhere, in_tests = previous.everywhere.copy(), previous.in_tests.copy()
    for analyses, sign in ((old, -1), (new, 1)):
        for analysis in analyses:
            changed = (everywhere, in_tests) if is_test_path(analysis.path) else (everywhere,)
            for code, times in _identifiers([analysis]).items():
                for counter in changed:
                    counter[code] += sign * times
                    if counter[code] <= 0:
                        del counter[code]
    return References(everywhere, in_tests)


class Selector:
    """Chooses every unit's selected shingles (candidates.select_shingles), reusing the
    previous scan's where they cannot have changed, and keeps them for the next scan."""

    def __init__(
        self,
        previous: Corpus | None = None,
        sensitive: set[int] | None = None,
        keys: Mapping[str, bytes] | None = None,
        records: bool = False,
    ) -> None:
        self.previous = previous
        self.records = records  # whether records are near-miss candidates (candidates.py)
        self.sensitive = sensitive if sensitive is not None else set()
        self.keys = keys or {}
        self.files: Sequence[FileAnalysis] = ()
        self.by_file: dict[int, list[int]] = {}  # file index -> its units' indexes
        self.chosen: list[Selection] = []
        self.copies: list[int] = []  # each unit's live exact copies (candidates.exact_copies)
        self.reused: dict[bytes, tuple[array[int], array[int], array[int]]] = {}  # by file key

    def __call__(
        self, files: Sequence[FileAnalysis], units: Sequence[UnitRef], frequency: Frequency
    ) -> list[Selection]:
        self.files, self.by_file = files, _by_file(units)
        self.copies = exact_copies(units)
        known = self._known(units, frequency)
        self.chosen = select_shingles(files, units, frequency, known, self.records, self.copies)
        return self.chosen

    def _known(self, units: Sequence[UnitRef], frequency: Frequency) -> list[Selection | None]:
        known: list[Selection | None] = [None] * len(units)
        if self.previous is None:
            return known
        sensitive = _positions(self.files, _as_array(self.sensitive)) if self.sensitive else {}
        for file_index, indexes in self.by_file.items():
            analysis = self.files[file_index]
            key = self.keys.get(analysis.path, b"")
            stored = self.previous.selections.get(key)
            if stored is None or len(stored[0]) != len(indexes):
                continue
            if list(stored[2]) != [self.copies[index] for index in indexes]:
                continue  # an exact copy elsewhere appeared, went, or changed
            selections = list(_split(stored[0], stored[1]))
            held = sensitive.get(file_index, [])
            kept = [
                not held or self._holds(units[index].unit, analysis, held, selection, frequency,
                                        self.copies[index])
                for index, selection in zip(indexes, selections, strict=True)
            ]  # fmt: skip
            if all(kept):
                self.reused[key] = stored
            for index, selection, holds in zip(indexes, selections, kept, strict=True):
                known[index] = selection if holds else None
        return known

    @staticmethod
    def _holds(
        unit: CodeUnit,
        analysis: FileAnalysis,
        held: list[int],
        selection: Selection,
        frequency: Frequency,
        copies: int,
    ) -> bool:
        """Whether a unit keeps its selection, given where the file's sensitive shingles are
        (``held``): those of its window (``fingerprint.window``) are the ones that moved."""
        end = max(unit.tok_start, unit.tok_end - SHINGLE + 1)
        inside = held[bisect_left(held, unit.tok_start) : bisect_left(held, end)]
        changed = {analysis.shingles[position] for position in inside}
        return still_selected(selection, changed, frequency, unit, copies)

    def corpus(self, frequency: Frequency, counted: References) -> Corpus:
        """This scan's state (with its ``frequency`` and references), for the next scan."""
        selections: dict[bytes, tuple[array[int], array[int], array[int]]] = {}
        for file_index, indexes in self.by_file.items():
            key = self.keys.get(self.files[file_index].path)
            if key is None:
                continue
            selections[key] = self.reused.get(key) or _packed(self.chosen, self.copies, indexes)
        keys = {a.path: self.keys[a.path] for a in self.files if a.path in self.keys}
        return Corpus(keys, frequency, counted, selections)


def _as_array(shingles: set[int]) -> NDArray[np.uint32]:
    import numpy as np  # only rescans with sensitive shingles get here

    return np.fromiter(shingles, np.uint32, len(shingles))


def _positions(files: Sequence[FileAnalysis], wanted: NDArray[np.uint32]) -> dict[int, list[int]]:
    """Where the ``wanted`` shingles start in each file's tokens, in order, by file index
    (files with none left out). Found by numpy over every file's shingles at once: a set's
    ``isdisjoint`` per file took 0.13 s a rescan, an ``isin`` per file 0.03 s in calls."""
    import numpy as np

    arrays = [np.frombuffer(analysis.shingles, np.uint32) for analysis in files]
    if not arrays:
        return {}
    lengths = np.fromiter(map(len, arrays), np.int64, len(arrays))
    ends = np.cumsum(lengths)
    found = np.flatnonzero(np.isin(np.concatenate(arrays), wanted))
    owners = np.searchsorted(ends, found, side="right")  # the file each position is in
    offsets = found - (ends - lengths)[owners]
    positions: dict[int, list[int]] = {}
    for owner, offset in zip(owners.tolist(), offsets.tolist(), strict=True):
        positions.setdefault(owner, []).append(offset)
    return positions


def _packed(
    chosen: Sequence[Selection], copies: Sequence[int], indexes: Sequence[int]
) -> tuple[array[int], array[int], array[int]]:
    """Some units' selections as (lengths, values, copies), the stored form."""
    lengths = array("I", [len(chosen[index]) for index in indexes])
    values = array("I", [value for index in indexes for value in chosen[index]])
    return lengths, values, array("I", [copies[index] for index in indexes])


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
