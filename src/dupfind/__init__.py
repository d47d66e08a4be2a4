"""dupfind: find duplicate Python code and say what to do with it.

Library use, without the CLI::

    from dupfind import Config, scan
    result = scan(["src"], Config(min_similarity=0.8))
    for group in result.groups:
        print(group.kind.value, [m.path for m in group.members])
"""

from __future__ import annotations

from collections.abc import Sequence

__version__ = "0.1.0"

from dupfind.config import Config
from dupfind.models import CloneGroup, CloneKind, Member, ScanResult, SkippedFile


def scan(paths: Sequence[str], config: Config | None = None) -> ScanResult:
    """Scan ``paths`` (files or directories) and return the clone groups."""
    from dupfind.pipeline import scan as run_scan

    return run_scan(list(paths), config or Config())


__all__ = [
    "CloneGroup",
    "CloneKind",
    "Config",
    "Member",
    "ScanResult",
    "SkippedFile",
    "__version__",
    "scan",
]
