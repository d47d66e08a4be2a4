"""Reporters: one thin renderer per format over the finished ReportView, in a plain registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from dupfind.errors import UsageError
from dupfind.report.html import render_html
from dupfind.report.json import render_json
from dupfind.report.markdown import render_markdown
from dupfind.report.sarif import render_sarif
from dupfind.report.terminal import render_terminal
from dupfind.report.view import ReportView

Renderer = Callable[[ReportView, TextIO], None]

REPORTERS: dict[str, Renderer] = {
    "terminal": render_terminal,
    "json": render_json,
    "markdown": render_markdown,
    "html": render_html,
    "sarif": render_sarif,
}


def get_reporter(name: str) -> Renderer:
    """The renderer for ``name``; an unknown name is an error listing the valid ones."""
    try:
        return REPORTERS[name]
    except KeyError:
        valid = ", ".join(sorted(REPORTERS))
        raise UsageError(f"unknown format {name!r}; choose one of: {valid}") from None
