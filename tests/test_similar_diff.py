"""dupfind similar --diff BASE on real git repositories made in temporary directories: every
function added or changed since BASE is searched for, and exit 1 says "you may be rewriting"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from dupfind.cli import app
from tests.conftest import LOADER, LOADER_RENAMED, git
from tests.test_gate import OTHER


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "loader.py").write_text(LOADER, encoding="utf-8")
    (root / "app" / "stats.py").write_text(OTHER, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "initial")
    monkeypatch.chdir(root)
    return root


def _diff(*args: str) -> tuple[int, dict[str, object]]:
    result = invoke("similar", "--diff", "HEAD", *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def test_a_new_file_rewriting_existing_code_fails(repo: Path) -> None:
    (repo / "app" / "options.py").write_text(LOADER_RENAMED, encoding="utf-8")  # untracked
    code, document = _diff("app")
    assert code == 1
    assert (document["mode"], document["base"], document["targets"]) == ("similar-diff", "HEAD", 1)
    (found,) = document["results"]  # type: ignore[misc]
    assert (found["target"]["path"], found["target"]["qualname"]) == (
        "app/options.py",
        "read_options",
    )
    assert [(m["path"], m["qualname"], m["kind"]) for m in found["matches"]] == [
        ("app/loader.py", "load_settings", "renamed")
    ]
    assert invoke("similar", "--diff", "HEAD", "app", "--exit-zero").exit_code == 0


def test_only_functions_touching_changed_lines_are_targets(repo: Path) -> None:
    stats = repo / "app" / "stats.py"
    edited = LOADER.replace("load_settings", "load_stats").replace(
        "    return settings", '    settings.pop("debug", None)\n    return settings'
    )
    stats.write_text(OTHER + "\n" + edited, encoding="utf-8")
    code, document = _diff()
    assert code == 1
    assert document["targets"] == 1  # load_stats; summarise did not change
    (found,) = document["results"]  # type: ignore[misc]
    assert found["target"]["qualname"] == "load_stats"
    assert found["matches"][0]["qualname"] == "load_settings"
    assert found["matches"][0]["kind"] == "near-miss"


def test_new_code_unlike_anything_passes(repo: Path) -> None:
    helper = (  # big enough to be searched (6 lines, 50 tokens), like nothing in the repo
        "def render(rows, widths, out):\n"
        "    for row in rows:\n"
        "        cells = [str(cell).ljust(width) for cell, width in zip(row, widths)]\n"
        "        line = ' | '.join(cells).rstrip()\n"
        "        out.write(line + '\\n')\n"
        "        out.write('-' * min(len(line), sum(widths) + 3 * len(widths)) + '\\n')\n"
        "    return out\n"
    )
    (repo / "app" / "render.py").write_text(helper, encoding="utf-8")  # untracked: changed
    code, document = _diff()
    assert document["targets"] == 1  # render was searched for
    assert (code, document["results"]) == (0, [])
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "render")
    result = invoke("similar", "--diff", "HEAD~1")
    assert result.exit_code == 0
    assert "0 at least 80% similar" in result.stdout


def test_the_default_threshold_is_consolidate_similarity(repo: Path) -> None:
    lines = LOADER.splitlines()
    partial = "\n".join([*lines[:8], "    return settings", ""])  # the first half only
    (repo / "app" / "half.py").write_text(
        partial.replace("load_settings", "half"), encoding="utf-8"
    )
    code, document = _diff()
    assert (code, document["min_similarity"], document["results"]) == (0, 0.8, [])
    code, document = _diff("--min-similarity", "0.4")
    assert code == 1
    (found,) = document["results"]  # type: ignore[misc]
    assert 0.4 <= found["matches"][0]["similarity"] < 0.8


def test_from_a_subdirectory_changes_elsewhere_in_the_repository_are_found(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from sub/ on ../app: the changed lines and the files searched are spelled
    differently (../app/x.py, or absolute) but are the same files."""
    (repo / "sub").mkdir()
    (repo / "sub" / "keep.txt").write_text("", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "sub")
    monkeypatch.chdir(repo / "sub")
    (repo / "app" / "options.py").write_text(LOADER_RENAMED, encoding="utf-8")  # untracked
    code, document = _diff("../app")
    assert code == 1
    (found,) = document["results"]  # type: ignore[misc]
    assert found["target"]["path"] == str((repo / "app" / "options.py").resolve())
    assert [m["qualname"] for m in found["matches"]] == ["load_settings"]
    (repo / "app" / "options.py").unlink()
    stats = repo / "app" / "stats.py"  # tracked, edited
    stats.write_text(OTHER + "\n" + LOADER.replace("load_settings", "load_stats"), "utf-8")
    code, document = _diff("../app")
    assert code == 1
    (found,) = document["results"]  # type: ignore[misc]
    assert found["target"]["qualname"] == "load_stats"


def test_diff_needs_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.py").write_text(LOADER, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = invoke("similar", "--diff", "HEAD")
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert f"similar --diff HEAD: {tmp_path} is not inside a git repository" in message
    assert "not a git repository" in message  # git's own words
    assert (
        "run dupfind similar --diff from inside the repository, or search a TARGET instead"
        in message
    )
