"""Fingerprints under a sampling profiler (as on a Dask worker)."""

from __future__ import annotations

import sys
from array import array
from types import FrameType

from dupfind.fingerprint import hash64


def test_hash64_leaves_no_view_of_a_growing_array_when_its_frame_is_kept() -> None:
    """A Dask worker's sampling profiler holds frames; a frame kept past its return keeps its
    locals, and a memoryview among them made ``append`` fail (BufferError) mid-extraction."""
    kept: list[FrameType] = []

    def keep(frame: FrameType, event: str, arg: object) -> None:
        if event == "return" and frame.f_code is hash64.__code__:
            kept.append(frame)

    tokens = array("i", range(10))
    sys.setprofile(keep)
    try:
        hash64(tokens, 2, 8)
    finally:
        sys.setprofile(None)
    assert kept
    tokens.append(10)
