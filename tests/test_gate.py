"""The CI gate end to end: check's exit codes, baselines and changed-code mode on real git
repositories made in temporary directories, and inline suppressions."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from dupfind.cli import app
from tests.conftest import LOADER, LOADER_RENAMED, git

OTHER = '''
def summarise(values, precision):
    """Something else entirely."""
    total = 0
    count = 0
    for value in values:
        if value is None:
            continue
        total += value
        count += 1
    mean = total / count if count else 0.0
    return {"count": count, "mean": round(mean, precision), "total": total}
'''


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "loader.py").write_text(LOADER, encoding="utf-8")
    (root / "app" / "options.py").write_text(LOADER, encoding="utf-8")
    (root / "app" / "stats.py").write_text(OTHER, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "initial")
    monkeypatch.chdir(root)
    return root


def test_check_exit_codes_and_options(repo: Path) -> None:
    assert invoke("check", "app").exit_code == 1
    assert invoke("check", "app", "--exit-zero").exit_code == 0
    assert invoke("check", "app", "--fail-on", "nonsense").exit_code == 2
    (repo / "app" / "options.py").unlink()
    (repo / "lib").mkdir()
    (repo / "lib" / "options.py").write_text(LOADER_RENAMED.replace("strip()", "rstrip()"))
    assert invoke("check", "app", "lib").exit_code == 0  # across domains: extract
    assert invoke("check", "app", "lib", "--fail-on", "extract").exit_code == 1
    assert invoke("check", "app", "lib", "--max-duplication", "5").exit_code == 1
    assert invoke("check", "app", "lib", "--max-duplication", "95").exit_code == 0


def test_leave_separate_never_fails(repo: Path) -> None:
    (repo / "tests").mkdir()
    (repo / "tests" / "test_loader.py").write_text(LOADER, encoding="utf-8")
    (repo / "app" / "options.py").unlink()
    result = invoke("check", "app", "tests", "--fail-on", "extract", "--format", "json")
    assert result.exit_code == 0
    (group,) = json.loads(result.stdout)["groups"]
    assert group["verdict"] == "leave-separate"


def test_baseline_survives_shifts_reformatting_and_unrelated_edits(repo: Path) -> None:
    assert invoke("baseline", "write", "app").exit_code == 0
    assert invoke("check", "app", "--baseline", ".dupfind-baseline.json").exit_code == 0
    options = repo / "app" / "options.py"
    reformatted = "import os\n\n\nCONSTANT = 1\n" + LOADER.replace(
        "(path, defaults)", "( path,defaults )"
    )
    options.write_text(reformatted + "\n\ndef unrelated():\n    return 42\n", encoding="utf-8")
    result = invoke("check", "app", "--baseline", ".dupfind-baseline.json")
    assert result.exit_code == 0, result.output
    assert "1 baselined" in result.stderr


def test_a_group_whose_id_changed_is_accepted_by_the_entry_with_its_members(repo: Path) -> None:
    invoke("baseline", "write", "app")
    path = repo / ".dupfind-baseline.json"
    baseline = json.loads(path.read_text(encoding="utf-8"))
    for entry in baseline["groups"]:  # as an older dupfind, normalising less, wrote them
        entry["id"] = "0" * 16
    path.write_text(json.dumps(baseline), encoding="utf-8")
    result = invoke("check", "app", "--baseline", str(path))
    assert result.exit_code == 0, result.output
    assert "1 baselined, 0 fixed" in result.stderr
    assert invoke("baseline", "prune", "app").exit_code == 0
    assert len(json.loads(path.read_text(encoding="utf-8"))["groups"]) == 1


RUN_1 = """
total = 0
for record in load_records("input.csv"):
    if record.amount > 100:
        total += record.amount * 2
    else:
        total -= record.amount
    audit.append((record.id, total))
print("total", total)
"""
RUN_2 = """
names = []
for entry in os.listdir(settings.ROOT):
    if entry.endswith(".json") and not entry.startswith("_"):
        names.append(os.path.join(settings.ROOT, entry))
    elif entry.endswith(".yaml"):
        warnings.warn("yaml is deprecated: " + entry)
names.sort(key=len)
write_index(names, settings.INDEX)
"""


def test_a_new_run_in_the_same_modules_is_not_accepted_by_their_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    for name, tail in (("a", "unique_a = compute_a(1, 2, 3)\n"), ("b", "unique_b = other(x=4)\n")):
        (tmp_path / "src" / f"{name}.py").write_text("import os\n" + RUN_1 + tail)
    assert invoke("baseline", "write", "src", "--no-history").exit_code == 0
    for name in ("a", "b"):  # both runs are named <module> in a.py and b.py
        path = tmp_path / "src" / f"{name}.py"
        path.write_text(path.read_text() + RUN_2)
    result = invoke("check", "src", "--no-history", "--baseline", ".dupfind-baseline.json")
    assert result.exit_code == 1, result.output
    assert "1 baselined, 0 fixed" in result.stderr


def test_a_whole_function_copy_does_not_take_the_entry_of_a_run_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    run, tail = (textwrap.indent(code.strip("\n") + "\n", "    ") for code in (RUN_1, RUN_2))
    other = textwrap.indent(textwrap.dedent(OTHER).split(":\n", 1)[1], "")
    (tmp_path / "src" / "a.py").write_text(f"def f(path):\n{run}{tail}")
    (tmp_path / "src" / "b.py").write_text(f"def g(values, precision):\n{run}{other}")
    assert invoke("baseline", "write", "src", "--no-history").exit_code == 0
    entries = json.loads((tmp_path / ".dupfind-baseline.json").read_text())["groups"]
    assert [entry.get("blocks") for entry in entries] == [True]  # a run inside f and g
    (tmp_path / "src" / "b.py").write_text(f"def g(path):\n{run}{tail}")
    result = invoke("check", "src", "--no-history", "--baseline", ".dupfind-baseline.json")
    assert result.exit_code == 1, result.output  # now the whole functions: new duplication
    assert "0 baselined, 1 fixed" in result.stderr


def test_a_new_copy_fails_and_the_old_group_is_fixed_then_pruned(repo: Path) -> None:
    invoke("baseline", "write", "app")
    (repo / "app" / "third.py").write_text(LOADER, encoding="utf-8")
    result = invoke("check", "app", "--baseline", ".dupfind-baseline.json")
    assert result.exit_code == 1
    assert "1 fixed" in result.stderr and "fixed:" in result.stderr
    assert invoke("baseline", "prune", "app").exit_code == 0
    baseline = json.loads((repo / ".dupfind-baseline.json").read_text(encoding="utf-8"))
    assert baseline["groups"] == []


def test_missing_baseline_is_a_usage_error(repo: Path) -> None:
    result = invoke("check", "app", "--baseline", "nowhere.json")
    assert result.exit_code == 2
    assert "baseline write" in result.stderr


def test_diff_mode_catches_a_new_copy_of_unchanged_code(repo: Path) -> None:
    (repo / "app" / "options.py").write_text(OTHER.replace("summarise", "describe"))
    git(repo, "commit", "-qam", "options is different now")
    assert invoke("check", "app", "--diff", "HEAD").exit_code == 0  # stats ~ options: old
    (repo / "app" / "report.py").write_text("X = 1\n" + LOADER, encoding="utf-8")  # untracked
    result = invoke("check", "app", "--diff", "HEAD", "--format", "json")
    assert result.exit_code == 1
    (group,) = json.loads(result.stdout)["groups"]
    assert {m["path"] for m in group["members"]} == {"app/loader.py", "app/report.py"}


def test_diff_mode_from_a_subdirectory(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From docs/, app's files are spelled ../app/x.py by git and absolutely in reports."""
    (repo / "app" / "options.py").write_text(OTHER.replace("summarise", "describe"))
    git(repo, "commit", "-qam", "options is different now")
    (repo / "docs").mkdir()
    monkeypatch.chdir(repo / "docs")
    (repo / "app" / "report.py").write_text("X = 1\n" + LOADER, encoding="utf-8")  # untracked
    assert invoke("check", "../app", "--diff", "HEAD").exit_code == 1
    (repo / "app" / "report.py").unlink()
    (repo / "app" / "stats.py").write_text(OTHER + LOADER, encoding="utf-8")  # tracked, edited
    assert invoke("check", "../app", "--diff", "HEAD").exit_code == 1


def test_diff_mode_ignores_duplication_outside_the_change(repo: Path) -> None:
    stats = repo / "app" / "stats.py"
    stats.write_text(OTHER + "\n\ndef helper():\n    return None\n", encoding="utf-8")
    result = invoke("check", "app", "--diff", "HEAD")
    assert result.exit_code == 0, result.output  # loader/options duplication is old
    assert invoke("check", "app").exit_code == 1


def test_diff_needs_a_valid_ref(repo: Path) -> None:
    result = invoke("check", "app", "--diff", "no-such-ref")
    assert result.exit_code == 2
    assert "git diff" in result.stderr


def test_inline_suppressions(repo: Path) -> None:
    options = repo / "app" / "options.py"
    marked = LOADER.replace("def load_settings(path, defaults):",
                            "def load_settings(path, defaults):  # dupfind: ignore")  # fmt: skip
    options.write_text(marked, encoding="utf-8")
    result = invoke("check", "app", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["suppressed"] == 1
    assert invoke("check", "app", "--no-suppress").exit_code == 1
    region = "# dupfind: ignore-start\n" + LOADER + "# dupfind: ignore-end\n"
    options.write_text(region, encoding="utf-8")
    assert invoke("check", "app").exit_code == 0


def test_check_reports_only_the_failing_scope(repo: Path) -> None:
    (repo / "lib").mkdir()
    (repo / "lib" / "one.py").write_text(textwrap.dedent(OTHER), encoding="utf-8")
    result = invoke("check", "app", "lib", "--format", "json")
    document = json.loads(result.stdout)
    assert document["mode"] == "check"
    assert len(document["groups"]) == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--fail-on", "bogus"], "--fail-on: expected one of"),
        (["--baseline", "missing.json"], "missing.json"),
        (["--diff", "HEAD"], "is not inside a git repository"),
    ],
)
def test_check_reports_a_bad_command_line_before_scanning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str], message: str
) -> None:
    import dupfind.cli

    def no_scan(*args: object) -> None:
        raise AssertionError("scanned before the command line was checked")

    (tmp_path / "a.py").write_text(LOADER, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(dupfind.cli, "run_scan", no_scan)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = invoke("check", ".", *arguments)
    assert result.exit_code == 2, result.output
    assert message in result.output


@pytest.mark.parametrize("name", ["données.py", 'odd "name"\t.py', "with space.py"])
def test_diff_mode_reads_the_names_git_quotes(repo: Path, name: str) -> None:
    """git C-quotes a name holding a byte past ASCII, a quote or a control character, and
    ends one holding a space with a tab; its changed lines still count."""
    (repo / "app" / name).write_text(OTHER, encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "a file with an odd name")
    assert invoke("check", "app", "--diff", "HEAD").exit_code == 0
    (repo / "app" / name).write_text(OTHER + "\n" + LOADER, encoding="utf-8")  # tracked, edited
    assert invoke("check", "app", "--diff", "HEAD").exit_code == 1


@pytest.mark.parametrize(
    "setting", ["diff.mnemonicPrefix=true", "diff.noprefix=true", "diff.relative=true"]
)
def test_diff_mode_does_not_depend_on_how_the_user_has_git_show_diffs(
    repo: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    name, value = setting.split("=")
    git(repo, "config", name, value)
    monkeypatch.chdir(repo / "app")  # diff.relative: names relative to here
    (repo / "app" / "stats.py").write_text(OTHER + LOADER, encoding="utf-8")  # tracked, edited
    assert invoke("check", ".", "--diff", "HEAD").exit_code == 1
