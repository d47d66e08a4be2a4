"""The command line: exit codes, messages, configuration precedence and the JSON report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import dupfind.executor
from dupfind import __version__
from dupfind.cli import app
from tests.conftest import LOADER, LOADER_RENAMED, TreeWriter

UNIQUE = '''
def render_table(rows, widths):
    """Format rows as fixed-width text."""
    out = []
    for row in rows:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths)]
        out.append(" | ".join(cells))
    return "\\n".join(out)
'''

TOP_KEYS = {
    "schema_version",
    "tool",
    "mode",
    "files_scanned",
    "lines_scanned",
    "duplicated_lines",
    "duplicated_percent",
    "scorecard",
    "plan",
    "groups",
    "leftovers",
    "directories",
    "notes",
    "skipped",
    "suppressed",
}
GROUP_KEYS = {
    "id", "kind", "similarity_min", "similarity_mean", "lines", "members", "verdict", "rule",
    "reasons", "confidence", "canonical", "canonical_reason", "signature", "lines_saved",
    "differences",
}  # fmt: skip
MEMBER_KEYS = {"path", "start_line", "end_line", "qualname", "unit", "domain"}
SKIPPED_KEYS = {"path", "reason", "line", "partial"}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def repo(make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with one duplicated function (an exact and a renamed copy) and clean code.

    The ``.git`` directory stops the pyproject.toml and .gitignore lookups at the tree, and the
    working directory is the tree's root.
    """
    root = make_tree(
        {
            "src/app/loader.py": LOADER,
            "src/app/loader_copy.py": LOADER,
            "src/app/options.py": LOADER_RENAMED,
            "src/app/table.py": UNIQUE,
        }
    )
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def clean(make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_tree({"pkg/table.py": UNIQUE, "pkg/small.py": "x = 1\n"})
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    return root


def scan_json(*args: str) -> dict[str, Any]:
    result = invoke("scan", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def member_paths(document: dict[str, Any]) -> list[list[str]]:
    return [[m["path"] for m in group["members"]] for group in document["groups"]]


def all_member_paths(document: dict[str, Any]) -> set[str]:
    return {path for paths in member_paths(document) for path in paths}


# --- exit codes ---------------------------------------------------------------------------------


def test_clean_scan_exits_0(clean: Path) -> None:
    result = invoke("scan", "pkg")

    assert result.exit_code == 0, result.output
    assert "2 files" in result.stdout
    assert "0 clone groups" in result.stdout
    assert result.stderr == ""


def test_scan_with_duplicates_still_exits_0(repo: Path) -> None:
    result = invoke("scan", "src")

    assert result.exit_code == 0, result.output
    assert "src/app/loader.py" in result.stdout
    assert "src/app/options.py" in result.stdout
    assert "load_settings" in result.stdout


def test_scan_defaults_to_the_working_directory(repo: Path) -> None:
    document = scan_json()

    assert document["files_scanned"] == 4
    assert {"src/app/loader.py", "src/app/options.py"} <= all_member_paths(document)


def test_missing_path_exits_2(repo: Path) -> None:
    result = invoke("scan", "src", "does-not-exist")

    assert result.exit_code == 2
    assert result.stderr.startswith("dupfind: error: ")
    assert "does-not-exist" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "option", "expected"),
    [
        (["--min-similarity", "2"], "--min-similarity", "between 0 and 1"),
        (["--min-lines", "0"], "--min-lines", "whole number >= 1"),
        (["--jobs", "-1"], "--jobs", "whole number >= 0"),
        (["--max-file-size", "huge"], "--max-file-size", "positive size"),
        (["--format", "xml"], "--format", "terminal, json"),
    ],
)
def test_bad_option_value_exits_2(repo: Path, args: list[str], option: str, expected: str) -> None:
    result = invoke("scan", "src", *args)

    assert result.exit_code == 2, result.output
    assert "dupfind: error:" in result.stderr
    assert option in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.output


def test_non_numeric_option_value_exits_2(repo: Path) -> None:
    result = invoke("scan", "src", "--min-lines", "many")

    assert result.exit_code == 2
    assert "--min-lines" in result.stderr


def test_unknown_key_in_pyproject_exits_2(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.dupfind]\nmin_line = 3\n", encoding="utf-8")

    result = invoke("scan", "src")

    assert result.exit_code == 2, result.output
    assert "pyproject.toml" in result.stderr
    assert "min_line" in result.stderr
    assert "Did you mean 'min-lines'" in result.stderr
    assert result.stdout == ""


def test_malformed_toml_exits_2(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.dupfind\nmin-lines = 3\n", encoding="utf-8")

    result = invoke("scan", "src")

    assert result.exit_code == 2, result.output
    assert "invalid TOML" in result.stderr
    assert "pyproject.toml" in result.stderr


def test_missing_config_file_exits_2(repo: Path) -> None:
    result = invoke("scan", "src", "--config", "absent.toml")

    assert result.exit_code == 2
    assert "absent.toml" in result.stderr
    assert "cannot read" in result.stderr


def test_unwritable_output_exits_2(repo: Path) -> None:
    (repo / "out").mkdir()

    result = invoke("scan", "src", "--format", "json", "--output", "out")

    assert result.exit_code == 2
    assert "cannot write the report" in result.stderr


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom")


def test_internal_error_exits_3_without_traceback(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dupfind.cli.run_scan", _boom)

    result = invoke("scan", "src")

    assert result.exit_code == 3
    assert "internal error" in result.stderr
    assert "report" in result.stderr
    assert "boom" in result.stderr
    assert "--debug" in result.stderr
    assert "Traceback" not in result.output


def test_internal_error_with_debug_shows_the_traceback(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dupfind.cli.run_scan", _boom)

    result = invoke("scan", "src", "--debug")

    assert result.exit_code == 3
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: boom" in result.stderr
    assert "internal error" in result.stderr


def test_keyboard_interrupt_exits_130(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("dupfind.cli.run_scan", interrupt)

    result = invoke("scan", "src")

    assert result.exit_code == 130
    assert "interrupted" in result.stderr


def test_version() -> None:
    result = invoke("--version")

    assert result.exit_code == 0
    assert result.stdout.strip() == f"dupfind {__version__}"


def test_help_shows_bracketed_text_as_written() -> None:
    scan_help = " ".join(invoke("scan", "--help").stdout.split())
    assert "Honour .gitignore [on]." in scan_help  # not swallowed as rich markup
    assert "Read [tool.dupfind] from this file." in scan_help
    assert "pip install 'dupfind[dask]'" in scan_help
    baseline_help = invoke("baseline", "write", "--help").stdout
    assert "--format" not in baseline_help and "--output" not in baseline_help  # no report


def test_help_documents_the_exit_codes() -> None:
    result = invoke("--help")

    text = " ".join(result.stdout.split())  # rich wraps the help text
    assert result.exit_code == 0
    assert "Exit codes: 0 success" in text
    assert "2 usage, configuration or input error; 3 internal error" in text
    assert "scan" in text


# --- JSON report --------------------------------------------------------------------------------


def test_json_output_file_has_the_documented_schema(repo: Path) -> None:
    (repo / "src" / "app" / "huge.py").write_text("x = 1\n" * 400, encoding="utf-8")

    result = invoke(
        "scan", "src", "--format", "json", "--output", "report.json", "--max-file-size", "1k"
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    document = json.loads((repo / "report.json").read_text(encoding="utf-8"))
    assert set(document) == TOP_KEYS
    assert document["schema_version"] == 2
    assert document["tool"] == {"name": "dupfind", "version": __version__}
    assert document["files_scanned"] == 4
    assert document["lines_scanned"] > 0
    assert 0 < document["duplicated_lines"] <= document["lines_scanned"]
    assert document["groups"], "the duplicated loader should be found"
    for group in document["groups"]:
        assert set(group) == GROUP_KEYS
        assert group["kind"] in {"exact", "renamed", "near-miss"}
        assert isinstance(group["id"], str)
        assert group["id"]
        assert 0 <= group["similarity_min"] <= group["similarity_mean"] <= 1
        assert len(group["members"]) >= 2
        for member in group["members"]:
            assert set(member) == MEMBER_KEYS
            assert 1 <= member["start_line"] <= member["end_line"]
        assert group["lines"] == max(m["end_line"] - m["start_line"] + 1 for m in group["members"])
    loader_group = next(
        g for g in document["groups"] if "src/app/options.py" in {m["path"] for m in g["members"]}
    )
    assert {(m["path"], m["qualname"]) for m in loader_group["members"]} >= {
        ("src/app/loader.py", "load_settings"),
        ("src/app/options.py", "read_options"),
    }
    assert [set(item) for item in document["skipped"]] == [SKIPPED_KEYS]
    assert document["skipped"][0]["path"] == "src/app/huge.py"
    assert "max-file-size" in document["skipped"][0]["reason"]


def test_json_paths_are_relative_to_the_working_directory(repo: Path) -> None:
    document = scan_json(str(repo / "src"))

    paths = all_member_paths(document)
    assert paths
    assert all(not Path(p).is_absolute() and p.startswith("src/app/") for p in paths)


def test_json_paths_are_relative_when_run_from_a_subdirectory(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo / "src")

    document = scan_json("app")

    assert {"app/loader.py", "app/options.py"} <= all_member_paths(document)


def test_json_report_does_not_depend_on_how_the_path_is_spelled(repo: Path) -> None:
    relative = invoke("scan", "src", "--format", "json")
    absolute = invoke("scan", str(repo / "src"), "--format", "json")

    assert relative.exit_code == absolute.exit_code == 0
    assert json.loads(relative.stdout)["groups"]
    assert relative.stdout == absolute.stdout


def test_json_to_stdout(repo: Path) -> None:
    document = scan_json("src")

    assert set(document) == TOP_KEYS
    assert document["files_scanned"] == 4


# --- configuration precedence -------------------------------------------------------------------


def test_pyproject_settings_apply(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.dupfind]\nmin-lines = 100\n", encoding="utf-8")

    document = scan_json("src")

    assert document["files_scanned"] == 4
    assert document["groups"] == []


def test_cli_options_override_pyproject(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.dupfind]\nmin-lines = 100\n", encoding="utf-8")

    document = scan_json("src", "--min-lines", "6")

    assert {"src/app/loader.py", "src/app/options.py"} <= all_member_paths(document)


def test_pyproject_format_is_used_and_cli_format_overrides_it(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.dupfind]\nformat = "json"\n', encoding="utf-8")

    as_json = invoke("scan", "src")
    as_text = invoke("scan", "src", "--format", "terminal")

    assert as_json.exit_code == as_text.exit_code == 0
    assert json.loads(as_json.stdout)["schema_version"] == 2
    assert "Summary:" in as_text.stdout
    assert not as_text.stdout.lstrip().startswith("{")


def test_config_option_reads_the_given_file(repo: Path, tmp_path_factory: Any) -> None:
    elsewhere = tmp_path_factory.mktemp("conf") / "dupfind.toml"
    elsewhere.write_text("[tool.dupfind]\nmin-lines = 100\n", encoding="utf-8")

    assert scan_json("src")["groups"]
    assert scan_json("src", "--config", str(elsewhere))["groups"] == []


def test_config_option_replaces_the_pyproject(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.dupfind]\nmin-lines = 100\n", encoding="utf-8")
    (repo / "relaxed.toml").write_text("[tool.dupfind]\nmin-lines = 6\n", encoding="utf-8")

    assert scan_json("src")["groups"] == []
    assert scan_json("src", "--config", "relaxed.toml")["groups"]


def test_pyproject_exclude_applies(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        '[tool.dupfind]\nexclude = ["options.py", "loader_copy.py"]\n', encoding="utf-8"
    )

    document = scan_json("src")

    assert document["files_scanned"] == 2
    assert document["groups"] == []


def test_exclude_option_is_repeatable(repo: Path) -> None:
    assert scan_json("src", "--exclude", "options.py")["files_scanned"] == 3

    document = scan_json("src", "--exclude", "options.py", "--exclude", "loader_copy.py")

    assert document["files_scanned"] == 2
    assert document["groups"] == []


def test_no_gitignore_option(repo: Path) -> None:
    (repo / ".gitignore").write_text("options.py\n", encoding="utf-8")

    assert "src/app/options.py" not in all_member_paths(scan_json("src"))
    assert "src/app/options.py" in all_member_paths(scan_json("src", "--no-gitignore"))


def test_max_file_size_option(repo: Path) -> None:
    document = scan_json("src", "--max-file-size", "100b")

    assert document["files_scanned"] == 0
    assert len(document["skipped"]) == 4
    assert all("max-file-size" in item["reason"] for item in document["skipped"])


# --- determinism --------------------------------------------------------------------------------


def test_two_runs_give_byte_identical_json(repo: Path) -> None:
    first = invoke("scan", "src", "--format", "json", "--output", "first.json")
    second = invoke("scan", "src", "--format", "json", "--output", "second.json")

    assert first.exit_code == second.exit_code == 0
    data = (repo / "first.json").read_bytes()
    assert json.loads(data)["groups"]
    assert data == (repo / "second.json").read_bytes()


FAMILIES = (LOADER, LOADER_RENAMED, UNIQUE)


@pytest.fixture
def big_tree(make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch) -> Path:
    files: dict[str, str] = {}
    for index in range(32):
        body = FAMILIES[index % 3]
        extra = f"\n\ndef helper_{index}(value):\n    return value * {index} + {index * 7}\n"
        files[f"pkg/mod_{index:02d}/part_{index}.py"] = body + extra
    root = make_tree(files)
    (root / ".git").mkdir()
    monkeypatch.chdir(root)
    return root


def test_jobs_1_and_jobs_2_give_identical_json(
    big_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pools: list[int | None] = []

    class SpyPool(ProcessPoolExecutor):
        def __init__(self, max_workers: int | None = None, **kwargs: Any) -> None:
            pools.append(max_workers)
            super().__init__(max_workers=max_workers, **kwargs)

    monkeypatch.setattr(dupfind.executor, "ProcessPoolExecutor", SpyPool)

    serial = invoke("scan", "pkg", "--format", "json", "--jobs", "1", "--no-cache")
    assert pools == []
    parallel = invoke("scan", "pkg", "--format", "json", "--jobs", "2", "--no-cache")
    assert pools == [2], "a scan of 32 files with --jobs 2 should use the process pool"

    assert serial.exit_code == parallel.exit_code == 0, parallel.output
    document = json.loads(serial.stdout)
    assert document["files_scanned"] == 32
    assert len(document["groups"]) >= 1
    assert serial.stdout == parallel.stdout


def test_subprocess_smoke(make_tree: TreeWriter) -> None:
    root = make_tree({"a/one.py": LOADER, "a/two.py": LOADER})
    (root / ".git").mkdir()

    completed = subprocess.run(
        [sys.executable, "-m", "dupfind", "scan", "a", "--format", "json"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert document["schema_version"] == 2
    assert document["files_scanned"] == 2
    assert member_paths(document) == [["a/one.py", "a/two.py"]]


class _Exited(Exception):
    pass


@pytest.mark.parametrize(
    ("raised", "status", "printed"),
    [(None, 0, ""), (SystemExit(), 0, ""), (SystemExit(3), 3, ""), (SystemExit("boom"), 1, "boom")],
)
def test_the_entry_point_exits_with_the_commands_status_without_teardown(
    raised: SystemExit | None,
    status: int,
    printed: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``main`` ends through ``os._exit`` (the heap is not freed object by object) with what
    ``sys.exit`` would have meant."""
    import dupfind.cli as cli

    def command() -> None:
        print("report")
        if raised is not None:
            raise raised

    def exit_now(code: int) -> None:
        raise _Exited(code)

    monkeypatch.setattr(cli, "app", command)
    monkeypatch.setattr(cli.os, "_exit", exit_now)
    with pytest.raises(_Exited) as exited:
        cli.main()
    assert exited.value.args == (status,)
    out, err = capsys.readouterr()
    assert out == "report\n"
    assert err.strip() == printed


def test_the_console_script_keeps_its_exit_statuses(tmp_path: Path) -> None:
    """The real process: 0 with no finding, 2 for a usage error, 1 when the gate fails."""
    script = Path(sys.executable).parent / "dupfind"
    (tmp_path / "a.py").write_text(LOADER, encoding="utf-8")
    (tmp_path / "b.py").write_text(LOADER_RENAMED, encoding="utf-8")
    clean = subprocess.run([str(script), "scan", str(tmp_path / "a.py"), "--no-cache"],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert clean.returncode == 0 and "Summary: 1 file" in clean.stdout
    bad = subprocess.run([str(script), "scan", str(tmp_path / "missing")], capture_output=True,
                         text=True, check=False)  # fmt: skip
    assert bad.returncode == 2 and "no such file" in bad.stderr
    gate = subprocess.run([str(script), "check", str(tmp_path), "--no-cache"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert gate.returncode == 1 and "actionable" in gate.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_output_that_cannot_be_written_is_an_error(tmp_path: Path) -> None:
    """The report goes to a full disk: the run fails and says so (the flush at exit)."""
    script = Path(sys.executable).parent / "dupfind"
    (tmp_path / "a.py").write_text(LOADER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open("/dev/full", "w") as full:
        done = subprocess.run([str(script), "scan", str(tmp_path), "--no-cache"], stdout=full,
                              stderr=subprocess.PIPE, text=True, env=env, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "cannot write the output: No space left on device" in done.stderr


@pytest.mark.skipif(
    sys.platform != "linux", reason="a file name that is not UTF-8 (Linux allows it)"
)
def test_a_file_name_that_is_not_utf8_is_reported_in_every_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written back as its bytes to a report file, as Python writes it to stdout, and
    percent-encoded byte for byte in SARIF: never an internal error."""
    (tmp_path / "b.py").write_text(LOADER, encoding="utf-8")
    with open(os.path.join(os.fsencode(tmp_path), b"a\xff.py"), "w", encoding="utf-8") as copy:
        copy.write(LOADER)
    monkeypatch.chdir(tmp_path)
    for output_format in ("terminal", "json", "sarif"):
        report = tmp_path / f"report.{output_format}"
        done = invoke("scan", ".", "--no-cache", "--format", output_format, "-o", str(report))
        assert done.exit_code == 0, done.output
        written = report.read_bytes()
        assert (b"a%FF.py" if output_format == "sarif" else b"a\xff.py") in written
