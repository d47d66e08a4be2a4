"""Every report format rendered from one canonical scan, compared byte for byte with goldens.

Regenerate with ``pytest --update-goldens`` and review the diff.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from dupfind import Config, scan
from dupfind.report import get_reporter
from dupfind.report.terminal import Report, Styled
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


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _pieces(report: Report, tab: str = "\t") -> None:
    report.print(Styled(("#1 ", "bold"), f"tab{tab}here · [bold]not markup[/] :smile:"))
    report.print(Styled(("  a\rcontrol\x07code and a long line " + "x" * 200, "dim")), end="")
    report.print(Styled(f"\nlast{tab}line"))


@pytest.mark.parametrize("tab", ["\t", " "])  # with a tab, the report goes through rich's Text
def test_a_report_to_a_file_is_what_rich_would_write_without_styles(
    tab: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)  # a file gets no styles
    written, rendered = io.StringIO(), io.StringIO()
    report = Report(written)
    _pieces(report, tab)
    text = report.rich_text()
    Console(file=rendered, highlight=False, soft_wrap=True).print(text, end="")
    report.write()
    assert written.getvalue() == rendered.getvalue().replace("\r", "\u240d").replace(
        "\x07", "\u2407"
    )
    spacing = "  " if tab == "\t" else " "  # a tab reaches column 8
    assert f"#1 tab{spacing}here · [bold]not markup[/] :smile:" in written.getvalue()
    assert "\x1b" not in written.getvalue() and "\r" not in written.getvalue()


@pytest.mark.parametrize("last", ["\n", ""])
def test_a_report_on_a_terminal_is_what_rich_would_print(
    monkeypatch: pytest.MonkeyPatch, last: str
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    written, printed = _Terminal(), _Terminal()
    report = Report(written)
    _pieces(report)
    report.print(Styled(("a style\nover two lines\n\n", "red")), end=last)
    Console(file=printed, highlight=False, soft_wrap=True).print(report.rich_text(), end="")
    report.write()
    assert written.getvalue() == printed.getvalue()
    assert "\x1b[31ma style\x1b[0m\n" in written.getvalue()  # closed at the line's end


def test_a_report_on_a_terminal_is_styled(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    out = _Terminal()
    report = Report(out)
    _pieces(report)
    report.write()
    assert "\x1b[1m#1 \x1b[0m" in out.getvalue()  # bold, as rich writes it
    assert Text.from_ansi(out.getvalue()).plain.startswith("#1 tab  here")


_WRITER = """
import sys
from dupfind.report.terminal import Report, Styled
report = Report(sys.stdout)
for n in range(int(sys.argv[1])):
    report.print(Styled(f"line {n} of a long report"))
report.write()
print("after the report", file=sys.stderr)
"""


def _writer(lines: int, **streams: int) -> subprocess.Popen[bytes]:
    """A report of ``lines`` lines to a pipe, then a line on stderr (output buffered)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "FORCE_COLOR")}
    return subprocess.Popen([sys.executable, "-c", _WRITER, str(lines)], env=env, **streams)


def test_a_report_to_a_pipe_comes_before_what_follows_on_stderr() -> None:
    done = _writer(20, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # under one buffer
    output, _ = done.communicate()
    assert done.returncode == 0
    assert output.decode().endswith("line 19 of a long report\nafter the report\n")


def test_a_reader_that_goes_away_ends_the_report_quietly() -> None:
    """``dupfind scan | head -1``: exit 1 and nothing on stderr, as rich does."""
    done = _writer(20000, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # past a pipe's
    assert done.stdout is not None and done.stderr is not None
    assert done.stdout.read(10) == b"line 0 of "
    done.stdout.close()
    assert done.wait() == 1
    assert done.stderr.read() == b""


def test_escape_sequences_in_names_are_shown_not_sent_to_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    for out in (io.StringIO(), _Terminal()):
        report = Report(out)
        report.print(Styled(("  o\x1b[2Jrders.py", "bold"), "  \x00name\x7f\x9b2J"))
        report.write()
        shown = Text.from_ansi(out.getvalue()).plain
        assert shown == "  o\u241b[2Jrders.py  \u2400name\u2421\ufffd2J\n"
        assert "\x1b[2J" not in out.getvalue() and "\x9b" not in out.getvalue()
