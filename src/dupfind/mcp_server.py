"""``dupfind mcp``: dupfind for coding agents, as a Model Context Protocol server over stdio.

Built on the official MCP Python SDK (``mcp`` 2.x, the optional extra ``dupfind[mcp]``): its
``MCPServer`` turns each tool function's signature into the tool's input schema and its returned
dict into structured content (and a JSON text block). Three tools, all read-only (annotated so):

* ``scan``: the summary and the largest clone groups under a path (the JSON report's keys);
* ``similar``: a snippet (or ``FILE::QUALNAME`` / ``FILE:START-END``) → the most similar
  existing code (the ``dupfind similar`` JSON document);
* ``plan``: the scorecard and the verdicts, highest priority first.

Confinement: the server is started with one or more root directories (default: the working
directory). Every path a tool is given, including the file part of a TARGET, is resolved
(relative paths against the first root, symbolic links followed) and refused with a
``ToolError`` naming the roots unless it lies inside one; discovery never follows symbolic links
here, whatever the configuration says, so nothing outside the roots is read. ``[tool.dupfind]``
is read from a pyproject.toml within the roots only (never from above them), and only for what
to find: where dupfind keeps its cache and where it runs are the server's (the default cache,
or ``dupfind mcp --cache-dir``; always the local executor), and a pyproject.toml setting them is
a tool error. Errors are returned to the agent as tool errors (``is_error``) with dupfind's own
message; stdout carries only the protocol.

Concurrency: the SDK runs these synchronous tools on worker threads, several at once; one lock
runs one tool body at a time (a scan is CPU-bound, so two at once would gain nothing). The
server keeps what its last scans would load from the cache in memory (``state.Resident``), so
an agent's scan after an edit costs what ``dupfind scan --watch`` pays (watch.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypeVar, cast

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

# The SDK derives each tool's output schema with pydantic, which on Python 3.11 needs these two
# from typing_extensions (installed with pydantic, which the SDK requires).
from typing_extensions import TypeAliasType, TypedDict

from dupfind import __version__
from dupfind.config import MACHINE_KEYS, Config, load_config, validate_option, whole_number
from dupfind.discover import display_path
from dupfind.errors import ConfigError, DupfindError, OutsideRootError, UsageError
from dupfind.pipeline import scan as run_scan
from dupfind.report.json import group_document
from dupfind.report.similar import similar_document
from dupfind.report.view import build_view
from dupfind.similar import TargetSpec, find_similar, split_target
from dupfind.state import Resident

INSTRUCTIONS = (
    "dupfind finds duplicated Python code. Before writing a new function, call `similar` with "
    "the code you are about to write (or FILE::QUALNAME) to find an existing implementation to "
    "reuse. `scan` lists clone groups under a path; `plan` says what to do with each "
    "(consolidate, extract, leave separate). Paths must lie inside the server's roots: {roots}."
)
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
# The server's own settings, whatever the scanned project's pyproject.toml says.
TOOL_CALL = "tool call"  # where a bad argument came from, in its error
SERVER_SETTINGS = {"follow_symlinks": False, "executor": "local", "scheduler": ""}
MACHINE_SETTING = (
    "sets where dupfind keeps its cache or runs, which dupfind mcp never takes from the project "
    "it serves (it scans locally and keeps its cache where `dupfind mcp --cache-dir` says); "
    "remove the key from that table"
)
_LOCK = threading.Lock()  # one tool body at a time, in the whole process
T = TypeVar("T")

# JSON: report.similar's JSONValue again, as an object pydantic can follow (the output schemas).
JSONValue = TypeAliasType(
    "JSONValue", "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"
)
JSONObject = dict[str, JSONValue]


class ScanAnswer(TypedDict):
    """What ``scan`` and ``plan`` return: the JSON report's totals, its groups (the largest
    first, or by priority for ``plan``; at most ``max_groups``) and notes."""

    files_scanned: int
    lines_scanned: int
    duplicated_lines: int
    duplicated_percent: float
    groups: list[JSONObject]
    groups_total: int
    notes: list[str]


class Roots:
    """The directories the server may read."""

    def __init__(self, roots: Sequence[str]) -> None:
        self.paths = tuple(Path(root).resolve() for root in roots)
        for given, path in zip(roots, self.paths, strict=True):
            if not path.is_dir():
                raise UsageError(f"{given}: not a directory; dupfind mcp serves directories")

    def confine(self, path: str) -> str:
        """``path`` (relative ones against the first root) if it lies inside a root, spelled
        as dupfind spells paths; else an OutsideRootError."""
        try:
            resolved = (self.paths[0] / path).resolve()
        except (OSError, ValueError, RuntimeError) as exc:  # NUL bytes, symbolic link loops
            raise UsageError(f"{path!r}: not a usable path ({exc})") from None
        if not any(resolved.is_relative_to(root) for root in self.paths):
            raise OutsideRootError(
                f"{path}: outside the roots this server may read ({self.described()}); "
                "pass a path inside them"
            )
        return display_path(resolved)

    def described(self) -> str:
        return ", ".join(str(root) for root in self.paths)


def _settings(roots: Roots, path: str, cache_dir: str) -> Config:
    """The settings of a tool call on ``path``: ``[tool.dupfind]`` found within the roots, with
    the server's own ``SERVER_SETTINGS`` and cache."""
    try:
        found = load_config([path], ceilings=roots.paths)
    except ConfigError as exc:
        if exc.key.replace("-", "_") not in MACHINE_KEYS:
            raise
        raise ConfigError(exc.key, MACHINE_SETTING, exc.source) from None
    return found.merged(SERVER_SETTINGS | {"cache_dir": cache_dir})


def _tool(action: Callable[[], T]) -> T:
    """Run a tool's body, alone; dupfind's errors become tool errors the agent can read."""
    with _LOCK:
        try:
            return action()
        except DupfindError as exc:
            raise ToolError(str(exc)) from None


def _scan_answer(
    settings: Config, path: str, mode: str, max_groups: int, resident: Resident
) -> ScanAnswer:
    limit = whole_number(0, "max_groups", max_groups, TOOL_CALL)
    view = build_view(run_scan([path], settings, None, resident), mode=mode, kept=resident.reports)
    groups = view.ordered()  # by size, or by priority for a plan
    return {
        "files_scanned": view.files_scanned,
        "lines_scanned": view.lines_scanned,
        "duplicated_lines": view.duplicated_lines,
        "duplicated_percent": view.duplicated_percent,
        "groups": [group_document(group) for group in groups[:limit]],
        "groups_total": len(groups),
        "notes": list(view.notes),
    }


def build_server(roots: Roots, cache_dir: str = "") -> MCPServer[object]:
    """The server with its three tools, confined to ``roots``, keeping its cache in
    ``cache_dir`` ("" = the default location)."""
    server: MCPServer[object] = MCPServer(  # object: no tool uses the lifespan context
        "dupfind", version=__version__, log_level="WARNING",
        instructions=INSTRUCTIONS.format(roots=roots.described()),
    )  # fmt: skip

    resident = Resident()  # what a rescan would load from the cache, kept between calls

    def scanned(path: str, mode: str, max_groups: int) -> ScanAnswer:
        where = roots.confine(path)
        settings = _settings(roots, where, cache_dir)
        return _scan_answer(settings, where, mode, max_groups, resident)

    def scan(path: str = ".", max_groups: int = 20) -> ScanAnswer:
        """Duplicated code under PATH (a file or directory inside the roots): totals and the
        largest clone groups (each with kind, similarity, members, verdict and reasons)."""
        return _tool(lambda: scanned(path, "scan", max_groups))

    def similar(
        code: str = "", target: str = "", path: str = ".", top: int = 10,
        min_similarity: float | None = None,
    ) -> JSONObject:  # fmt: skip
        """The existing code under PATH most similar to CODE (a Python snippet: the function
        you are about to write) or to TARGET (FILE::QUALNAME or FILE:START-END), best first,
        with similarity (0-1), kind (exact, renamed, near-miss) and location. Give CODE or
        TARGET."""
        return _tool(lambda: _similar(roots, cache_dir, code, target, path, top, min_similarity))

    def plan(path: str = ".", max_groups: int = 20) -> ScanAnswer:
        """The refactoring plan for PATH: each clone group's verdict (consolidate, extract,
        leave-separate), reasons, the copy to keep, the proposed signature and the lines
        saved, highest priority first."""
        return _tool(lambda: scanned(path, "plan", max_groups))

    for tool in (scan, similar, plan):
        server.add_tool(tool, annotations=READ_ONLY)
    return server


def _similar(
    roots: Roots, cache_dir: str, code: str, target: str, path: str, top: int,
    min_similarity: float | None,
) -> JSONObject:  # fmt: skip
    if bool(code) == bool(target):
        raise UsageError(
            "give either code (a snippet) or target (FILE::QUALNAME or FILE:START-END)"
        )
    spec = _confined_target(roots, target) if target else "-"
    where = roots.confine(path)
    threshold = None
    if min_similarity is not None:
        threshold = cast(float, validate_option("min_similarity", min_similarity, TOOL_CALL))
    result = find_similar(
        spec, [where], _settings(roots, where, cache_dir),
        top=whole_number(1, "top", top, TOOL_CALL), min_similarity=threshold, snippet=code,
    )  # fmt: skip
    return similar_document(result)


def _confined_target(roots: Roots, target: str) -> TargetSpec:
    """TARGET ``target`` (parsed as the command line parses it), its file confined to the
    roots whatever its form."""
    parts = split_target(target)
    if parts.is_snippet:
        raise UsageError(
            "target: '-' stands for standard input on the command line; here, pass the "
            "snippet itself as code"
        )
    confined = replace(parts, file=roots.confine(parts.file))
    if confined.qualname is None and confined.lines is None:
        raise UsageError(
            f"target {target!r}: expected FILE::QUALNAME (e.g. pkg/mod.py::Class.method) or "
            "FILE:START-END (e.g. pkg/mod.py:10-42); pass a snippet as code"
        )
    return confined


def serve(roots: Sequence[str], cache_dir: str = "") -> None:
    """Run the server on stdin/stdout until the client closes it."""
    build_server(Roots(roots), cache_dir).run("stdio")
