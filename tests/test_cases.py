"""The case corpus: each fixtures/cases/<case>/ is scanned and must give exactly expected.json,
and once more for every other expected.<variant>.json (the same files under other options).

expected*.json: ``groups`` (kind, members as ``path::qualname`` or ``path::qualname:START-END``,
optional ``similarity`` [lo, hi] for the group minimum), optional ``skipped`` (path and a
substring of the reason), ``allow_skipped`` and ``options`` (config overrides).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dupfind import Config, scan
from dupfind.models import CloneGroup, ScanResult
from tests.conftest import FIXTURES

EXPECTED = sorted((FIXTURES / "cases").glob("*/expected*.json"))


def _case_id(expected: Path) -> str:
    variant = expected.name.removeprefix("expected").removesuffix(".json").lstrip(".")
    return expected.parent.name + (f"[{variant}]" if variant else "")


def _member_keys(group: CloneGroup, with_lines: set[str]) -> frozenset[str]:
    keys = []
    for m in group.members:
        key = f"{m.path}::{m.qualname}"
        if key in with_lines:
            key += f":{m.start_line}-{m.end_line}"
        keys.append(key)
    return frozenset(keys)


def _scan_case(case: Path, options: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> ScanResult:
    monkeypatch.chdir(case)
    return scan(["."], Config.from_mapping({"jobs": 1, **options}))


def _normalise(path: str) -> str:
    return path.removeprefix("./")


@pytest.mark.parametrize("expected_file", EXPECTED, ids=[_case_id(e) for e in EXPECTED])
def test_case(expected_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    result = _scan_case(expected_file.parent, expected.get("options", {}), monkeypatch)
    pinned = {
        m.rsplit(":", 1)[0] for g in expected["groups"] for m in g["members"] if _has_lines(m)
    }
    found = {_member_keys_normalised(group, pinned): group for group in result.groups}
    wanted = {frozenset(g["members"]): g for g in expected["groups"]}
    assert set(found) == set(wanted), _describe(result)
    for members, spec in wanted.items():
        group = found[members]
        assert group.kind.value == spec["kind"], _describe(result)
        if "similarity" in spec:
            low, high = spec["similarity"]
            assert low <= group.similarity_min <= high, _describe(result)
    _check_skipped(expected, result)


def _has_lines(member: str) -> bool:
    tail = member.rsplit(":", 1)[-1]
    return "-" in tail and tail.replace("-", "").isdigit()


def _member_keys_normalised(group: CloneGroup, pinned: set[str]) -> frozenset[str]:
    keys = _member_keys(group, pinned)
    return frozenset(_normalise(k) for k in keys)


def _check_skipped(expected: dict[str, Any], result: ScanResult) -> None:
    skipped = {_normalise(s.path): s.reason for s in result.skipped}
    for spec in expected.get("skipped", []):
        assert spec["path"] in skipped, skipped
        assert spec["reason_contains"] in skipped[spec["path"]], skipped
    if not expected.get("allow_skipped") and "skipped" in expected:
        assert set(skipped) == {s["path"] for s in expected["skipped"]}, skipped


def _describe(result: ScanResult) -> str:
    lines = ["reported:"]
    for g in result.groups:
        members = ", ".join(
            f"{m.path}::{m.qualname}:{m.start_line}-{m.end_line}" for m in g.members
        )
        lines.append(f"  {g.kind.value} {g.similarity_min:.3f} [{members}]")
    return "\n".join(lines)
