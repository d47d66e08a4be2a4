"""Executors for the global stages: the same stage functions, run serially or on forked
workers.

After the map stage the main process holds every file's analysis. ``fork_map`` runs
``function(i)`` for many indexes on worker processes forked from it, so the workers inherit
those analyses instead of receiving them: only indexes go out and small results come back.
The function reads state its caller put in a module global before calling (set, fork, clear).
Serial when there is one job, few items, or no ``fork`` (Windows, where the pickling cost
would eat the gain). This is also the seam for executors beyond one machine.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from typing import Protocol, TypeVar

T = TypeVar("T")
FORK_MIN_ITEMS = 256


class Mapper(Protocol):
    """``[function(i) for i in indexes]``, however it is executed."""

    def __call__(self, function: Callable[[int], T], indexes: range) -> list[T]: ...


def serial_map(function: Callable[[int], T], indexes: range) -> list[T]:
    return [function(i) for i in indexes]


def fork_map(function: Callable[[int], T], indexes: range, jobs: int) -> list[T]:
    """``function`` over ``indexes`` on ``jobs`` forked workers, results in order."""
    if jobs == 1 or len(indexes) < FORK_MIN_ITEMS or "fork" not in get_all_start_methods():
        return serial_map(function, indexes)
    chunk = max(1, len(indexes) // (jobs * 8))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
        return list(pool.map(function, indexes, chunksize=chunk))


def forking(jobs: int) -> Mapper:
    """A mapper running on ``jobs`` forked workers."""

    def mapper(function: Callable[[int], T], indexes: range) -> list[T]:
        return fork_map(function, indexes, jobs)

    return mapper
