"""Every report format rendered from one canonical scan, compared byte for byte with goldens.

Regenerate with ``pytest --update-goldens`` and review the diff.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dupfind import Config, scan
from dupfind.report import get_reporter
from dupfind.report.view import ReportView, build_view
from tests.conftest import FIXTURES, GOLDEN

CANONICAL = ["three_copies", "renamed_vars", "near_miss_75", "syntax_error"]
SUFFIX = {"terminal": "txt", "json": "json", "markdown": "md"}  # html: test_html_report.py


@pytest.fixture(scope="module")
def view() -> ReportView:
    cases = FIXTURES / "cases"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cases)
        result = scan(CANONICAL, Config(jobs=1, history=False))
        return build_view(result, base=cases, mode="plan")


@pytest.mark.parametrize("name", sorted(SUFFIX))
def test_report_matches_golden(name: str, view: ReportView, update_goldens: bool) -> None:
    out = io.StringIO()
    get_reporter(name)(view, out)
    golden = GOLDEN / f"report.{SUFFIX[name]}"
    if update_goldens:
        golden.write_text(out.getvalue(), encoding="utf-8")
    assert out.getvalue() == golden.read_text(encoding="utf-8")


def test_json_report_has_the_documented_shape(view: ReportView) -> None:
    out = io.StringIO()
    get_reporter("json")(view, out)
    document = json.loads(out.getvalue())
    assert document["schema_version"] == 2
    assert {"files_scanned", "lines_scanned", "duplicated_lines", "groups", "skipped"} <= set(
        document
    )
    kinds = {group["kind"] for group in document["groups"]}
    assert kinds == {"exact", "renamed", "near-miss"}
    for group in document["groups"]:
        assert set(group) >= {"id", "kind", "similarity_min", "similarity_mean", "lines", "members"}
        for member in group["members"]:
            assert not Path(member["path"]).is_absolute()
            assert member["start_line"] <= member["end_line"]
    assert document["skipped"][0]["path"] == "syntax_error/etl/transform.py"


def test_unknown_format_lists_the_valid_ones() -> None:
    with pytest.raises(Exception, match="html, json, markdown, sarif, terminal"):
        get_reporter("xml")
