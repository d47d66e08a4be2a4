"""What a scan leaves the next one: in the cache file, per scope (``StoredMemos``: memos, corpus
state, git answers; stored by cache.py), and in the memory of a long-lived process
(``Resident``: ``dupfind scan --watch``, ``dupfind mcp``), which keeps the analyses of its last
scan and its scopes' memos as the file holds them after it stored them, so its next scan reads
none of them again (0.5 s of a one-file rescan of the stdlib: watch.py). The file is still
written after every scan: other processes share it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from dupfind.context import Recalled
from dupfind.corpus import Corpus, Frequency
from dupfind.group import Regrouping
from dupfind.history import Remembered
from dupfind.keys import StatKeys
from dupfind.memo import Memo, put_recent
from dupfind.models import Classified, Compared, FileAnalysis
from dupfind.report.view import KeptViews

V = TypeVar("V")
RESIDENT_SCOPES = 2  # scopes whose memos a Resident keeps (each the size of a scan's memos)


@dataclass(frozen=True, slots=True)
class StoredMemos:
    """What a scan leaves the next scan of its scope: the memos of pair scores, compared
    members and recommendations (memo.py, classify.py), the corpus state (corpus.py) and the
    git answers (history.py)."""

    scores: Memo[float] = field(default_factory=Memo)
    compared: Memo[Compared] = field(default_factory=Memo)
    verdicts: Memo[Classified] = field(default_factory=Memo)
    corpus: Corpus | None = None
    history: Remembered | None = None
    held: int = 0  # entries loaded from deltas (cache.store_memos)
    deltas: int = 0
    base: int | None = None  # the seq of the entries written whole that were loaded

    def reopened(self) -> StoredMemos:
        """These memos (a ``Resident``'s) for one more scan: what they knew, nothing used yet
        (the known entries are shared, never changed: ``Memo`` only adds to ``used``)."""
        memos = (Memo(self.scores.earlier), Memo(self.compared.earlier),
                 Memo(self.verdicts.earlier))  # fmt: skip
        return replace(self, scores=memos[0], compared=memos[1], verdicts=memos[2])


@dataclass
class Resident:
    """What a long-lived process keeps between its scans (see the module's docstring): the
    analyses its last scan used, by key, and per scope the memos as the cache file holds them
    after this process stored them (``AnalysisCache.store_memos``). Memos are only replaced,
    never changed in place, so a scan that fails part-way leaves them as they were (the
    analyses are those of its map then: any is what analysing its file gives)."""

    analyses: dict[bytes, FileAnalysis] = field(default_factory=dict)
    memos: dict[bytes, StoredMemos] = field(default_factory=dict)
    regrouping: Regrouping = field(default_factory=Regrouping)  # what components made (group.py)
    stats: StatKeys = field(default_factory=StatKeys)  # files' keys by their status (keys.py)
    recommendations: Recalled = field(default_factory=Recalled)  # classify.classify_all
    reports: KeptViews = field(default_factory=KeptViews)  # report/view.py, report/json.py
    pending: Callable[[], list[str]] | None = None  # a deferred store (pipeline.flush)
    source: tuple[str, int | None] | None = None  # the file and generation it came from

    def adopt(self, source: tuple[str, int | None]) -> None:
        """Hold only what came from ``source`` (a cache file and its generation:
        ``cache._generation``): a cleared or rebuilt file, or another, no longer holds the rest."""
        if source != self.source:
            self.analyses, self.memos, self.source = {}, {}, source

    def roll(self, scope: bytes, memos: StoredMemos, whole: bool, base: int | None) -> None:
        """Keep ``memos`` of ``scope`` as the cache file holds them once a scan stored them:
        the entries it used (written ``whole``, under the seq ``base``) or all it knew (its
        fresh ones appended as a delta), the corpus state packed as stored."""
        held, deltas = 0, 0
        if not whole:
            parts = (memos.scores, memos.compared, memos.verdicts)
            added = sum(len(memo.fresh()) for memo in parts)
            held, deltas = memos.held + added, memos.deltas + (added > 0)
        corpus = memos.corpus
        if corpus is not None:  # its counts as the file holds them: changes do not pile up
            corpus = replace(corpus, frequency=Frequency(*corpus.frequency.packed()))
        self.hold(scope, StoredMemos(
            _rolled(memos.scores, whole), _rolled(memos.compared, whole),
            _rolled(memos.verdicts, whole), corpus, memos.history,
            held=held, deltas=deltas, base=base,
        ))  # fmt: skip

    def hold(self, scope: bytes, memos: StoredMemos) -> None:
        """Keep ``memos`` for ``scope``, the least recently kept scope dropped past
        ``RESIDENT_SCOPES``."""
        put_recent(self.memos, scope, memos, RESIDENT_SCOPES)


def _rolled(memo: Memo[V], whole: bool) -> Memo[V]:
    """What the file holds of ``memo`` once a scan stored it: the entries it used, written
    ``whole``; else all it knew, its fresh entries appended as a delta."""
    return Memo(dict(memo.used)) if whole else Memo({**memo.earlier, **memo.used})
