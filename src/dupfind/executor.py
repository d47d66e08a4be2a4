"""Executors: where a stage's per-item work runs. Only the transport differs between them.

A stage that may run elsewhere maps a pure module-level function over self-contained, picklable
items: ``pipeline.analyse_batch`` over ``FileBatch`` (up to 32 files, each path with its bytes,
read here: workers need no shared filesystem) and ``score.score_chunk`` over ``ScoreChunk`` (up
to ``group.SCORE_CHUNK_PAIRS`` candidate pairs with exactly the token sequences they name). Every
executor runs those same functions: ``serial_map`` and ``streaming_map`` in this process,
``ProcessPoolMapper`` on local worker processes (the per-file stage, ``--jobs``); a distributed
executor plugs in the same way. Chunks, not single items, keep the per-task overhead (a pickle
and a round trip) small against the work.

Ordering and memory: ``ordered_window`` submits at most ``window`` items at a time and takes the
results in submission order, so the output is identical to a serial run and this process holds
a bounded number of items (and their file bytes) at once, however large the tree.

Stages that read large shared state (near-miss selection reads the corpus-wide shingle counts,
classification the git history and every analysis) stay in this process: they take a ``Mapper``
but are only given ``serial_map``. Forked workers for them were measured (2026-11-27) to save
10-25% on 2 cores, but their copy-on-write pages doubled the process tree's resident memory
(0.5 to 1.5 GB on the stdlib), against the 1.5 GB target, and were reverted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Protocol, TypeVar

X = TypeVar("X")
Y = TypeVar("Y")
Y_co = TypeVar("Y_co", covariant=True)

WINDOW_PER_WORKER = 4  # items in flight per worker: enough to keep every worker busy


class Mapper(Protocol):
    """``function`` over ``items``, results in input order, however it is executed."""

    def __call__(self, function: Callable[[X], Y], items: Iterable[X]) -> Iterable[Y]: ...


def serial_map(function: Callable[[X], Y], items: Iterable[X]) -> list[Y]:
    """Run in this process, all at once (the client-side stages read state they set around
    the call)."""
    return [function(item) for item in items]


def streaming_map(function: Callable[[X], Y], items: Iterable[X]) -> Iterator[Y]:
    """Run in this process as the results are consumed (the per-file stage, so its results
    stream into the reduce and the progress bar)."""
    return map(function, items)


class Pending(Protocol[Y_co]):
    """A submitted item: a ``concurrent.futures`` future, or a distributed one."""

    def result(self) -> Y_co: ...


def ordered_window(
    submit: Callable[[X], Pending[Y]], items: Iterable[X], window: int
) -> Iterator[Y]:
    """Submit ``items`` with at most ``window`` outstanding; yield results in input order.

    The oldest submission is awaited first while the later ones run, so workers stay busy,
    and a finished result waits on its worker (not here) until its turn comes."""
    pending: deque[Pending[Y]] = deque()
    for item in items:
        if len(pending) >= window:
            yield pending.popleft().result()
        pending.append(submit(item))
    while pending:
        yield pending.popleft().result()


class _Windowed:
    """A Mapper that submits each item through ``submit``, ``WINDOW_PER_WORKER`` per worker
    in flight."""

    workers: int

    def __call__(self, function: Callable[[X], Y], items: Iterable[X]) -> Iterator[Y]:
        return ordered_window(
            lambda item: self.submit(function, item), items, WINDOW_PER_WORKER * self.workers
        )

    def submit(self, function: Callable[[X], Y], item: X) -> Pending[Y]:
        raise NotImplementedError


class ProcessPoolMapper(_Windowed):
    """Worker processes on this machine (use as a context manager)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = ProcessPoolExecutor(max_workers=workers)

    def submit(self, function: Callable[[X], Y], item: X) -> Pending[Y]:
        return self._pool.submit(function, item)

    def __enter__(self) -> ProcessPoolMapper:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(cancel_futures=True)
