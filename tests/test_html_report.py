"""The HTML report: golden file, determinism, caps, escaping, and a real headless browser.

The browser is the system Chromium (/usr/bin/chromium) driven by Playwright, one per module; it
is required in CI (the ``CI`` environment variable) and skipped elsewhere when missing.
Regenerate the golden file with ``pytest --update-goldens`` and review the diff.
"""

from __future__ import annotations

import io
import os
import re
import textwrap
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from dupfind import Config, scan
from dupfind.report import get_reporter
from dupfind.report.html import (
    MAX_DIFFS,
    MAX_GROUPS,
    MAX_PAIRED_LINES,
    _paired_lines,
    render_html,
)
from dupfind.report.pictures import MAX_DIRECTORIES, MAX_FILES, clone_graph, directory_chart
from dupfind.report.view import DifferenceView, DirectoryView, GroupView, ReportView, build_view
from tests.conftest import FIXTURES, GOLDEN
from tests.test_reports_golden import CANONICAL

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOSTILE_TEXT = "</script><b>bold</b>"
HOSTILE = '''
def render_banner(title, width):
    """Wrap ``title`` for the status page."""
    # keep it literal: <!-- not a comment -->
    marker = "</script><b>bold</b>"
    lines = [marker, title.center(width), marker]
    for index, line in enumerate(lines):
        if not line.strip():
            lines[index] = "-" * width
    banner = "\\n".join(lines)
    return banner.upper() + marker
'''


def render(view: ReportView) -> str:
    out = io.StringIO()
    render_html(view, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def view() -> ReportView:
    """The canonical golden scan, with the members' code (as the CLI builds it for HTML)."""
    cases = FIXTURES / "cases"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cases)
        return build_view(scan(CANONICAL, Config(jobs=1)), base=cases, with_code=True)


@pytest.fixture(scope="module")
def report(view: ReportView, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render(view), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of two identical functions whose code looks like markup."""
    root = tmp_path_factory.mktemp("hostile")
    for name in ("web/banner.py", "web/status.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(HOSTILE), encoding="utf-8")
    view = build_view(scan([str(root)], Config(jobs=1)), base=root, with_code=True)
    assert len(view.groups) == 1
    path = root / "report.html"
    path.write_text(render(view), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """A page showing ``path``, with every console error, page error and request recorded."""

    def __init__(self, browser: Browser, path: Path) -> None:
        self.page: Page = browser.new_page()
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(path.as_uri())

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            self.problems.append(f"{message.type}: {message.text}")

    def text(self, selector: str) -> str:
        """The rendered text, with HtmlDiff's non-breaking spaces as plain spaces."""
        return self.page.inner_text(selector).replace("\xa0", " ")


def test_html_report_matches_golden(view: ReportView, update_goldens: bool) -> None:
    html = render(view)
    golden = GOLDEN / "report.html"
    if update_goldens:
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8")


def test_html_report_is_deterministic_and_self_contained(view: ReportView) -> None:
    html = render(view)
    assert render(view) == html  # HtmlDiff's process-wide table counter does not leak in
    assert get_reporter("html") is render_html
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [name for name, count in ids.items() if count > 1] == []
    assert {"chart-directories", "chart-graph"} <= set(ids)
    for target in re.findall(r'href="#([^"]+)"', html):
        assert target in ids
    assert re.findall(r'(?:src|href)="(?!#)', html) == []  # nothing to fetch
    assert "<script" not in html
    assert html.count('<table class="diff"') == sum(len(g.members) - 1 for g in view.groups)


def test_html_report_without_code_says_so(view: ReportView) -> None:
    bare = replace(
        view,
        groups=tuple(
            replace(g, members=tuple(replace(m, code="") for m in g.members)) for g in view.groups
        ),
    )
    html = render(bare)
    assert "The code of the copies was not included" in html
    assert '<table class="diff"' not in html


def _many(view: ReportView, count: int) -> ReportView:
    """``count`` groups, each with its own files, and as many directories."""
    template = view.groups[0]
    groups = tuple(
        replace(
            template,
            id=f"g{n:04}",
            members=tuple(
                replace(m, path=f"pkg{n:04}/{k}/{m.path}") for k, m in enumerate(template.members)
            ),
        )
        for n in range(count)
    )
    directories = tuple(DirectoryView(f"pkg{n:04}", 100, n % 90 + 1) for n in range(count))
    return replace(view, groups=groups, plan=tuple(range(count)), directories=directories)


def test_large_reports_are_capped(view: ReportView) -> None:
    big = _many(view, MAX_GROUPS + 7)
    html = render(big)
    assert html.count('<article class="group"') == MAX_GROUPS
    assert "7 lower-priority groups are left out" in html
    graph, chart = clone_graph(big), directory_chart(big)
    assert len(graph.nodes) == MAX_FILES
    assert graph.total == (MAX_GROUPS + 7) * len(view.groups[0].members)
    assert len(chart.bars) == MAX_DIRECTORIES
    assert chart.bars[0].label == "pkg0089"  # most duplicated lines first
    assert f"(of {MAX_GROUPS + 7})" in html


def test_a_group_caps_its_diffs_and_differences(view: ReportView) -> None:
    group: GroupView = view.groups[0]
    wide = replace(
        group,
        members=tuple(replace(group.members[n % 3], path=f"copy{n}.py") for n in range(7)),
        differences=tuple(DifferenceView("literal", n, (str(n), "x")) for n in range(55)),
    )
    html = render(replace(view, groups=(wide,), plan=(0,)))
    assert html.count('<table class="diff"') == MAX_DIFFS
    assert "2 more copies are not shown side by side" in html
    assert "… and 5 more differences." in html


def test_odd_paths_and_control_characters_cannot_forge_markup(view: ReportView) -> None:
    group = view.groups[0]
    odd = replace(group.members[1], path="<i>odd</i>.py", code="x = '\x00+forged\x01'\ny = 1")
    only = replace(group, members=(group.members[0], odd))
    html = render(replace(view, groups=(only,), plan=(0,)))
    assert "␀+forged␁" in html  # HtmlDiff's own change markers are \0+ ... \1
    assert "\x00" not in html
    assert "\x01" not in html
    assert "<i>" not in html  # also in HtmlDiff's column headers, which it does not escape
    assert html.count("&lt;i&gt;odd&lt;/i&gt;.py") >= 4


def test_code_that_looks_like_markup_is_escaped(hostile_report: Path) -> None:
    html = hostile_report.read_text(encoding="utf-8")
    assert HOSTILE_TEXT not in html
    assert "<b>" not in html
    assert "<!--" not in html
    assert "&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;!--" in html


def test_browser_shows_the_report_without_errors(browser: Browser, report: Path) -> None:
    visit = Visit(browser, report)
    assert visit.problems == []
    assert visit.requests == [report.as_uri()]
    for chart in ("#chart-directories", "#chart-graph"):
        box = visit.page.locator(chart).bounding_box()
        assert box is not None
        assert box["width"] > 100
        assert box["height"] > 20
    assert visit.page.locator("#chart-directories rect").count() > 0
    assert visit.page.locator("#chart-graph circle").count() > 0
    assert visit.page.locator("#chart-graph line").count() > 0
    assert "def fetch_json(url, params=None, timeout=10.0, retries=3):" in visit.text("table.diff")
    assert "Duplicate code report" in visit.text("h1")
    visit.page.close()


def test_browser_shows_markup_in_code_as_text(browser: Browser, hostile_report: Path) -> None:
    visit = Visit(browser, hostile_report)
    assert visit.problems == []
    diff = visit.text("table.diff")
    assert f'marker = "{HOSTILE_TEXT}"' in diff
    assert "# keep it literal: <!-- not a comment -->" in diff
    assert visit.page.locator("b").count() == 0
    assert visit.page.locator("script").count() == 0
    visit.page.close()


def test_copies_too_different_to_pair_line_by_line_are_not_diffed(view: ReportView) -> None:
    group: GroupView = view.groups[0]
    table = "\n".join(f"    {n}: 'x{n}'," for n in range(100))
    other = "\n".join(f"    {n}: 'y{n}'," for n in range(100))  # 100 x 100 changed line pairs
    members = (
        replace(group.members[0], code=table),
        replace(group.members[1], path="near.py", code=table.replace("'x7'", "'z7'")),
        replace(group.members[1], path="far.py", code=other),
    )
    html = render(replace(view, groups=(replace(group, members=members, canonical=0),), plan=(0,)))
    assert html.count('<table class="diff"') == 1  # near.py only
    assert "1 copy differs from the canonical one in too many lines" in html
    assert "far.py" in html  # still listed among the members


def test_every_copy_too_different_still_says_what_is_not_shown(view: ReportView) -> None:
    group: GroupView = view.groups[0]
    rows = [f"    {n}: 'x{n}'," for n in range(100)]
    copies = [replace(group.members[0], code="\n".join(rows))] + [
        replace(group.members[0], path=f"copy{n}.py", code="\n".join(r + " " for r in rows[n:]))
        for n in range(1, 7)
    ]  # every other copy changes all 100 lines: 100 x 100 pairs and more
    html = render(replace(view, groups=(replace(group, members=tuple(copies), canonical=0,
                                                differences=()),), plan=(0,)))  # fmt: skip
    assert '<table class="diff"' not in html
    assert f"{MAX_DIFFS} copies differ from the canonical one in too many lines" in html
    assert "see the differences above" not in html  # there are none to see
    assert f"{6 - MAX_DIFFS} more copies are not shown side by side" in html


def test_lines_differ_would_treat_as_junk_count_as_changed() -> None:
    """HtmlDiff pairs lines as ``difflib.Differ`` matches them, frequent lines as junk: a
    table of closing brackets between unique lines is one long run of changed lines."""
    left = [f"    a{n}" if n % 2 else "    )" for n in range(220)]
    right = [f"    b{n}" if n % 2 else "    )" for n in range(220)]
    assert _paired_lines(left, right) > MAX_PAIRED_LINES
