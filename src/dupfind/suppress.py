"""Inline markers, found once per file in the map stage.

Suppressions: ``# dupfind: ignore`` on a ``def``/``class`` line suppresses that
unit; ``# dupfind: ignore-start`` … ``# dupfind: ignore-end`` suppresses a region (to the end of
the file if never closed). A group with a member in suppressed code is not reported (it is
known, intended duplication) unless ``--no-suppress`` (for audits); the summary counts them.

Hotspots: the lines holding ``# dupfind: hotspot`` (``hotspot_lines``) are kept with the
file's analysis, so classification reads a file's text only when a marker is near a member.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from dupfind.models import CodeUnit

_MARKER = re.compile(rb"#\s*dupfind:\s*(ignore-start|ignore-end|ignore)\b")
_HEADER = re.compile(rb"^\s*(?:@|async\s+def\b|def\b|class\b)")
HOTSPOT = re.compile(rb"#\s*dupfind:\s*hotspot\b")


def hotspot_lines(source: bytes) -> tuple[int, ...]:
    """The lines (1-based) holding a ``# dupfind: hotspot`` marker."""
    return tuple(dict.fromkeys(line for line, _ in _markers(HOTSPOT, source)))


def suppressed_ranges(source: bytes, units: Sequence[CodeUnit]) -> tuple[tuple[int, int], ...]:
    """Line ranges (1-based, inclusive) suppressed by markers in ``source``."""
    if b"dupfind:" not in source:
        return ()
    lines = source.split(b"\n")
    ranges: list[tuple[int, int]] = []
    region_start: int | None = None
    for line, match in _markers(_MARKER, source):
        marker = match.group(1)
        if marker == b"ignore-start" and region_start is None:
            region_start = line
        elif marker == b"ignore-end" and region_start is not None:
            ranges.append((region_start, line))
            region_start = None
        elif marker == b"ignore" and _HEADER.match(lines[line - 1]):
            unit = _innermost(units, line)
            if unit is not None:
                ranges.append((unit.start_line, unit.end_line))
    if region_start is not None:
        ranges.append((region_start, len(lines)))
    return tuple(sorted(set(ranges)))


def _markers(pattern: re.Pattern[bytes], source: bytes) -> Iterator[tuple[int, re.Match[bytes]]]:
    """Each match of ``pattern`` with its 1-based line, lines counted on from the previous
    match rather than from the top (one pass over the file whatever the number of markers)."""
    if b"dupfind:" not in source:
        return
    line, counted = 1, 0
    for match in pattern.finditer(source):
        line += source.count(b"\n", counted, match.start())
        counted = match.start()
        yield line, match


def _innermost(units: Sequence[CodeUnit], line: int) -> CodeUnit | None:
    holding = [u for u in units if u.start_line <= line <= u.end_line]
    return max(holding, key=lambda u: u.start_line, default=None)


def is_suppressed(ranges: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    """Whether lines ``start..end`` overlap a suppressed range."""
    return any(first <= end and start <= last for first, last in ranges)
