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
import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from json.encoder import encode_basestring as _text
from typing import Any, TextIO

from dupfind import __version__
from dupfind.memo import Held
from dupfind.report.view import GroupView, MemberView, ReportView

SCHEMA_VERSION = 2


def document(view: ReportView) -> dict[str, Any]:
    """The JSON document of a view (also the base of other machine-readable formats)."""
    return _outline(view) | {"groups": [group_document(group) for group in view.groups]}


def _outline(view: ReportView) -> dict[str, Any]:
    """The JSON document of a view but its groups."""
    data: dict[str, Any] = _plain(replace(view, groups=(), plan=()))
    data["plan"] = [view.groups[i].id for i in view.plan]
    data["scorecard"]["verdicts"] = dict(view.scorecard.verdicts)
    header = {"schema_version": SCHEMA_VERSION, "tool": {"name": "dupfind", "version": __version__}}
    return header | data


def group_document(group: GroupView) -> dict[str, Any]:
    """One group of the JSON document (members without their code, which only HTML shows).
    Spelled out rather than through ``_plain``: a stdlib scan has ~6,000 groups holding
    ~90,000 differences, and the generic walk over them was most of the report's time."""
    data: dict[str, Any] = {name: getattr(group, name) for name in _GROUP_FIELDS}
    data["members"] = [
        {name: getattr(member, name) for name in _MEMBER_FIELDS} for member in group.members
    ]
    data["differences"] = [
        {"kind": kind, "line": line, "values": list(values)}
        for kind, line, values in group.differences
    ]
    data["reasons"] = list(group.reasons)
    return data


_MEMBER_FIELDS = tuple(name for name in MemberView.__dataclass_fields__ if name != "code")
_GROUP_FIELDS = tuple(
    name
    for name in GroupView.__dataclass_fields__
    if name not in {"members", "differences", "reasons"}
)


_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """``dataclasses.asdict`` without its deep copies: scalars are kept inline rather than
    visited (a view holds ~10 of them per member; visiting each cost half the JSON report's
    time on the stdlib). Fields marked ``reported: False`` are left out."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is tuple or kind is list:
        return [item if type(item) in _SCALARS else _plain(item) for item in value]
    names = _FIELDS.get(kind)
    if names is None:
        fields = getattr(value, "__dataclass_fields__", None)
        if fields is None:
            return value
        reported = (name for name, spec in fields.items() if spec.metadata.get("reported", True))
        names = _FIELDS.setdefault(kind, tuple(reported))
    items = [(name, getattr(value, name)) for name in names]
    return {name: item if type(item) in _SCALARS else _plain(item) for name, item in items}


_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode  # the compact encoder
INDENTED_UP_TO = 500  # findings; larger reports are written compact (the C encoder: ~10x faster)


def render_json(view: ReportView, out: TextIO) -> None:
    """Write the JSON report (``write_document``): past ``INDENTED_UP_TO`` groups, each group
    written by ``group_json``, never built as a dictionary."""
    if len(view.groups) <= INDENTED_UP_TO:
        write_document(document(view), len(view.groups), out)
        return
    data = _outline(view) | {"groups": list(view.groups)}
    texts = view.kept.texts if view.kept is not None else None
    write_compact(data, out, {"groups": group_json if texts is None else partial(_written, texts)})
    if texts is not None:
        texts.turn()
    out.write("\n")


def _written(texts: Held[GroupView, str], group: GroupView) -> str:
    """``group_json``, or the text the last report of a long-lived process wrote for this
    very view (``view.KeptViews``: unchanged groups' views are reused, so their texts too; by
    identity, as a GroupView hashes its every difference)."""
    return texts.keep(group, texts.recall(group) or group_json(group))


def write_document(data: dict[str, Any], items: int, out: TextIO) -> None:
    """Write a report of ``items`` findings as JSON: indented for people, compact (one line)
    past ``INDENTED_UP_TO`` findings, where Python's indenting encoder takes seconds (the JSON
    and SARIF reports)."""
    if items <= INDENTED_UP_TO:
        out.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        write_compact(data, out)
    out.write("\n")


def write_compact(
    data: dict[str, Any], out: TextIO, encoders: Mapping[str, Callable[[Any], str]] | None = None
) -> None:
    """``json.dumps(data, sort_keys=True, ensure_ascii=False)``, byte for byte, written one
    item of each top-level list at a time (each by the C encoder, or by ``encoders`` of that
    list's key): the whole report as one string cost about 150 MB more at 2.4M lines."""
    encode = _ENCODE
    out.write("{")
    for position, key in enumerate(sorted(data)):
        out.write(f"{', ' if position else ''}{encode(key)}: ")
        value = data[key]
        if not isinstance(value, list):
            out.write(encode(value))
            continue
        item_encoder = (encoders or {}).get(key, encode)
        out.write("[")
        for index, item in enumerate(value):
            out.write(f"{', ' if index else ''}{item_encoder(item)}")
        out.write("]")
    out.write("}")


def group_json(group: GroupView) -> str:
    """``group_document(group)`` as the compact encoder writes it, byte for byte (a property
    test compares them), written directly: building the stdlib's 6,000 groups' dictionaries
    and encoding them took 0.6 s, a third of a warm scan; this takes 0.15 s. Strings go
    through the encoder's own escaping, numbers through ``_number``."""
    members = ", ".join([
        f'{{"domain": {_text(m.domain)}, "end_line": {_number(m.end_line)}, '
        f'"path": {_text(m.path)}, "qualname": {_text(m.qualname)}, '
        f'"start_line": {_number(m.start_line)}, "unit": {_text(m.unit)}}}'
        for m in group.members
    ])  # fmt: skip
    differences = ", ".join([
        f'{{"kind": {_text(kind)}, "line": {_number(line)}, '
        f'"values": [{", ".join(map(_text, values))}]}}'
        for kind, line, values in group.differences
    ])  # fmt: skip
    return (
        f'{{"canonical": {_number(group.canonical)}, "canonical_reason": '
        f'{_text(group.canonical_reason)}, "confidence": {_number(group.confidence)}, '
        f'"differences": [{differences}], "id": {_text(group.id)}, "kind": {_text(group.kind)}, '
        f'"lines": {_number(group.lines)}, "lines_saved": {_number(group.lines_saved)}, '
        f'"members": [{members}], "reasons": [{", ".join(map(_text, group.reasons))}], '
        f'"rule": {_text(group.rule)}, "signature": {_text(group.signature)}, '
        f'"similarity_mean": {_number(group.similarity_mean)}, '
        f'"similarity_min": {_number(group.similarity_min)}, "verdict": {_text(group.verdict)}}}'
    )


def _number(value: float) -> str:
    """A number as the encoder spells it: ``repr`` of an int or a finite float (what it
    calls), the encoder itself for anything else (NaN and infinities, a bool, a subclass)."""
    kind = type(value)
    if kind is int or (kind is float and math.isfinite(value)):
        return repr(value)
    return _ENCODE(value)
