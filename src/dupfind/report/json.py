"""JSON report: a public, versioned schema (``schema_version``), documented in README.

Version 2 (adds verdicts to version 1): ``{schema_version, tool, mode, files_scanned,
lines_scanned, duplicated_lines, duplicated_percent, scorecard, plan: [group ids by priority],
groups: [{id, kind, similarity_min, similarity_mean, lines, verdict, rule, reasons, confidence,
canonical, canonical_reason, signature, lines_saved, differences: [{kind, line, values}],
members: [{path, start_line, end_line, qualname, unit, domain}]}], leftovers: [{kind,
locations: [{path, start_line, end_line}], similarity, lines, reason}], directories: [{path,
lines, duplicated_lines}], notes, skipped: [{path, reason, line, partial}]}``. Keys are sorted
and the output is deterministic.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, TextIO

from dupfind import __version__
from dupfind.report.view import ReportView

SCHEMA_VERSION = 2


def document(view: ReportView) -> dict[str, Any]:
    """The JSON document of a view (also the base of other machine-readable formats)."""
    data = asdict(view)
    for group in data["groups"]:
        for member in group["members"]:
            del member["code"]
    data["plan"] = [view.groups[i].id for i in view.plan]
    data["scorecard"]["verdicts"] = dict(view.scorecard.verdicts)
    header = {"schema_version": SCHEMA_VERSION, "tool": {"name": "dupfind", "version": __version__}}
    return header | data


def render_json(view: ReportView, out: TextIO) -> None:
    """Write the JSON report."""
    json.dump(document(view), out, indent=2, sort_keys=True, ensure_ascii=False)
    out.write("\n")
