"""Fingerprints: token slices → stable digests and shingles.

* unit digests: BLAKE2b of the token codes (``exact`` for Type-1, ``shape`` for Type-2 buckets);
* statement hashes: 64 bits (two CRC-32s) of a statement's shape codes, for block matching;
* shingles: CRC-32 of every ``SHINGLE``-token window of a file's anchor sequence (shape
  codes, attribute names kept; see normalise.TokenSink), for the
  near-miss index (candidates.py). Computed once per file; a unit's shingles are a slice.

Never builtin ``hash()``: fingerprints must agree across worker processes and runs.
"""

from __future__ import annotations

import hashlib
import zlib
from array import array

SHINGLE = 6
DIGEST_SIZE = 16  # bytes of a unit's or a run's digest


def digest(tokens: array[int], start: int, end: int) -> bytes:
    """A ``DIGEST_SIZE``-byte digest of ``tokens[start:end]``."""
    return hashlib.blake2b(memoryview(tokens)[start:end], digest_size=DIGEST_SIZE).digest()


def hash64(tokens: array[int], start: int, end: int) -> int:
    """A 64-bit hash of ``tokens[start:end]``: two CRC-32s (with different seeds) side by side.

    Hot (one per statement): two C calls, several times cheaper than a BLAKE2b object. Hashes
    a copy of the slice, never a memoryview kept in a local: a sampling profiler (a Dask
    worker's) can keep a returned frame's locals alive, and a live view of ``tokens`` forbids
    the caller to append to it (BufferError).
    """
    part = tokens[start:end]
    return (zlib.crc32(part) << 32) | zlib.crc32(part, 0x9E3779B9)


def shingles(tokens: array[int]) -> array[int]:
    """CRC-32 of every window of ``SHINGLE`` tokens; position i covers tokens i..i+SHINGLE-1."""
    view = memoryview(tokens).cast("B")
    width = SHINGLE * tokens.itemsize
    step = tokens.itemsize
    crc = zlib.crc32
    count = max(0, len(tokens) - SHINGLE + 1)
    return array("I", [crc(view[i * step : i * step + width]) for i in range(count)])


def window(shingles: array[int], start: int, end: int) -> set[int]:
    """The distinct shingles lying wholly inside tokens ``[start, end)`` of a file."""
    return set(shingles[start : max(start, end - SHINGLE + 1)])
