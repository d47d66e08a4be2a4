"""Reporters: one thin renderer per format over the finished ReportView, in a plain registry.

Each renderer's module is imported when its format is asked for (the HTML one loads Jinja2 and
the pictures): a command pays only for the report it writes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO, cast

from dupfind.errors import UsageError

if TYPE_CHECKING:
    from dupfind.report.view import ReportView

Renderer = Callable[["ReportView", TextIO], None]

REPORTERS: dict[str, str] = {  # format -> "module:function"
    "terminal": "dupfind.report.terminal:render_terminal",
    "json": "dupfind.report.json:render_json",
    "markdown": "dupfind.report.markdown:render_markdown",
    "html": "dupfind.report.html:render_html",
    "sarif": "dupfind.report.sarif:render_sarif",
}


def get_reporter(name: str) -> Renderer:
    """The renderer for ``name``; an unknown name is an error listing the valid ones."""
    if name not in REPORTERS:
        valid = ", ".join(sorted(REPORTERS))
        raise UsageError(f"unknown format {name!r}; choose one of: {valid}")
    module, function = REPORTERS[name].split(":")
    return cast(Renderer, getattr(importlib.import_module(module), function))
