"""``--watch`` as a user runs it: a real dupfind process, real file edits seen through the
operating system's notifications, reports rewritten, Ctrl-C to stop."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import pty
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dupfind.cli import CLEAR_SCREEN, app
from dupfind.errors import UsageError
from dupfind.watch import Watcher
from tests.conftest import LOADER, SUMMED, TOTAL, TreeWriter

WAIT = 60.0  # seconds a step may take on a loaded machine before the test fails


class Running:
    """A ``dupfind ... --watch`` process and the lines of its stderr, as they come."""

    def __init__(self, root: Path, *args: str, stdout: int = subprocess.DEVNULL) -> None:
        command = [sys.executable, "-m", "dupfind", *args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            command, cwd=root, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        stderr = self.process.stderr
        assert stderr is not None
        self.reader = threading.Thread(target=lambda: [self.lines.put(line) for line in stderr])
        self.reader.start()

    def until(self, text: str) -> list[str]:
        """The stderr lines up to the first (not seen before) holding ``text``."""
        got: list[str] = []
        deadline = time.monotonic() + WAIT
        while True:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            got.append(line)
            self.seen.append(line)
            if text in line:
                return got

    def quiet_for(self, seconds: float) -> bool:
        """Whether nothing is written to stderr for ``seconds``."""
        try:
            self.seen.append(self.lines.get(timeout=seconds))
        except queue.Empty:
            return True
        return False

    def stop(self) -> tuple[int, str]:
        """Ctrl-C: the exit code and what was written to stderr after what was read."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=WAIT)
        self.reader.join(timeout=WAIT)
        return code, _drained(self.lines)


def _drained(lines: queue.Queue[str]) -> str:
    rest = []
    while not lines.empty():
        rest.append(lines.get_nowait())
    return "".join(rest)


@pytest.fixture
def running(make_tree: TreeWriter) -> Iterator[tuple[Path, list[Running]]]:
    root = make_tree({"pkg/loader.py": LOADER, "pkg/total.py": TOTAL})
    started: list[Running] = []
    yield root, started
    for run in started:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        run.reader.join()


def _fresh_report(root: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "dupfind", "scan", "pkg", "-f", "json", "--no-cache", "--jobs",
         "1", "--no-history"],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def test_watch_reports_again_after_each_change_until_interrupted(
    running: tuple[Path, list[Running]],
) -> None:
    root, started = running
    report = root / "report.json"
    args = ["scan", "pkg", "--watch", "-f", "json", "-o", "report.json", "--jobs", "1"]
    run = Running(root, *args, "--no-history", "--cache-dir", "cache")
    started.append(run)
    run.until("watching pkg for changes")
    assert json.loads(report.read_text())["groups"] == []
    (root / "pkg" / "summed.py").write_text(SUMMED, encoding="utf-8")  # a near-miss of total
    assert any("pkg/summed.py changed; scanning again" in line for line in run.until("watching"))
    assert len(json.loads(report.read_text())["groups"]) == 1
    assert report.read_text() == _fresh_report(root)

    (root / "notes.txt").write_text("not Python\n", encoding="utf-8")
    (root / "pkg" / "data.json").write_text("{}\n", encoding="utf-8")
    assert run.quiet_for(1.0), run.seen  # no rescan for files that cannot change a report

    (root / "pkg" / "pyproject.toml").write_text("[tool.dupfind]\nmin_lines = 'six'\n")
    lines = run.until("watching")
    assert any("dupfind: error:" in line and "min_lines" in line for line in lines), lines
    assert "reported in" not in lines[-1]  # nothing was
    (root / "pkg" / "pyproject.toml").unlink()
    (root / "pkg" / "summed.py").unlink()
    run.until("watching")
    assert json.loads(report.read_text())["groups"] == []
    assert report.read_text() == _fresh_report(root)

    code, rest = run.stop()
    assert code == 130 and "dupfind: interrupted" in rest


def test_check_watch_gates_each_scan_without_ending(running: tuple[Path, list[Running]]) -> None:
    root, started = running
    (root / "pkg" / "copy.py").write_text(LOADER, encoding="utf-8")  # an exact copy: actionable
    run = Running(root, "check", "pkg", "--watch", "--jobs", "1", "--no-history", "--no-cache")
    started.append(run)
    assert any("1 actionable group(s)" in line for line in run.until("watching"))
    (root / "pkg" / "copy.py").unlink()
    assert any("0 actionable group(s)" in line for line in run.until("watching"))
    assert run.process.poll() is None  # a failing gate does not end a watch
    code, _ = run.stop()
    assert code == 130


def _read_all(fd: int) -> bytes:
    data = b""
    while select.select([fd], [], [], 0.2)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the terminal's other end is closed
            break
        if not chunk:
            break
        data += chunk
    return data


def test_on_a_terminal_each_report_replaces_the_last(running: tuple[Path, list[Running]]) -> None:
    root, started = running
    (root / "pkg" / "copy.py").write_text(LOADER, encoding="utf-8")
    screen, terminal = pty.openpty()
    run = Running(root, "scan", "pkg", "--watch", "--no-history", "--no-cache", stdout=terminal)
    os.close(terminal)
    started.append(run)
    run.until("watching")
    first = _read_all(screen)
    (root / "pkg" / "copy.py").write_text(LOADER + "\nX = 1\n", encoding="utf-8")
    run.until("scanning again")
    run.until("watching")
    second = _read_all(screen)
    run.stop()
    os.close(screen)
    assert CLEAR_SCREEN.encode() not in first and b"pkg/copy.py" in first
    assert second.startswith(CLEAR_SCREEN.encode()) and b"pkg/copy.py" in second


def test_a_change_made_while_the_first_scan_runs_is_the_next_batch(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("A = 1\n", encoding="utf-8")
    watcher = Watcher([str(tmp_path)])
    try:
        for name in ("a.py", "b.py", "c.txt"):  # made before anyone asks: kept for next()
            (tmp_path / name).write_text("B = 2\n", encoding="utf-8")
        time.sleep(0.3)
        assert watcher.next(timeout=10) == [str(tmp_path / "a.py"), str(tmp_path / "b.py")]
    finally:
        watcher.close()
    assert not any(thread.is_alive() for thread in watcher.threads)


def test_a_file_is_watched_through_its_directory(tmp_path: Path) -> None:
    """An editor that saves by renaming a new file over the old one is seen; the file's
    neighbours, not named, are not."""
    (tmp_path / "a.py").write_text("A = 1\n", encoding="utf-8")
    (tmp_path / "settings.toml").write_text("", encoding="utf-8")
    watcher = Watcher([str(tmp_path / "a.py")], [tmp_path / "settings.toml"])
    try:
        (tmp_path / "neighbour.py").write_text("B = 2\n", encoding="utf-8")
        for name in ("a.py", "settings.toml"):
            (tmp_path / f"{name}.new").write_text("C = 3\n", encoding="utf-8")
            os.replace(tmp_path / f"{name}.new", tmp_path / name)
            time.sleep(0.2)
        assert watcher.next(timeout=10) == [str(tmp_path / "a.py"), str(tmp_path / "settings.toml")]
        for again in range(3):  # the watch goes on, save after save
            (tmp_path / "a.py.new").write_text(f"D = {again}\n", encoding="utf-8")
            os.replace(tmp_path / "a.py.new", tmp_path / "a.py")
            assert watcher.next(timeout=10) == [str(tmp_path / "a.py")]
    finally:
        watcher.close()


def test_settings_above_the_tree_are_watched_and_excluded_directories_are_not(
    tmp_path: Path,
) -> None:
    """Where configuration and ignore rules are read from (up to the repository's top), and
    not what discovery never enters, whatever the directories above are called."""
    repository = tmp_path / "node_modules" / "project"  # a name watchfiles alone would ignore
    (repository / ".git").mkdir(parents=True)
    (repository / "pkg" / "build").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")  # above the repository
    watcher = Watcher([str(repository / "pkg")])
    try:
        for name in ("pkg/build/gen.py", "pkg/m.py~", "pkg/.#m.py", "README.md", "x.py"):
            (repository / name).write_text("B = 2\n", encoding="utf-8")
        (tmp_path / "pyproject.toml").write_text("[tool.dupfind]\n", encoding="utf-8")
        for name in ("pyproject.toml", ".gitignore", "pkg/m.py"):
            (repository / name).write_text("[tool.dupfind]\n", encoding="utf-8")
            time.sleep(0.2)
        expected = [str(repository / name) for name in (".gitignore", "pkg/m.py", "pyproject.toml")]
        assert _changes(watcher, len(expected)) == expected
    finally:
        watcher.close()


def _changes(watcher: Watcher, count: int) -> list[str]:
    """The files changed in the next batches, until ``count`` of them (the directories above
    the tree are watched by a slower thread: their changes may come in a batch of their own),
    and any more reported within a second."""
    seen: set[str] = set()
    while len(seen) < count:
        seen.update(watcher.next(timeout=10))
    with contextlib.suppress(queue.Empty):
        seen.update(watcher.next(timeout=1))
    return sorted(seen)


def _sees_an_edit(watcher: Watcher, directory: Path) -> None:
    """The watch goes on: a Python file written in ``directory`` is the next batch."""
    time.sleep(0.3)
    (directory / "a.py").write_text("A = 1\n", encoding="utf-8")
    assert watcher.next(timeout=10) == [str(directory / "a.py")]


def test_a_directory_removed_and_made_again_is_watched_again(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    watcher = Watcher([str(tmp_path / "pkg")])
    try:
        (tmp_path / "pkg").rmdir()
        assert watcher.next(timeout=10) == [str(tmp_path / "pkg")]  # gone: the scan says so
        (tmp_path / "pkg").mkdir()
        assert watcher.next(timeout=10) == [str(tmp_path / "pkg")]  # back: scan again
        _sees_an_edit(watcher, tmp_path / "pkg")
    finally:
        watcher.close()


def test_a_busy_file_nearby_does_not_hold_the_watch_back(tmp_path: Path) -> None:
    """A log written every 20 ms (never a pause long enough for watchfiles' timeout): the
    watch still starts, and sees the change that matters."""
    (tmp_path / "pkg").mkdir()
    done = threading.Event()

    def busy() -> None:
        while not done.wait(0.02):
            with (tmp_path / "pkg" / "app.log").open("a") as log:
                log.write("line\n")

    writer = threading.Thread(target=busy)
    writer.start()
    made: list[Watcher] = []
    starting = threading.Thread(
        target=lambda: made.append(Watcher([str(tmp_path / "pkg")])), daemon=True
    )
    starting.start()
    starting.join(timeout=WAIT)
    try:
        assert made, "the watch did not start"
        _sees_an_edit(made[0], tmp_path / "pkg")
    finally:
        done.set()
        writer.join()
        for watcher in made:
            watcher.close()


def test_a_name_that_is_not_utf8_neither_ends_nor_blinds_the_watch(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    watcher = Watcher([str(tmp_path / "pkg")])
    try:
        os.close(
            os.open(os.fsencode(tmp_path / "pkg") + b"/junk\xff.txt", os.O_CREAT | os.O_WRONLY)
        )
        assert watcher.next(timeout=10) == [str(tmp_path / "pkg")]  # lost: scan again
        _sees_an_edit(watcher, tmp_path / "pkg")
    finally:
        watcher.close()
    named = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xff")
    os.mkdir(named)
    with pytest.raises(UsageError, match="not valid UTF-8"):
        Watcher([named])


@pytest.mark.parametrize("replace", ["remove and make", "move aside and swap"])
def test_a_directory_replaced_at_once_is_watched_again(tmp_path: Path, replace: str) -> None:
    (tmp_path / "pkg").mkdir()
    watcher = Watcher([str(tmp_path / "pkg")])
    try:
        if replace == "remove and make":
            (tmp_path / "pkg").rmdir()
            (tmp_path / "pkg").mkdir()
        else:
            (tmp_path / "new").mkdir()
            (tmp_path / "pkg").rename(tmp_path / "old")
            (tmp_path / "new").rename(tmp_path / "pkg")
        assert str(tmp_path / "pkg") in _changes(watcher, 1)  # scan again
        (tmp_path / "pkg" / "a.py").write_text("A = 1\n", encoding="utf-8")
        assert str(tmp_path / "pkg" / "a.py") in _changes(watcher, 1)
    finally:
        watcher.close()


def test_a_watch_the_system_refuses_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import watchfiles

    def refused(*args: object, **kwargs: object) -> Iterator[set[tuple[object, str]]]:
        raise OSError("OS file watch limit reached")
        yield set()

    monkeypatch.setattr(watchfiles, "watch", refused)  # the operating system, refusing
    with pytest.raises(UsageError, match=r"watch limit reached.*max_user_watches"):
        Watcher([str(tmp_path)])


def test_a_failure_of_the_watching_thread_reaches_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import watchfiles

    real = watchfiles.watch

    def failing_later(*args: Any, **kwargs: Any) -> Iterator[set[tuple[Any, str]]]:
        for batch in real(*args, **kwargs):
            yield batch
            if (tmp_path / "stop.txt").exists():
                raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(watchfiles, "watch", failing_later)
    watcher = Watcher([str(tmp_path)])
    try:
        (tmp_path / "stop.txt").write_text("", encoding="utf-8")
        with pytest.raises(UsageError, match="Permission denied") as failed:
            watcher.next(timeout=10)
        assert "max_user_watches" not in str(failed.value)  # not a limit: no such advice
    finally:
        watcher.close()


def test_watch_without_the_extra_says_how_to_install_it(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree({"pkg/loader.py": LOADER})
    monkeypatch.chdir(root)
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # as if it were not installed
    result = CliRunner().invoke(app, ["scan", "pkg", "--watch", "--no-cache"])
    assert result.exit_code == 2
    assert "pip install 'dupfind[watch]'" in result.output


def test_baseline_commands_do_not_watch(make_tree: TreeWriter) -> None:
    result = CliRunner().invoke(app, ["baseline", "write", "--watch"])
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_a_rescan_runs_with_the_collector_paused_until_its_report_is_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cyclic collector runs while the process waits, not in a rescan or its report: the
    first scan runs as any scan does, each rescan with it paused, the store after with it on;
    a rescan interrupted still stores what it made (its analyses wait for the store)."""
    from dupfind import cli

    seen: list[tuple[str, bool]] = []
    monkeypatch.setattr(cli, "flush", lambda _: seen.append(("store", gc.isenabled())) or [])

    def report(*_: object) -> None:
        seen.append(("report", gc.isenabled()))
        if len(seen) == 7:  # the third rescan's: Ctrl-C while it is written
            raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_report_once", report)

    class Changes:
        def next(self) -> list[str]:
            return ["a.py"]

    with pytest.raises(KeyboardInterrupt):
        cli._watching("scan", ["."], {"output": "out.json"}, {}, Changes())  # type: ignore[arg-type]
    assert gc.isenabled()
    rescan = [("report", False), ("store", True)]  # interrupted too, it stores what it made
    assert seen == [("report", True), ("store", True), *rescan, *rescan, *rescan]
