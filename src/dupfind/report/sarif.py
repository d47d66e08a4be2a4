"""SARIF 2.1.0 report, for GitHub code scanning and other SARIF viewers.

One run. ``tool.driver.rules`` always lists the four rules: DUP001 consolidate (warning), DUP002
extract (warning), DUP003 leave-separate (note) and DUP004 leftover (note). Each clone group is
one result under the rule of its verdict: its first member is the result's location, the other
members its ``relatedLocations`` ("copy N of M: qualname"), ``partialFingerprints`` carry the
group id (``dupfindGroupId/v1``, stable across line moves), and ``properties`` the figures.
Leftovers of repeated attempts are DUP004 results. Skipped files are warning notifications of
``invocations[0]``.

Paths are relative to the working directory under ``uriBaseId`` ``%SRCROOT%`` (no
``originalUriBaseIds``: the root is wherever the consumer checked the code out); paths outside it
are absolute ``file:`` URIs. Keys are sorted, no timestamps: the output is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, TextIO
from urllib.parse import quote

from dupfind import __version__
from dupfind.report.json import write_document
from dupfind.report.view import GroupView, LeftoverView, ReportView

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/dupfind/dupfind"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "dupfindGroupId/v1"
LEFTOVER = "leftover"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    level: str
    short: str
    full: str
    help: str

    def descriptor(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "shortDescription": {"text": self.short},
            "fullDescription": {"text": self.full},
            "help": {"text": self.help},
            "defaultConfiguration": {"level": self.level},
            "properties": {"tags": ["maintainability", "duplicate-code"]},
        }


RULES = (
    Rule(
        id="DUP001",
        name="consolidate",
        level="warning",
        short="Duplicated code to consolidate into one copy.",
        full="Two or more copies of the same code that belong together (same domain, highly "
        "similar): keep one copy and make the others call it.",
        help="Keep the canonical copy named in the message, move it where every caller can "
        "import it, replace the other copies with calls to it and delete them. The proposed "
        "signature turns the differences between the copies into parameters.",
    ),
    Rule(
        id="DUP002",
        name="extract",
        level="warning",
        short="Similar code to extract into a shared abstraction.",
        full="Similar code across domains, or a long near-miss: the copies share a core worth "
        "extracting into a helper, while each keeps what is specific to it.",
        help="Extract the common part into a shared helper (the proposed signature is a "
        "starting point) and have each copy call it, keeping its domain-specific code in place.",
    ),
    Rule(
        id="DUP003",
        name="leave-separate",
        level="note",
        short="Similar code best left separate.",
        full="Code that looks alike but should stay apart: the copies change independently, "
        "differ too much, or merging them would couple unrelated domains.",
        help="No action needed. Mark intentional copies with '# dupfind: ignore' on the def or "
        "class line to keep them out of future reports.",
    ),
    Rule(
        id="DUP004",
        name=LEFTOVER,
        level="note",
        short="Leftover of a repeated attempt.",
        full="A versioned copy of a file, a near-identical sibling file or commented-out code "
        "that duplicates live code: the remains of an earlier attempt.",
        help="Delete the leftover once nothing uses it any more; version control keeps the "
        "history.",
    ),
)
RULE_INDEX = {rule.name: index for index, rule in enumerate(RULES)}


def _artifact(path: str) -> dict[str, Any]:
    """An artifactLocation: relative paths under %SRCROOT%, absolute ones as file: URIs."""
    return dict(_uri(path))


@lru_cache(maxsize=1 << 16)
def _uri(path: str) -> tuple[tuple[str, str], ...]:
    """``_artifact``'s entries (a path is in many locations: pathlib's parsing was a tenth of
    the stdlib's SARIF report)."""
    if PurePosixPath(path).is_absolute():
        return (("uri", PurePosixPath(path).as_uri()),)
    if PureWindowsPath(path).is_absolute():
        return (("uri", PureWindowsPath(path).as_uri()),)
    # A name that is not UTF-8 (held as surrogates) is percent-encoded byte for byte, as
    # ``as_uri`` encodes an absolute one.
    return ("uri", quote(path, safe="/", errors="surrogateescape")), ("uriBaseId", SRCROOT)


def _location(index: int, path: str, lines: tuple[int, int], text: str = "") -> dict[str, Any]:
    location: dict[str, Any] = {
        "id": index,
        "physicalLocation": {
            "artifactLocation": _artifact(path),
            "region": {"startLine": lines[0], "endLine": lines[1]},
        },
    }
    if text:
        location["message"] = {"text": text}
    return location


def _result(
    rule_name: str, text: str, locations: list[dict[str, Any]], properties: dict[str, Any]
) -> dict[str, Any]:
    """A result under ``rule_name``: the first location is where it is, the others related."""
    index = RULE_INDEX[rule_name]
    result: dict[str, Any] = {
        "ruleId": RULES[index].id,
        "ruleIndex": index,
        "level": RULES[index].level,
        "message": {"text": text},
        "locations": locations[:1],
        "properties": properties,
    }
    if len(locations) > 1:
        result["relatedLocations"] = locations[1:]
    return result


def _group_message(group: GroupView) -> str:
    keep = group.members[group.canonical]
    text = (
        f"{group.verdict}: {len(group.members)} {group.kind} copies of {keep.qualname} "
        f"({group.lines} lines, similarity {group.similarity_min:.0%})."
    )
    if group.reasons:
        text += f" Why ({group.rule}): " + "; ".join(group.reasons) + "."
    if group.verdict != "leave-separate":
        text += f" Keep {keep.path}:{keep.start_line} (saves {group.lines_saved} lines)."
        if group.signature:
            text += f" Signature: {group.signature}"
    return text


def _group_result(group: GroupView) -> dict[str, Any]:
    total = len(group.members)
    copies = [
        _location(
            number, member.path, (member.start_line, member.end_line),
            f"copy {number + 1} of {total}: {member.qualname}",
        )
        for number, member in enumerate(group.members)
    ]  # fmt: skip
    figures = {
        "kind": group.kind,
        "similarity_min": round(group.similarity_min, 4),
        "similarity_mean": round(group.similarity_mean, 4),
        "lines": group.lines,
        "lines_saved": group.lines_saved,
        "verdict": group.verdict,
        "rule": group.rule,
        "confidence": group.confidence,
        "canonical": group.canonical,
    }
    result = _result(group.verdict, _group_message(group), copies, figures)
    result["partialFingerprints"] = {FINGERPRINT: group.id}
    return result


def _leftover_result(item: LeftoverView) -> dict[str, Any]:
    text = f"Leftover of a repeated attempt ({item.kind}, {item.lines} lines, similarity "
    text += f"{item.similarity:.0%}): {item.reason}"
    spans = enumerate(item.locations)
    places = [_location(n, at.path, (at.start_line, at.end_line)) for n, at in spans]
    figures = {"kind": item.kind, "similarity": round(item.similarity, 4), "lines": item.lines}
    return _result(LEFTOVER, text, places, figures)


def _invocation(view: ReportView) -> dict[str, Any]:
    """Skipped files as warnings of a successful invocation."""
    notifications = []
    for item in view.skipped:
        physical: dict[str, Any] = {"artifactLocation": _artifact(item.path)}
        if item.line is not None:
            physical["region"] = {"startLine": item.line}
        notifications.append(
            {
                "level": "warning",
                "message": {"text": item.reason},
                "locations": [{"physicalLocation": physical}],
                "properties": {"partial": item.partial},
            }
        )
    return {"executionSuccessful": True, "toolExecutionNotifications": notifications}


def document(view: ReportView) -> dict[str, Any]:
    """The SARIF log of a view."""
    results = [_group_result(group) for group in view.ordered()]
    results += [_leftover_result(item) for item in view.leftovers]
    driver = {
        "name": "dupfind",
        "version": __version__,
        "informationUri": INFORMATION_URI,
        "rules": [rule.descriptor() for rule in RULES],
    }
    run = {"tool": {"driver": driver}, "invocations": [_invocation(view)], "results": results}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(view: ReportView, out: TextIO) -> None:
    """Write the SARIF 2.1.0 report, compact past ``INDENTED_UP_TO`` results (json.py: the
    indenting encoder took 1.2 s for the stdlib's 6,000 groups; its one run is then encoded
    at once, ~15 MB of text there)."""
    data = document(view)
    write_document(data, len(data["runs"][0]["results"]), out)
