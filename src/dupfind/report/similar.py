"""Reports of ``dupfind similar``: the terminal (rich) and JSON.

JSON, schema version 1 (its own version: it is not the scan report), documented in README::

    {schema_version, tool {name, version}, mode ("similar" | "similar-diff"), base (git ref or
     null), min_similarity, files_searched, targets,
     results [{target {path, start_line, end_line, qualname, tokens},
               matches [{path, start_line, end_line, qualname, unit, kind, similarity}]}],
     notes [..], skipped [{path, reason, line, partial}]}

``results`` holds one entry for a search; with ``--diff``, one per changed function that has
matches (``targets`` counts the changed functions searched for). Matches are best first. Keys
are sorted and the output is deterministic.
"""

from __future__ import annotations

import json
from typing import TextIO, TypeAlias

from dupfind import __version__
from dupfind.report.terminal import KIND_STYLE, Report, Styled, print_footer
from dupfind.report.view import SkippedView, plural
from dupfind.similar import Finding, Match, SimilarResult, Target

SCHEMA_VERSION = 1
FORMATS = ("terminal", "json")
JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"
JSONObject: TypeAlias = "dict[str, JSONValue]"


def similar_document(result: SimilarResult) -> JSONObject:
    """The JSON document of a search."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "dupfind", "version": __version__},
        "mode": "similar" if result.base is None else "similar-diff",
        "base": result.base,
        "min_similarity": result.min_similarity,
        "files_searched": result.files_searched,
        "targets": result.targets,
        "results": [
            {"target": _target(f.target), "matches": [_match(m) for m in f.matches]}
            for f in result.findings
        ],
        "notes": list(result.notes),
        "skipped": [
            {"path": s.path, "reason": s.reason, "line": s.line, "partial": s.partial}
            for s in result.skipped
        ],
    }


def _target(target: Target) -> JSONObject:
    where = _where(target.path, target.start_line, target.end_line, target.qualname)
    return where | {"tokens": target.length}


def _match(match: Match) -> JSONObject:
    where = _where(match.path, match.start_line, match.end_line, match.qualname)
    return where | {
        "unit": match.unit.value,
        "kind": match.kind.value,
        "similarity": match.similarity,
    }


def _where(path: str, start_line: int, end_line: int, qualname: str) -> JSONObject:
    return {"path": path, "start_line": start_line, "end_line": end_line, "qualname": qualname}


def render_similar(result: SimilarResult, output_format: str, out: TextIO) -> None:
    """Write the report in ``output_format`` (one of ``FORMATS``)."""
    if output_format == "json":
        out.write(
            json.dumps(similar_document(result), indent=2, sort_keys=True, ensure_ascii=False)
            + "\n"
        )
        return
    report = Report(out)
    for finding in result.findings:
        report.print(_heading(finding, result.base))
        report.print(_matches(finding, result.min_similarity), end="")
    skipped = [SkippedView(s.path, s.reason, s.line, s.partial) for s in result.skipped]
    print_footer(report, result.notes, _summary(result), skipped)
    report.write()


def _heading(finding: Finding, base: str | None) -> Styled:
    target = finding.target
    where = f"{target.path}:{target.start_line}-{target.end_line}  {target.qualname}"
    if base is None:
        return Styled(("Most similar to ", "bold"), where, f"  ({target.length} tokens)")
    return Styled(
        ("\nChanged since ", "bold"),
        (base, "bold"),
        f": {where}\n",
        ("  you may be rewriting:", "italic"),
    )


def _matches(finding: Finding, threshold: float) -> Styled:
    if not finding.matches:
        return Styled((f"  nothing at least {threshold:.0%} similar\n", "dim"))
    text = Styled()
    for number, match in enumerate(finding.matches, 1):
        text.append(f"  {number:>2}. {match.similarity:6.1%}  ")
        text.append(f"{match.kind.value:<9}", KIND_STYLE.get(match.kind.value, "bold"))
        text.append(f"  {match.path}:{match.start_line}-{match.end_line}  ")
        text.append(f"{match.qualname} ({match.unit.value})\n", "dim")
    return text


def _summary(result: SimilarResult) -> Styled:
    searched = plural(result.files_searched, "file")
    if result.base is None:
        return Styled(
            f"\nSearched {searched} for code at least {result.min_similarity:.0%} similar."
        )
    return Styled(
        f"\n{result.targets} function(s) added or changed since {result.base} searched for in "
        f"{searched}: {len(result.findings)} at least {result.min_similarity:.0%} similar to "
        "existing code."
    )
