"""Executors: where a stage's per-item work runs. Only the transport differs between them.

A stage that may run elsewhere maps a pure module-level function over self-contained, picklable
items: ``pipeline.analyse_batch`` over ``FileBatch`` (up to 32 files, each path with its bytes,
read here: workers need no shared filesystem) and ``score.score_chunk`` over ``ScoreChunk`` (up
to ``copies.SCORE_CHUNK_PAIRS`` candidate pairs with exactly the token sequences they name). Every
executor runs those same functions: ``serial_map`` and ``streaming_map`` in this process,
``ProcessPoolMapper`` on local worker processes (the per-file stage, ``--jobs``), ``DaskMapper``
on a Dask cluster (``--executor dask``: the per-file stage and candidate scoring). Chunks, not
single items, keep the per-task overhead (a pickle and a scheduler round trip) small against
the work.

Ordering and memory: ``ordered_window`` submits at most ``window`` items at a time and takes the
results in submission order, so the output is identical to a serial run and this process holds
a bounded number of items (and their file bytes) at once, however large the tree.

Stages that read large shared state (near-miss selection reads the corpus-wide shingle counts,
classification the git history and every analysis) stay in this process, as plain loops with
no module-level state (so concurrent scans in one process, e.g. the MCP server's, never mix).
Forked workers for them were measured (2026-11-27) to save
10-25% on 2 cores, but their copy-on-write pages doubled the process tree's resident memory
(0.5 to 1.5 GB on the stdlib), against the 1.5 GB target, and were reverted. Scoring on two
spawned local workers (``ProcessPoolMapper``, chunks shipped as for Dask) was measured slower
than scoring here (score and group 7.7-8.9 s against 5.6-6.4 s on the stdlib, 2026-11-27):
building and pickling the chunks costs more than the second core saves, so locally only the
per-file stage uses the pool.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Protocol, TypeVar, cast

from dupfind import __version__
from dupfind.errors import ClusterError, optional_extra
from dupfind.keys import code_identity

X = TypeVar("X")
Y = TypeVar("Y")
Y_co = TypeVar("Y_co", covariant=True)

CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler, and to wait for a first worker
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


class Client(Protocol):
    """The part of ``distributed.Client`` used here, typed (distributed's own hints are
    partial): the only place dupfind touches Dask's API."""

    def submit(self, function: Callable[[X], Y], item: X, /, *, pure: bool) -> Pending[Y]: ...

    def wait_for_workers(self, n_workers: int, timeout: float | None = None) -> None: ...

    def run(self, function: Callable[[], str], /) -> dict[str, str]: ...

    def nthreads(self) -> dict[str, int]: ...

    def close(self) -> None: ...


class DaskMapper(_Windowed):
    """The workers of a Dask cluster, through a connected ``distributed.Client``."""

    def __init__(self, client: Client, workers: int) -> None:
        self.client = client
        self.workers = workers

    def submit(self, function: Callable[[X], Y], item: X) -> Pending[Y]:
        # pure=False: a random key, so the items (file bytes) are never hashed for one
        return self.client.submit(function, item, pure=False)


def cluster_for(executor: str, scheduler: str) -> AbstractContextManager[DaskMapper | None]:
    """Where a scan's shippable stages run: None for this machine, or a Dask cluster (the
    address is checked now; the connection is made on entering, only if the scan runs)."""
    if executor != "dask":
        return nullcontext(None)
    if not scheduler:
        raise ClusterError(
            '--executor dask needs --scheduler ADDRESS (or scheduler = "tcp://HOST:8786" in '
            "[tool.dupfind] of a file passed with --config): the address of a running Dask "
            "scheduler"
        )
    return dask_cluster(scheduler)


@contextmanager
def dask_cluster(address: str) -> Iterator[DaskMapper]:
    """Connect to the Dask scheduler at ``address``, check its workers, close at the end."""
    with optional_extra("distributed", "--executor dask", "Dask", "dask", ClusterError):
        import distributed
    try:
        connected = distributed.Client(  # type: ignore[no-untyped-call]
            address, timeout=CONNECT_TIMEOUT, set_as_default=False
        )
    except (OSError, ValueError) as exc:  # TimeoutError is an OSError
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} ({exc}): check the address, that "
            "`dask scheduler` runs there and that this machine can reach its port, or run "
            "without --executor dask"
        ) from None
    client = cast(Client, connected)
    try:
        yield DaskMapper(client, _check_workers(client, address))
    finally:
        client.close()


def _check_workers(client: Client, address: str) -> int:
    """The cluster's worker threads, once every worker runs this dupfind and Python."""
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except TimeoutError:
        raise ClusterError(
            f"the Dask scheduler at {address} has no workers: start some with "
            f"`dask worker {address}`"
        ) from None
    try:
        found = client.run(worker_versions)
    except Exception as exc:  # raised on a worker: typically dupfind is not installed there
        raise ClusterError(
            f"the Dask workers of {address} cannot run dupfind ({exc!r}): install "
            f"dupfind {__version__} on every worker"
        ) from None
    wanted = worker_versions()
    wrong = sorted(f"{worker} has {found[worker]}" for worker in found if found[worker] != wanted)
    if wrong:
        raise ClusterError(f"the Dask workers must run {wanted}, as here: {'; '.join(wrong)}")
    return max(1, sum(client.nthreads().values()))


def worker_versions() -> str:
    """What a worker must share with the client for identical results."""
    return f"{code_identity()} on Python {sys.version_info.major}.{sys.version_info.minor}"
