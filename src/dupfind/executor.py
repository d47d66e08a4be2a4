"""Executors for the global stages: the seam where a stage's per-item work can run elsewhere.

Each global stage that maps a function over many items (selecting every unit's shingles,
scoring candidate edges, classifying groups) takes a ``Mapper``. Today every stage runs
serially in the main process: forked workers were measured (2026-11-27) to save 10-25% of
those stages on 2 cores, but their copy-on-write pages doubled the process tree's resident
memory (0.5 to 1.5 GB on the stdlib), against the 1.5 GB target. A distributed executor
(Dask) plugs in here, sending items out instead of forking.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Mapper(Protocol):
    """``[function(i) for i in indexes]``, however it is executed."""

    def __call__(self, function: Callable[[int], T], indexes: range) -> list[T]: ...


def serial_map(function: Callable[[int], T], indexes: range) -> list[T]:
    """Run in this process."""
    return [function(i) for i in indexes]
