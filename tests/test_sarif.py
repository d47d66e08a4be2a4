"""The SARIF report of the canonical scan: valid against the official SARIF 2.1.0 schema
(tests/data/sarif-schema-2.1.0.json, OASIS errata 01), byte-identical to its golden, and shaped
for code scanning (one result per group, the copies as related locations, the group id as the
fingerprint).

Regenerate the golden with ``pytest --update-goldens`` and review the diff.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from jsonschema import FormatChecker
from jsonschema.validators import validator_for

from dupfind import Config, scan
from dupfind.report import get_reporter
from dupfind.report import json as json_report
from dupfind.report.sarif import FINGERPRINT, RULES, render_sarif
from dupfind.report.view import ReportView, build_view
from tests.conftest import FIXTURES, GOLDEN

CANONICAL = ["three_copies", "renamed_vars", "near_miss_75", "syntax_error"]
SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def view() -> ReportView:
    cases = FIXTURES / "cases"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cases)
        result = scan(CANONICAL, Config(jobs=1, history=False))
        return build_view(result, base=cases, mode="plan")


@pytest.fixture(scope="module")
def text(view: ReportView) -> str:
    out = io.StringIO()
    get_reporter("sarif")(view, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def log(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    return document


def _validate(document: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = validator_for(schema)
    validator.check_schema(schema)
    validator(schema, format_checker=FormatChecker()).validate(document)


def test_the_schema_is_the_official_sarif_2_1_0_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    assert validator_for(schema).__name__ == "Draft4Validator"


def test_sarif_is_valid_against_the_schema(log: dict[str, Any]) -> None:
    _validate(log)


def test_an_empty_scan_is_valid_too(tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text("x = 1\n", encoding="utf-8")
    view = build_view(scan([str(tmp_path)], Config(jobs=1, history=False)), base=tmp_path)
    out = io.StringIO()
    render_sarif(view, out)
    document = json.loads(out.getvalue())
    _validate(document)
    assert document["runs"][0]["results"] == []
    assert document["runs"][0]["invocations"][0]["toolExecutionNotifications"] == []


def test_sarif_matches_golden(text: str, update_goldens: bool) -> None:
    golden = GOLDEN / "report.sarif"
    if update_goldens:
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_sarif_is_deterministic(view: ReportView, text: str) -> None:
    again = io.StringIO()
    render_sarif(view, again)
    assert again.getvalue() == text


def test_header_and_driver(log: dict[str, Any]) -> None:
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "dupfind"
    assert driver["version"]
    rules = {rule["name"]: rule for rule in driver["rules"]}
    assert [rule["id"] for rule in driver["rules"]] == ["DUP001", "DUP002", "DUP003", "DUP004"]
    assert {name: rule["defaultConfiguration"]["level"] for name, rule in rules.items()} == {
        "consolidate": "warning",
        "extract": "warning",
        "leave-separate": "note",
        "leftover": "note",
    }
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert rule["help"]["text"]


def test_one_result_per_group_with_its_members(view: ReportView, log: dict[str, Any]) -> None:
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    groups = view.ordered()
    results = run["results"]
    assert len(results) == len(groups) + len(view.leftovers)
    for group, result in zip(groups, results, strict=False):
        rule = rules[result["ruleIndex"]]
        assert (rule["id"], rule["name"]) == (result["ruleId"], group.verdict)
        assert result["level"] == rule["defaultConfiguration"]["level"]
        assert result["partialFingerprints"] == {FINGERPRINT: group.id}
        first, *others = group.members
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": first.path, "uriBaseId": "%SRCROOT%"}
        assert physical["region"] == {"startLine": first.start_line, "endLine": first.end_line}
        related = result["relatedLocations"]
        assert [r["physicalLocation"]["artifactLocation"]["uri"] for r in related] == [
            m.path for m in others
        ]
        assert [r["id"] for r in related] == list(range(1, len(group.members)))
        total = len(group.members)
        assert related[-1]["message"]["text"] == f"copy {total} of {total}: {others[-1].qualname}"
        assert result["properties"]["verdict"] == group.verdict
        assert result["properties"]["lines_saved"] == group.lines_saved
        assert group.kind in result["message"]["text"]
        assert group.signature in result["message"]["text"]


def test_verdicts_map_to_rules(log: dict[str, Any]) -> None:
    results = log["runs"][0]["results"]
    by_rule = {(r["ruleId"], r["properties"]["verdict"], r["level"]) for r in results}
    assert by_rule == {("DUP001", "consolidate", "warning"), ("DUP002", "extract", "warning")}
    fetch = next(r for r in results if "fetch_json" in r["message"]["text"])
    assert fetch["message"]["text"].startswith(
        "consolidate: 3 exact copies of fetch_json (19 lines, similarity 100%). Why ("
    )
    assert fetch["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "three_copies/clients/billing.py"
    )
    assert len(fetch["relatedLocations"]) == 2


def test_skipped_files_are_tool_execution_notifications(log: dict[str, Any]) -> None:
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "warning"
    assert "syntax error" in notification["message"]["text"]
    physical = notification["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "syntax_error/etl/transform.py"
    assert physical["region"] == {"startLine": 15}


def test_leftovers_are_results_under_their_rule(make_tree: Any, tmp_path: Path) -> None:
    body = "".join(f"    total += {n} * value\n" for n in range(14))
    source = f"def price(value):\n    total = 0\n{body}    return total\n"
    root = make_tree({"my pkg/billing.py": source, "my pkg/billing_old.py": source})
    view = build_view(scan([str(root)], Config(jobs=1, history=False)), base=root)
    out = io.StringIO()
    render_sarif(view, out)
    document = json.loads(out.getvalue())
    _validate(document)
    leftovers = [r for r in document["runs"][0]["results"] if r["ruleId"] == "DUP004"]
    assert len(leftovers) == len(view.leftovers) >= 1
    for result in leftovers:
        assert result["level"] == "note"
        assert result["message"]["text"].startswith("Leftover of a repeated attempt (")
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("my%20pkg/billing")


def test_paths_become_uris() -> None:
    from dupfind.report.sarif import _artifact

    assert _artifact("a b/c.py") == {"uri": "a%20b/c.py", "uriBaseId": "%SRCROOT%"}
    assert _artifact("/elsewhere/x.py") == {"uri": "file:///elsewhere/x.py"}
    assert _artifact("C:/elsewhere/x.py") == {"uri": "file:///C:/elsewhere/x.py"}


def test_rules_are_unique() -> None:
    assert len({rule.id for rule in RULES}) == len({rule.name for rule in RULES}) == len(RULES)


def test_leave_separate_is_a_note_without_advice(view: ReportView) -> None:
    group = replace(view.groups[0], verdict="leave-separate", rule="independent-evolution")
    out = io.StringIO()
    render_sarif(replace(view, groups=(group,), plan=(0,), leftovers=()), out)
    (result,) = json.loads(out.getvalue())["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("DUP003", "note")
    assert result["message"]["text"].startswith("leave-separate: ")
    assert "Keep " not in result["message"]["text"]
    assert "Signature" not in result["message"]["text"]


def test_a_large_log_is_written_compact_with_the_same_content(
    view: ReportView, log: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(json_report, "INDENTED_UP_TO", 0)  # as if past 500 results
    out = io.StringIO()
    render_sarif(view, out)
    assert out.getvalue().count("\n") == 1  # one line, its end
    assert json.loads(out.getvalue()) == log
    assert out.getvalue() == json.dumps(log, sort_keys=True, ensure_ascii=False) + "\n"
