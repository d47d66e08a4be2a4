"""Git history: change counts per member (``git log -L``) and file age, in tiny repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dupfind import history as history_module
from dupfind.history import History, Remembered, open_history
from dupfind.models import Member, UnitKind
from tests.conftest import git

NOW = datetime.now(UTC).replace(microsecond=0)
FUNCTION = """\
def scale(values, factor):
    result = []
    for value in values:
        result.append(value * factor)
    return result
"""

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


_git = git


def _repo(tmp_path: Path, edits: int) -> Path:
    """``lib/ops.py`` holding FUNCTION (lines 3-7), added 200 days ago and then edited
    ``edits`` times (the multiplication line), every 10 days."""
    repo = tmp_path / "repo"
    (repo / "lib").mkdir(parents=True)
    ops = repo / "lib" / "ops.py"
    ops.write_text('"""Operations."""\n\n' + FUNCTION, encoding="utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "ops", when=NOW - timedelta(days=200))
    for number in range(edits):
        text = ops.read_text("utf-8")
        line = next(x for x in text.splitlines() if "result.append" in x)
        ops.write_text(text.replace(line, f"{line}  # {number}"), encoding="utf-8")
        _git(
            repo,
            "commit",
            "-q",
            "-am",
            f"edit {number}",
            when=NOW - timedelta(days=150 - 10 * number),
        )
    return repo


def _member(path: str, start: int, end: int) -> Member:
    return Member(path, start, end, "scale", UnitKind.FUNCTION)


def test_outside_a_repository_there_is_no_history(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(FUNCTION, encoding="utf-8")
    if (
        subprocess.run(["git", "-C", str(tmp_path), "rev-parse"], capture_output=True).returncode
        == 0
    ):
        pytest.skip("the temporary directory is inside a git repository")
    history = open_history([str(tmp_path)], enabled=True, days=365)
    assert not history.available
    member = _member(str(tmp_path / "a.py"), 1, 5)
    history.prefetch([[member]])
    assert history.changes(member) is None
    assert history.first_commit_time(member.path) is None


def test_history_can_be_switched_off_inside_a_repository(tmp_path: Path) -> None:
    repo = _repo(tmp_path, edits=1)
    assert not open_history([str(repo)], enabled=False, days=365).available


def test_changes_count_the_commits_that_touched_the_members_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path, edits=4)
    monkeypatch.chdir(repo)
    history = open_history(["."], enabled=True, days=365)
    assert history.available
    assert history.root is not None and history.root.resolve() == repo.resolve()
    function, docstring = _member("lib/ops.py", 3, 7), _member("lib/ops.py", 1, 1)
    history.prefetch([[function, docstring]])
    assert history.changes(function) == 5
    assert history.changes(docstring) == 1
    recent = open_history(["."], enabled=True, days=135)
    recent.prefetch([[function]])
    assert recent.changes(function) == 2  # the edits 130 and 120 days ago only


def test_the_first_commit_time_is_when_the_file_was_added(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path, edits=2)
    monkeypatch.chdir(repo)
    history = open_history(["."], enabled=True, days=365)
    added = history.first_commit_time("lib/ops.py")
    assert added == int((NOW - timedelta(days=200)).timestamp())


def test_uncommitted_edits_above_a_member_do_not_corrupt_its_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The member's lines are those of the working tree; ``git log -L`` reads them in HEAD.
    With lines inserted above the function and not committed yet, the count must still be
    the function's (or unknown), not that of other lines, nor 0 because HEAD is shorter."""
    repo = _repo(tmp_path, edits=4)
    monkeypatch.chdir(repo)
    ops = repo / "lib" / "ops.py"
    text = ops.read_text("utf-8")
    header = '"""Operations."""\n\nimport math\n\nDEFAULT_FACTOR = math.pi\nLIMIT = 100\n'
    ops.write_text(text.replace('"""Operations."""\n', header), "utf-8")
    history = open_history(["."], enabled=True, days=365)
    moved = _member("lib/ops.py", 8, 12)
    assert ops.read_text("utf-8").splitlines()[7] == "def scale(values, factor):"
    history.prefetch([[moved]])
    assert history.changes(moved) in {5, None}


def test_unknown_members_have_no_count() -> None:
    history = History(None, 365)
    assert history.changes(_member("x.py", 1, 5)) is None


def _remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Remembered, Member]:
    """In a repository of ``scale`` edited twice (the working directory), a scan's answers
    about it, with its count and age replaced by marks (99 and 7): an answer still carrying a
    mark was remembered, not asked of git again."""
    repo = _repo(tmp_path, edits=2)
    monkeypatch.chdir(repo)
    history = open_history(["."], enabled=True, days=365)
    function = _member("lib/ops.py", 3, 7)
    history.prefetch([[function]])
    history.first_commit_time(function.path)
    answers = history.remembered()
    assert answers is not None and history.changes(function) == 3
    lines = (str(repo / "lib" / "ops.py"), 3, 7)
    assert set(answers.changes) == {lines}
    marked = {str(repo / "lib" / "ops.py"): 7}
    return repo, replace(answers, changes={lines: 99}, added=marked), function


def _next_scan(answers: Remembered, function: Member, days: int = 365) -> tuple[int | None, ...]:
    history = open_history(["."], enabled=True, days=days)
    history.remember(answers)
    history.prefetch([[function]])
    return history.changes(function), history.first_commit_time(function.path)


def test_a_rescan_reuses_git_answers_while_the_files_history_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same commit: every answer holds. A commit that touches another file: its count still
    does, the ages are read again (one git log). A commit touching the file, even one
    reverted since: its count is asked again. A commit not descending from the earlier one:
    everything is asked again; another window: the counts."""
    repo, answers, function = _remembered(tmp_path, monkeypatch)
    added = int((NOW - timedelta(days=200)).timestamp())
    assert _next_scan(answers, function) == (99, 7)
    assert _next_scan(answers, function, days=135) == (0, 7)  # edits 150, 140 days ago
    (repo / "README").write_text("ops\n", encoding="utf-8")
    _git(repo, "add", "README")
    _git(repo, "commit", "-q", "-m", "readme")
    assert _next_scan(answers, function) == (99, added)
    ops = repo / "lib" / "ops.py"
    before = ops.read_text("utf-8")
    ops.write_text(before.replace("result = []", "result = [] "), "utf-8")
    _git(repo, "commit", "-q", "-am", "touch")
    ops.write_text(before, "utf-8")
    _git(repo, "commit", "-q", "-am", "revert")
    assert _next_scan(answers, function) == (5, added)  # the file is as it was: not its lines
    _git(repo, "checkout", "-q", "--orphan", "other")  # keeps lib/ops.py, added anew
    _git(repo, "commit", "-q", "-m", "unrelated")
    main = _git(repo, "rev-parse", "main").strip()
    count, age = _next_scan(replace(answers, head=main), function)
    assert count == 1 and age is not None and age > int((NOW - timedelta(days=1)).timestamp())


def test_a_remembered_answer_is_not_used_for_a_file_with_uncommitted_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, answers, function = _remembered(tmp_path, monkeypatch)
    ops = repo / "lib" / "ops.py"
    ops.write_text(ops.read_text("utf-8") + "\n# edited\n", "utf-8")
    assert _next_scan(answers, function) == (None, None)


def test_answers_of_another_repository_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, answers, function = _remembered(tmp_path, monkeypatch)
    assert _next_scan(replace(answers, root=str(tmp_path)), function)[0] == 3
    assert History(None, 365).remembered() is None


def test_the_window_bounds_every_members_count_by_its_files_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ``git log`` gives, per file, the commits of the window that touched it (a bound on
    ``git log -L``); a file a commit renamed has no bound (its lines' history goes on under
    the old name); a merge counts."""
    repo = _repo(tmp_path, edits=2)
    monkeypatch.chdir(repo)
    ops = str(repo / "lib" / "ops.py")
    assert open_history(["."], enabled=True, days=365).window == {ops: 3}
    assert open_history(["."], enabled=True, days=145).window == {ops: 1}
    _git(repo, "checkout", "-q", "-b", "side")
    (repo / "lib" / "side.py").write_text("X = 1\n", encoding="utf-8")
    _git(repo, "add", "lib/side.py")
    _git(repo, "commit", "-q", "-m", "side")
    _git(repo, "checkout", "-q", "main")
    _git(repo, "mv", "lib/ops.py", "lib/moved.py")
    _git(repo, "commit", "-q", "-m", "move")
    _git(repo, "merge", "-q", "--no-ff", "-m", "merge", "side")
    window = open_history(["."], enabled=True, days=365).window
    assert window[str(repo / "lib" / "moved.py")] is None
    assert window[ops] == 3
    assert window[str(repo / "lib" / "side.py")] == 2  # its commit, and the merge bringing it


def test_the_window_is_remembered_at_the_same_commit_and_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path, edits=2)
    monkeypatch.chdir(repo)
    ops = str(repo / "lib" / "ops.py")
    first = open_history(["."], enabled=True, days=365)
    first.prefetch([[_member("lib/ops.py", 3, 7)]], hot=3)
    answers = first.remembered()
    assert answers is not None and answers.window == {ops: 3}
    marked = replace(answers, window={ops: 99})  # still marked: remembered, not asked again
    again = open_history(["."], enabled=True, days=365)
    again.remember(marked)
    assert again.window == {ops: 99}
    other_day = open_history(["."], enabled=True, days=145)
    other_day.remember(marked)
    assert other_day.window == {ops: 1}


def test_a_renamed_file_keeps_its_age_and_a_copy_has_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path, edits=1)
    monkeypatch.chdir(repo)
    _git(repo, "mv", "lib/ops.py", "lib/moved.py")
    _git(repo, "commit", "-q", "-m", "move", when=NOW - timedelta(days=20))
    (repo / "lib" / "copy.py").write_bytes((repo / "lib" / "moved.py").read_bytes())
    _git(repo, "add", "lib/copy.py")
    _git(repo, "commit", "-q", "-m", "copy", when=NOW - timedelta(days=10))
    history = open_history(["."], enabled=True, days=365)
    assert history.first_commit_time("lib/moved.py") == int((NOW - timedelta(days=200)).timestamp())
    assert history.first_commit_time("lib/copy.py") == int((NOW - timedelta(days=10)).timestamp())
    assert history.first_commit_time("lib/ops.py") is None  # no longer tracked


def test_a_file_added_beside_a_rename_or_deletion_has_no_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``git log -L`` follows a file's lines into any file its commit deleted or renamed, paired
    or not by the commit's own rename detection: a file split in two, and renames past
    ``diff.renameLimit`` (set to 1 here), leave the new files without a bound."""
    repo = _repo(tmp_path, edits=2)
    monkeypatch.chdir(repo)
    ops = repo / "lib" / "ops.py"
    (repo / "lib" / "one.py").write_text(ops.read_text("utf-8") + "ONE = 1\n", "utf-8")
    (repo / "lib" / "two.py").write_text(ops.read_text("utf-8") + "TWO = 2\n", "utf-8")
    ops.unlink()
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "split")
    window = open_history(["."], enabled=True, days=365).window
    assert window is not None
    assert window[str(repo / "lib" / "one.py")] is None
    assert window[str(repo / "lib" / "two.py")] is None
    _git(repo, "config", "diff.renameLimit", "1")
    _git(repo, "mv", "lib/one.py", "lib/uno.py")
    _git(repo, "mv", "lib/two.py", "lib/dos.py")
    _git(repo, "commit", "-q", "-m", "rename both")
    window = open_history(["."], enabled=True, days=365).window
    assert window is not None and window[str(repo / "lib" / "dos.py")] is None


def test_odd_settings_and_file_names_do_not_hide_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``log.showRoot=false`` would hide the root commit's files, and a file name that is not
    UTF-8 would fail to decode: neither may lower a bound or stop the scan."""
    repo = _repo(tmp_path, edits=1)
    monkeypatch.chdir(repo)
    _git(repo, "config", "log.showRoot", "false")
    latin = os.fsencode(str(repo)) + b"/notes-caf\xe9.txt"
    with open(latin, "wb") as handle:
        handle.write(b"notes\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "notes")
    window = open_history(["."], enabled=True, days=365).window
    assert window is not None
    assert window[str(repo / "lib" / "ops.py")] == 2  # the root commit counts
    assert window[os.fsdecode(latin)] == 1


def test_answers_do_not_survive_deepening_a_shallow_clone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path, edits=2)
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    monkeypatch.chdir(clone)
    shallow = open_history(["."], enabled=True, days=365)
    assert shallow.first_commit_time("lib/ops.py") is not None
    answers = shallow.remembered()
    assert answers is not None and answers.graft
    _git(clone, "fetch", "-q", "--unshallow")
    deep = open_history(["."], enabled=True, days=365)
    deep.remember(answers)
    assert deep.graft == "" and deep.head == shallow.head
    assert deep.first_commit_time("lib/ops.py") == int((NOW - timedelta(days=200)).timestamp())
    assert shallow.state != deep.state  # nor does a stored result


def test_signed_commits_shown_with_their_signatures_are_still_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``log.showSignature=true`` prints a verification before each signed commit's header:
    the readers must still see every commit (each git command runs with git's defaults for
    what they read)."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    repo = _repo(tmp_path, edits=1)
    monkeypatch.chdir(repo)
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (tmp_path / "allowed").write_text(f"t@e {(tmp_path / 'key.pub').read_text()}", "utf-8")
    for name, value in [("gpg.format", "ssh"), ("user.signingkey", str(key)),
                        ("gpg.ssh.allowedSignersFile", str(tmp_path / "allowed")),
                        ("log.showSignature", "true")]:  # fmt: skip
        _git(repo, "config", name, value)
    ops = repo / "lib" / "ops.py"
    ops.write_text(ops.read_text("utf-8") + "\nSIGNED = 1\n", "utf-8")
    _git(repo, "commit", "-q", "-S", "-am", "signed")
    assert "Good" in _git(repo, "log", "-1")  # the setting is on: signatures are printed
    history = open_history(["."], enabled=True, days=365)
    window = history.window
    assert window is not None and window[str(ops)] == 3
    function = _member("lib/ops.py", 3, 7)
    history.prefetch([[function]])
    assert history.changes(function) == 2  # added, edited: the signed commit is below
    assert history.first_commit_time("lib/ops.py") == int((NOW - timedelta(days=200)).timestamp())


def test_a_file_without_a_bound_is_asked_about_and_one_below_hot_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path, edits=1)
    monkeypatch.chdir(repo)
    function = _member("lib/ops.py", 3, 7)
    below = open_history(["."], enabled=True, days=365)
    below.prefetch([[function]], hot=3)  # 2 commits in the window: cannot be hot
    assert below.changes(function) is None
    _git(repo, "mv", "lib/ops.py", "lib/moved.py")
    _git(repo, "commit", "-q", "-m", "move")
    moved = _member("lib/moved.py", 3, 7)
    renamed = open_history(["."], enabled=True, days=365)
    renamed.prefetch([[moved]], hot=3)  # renamed in the window: no bound, asked
    assert renamed.changes(moved) == 2


def test_answers_git_could_not_give_are_not_remembered(tmp_path: Path) -> None:
    """Outside a repository every git command fails: no bound (every group is asked about),
    no age, and nothing remembered as if it were an answer."""
    history = History(tmp_path, 365)
    assert history.window is None
    assert history.added == {}
    member = _member(str(tmp_path / "a.py"), 1, 5)
    assert history._may_be_hot(member, hot=10)
    answers = history.remembered()
    assert answers is not None and answers.added is None and answers.window is None


def test_the_other_members_are_asked_about_only_when_one_is_hot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First the members whose file could make them hot; the others only in a group where one
    of those is hot (the rule then reports the lowest count too)."""
    repo = _repo(tmp_path, edits=4)  # lib/ops.py: 5 commits; the function's lines: 5
    monkeypatch.chdir(repo)
    (repo / "lib" / "other.py").write_text(FUNCTION, encoding="utf-8")
    _git(repo, "add", "lib/other.py")
    _git(repo, "commit", "-q", "-m", "other")
    other = _member("lib/other.py", 1, 5)
    docstring, function = _member("lib/ops.py", 1, 1), _member("lib/ops.py", 3, 7)
    quiet = open_history(["."], enabled=True, days=365)
    quiet.prefetch([[docstring, other]], hot=3)
    assert (quiet.changes(docstring), quiet.changes(other)) == (1, None)
    busy = open_history(["."], enabled=True, days=365)
    busy.prefetch([[function, other]], hot=3)
    assert (busy.changes(function), busy.changes(other)) == (5, 1)


def test_a_member_counted_through_another_group_is_counted_when_its_group_can_fire(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Groups share members (a family and its exact core), and the rule reads the count of
    every member a scan asked about, even one past a group's first ``MAX_PER_GROUP``. With 2
    per group: the family [b, c, a] is hot through a (its third member, counted through the
    core [a, b]), so c, its coldest, must be counted as asking everyone would."""
    monkeypatch.setattr(history_module, "MAX_PER_GROUP", 2)
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in "abc":
        (repo / f"{name}.py").write_text(FUNCTION, encoding="utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "add", when=NOW - timedelta(days=100))
    for name, edits in (("a", 4), ("b", 1)):
        for number in range(edits):
            path = repo / f"{name}.py"
            path.write_text(path.read_text("utf-8").replace("factor)", f"factor)  # {number}", 1)
                            .replace(f"  # {number - 1}", ""), "utf-8")  # fmt: skip
            _git(repo, "commit", "-q", "-am", f"{name} {number}")
    monkeypatch.chdir(repo)
    a, b, c = (_member(f"{name}.py", 1, 5) for name in "abc")
    groups = [[b, c, a], [a, b]]
    everyone = open_history(["."], enabled=True, days=365)
    everyone.prefetch(groups)
    rounds = open_history(["."], enabled=True, days=365)
    rounds.prefetch(groups, hot=3)
    counts = [everyone.changes(m) for m in (a, b, c)]
    assert counts == [5, 2, 1]
    assert [rounds.changes(m) for m in (a, b, c)] == counts


def test_a_file_back_in_the_index_keeps_its_remembered_age(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path, edits=1)
    monkeypatch.chdir(repo)
    _git(repo, "rm", "-q", "--cached", "lib/ops.py")  # untracked for one scan, same HEAD
    first = open_history(["."], enabled=True, days=365)
    assert first.first_commit_time("lib/ops.py") is None
    _ = first.added  # read for another file's sake
    _git(repo, "add", "lib/ops.py")
    again = open_history(["."], enabled=True, days=365)
    again.remember(first.remembered())
    assert again.first_commit_time("lib/ops.py") == int((NOW - timedelta(days=200)).timestamp())
