"""The refactoring plan: verdicts, canonical copies, signatures, lines saved and leftovers,
measured on the small projects under fixtures/plan/<case>/ (and on git repositories built in a
temporary directory for the change-frequency rule)."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dupfind import Config, scan
from dupfind import history as history_module
from dupfind.cli import app
from dupfind.models import (
    CloneGroup,
    LeftoverKind,
    Location,
    Recommendation,
    ScanResult,
    UnitKind,
    Verdict,
)
from tests.conftest import FIXTURES, PRICES, TOTAL, git

PLAN = FIXTURES / "plan"
# The fixtures live inside dupfind's own repository: keep its git history out of their plans.
BASE = Config(jobs=1, history=False)


def _scan(where: str | Path, monkeypatch: pytest.MonkeyPatch, **options: object) -> ScanResult:
    """Scan a fixture (a name under fixtures/plan) or a directory, from inside it."""
    root = where if isinstance(where, Path) else PLAN / where
    monkeypatch.chdir(root)
    return scan(["."], BASE.merged(options))


def _describe(result: ScanResult) -> str:
    lines = ["reported:"]
    for group, rec in zip(result.groups, result.recommendations, strict=True):
        members = ", ".join(
            f"{m.path}::{m.qualname}:{m.start_line}-{m.end_line}" for m in group.members
        )
        lines.append(f"  {group.similarity_min:.3f} {rec.verdict.value} {rec.rule} [{members}]")
    lines.extend(f"  leftover {item.kind.value} {item.locations}" for item in result.leftovers)
    return "\n".join(lines)


def _only(result: ScanResult) -> tuple[CloneGroup, Recommendation]:
    assert len(result.groups) == 1, _describe(result)
    assert len(result.recommendations) == 1
    return result.groups[0], result.recommendations[0]


def _by_qualname(result: ScanResult, qualname: str) -> tuple[CloneGroup, Recommendation]:
    found = [
        (group, rec)
        for group, rec in zip(result.groups, result.recommendations, strict=True)
        if any(m.qualname == qualname for m in group.members)
    ]
    assert len(found) == 1, _describe(result)
    return found[0]


def _index(group: CloneGroup, path: str) -> int:
    (index,) = [i for i, m in enumerate(group.members) if m.path == path]
    return index


def _saved_by_consolidating(group: CloneGroup, canonical: int) -> int:
    others = [m.line_count for i, m in enumerate(group.members) if i != canonical]
    return sum(others) - len(others)


def _saved_by_extracting(group: CloneGroup, canonical: int) -> int:
    """The shared part of the other copies (their lines times the mean similarity), less a
    call in every member: not the other copies whole."""
    others = [m.line_count for i, m in enumerate(group.members) if i != canonical]
    return round(group.similarity_mean * sum(others)) - len(group.members)


# 1-2. Similarity and domains ---------------------------------------------------------------


def test_same_domain_copies_above_80_percent_are_consolidated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group, rec = _only(_scan("consolidate", monkeypatch))
    assert [m.path for m in group.members] == [
        "src/accounts/customers.py",
        "src/accounts/partners.py",
        "src/accounts/resellers.py",
    ]
    assert 0.8 <= group.similarity_min <= 0.9
    assert rec.verdict is Verdict.CONSOLIDATE
    assert rec.rule == "same-domain-similar"
    assert rec.domains == ("accounts", "accounts", "accounts")
    (reason,) = rec.reasons
    assert "domain 'accounts'" in reason
    assert f"at least {group.similarity_min:.0%} similar" in reason
    assert "(≥ 80%)" in reason
    # the reseller export has the extra VAT column: the most complete copy is kept
    assert rec.canonical == _index(group, "src/accounts/resellers.py")
    assert re.fullmatch(r"the most complete \(\d+ tokens\)", rec.canonical_reason)
    # every other copy becomes one line (a call or an import)
    assert rec.lines_saved == _saved_by_consolidating(group, rec.canonical)
    assert rec.lines_saved == (12 - 1) + (12 - 1)
    assert rec.confidence == group.similarity_min


def test_copies_in_two_domains_at_60_percent_are_extracted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group, rec = _only(_scan("extract_cross_domain", monkeypatch))
    assert {m.qualname for m in group.members} == {"invoice_total", "parcel_price"}
    assert 0.55 <= group.similarity_min < 0.7
    assert rec.verdict is Verdict.EXTRACT
    assert rec.rule == "cross-domain"
    assert rec.domains == ("billing", "shipping")
    (reason,) = rec.reasons
    assert "domains (billing, shipping)" in reason
    assert f"at least {group.similarity_min:.0%} similar (≥ 50%)" in reason
    # extract: the shared part of the other copy goes, and every member becomes a call
    assert rec.lines_saved == _saved_by_extracting(group, rec.canonical) == 6
    assert rec.lines_saved < group.members[1 - rec.canonical].line_count - 2  # not all of it
    assert rec.confidence == round(0.8 * group.similarity_mean, 4)


def test_copies_in_two_domains_below_extract_similarity_are_left_separate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group, rec = _only(_scan("extract_cross_domain", monkeypatch, extract_similarity=0.7))
    assert rec.verdict is Verdict.LEAVE_SEPARATE
    assert rec.rule == "cross-domain-dissimilar"
    assert "(billing, shipping)" in rec.reasons[0]
    assert f"only {group.similarity_min:.0%} similar (< 70%)" in rec.reasons[0]
    assert rec.lines_saved == 0


def test_one_domain_at_65_percent_extracts_the_shared_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group, rec = _only(_scan("extract_partial", monkeypatch))
    assert {m.qualname for m in group.members} == {"monthly_sales", "sales_by_region"}
    assert 0.6 <= group.similarity_min <= 0.7
    assert rec.verdict is Verdict.EXTRACT
    assert rec.rule == "same-domain-partial"
    (reason,) = rec.reasons
    assert "domain 'reporting'" in reason
    assert f"only {group.similarity_min:.0%} similar (50%-80%)" in reason
    assert rec.lines_saved == _saved_by_extracting(group, rec.canonical)


def test_thresholds_come_from_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    group, rec = _only(_scan("extract_partial", monkeypatch, consolidate_similarity=0.6))
    assert rec.verdict is Verdict.CONSOLIDATE
    assert "(≥ 60%)" in rec.reasons[0]
    assert rec.lines_saved == _saved_by_consolidating(group, rec.canonical)


def test_configured_domains_override_the_package_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    domains = (("sales", ("src/reporting/monthly.py",)), ("territories", ("**/regions.py",)))
    _, rec = _only(_scan("extract_partial", monkeypatch, domains=domains))
    assert rec.domains == ("sales", "territories")
    assert rec.rule == "cross-domain"


# 3. Test code ------------------------------------------------------------------------------


def test_a_copy_in_the_tests_is_never_merged_with_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group, rec = _only(_scan("test_and_production", monkeypatch))
    assert [m.path for m in group.members] == ["pkg/slugs.py", "tests/test_slugs.py"]
    assert group.similarity_min == 1.0  # identical but for the name: still not merged
    assert rec.verdict is Verdict.LEAVE_SEPARATE
    assert rec.rule == "test-and-production"
    assert "tests/test_slugs.py" in rec.reasons[0]
    assert "pkg/slugs.py" in rec.reasons[0]
    assert rec.canonical == 0
    assert rec.canonical_reason.startswith("the production copy")
    assert rec.lines_saved == 0


# 4. Change frequency (a real git repository) -----------------------------------------------

NOW = datetime.now(UTC).replace(microsecond=0)


_git = git


def _history_repo(tmp_path: Path) -> Path:
    """The alerts project with cpu.py's thresholds retuned in 12 commits over the year and
    disk.py never touched after it was added."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    shutil.copytree(PLAN / "history", repo / "monitoring")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Alerts for CPU and disk", when=NOW - timedelta(days=300))
    cpu = repo / "monitoring" / "src" / "alerts" / "cpu.py"
    for number in range(12):
        text = cpu.read_text(encoding="utf-8")
        average, peak = 0.85 - 0.01 * (number + 1), 0.98 - 0.005 * (number + 1)
        tuned = f"    if average >= {average:.2f} or peak >= {peak:.3f}:\n"
        current = next(line for line in text.splitlines(True) if "if average >=" in line)
        cpu.write_text(text.replace(current, tuned), encoding="utf-8")
        _git(repo, "commit", "-q", "-am", f"Retune CPU alert ({number + 1})",
             when=NOW - timedelta(days=250 - 20 * number))  # fmt: skip
    return repo


def test_a_copy_changed_often_is_left_apart_from_a_stable_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _history_repo(tmp_path)
    cpu_path, disk_path = "monitoring/src/alerts/cpu.py", "monitoring/src/alerts/disk.py"
    assert len(_git(repo, "log", "--format=%H", "--", cpu_path).split()) == 13
    group, rec = _only(_scan(repo, monkeypatch, history=True, history_hot=10, history_cold=1))
    assert [m.path for m in group.members] == [cpu_path, disk_path]
    assert rec.verdict is Verdict.LEAVE_SEPARATE
    assert rec.rule == "change-frequency"
    (reason,) = rec.reasons
    cpu, disk = group.members
    assert f"{cpu_path}:{cpu.start_line}-{cpu.end_line} changed in 13 commits" in reason
    assert f"{disk_path}:{disk.start_line}-{disk.end_line} in 1:" in reason
    assert "over the last 365 days" in reason
    assert "(thresholds: ≥ 10 vs ≤ 1)" in reason
    assert rec.lines_saved == 0


def test_only_commits_inside_the_history_window_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _history_repo(tmp_path)
    # the last 100 days hold 4 of the 12 retuning commits (90, 70, 50 and 30 days ago)
    _, rec = _only(_scan(repo, monkeypatch, history=True, history_days=100))
    assert rec.rule == "same-domain-similar"
    _, rec = _only(_scan(repo, monkeypatch, history=True, history_days=100, history_hot=4))
    assert rec.rule == "change-frequency"
    assert "changed in 4 commits over the last 100 days" in rec.reasons[0]
    assert " in 0: " in rec.reasons[0]


def test_without_git_the_change_frequency_rule_is_skipped_and_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _history_repo(tmp_path)
    plain = tmp_path / "plain"
    shutil.copytree(repo, plain, ignore=shutil.ignore_patterns(".git"))
    outside = subprocess.run(
        ["git", "-C", str(plain), "rev-parse", "--show-toplevel"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if outside.returncode == 0:
        pytest.skip("the temporary directory is inside a git repository")
    result = _scan(plain, monkeypatch, history=True)
    _, rec = _only(result)
    assert rec.rule == "same-domain-similar"
    assert rec.verdict is Verdict.CONSOLIDATE
    (note,) = result.notes
    assert "git history is not available" in note
    assert "change-frequency rule was skipped" in note


def test_history_disabled_gives_no_note(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _scan("history", monkeypatch, history=False).notes == ()


# 5. Hotspots -------------------------------------------------------------------------------


def test_a_hotspot_marker_keeps_the_tuned_copy_separate(monkeypatch: pytest.MonkeyPatch) -> None:
    group, rec = _only(_scan("hotspot_marker", monkeypatch))
    assert group.similarity_min >= 0.8  # would be consolidated without the marker
    assert rec.verdict is Verdict.LEAVE_SEPARATE
    assert rec.rule == "hotspot"
    batch = group.members[_index(group, "src/geometry/batch.py")]
    assert f"src/geometry/batch.py:{batch.start_line}-{batch.end_line}" in rec.reasons[0]
    assert "performance hotspot" in rec.reasons[0]
    assert rec.lines_saved == 0


def test_a_hotspot_glob_keeps_the_matching_copy_separate(monkeypatch: pytest.MonkeyPatch) -> None:
    group, rec = _only(_scan("hotspot_glob", monkeypatch))
    assert rec.rule == "same-domain-similar"
    group, rec = _only(_scan("hotspot_glob", monkeypatch, hotspots=("src/**/*_fast.py",)))
    assert rec.verdict is Verdict.LEAVE_SEPARATE
    assert rec.rule == "hotspot"
    fast = group.members[_index(group, "src/routing/batch_fast.py")]
    assert rec.reasons[0].startswith(f"src/routing/batch_fast.py:{fast.start_line}-")


def test_source_read_for_one_scan_is_not_reused_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two projects with the same relative paths scanned in one process: the second scan
    must read its own files (a hotspot marker and the differences come from the source)."""
    tuned = (PLAN / "hotspot_marker" / "src" / "geometry" / "batch.py").read_text("utf-8")
    plain = (PLAN / "hotspot_marker" / "src" / "geometry" / "distance.py").read_text("utf-8")
    for name, batch in (("marked", tuned), ("unmarked", tuned.replace("  # dupfind: hotspot", ""))):
        (tmp_path / name / "src" / "sameplace").mkdir(parents=True)
        (tmp_path / name / "src" / "sameplace" / "batch_lengths.py").write_text(batch, "utf-8")
        (tmp_path / name / "src" / "sameplace" / "route_lengths.py").write_text(plain, "utf-8")
    _, first = _only(_scan(tmp_path / "marked", monkeypatch))
    _, second = _only(_scan(tmp_path / "unmarked", monkeypatch))
    assert first.rule == "hotspot"
    assert second.rule == "same-domain-similar"


# 6. A long block inside different functions ------------------------------------------------


def test_a_long_block_shared_by_two_functions_is_extracted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group, rec = _only(_scan("long_block", monkeypatch))
    assert [(m.path, m.qualname, m.unit) for m in group.members] == [
        ("src/crm/customer_import.py", "import_customers", UnitKind.BLOCK),
        ("src/crm/lead_import.py", "import_leads", UnitKind.BLOCK),
    ]
    assert group.lines > 50
    assert group.similarity_min == 1.0  # same domain, identical: long-shared-block comes first
    assert rec.verdict is Verdict.EXTRACT
    assert rec.rule == "long-shared-block"
    assert f"a shared block of {group.lines} lines (> 50)" in rec.reasons[0]
    assert rec.lines_saved == _saved_by_extracting(group, rec.canonical)
    assert rec.signature == f"def {group.members[rec.canonical].qualname}_shared()"


def test_a_block_up_to_extract_min_lines_is_not_a_long_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group, rec = _only(_scan("long_block", monkeypatch, extract_min_lines=_block_lines()))
    assert group.lines == _block_lines()
    assert rec.rule == "same-domain-similar"


def _block_lines() -> int:
    """Lines of the shared block in fixtures/plan/long_block (first to last statement)."""
    text = (PLAN / "long_block" / "src" / "crm" / "lead_import.py").read_text("utf-8")
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if "first_name = (row.get" in line)
    last = next(i for i, line in enumerate(lines) if line == "        }")
    return last - first + 1


# 7. Leftovers ------------------------------------------------------------------------------


def _leftovers(result: ScanResult, kind: LeftoverKind) -> list[tuple[Location, ...]]:
    return [item.locations for item in result.leftovers if item.kind is kind]


def _lines(path: Path) -> int:
    return len(path.read_text("utf-8").splitlines())


def test_versioned_files_are_leftovers(monkeypatch: pytest.MonkeyPatch) -> None:
    root = PLAN / "leftovers" / "src"
    result = _scan("leftovers", monkeypatch)
    found = sorted(_leftovers(result, LeftoverKind.VERSIONED_FILE), key=lambda locs: locs[0].path)
    assert found == [
        (
            Location(
                "src/exports/export_20240105.py", 1, _lines(root / "exports/export_20240105.py")
            ),
            Location("src/exports/export.py", 1, _lines(root / "exports/export.py")),
        ),
        (
            Location("src/reports/report_v2.py", 1, _lines(root / "reports/report_v2.py")),
            Location("src/reports/report.py", 1, _lines(root / "reports/report.py")),
        ),
    ], _describe(result)
    by_file = {i.locations[0].path: i for i in result.leftovers if i.kind.value == "versioned-file"}
    v2 = by_file["src/reports/report_v2.py"]
    assert 0.9 <= v2.similarity < 1.0
    assert f"({v2.similarity:.0%} similar)" in v2.reason
    assert "another attempt at src/reports/report.py" in v2.reason
    # a versioned pair is not reported a second time as near-identical siblings
    siblings = {loc.path for locs in _leftovers(result, LeftoverKind.NEAR_IDENTICAL_SIBLINGS)
                for loc in locs}  # fmt: skip
    assert not siblings & set(by_file)


def test_near_identical_sibling_modules_are_leftovers(monkeypatch: pytest.MonkeyPatch) -> None:
    root = PLAN / "leftovers" / "src" / "notify"
    result = _scan("leftovers", monkeypatch)
    (item,) = [i for i in result.leftovers if i.kind is LeftoverKind.NEAR_IDENTICAL_SIBLINGS]
    assert item.locations == (
        Location("src/notify/email_channel.py", 1, _lines(root / "email_channel.py")),
        Location("src/notify/sms_channel.py", 1, _lines(root / "sms_channel.py")),
    )
    assert 0.8 <= item.similarity < 1.0
    assert f"duplicate {item.similarity:.0%} of each other" in item.reason
    group, rec = _by_qualname(result, "EmailChannel")
    assert {m.qualname for m in group.members} == {"EmailChannel", "SmsChannel"}
    assert rec.verdict is Verdict.CONSOLIDATE


def test_commented_out_copy_of_live_code_is_a_leftover_not_a_clone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = "src/pricing/discounts.py"
    lines = (PLAN / "leftovers" / path).read_text("utf-8").splitlines()
    live = lines.index("def loyalty_discount(customer, subtotal):") + 1
    commented = lines.index("# def loyalty_discount(customer, subtotal):") + 1
    result = _scan("leftovers", monkeypatch)
    (item,) = [i for i in result.leftovers if i.kind is LeftoverKind.COMMENTED_OUT]
    assert item.locations == (
        Location(path, commented, commented + 9),
        Location(path, live, live + 9),
    )
    assert item.lines == 10
    assert f"{path}:{commented}-{commented + 9}" in item.reason
    assert "loyalty_discount" in item.reason
    for group in result.groups:
        for member in group.members:
            assert member.unit is not UnitKind.COMMENTED, _describe(result)
            assert member.path != path, _describe(result)


def test_commented_out_copy_under_a_note_is_a_leftover(monkeypatch: pytest.MonkeyPatch) -> None:
    """A note line right above the commented-out code (``# Old rule, …`` then ``#``) is the
    usual way code gets commented out; the code below the note still duplicates live code."""
    path = "src/promotions/loyalty.py"
    lines = (PLAN / "commented_with_note" / path).read_text("utf-8").splitlines()
    commented = lines.index("# def loyalty_discount(customer, subtotal):") + 1
    result = _scan("commented_with_note", monkeypatch)
    found = _leftovers(result, LeftoverKind.COMMENTED_OUT)
    assert [locs[0].path for locs in found] == [path], _describe(result)
    assert found[0][0].start_line in {commented - 2, commented}


# 8. The proposed signature -----------------------------------------------------------------


def test_two_varying_literals_become_two_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    group, rec = _only(_scan("signature_literals", monkeypatch))
    assert group.members[rec.canonical].qualname == "fetch_orders"
    # results/refunds, page/number, response/reply, batch/chunk are renamed locals: cosmetic
    assert rec.signature == 'def fetch_orders(client, since, endpoint="/api/v3/orders", timeout=30)'
    kinds = {(d.kind, d.values) for d in rec.differences}
    assert ("literal", ("30", "120")) in kinds
    assert ("literal", ('"/api/v3/orders"', '"/api/v3/refunds"')) in kinds
    assert ("identifier", ("results", "refunds")) in kinds
    assert ("identifier", ("batch", "chunk")) in kinds


def test_a_varying_literal_and_a_varying_call_become_two_parameters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group, rec = _only(_scan("signature_call", monkeypatch))
    assert group.members[rec.canonical].qualname == "fetch_orders"
    kinds = {(d.kind, d.values) for d in rec.differences}
    assert ("identifier", ("decode_orders", "decode_refunds")) in kinds
    assert ("literal", ("30", "120")) in kinds
    added = _added_parameters(rec.signature, "client, since")
    assert sorted(added) == ["decode_orders", "timeout=30"], rec.signature
    assert _signature_problems(rec.signature) == []


def _added_parameters(signature: str, existing: str) -> list[str]:
    inside = signature[signature.index("(") + 1 : signature.rindex(")")]
    assert inside.startswith(existing), signature
    rest = inside[len(existing) :].lstrip(", ")
    return [p.strip() for p in rest.split(",") if p.strip() not in {"", "*"}]


def _signature_problems(signature: str) -> list[str]:
    """Why ``signature`` could not be pasted into a module: not valid Python, or a default
    that is not a plain literal (an f-string reading a local name fails at import)."""
    if signature.startswith("class "):
        comment = signature.partition("# parameters:")[2].strip()
        if not comment:
            return []
        signature = f"def parameters({comment})"
    try:
        tree = ast.parse(signature + ": ...")
    except SyntaxError as exc:
        return [f"{signature}: {exc.msg}"]
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
    problems = []
    for default in [*function.args.defaults, *function.args.kw_defaults]:
        if default is None:
            continue
        try:
            ast.literal_eval(default)
        except ValueError:
            problems.append(f"{signature}: default {ast.unparse(default)} is not a literal")
    return problems


SIGNATURE_CASES = sorted(p.name for p in PLAN.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", SIGNATURE_CASES)
def test_every_proposed_signature_is_valid_python(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _scan(case, monkeypatch)
    problems = [p for rec in result.recommendations for p in _signature_problems(rec.signature)]
    assert problems == []


# 9. The copy to keep -----------------------------------------------------------------------


def test_the_copy_the_tests_use_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    group, rec = _only(_scan("canonical_tests", monkeypatch))
    names = group.members[_index(group, "src/people/names.py")]
    assert rec.canonical == _index(group, "src/people/names.py") == 1
    assert names.qualname == "display_name"
    # legacy.py's copy is longer (it strips honorifics): tests decide before completeness
    assert names.line_count < group.members[0].line_count
    assert (
        rec.canonical_reason == "its name is the most used in tests (3 occurrences in test files)"
    )
    assert rec.signature.startswith("def display_name(raw, keep_particles=True")


def test_else_the_most_referenced_copy_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    group, rec = _only(_scan("canonical_references", monkeypatch))
    assert [m.qualname for m in group.members] == ["round_for_display", "to_minor_units"]
    assert rec.canonical == 1
    # post, post_transfer, and invoices.py's import and call
    assert rec.canonical_reason == "its name is the most used (4 other occurrences)"


def test_else_the_most_complete_copy_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    group, rec = _only(_scan("canonical_complete", monkeypatch))
    assert [m.qualname for m in group.members] == ["zone_bounds", "viewport"]
    assert rec.canonical == 1
    assert re.fullmatch(r"the most complete \(\d+ tokens\)", rec.canonical_reason)
    assert rec.signature == "def viewport(points, margin=0.01)"


def test_the_canonical_reason_names_the_criterion_that_decided(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """config.py and parsing.py's parse_duration are equally referenced (parse_option calls
    the name), scheduler.py's job_interval is not but is the longest: parsing.py's copy wins
    as the more complete of the two most referenced. It is not first by location, and the
    copies are not otherwise equal."""
    group, rec = _only(_scan("canonical_tie", monkeypatch))
    assert [m.path for m in group.members] == [
        "src/timing/config.py",
        "src/timing/parsing.py",
        "src/timing/scheduler.py",
    ]
    assert rec.canonical == 1
    assert "first by location" not in rec.canonical_reason
    assert "otherwise equal" not in rec.canonical_reason
    assert "its name is the most used" in rec.canonical_reason


# Grouping checks the plan depends on -------------------------------------------------------


def test_a_class_and_its_own_method_are_never_in_one_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EmailChannel ~ SmsChannel (98%) and their notify methods (97%) are two groups, the
    methods' nested in the classes' (so not reported); a member containing another member
    of its own group would be counted twice in lines saved."""
    result = _scan("nested_members", monkeypatch)
    for group in result.groups:
        for first in group.members:
            for second in group.members:
                assert first is second or not first.contains(second), _describe(result)
    group, rec = _only(result)
    assert {m.qualname for m in group.members} == {"EmailChannel", "SmsChannel"}
    assert rec.verdict is Verdict.CONSOLIDATE


def test_three_near_miss_copies_form_one_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three price-list loaders, pairwise 81-90% similar: one group of three. (The wholesale
    loader is 90% similar to the ACME one, yet is missed when the near-miss index selects,
    for each unit, only shingles the two closest copies share.)"""
    group, rec = _only(_scan("near_miss_trio", monkeypatch))
    assert {m.qualname for m in group.members} == {
        "load_acme_prices",
        "load_marketplace_prices",
        "load_wholesale_prices",
    }
    assert rec.verdict is Verdict.CONSOLIDATE


# 10. dupfind plan --------------------------------------------------------------------------


def _plan(root: Path, monkeypatch: pytest.MonkeyPatch, output_format: str) -> str:
    monkeypatch.chdir(root)
    result = CliRunner().invoke(
        app, ["plan", "--format", output_format, "--jobs", "1", "--no-history", "."]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def leftovers_copy(tmp_path: Path) -> Path:
    """The leftovers project outside dupfind's repository (no pyproject.toml above it)."""
    root = tmp_path / "project"
    shutil.copytree(PLAN / "leftovers", root)
    return root


def test_plan_json_orders_groups_by_lines_saved_times_confidence(
    leftovers_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads(_plan(leftovers_copy, monkeypatch, "json"))
    assert data["schema_version"] == 2
    assert data["mode"] == "plan"
    groups = {g["id"]: g for g in data["groups"]}
    assert sorted(data["plan"]) == sorted(groups)
    assert len(groups) == 3
    priorities = [groups[i]["lines_saved"] * groups[i]["confidence"] for i in data["plan"]]
    assert priorities == sorted(priorities, reverse=True)
    assert groups[data["plan"][0]]["members"][0]["qualname"] == "EmailChannel"
    for group in data["groups"]:
        assert group["verdict"] in {"consolidate", "extract", "leave-separate"}
        assert group["reasons"] and group["rule"] and group["canonical_reason"]
    card = data["scorecard"]
    assert card["lines_saved"] == sum(g["lines_saved"] for g in data["groups"])
    assert card["verdicts"] == {"consolidate": 3, "extract": 0, "leave-separate": 0}
    assert card["leftovers"] == len(data["leftovers"]) == 4
    assert {item["kind"] for item in data["leftovers"]} == {
        "versioned-file",
        "near-identical-siblings",
        "commented-out-duplicate",
    }


def test_plan_markdown_has_the_scorecard_and_the_verdicts(
    leftovers_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads(_plan(leftovers_copy, monkeypatch, "json"))
    text = _plan(leftovers_copy, monkeypatch, "markdown")
    assert text.startswith("# dupfind: Refactoring plan\n")
    header = "| files | lines | duplicated lines | lines saved if applied | groups | leftovers |"
    assert header in text
    card = data["scorecard"]
    assert f"| {card['lines_saved']} | 3 (consolidate: 3, extract: 0, leave-separate: 0) |" in text
    headings = re.findall(r"^### (\d+)\. (\S+): `([^`]+)`", text, re.MULTILINE)
    groups = {g["id"]: g for g in data["groups"]}
    expected = [
        (str(n), groups[i]["verdict"], groups[i]["members"][groups[i]["canonical"]]["qualname"])
        for n, i in enumerate(data["plan"], 1)
    ]
    assert headings == expected
    assert text.count("- **Why** (same-domain-similar):") == 3
    assert "## Leftovers of repeated attempts" in text
    assert "| versioned-file | `src/reports/report_v2.py:1-" in text


SUPPLIER = (
    PRICES
    + """
    def prices(self, skus):
        missing = [sku for sku in skus if sku not in self.cache]
        for sku in missing:
            self.price(sku)
        return {{sku: self.cache[sku] for sku in skus}}
"""
)


def test_a_class_copied_into_its_own_subclass_is_told_to_inherit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shop").mkdir()
    bases = "(base.Prices, metaclass=Meta)"
    euro = SUPPLIER.format(decorator="@register\n", name="EuroPrices", bases=bases, path="/v2")
    prices = SUPPLIER.format(decorator="", name="Prices", bases="", path="/v1/price")
    (tmp_path / "shop" / "prices.py").write_text(prices + euro, encoding="utf-8")
    group, rec = _only(_scan(tmp_path, monkeypatch))
    assert {m.qualname for m in group.members} == {"Prices", "EuroPrices"}
    assert rec.reasons[1:] == (
        "EuroPrices already subclasses Prices: let it inherit what they share and override "
        "only what differs",
    )
    other = SUPPLIER.format(decorator="", name="EuroPrices", bases="(Base)", path="/v2")
    (tmp_path / "shop" / "prices.py").write_text(prices + other, encoding="utf-8")
    assert _only(_scan(tmp_path, monkeypatch))[1].reasons[1:] == ()  # no kinship: one reason


OVERRIDE = '''
class {name}{bases}:
    """Prices of one supplier."""
{extra}
    def prices(self, skus):
        missing = [sku for sku in skus if sku not in self.cache]
        for sku in missing:
            self.cache[sku] = self.client.get("{path}", params={{"sku": sku}})
            self.seen.add(sku)
        found = {{sku: self.cache[sku] for sku in skus}}
        self.log.debug("%d prices, %d fetched", len(found), len(missing))
        return found
'''

LOOKUP = """
    def lookup(self, sku, strict=True):
        with self.lock:
            record = self.index.find(sku)
            if record is None and strict:
                raise KeyError(f"unknown sku {sku!r}")
            while record is not None and record.replaced_by:
                record = self.index.find(record.replaced_by)
            return record
"""

CONVERT = """
    async def convert(self, amounts, rates):
        total = 0
        async for amount in amounts:
            rate = await rates.get(amount.currency)
            total += round(amount.value / rate, 2)
            if total > self.ceiling:
                self.alerts.append(("ceiling", total))
        return total
"""


def test_a_method_copied_into_its_subclass_is_an_override_to_trim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shop").mkdir()
    base = OVERRIDE.format(name="Prices", bases="", extra=LOOKUP, path="/v1/price")
    euro = OVERRIDE.format(name="EuroPrices", bases="(Prices)", extra=CONVERT, path="/v2/price")
    (tmp_path / "shop" / "prices.py").write_text(base + euro, encoding="utf-8")
    result = _scan(tmp_path, monkeypatch)
    group, rec = _by_qualname(result, "EuroPrices.prices")
    assert {m.qualname for m in group.members} == {"Prices.prices", "EuroPrices.prices"}
    assert rec.reasons[1:] == (
        "EuroPrices.prices overrides Prices.prices: keep in the override only what differs, "
        "and call super().prices() for the rest",
    )
    assert group.members[rec.canonical].qualname == "Prices.prices"  # the base's copy stays
    assert rec.canonical_reason == "the base class's copy (the others are in its subclasses)"


def test_the_oldest_copy_is_kept_when_nothing_else_separates_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Equal copies of one name: git's age decides; it is looked up only when the copies are
    tied before it (a production copy beats a test copy without asking git)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    (repo / "shop").mkdir(parents=True)
    old_day = NOW - timedelta(days=400)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "shop" / "old.py").write_text(TOTAL, encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "old", when=old_day)
    other = "".join(f"LIMIT_{n} = {n}\n" for n in range(40))  # not a copy of old.py to git
    (repo / "shop" / "new.py").write_text(other + TOTAL, encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "new", when=NOW - timedelta(days=3))
    asked: list[str] = []
    real = history_module.added_times

    def counting(root: Path, log: str) -> dict[str, int]:
        asked.append(log)
        return real(root, log)

    monkeypatch.setattr(history_module, "added_times", counting)
    group, rec = _only(_scan(repo, monkeypatch, history=True, min_lines=3))
    assert group.members[rec.canonical].path == "shop/old.py"
    assert rec.canonical_reason == f"the oldest in git (added {old_day.date().isoformat()})"
    assert len(asked) == 1  # one git log for every file's age
    asked.clear()
    (repo / "tests").mkdir()
    (repo / "tests" / "test_total.py").write_text(TOTAL, encoding="utf-8")
    (repo / "shop" / "new.py").unlink()
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "a test copy")
    group, rec = _only(_scan(repo, monkeypatch, history=True, min_lines=3))
    assert rec.canonical_reason == "the production copy (the others are test code)"
    assert asked == []
