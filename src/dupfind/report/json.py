"""JSON report: a public, versioned schema (``schema_version``), documented in README.

Version 1: ``{schema_version, tool, files_scanned, lines_scanned, duplicated_lines,
duplicated_percent, groups: [{id, kind, similarity_min, similarity_mean, lines,
members: [{path, start_line, end_line, qualname, unit}]}], skipped: [{path, reason, line,
partial}]}``. Keys are sorted and the output is deterministic.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TextIO

from dupfind import __version__
from dupfind.report.view import ReportView

SCHEMA_VERSION = 1


def render_json(view: ReportView, out: TextIO) -> None:
    """Write the JSON report."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "dupfind", "version": __version__},
        **asdict(view),
    }
    json.dump(document, out, indent=2, sort_keys=True, ensure_ascii=False)
    out.write("\n")
