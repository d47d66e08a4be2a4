"""The pre-commit hook (.pre-commit-hooks.yaml) and the GitHub Action (action.yml): their
declared shape, and their commands run here the way pre-commit and the Actions runner would."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtual environment's bin, where `dupfind` lives
CASES = FIXTURES / "cases"


def _load(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def _env(**extra: str) -> dict[str, str]:
    return os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"} | extra


@pytest.fixture(scope="module")
def hook() -> dict[str, Any]:
    hooks = _load(".pre-commit-hooks.yaml")
    assert isinstance(hooks, list)
    (only,) = hooks
    assert isinstance(only, dict)
    return only


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    document = _load("action.yml")
    assert isinstance(document, dict)
    return document


def _step(action: dict[str, Any], needle: str) -> dict[str, Any]:
    """The one step whose `uses` or `run` contains ``needle``."""
    found = [
        step
        for step in action["runs"]["steps"]
        if needle in step.get("uses", "") or needle in step.get("run", "")
    ]
    assert len(found) == 1, needle
    step: dict[str, Any] = found[0]
    return step


def test_pre_commit_hook_runs_the_gate(hook: dict[str, Any]) -> None:
    assert hook["id"] == "dupfind"
    assert hook["name"] and hook["description"]
    assert hook["entry"] == "dupfind check"
    assert hook["language"] == "python"
    assert hook["types"] == ["python"]
    assert hook["pass_filenames"] is False
    assert hook["require_serial"] is True


@pytest.mark.parametrize(("case", "code"), [("three_copies", 1), ("dissimilar_shapes", 0)])
def test_pre_commit_entry_exits_like_the_gate(hook: dict[str, Any], case: str, code: int) -> None:
    # pre-commit runs `entry` followed by the hook's args (no file names: pass_filenames false).
    command = [*shlex.split(hook["entry"]), str(CASES / case)]
    done = subprocess.run(command, env=_env(), capture_output=True, text=True, check=False)
    assert done.returncode == code, done.stderr
    assert "dupfind check:" in done.stderr


def test_action_is_composite_with_the_documented_inputs(action: dict[str, Any]) -> None:
    assert action["name"] == "dupfind"
    assert action["description"]
    assert action["runs"]["using"] == "composite"
    defaults = {name: spec["default"] for name, spec in action["inputs"].items()}
    assert defaults == {
        "paths": ".",
        "fail-on": "consolidate",
        "baseline": "",
        "args": "",
        "python-version": "3.11",
        "upload-sarif": "true",
        "cache": "true",
    }
    for spec in action["inputs"].values():
        assert spec["description"]
    assert set(action["outputs"]) == {"exit-code", "sarif-file"}


def test_action_steps(action: dict[str, Any]) -> None:
    setup = _step(action, "actions/setup-python@")
    assert setup["uses"] == "actions/setup-python@v5"
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
    install = _step(action, "pip install")
    assert install["env"]["DUPFIND_SOURCE"] == "${{ github.action_path }}"

    check = _step(action, "dupfind check")
    assert check["id"] == "check"
    assert "--format sarif --output dupfind.sarif" in check["run"]
    assert '--fail-on "$DUPFIND_FAIL_ON"' in check["run"]
    assert "--baseline" in check["run"]
    assert check["env"]["DUPFIND_FAIL_ON"] == "${{ inputs.fail-on }}"

    summary = _step(action, "dupfind plan")
    assert "--format markdown" in summary["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in summary["run"]
    assert "always()" in summary["if"]

    restore, save = _step(action, "actions/cache/restore@"), _step(action, "actions/cache/save@")
    assert restore["uses"] == "actions/cache/restore@v4" and save["uses"] == "actions/cache/save@v4"
    steps = action["runs"]["steps"]
    assert steps.index(restore) < steps.index(check) < steps.index(save) < len(steps) - 1
    assert restore["with"]["path"] == save["with"]["path"] == check["env"]["DUPFIND_CACHE_DIR"]
    key = "dupfind-${{ runner.os }}-${{ github.job }}-${{ github.sha }}"
    assert restore["with"]["key"] == save["with"]["key"] == key
    assert restore["with"]["restore-keys"] == "dupfind-${{ runner.os }}-${{ github.job }}-"
    assert "inputs.cache == 'true'" in restore["if"]
    assert "always()" in save["if"]  # saved when the gate fails the job too
    assert "steps.restore.outputs.cache-hit != 'true'" in save["if"]

    upload = _step(action, "upload-sarif")
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["with"]["sarif_file"] == "dupfind.sarif"
    assert "always()" in upload["if"]
    assert "inputs.upload-sarif == 'true'" in upload["if"]

    last = action["runs"]["steps"][-1]
    assert last["env"]["DUPFIND_EXIT"] == "${{ steps.check.outputs.exit-code }}"
    assert last["run"].startswith("exit ")
    assert "if" not in last  # runs only when everything before succeeded, then fails like check


def test_action_scripts_take_inputs_from_the_environment(action: dict[str, Any]) -> None:
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"  # required in composite actions
            assert "${{" not in step["run"]  # no expression spliced into a script


def _inputs(action: dict[str, Any], temp: Path, **given: str) -> dict[str, str]:
    """The `inputs` context: the defaults, overridden by ``given`` (underscores for dashes);
    and the runner's temporary directory, ``temp``."""
    values = {name: str(spec["default"]) for name, spec in action["inputs"].items()}
    values |= {name.replace("_", "-"): value for name, value in given.items()}
    return {f"inputs.{name}": value for name, value in values.items()} | {"runner.temp": str(temp)}


def _run_step(step: dict[str, Any], context: dict[str, str], cwd: Path, **env: str) -> int:
    """Run a step's script as the Actions runner does, its `env` expressions looked up in
    ``context`` ({"inputs.paths": ".", ...})."""

    def expand(value: str) -> str:
        return re.sub(r"\$\{\{ ([\w.-]+) \}\}", lambda match: context[match.group(1)], value)

    script = cwd.parent / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    variables = {name: expand(str(value)) for name, value in step.get("env", {}).items()}
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env=_env(**variables, **env),
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode


@pytest.mark.parametrize(
    ("case", "fail_on", "code"),
    [("three_copies", "consolidate", 1), ("renamed_vars", "consolidate", 0),
     ("renamed_vars", "extract", 1)],
)  # fmt: skip
def test_action_gate_runs_like_on_a_runner(
    action: dict[str, Any], tmp_path: Path, case: str, fail_on: str, code: int
) -> None:
    project = tmp_path / "project"
    shutil.copytree(CASES / case, project)
    inputs = _inputs(action, tmp_path, fail_on=fail_on, args="--no-history", cache="True")
    outputs, summary = tmp_path / "output.txt", tmp_path / "summary.md"
    runner = {"GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)}

    assert _run_step(_step(action, "dupfind check"), inputs, project, **runner) == 0
    written = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert written == {"exit-code": str(code), "sarif-file": "dupfind.sarif"}
    sarif = json.loads((project / "dupfind.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["results"]

    assert _run_step(_step(action, "dupfind plan"), inputs, project, **runner) == 0
    assert summary.read_text(encoding="utf-8").startswith("# dupfind: Refactoring plan")
    info = ["dupfind", "cache", "info", "--cache-dir", str(tmp_path / "dupfind-cache")]
    shown = subprocess.run(info, env=_env(), capture_output=True, text=True, check=True).stdout
    assert "(100% hit rate)" in shown  # the cache the action saves; plan reused check's files

    last = action["runs"]["steps"][-1]
    assert _run_step(last, {"steps.check.outputs.exit-code": written["exit-code"]}, project) == code


def test_action_baseline_input(action: dict[str, Any], tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(CASES / "three_copies", project)
    accept = ["dupfind", "baseline", "write", ".", "--no-history", "--baseline", "base line.json"]
    subprocess.run(accept, cwd=project, env=_env(), capture_output=True, check=True)
    inputs = _inputs(
        action, tmp_path, baseline="base line.json", args="--no-history", cache="false"
    )
    outputs = tmp_path / "output.txt"
    assert (
        _run_step(_step(action, "dupfind check"), inputs, project, GITHUB_OUTPUT=str(outputs)) == 0
    )
    assert "exit-code=0" in outputs.read_text().splitlines()
    assert not (tmp_path / "dupfind-cache").exists()  # cache: false, the default location
