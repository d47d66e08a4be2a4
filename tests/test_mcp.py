"""The MCP server, driven by the official SDK's own client over a real stdio session
(``python -m dupfind mcp ROOT``): its tools, their answers, and paths outside the root refused
(relative, absolute, through a symbolic link, inside a TARGET). The same tools are also called
in-process, and the command's errors (missing extra, bad root) checked through the CLI."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, InitializeResult, ListToolsResult, TextContent
from typer.testing import CliRunner

import dupfind.executor
import dupfind.mcp_server
from dupfind.cache import FILENAME, AnalysisCache
from dupfind.cli import app
from dupfind.config import Config
from dupfind.errors import UsageError
from dupfind.mcp_server import Roots, build_server
from tests.conftest import FIXTURES, LOADER, LOADER_RENAMED

REFUSED = "outside the roots this server may read"
BROKEN = "def basket_total(:\n    total = 0\n    for item in items:\n        total += item\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("mcp")
    root = base / "project"
    shutil.copytree(FIXTURES / "similar" / "ranking", root)
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(LOADER, encoding="utf-8")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    return root


def _calls(project: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    snippet = (project / "snippet.txt").read_text(encoding="utf-8")
    outside = str(project.parent / "outside")
    return {
        "similar_code": ("similar", {"code": snippet, "top": 2}),
        "similar_target": ("similar", {"target": "shop/orders.py::order_total", "top": 1}),
        "similar_range": ("similar", {"target": "billing/invoices.py:6-17", "min_similarity": 0.9}),
        "scan": ("scan", {"path": "."}),
        "plan": ("plan", {"max_groups": 1}),
        "outside_relative": ("scan", {"path": "../outside"}),
        "outside_absolute": ("similar", {"code": LOADER, "path": outside}),
        "outside_symlink": ("plan", {"path": "linked"}),
        "outside_target": ("similar", {"target": "../outside/secret.py::load_settings"}),
        "outside_range": ("similar", {"target": f"{outside}/secret.py:1-5"}),
        "outside_no_form": ("similar", {"target": "/etc/passwd"}),
        "outside_parent": ("similar", {"target": "../outside.py::f"}),
        "stdin_target": ("similar", {"target": "-"}),
        "no_form": ("similar", {"target": "shop/orders.py"}),
        "syntax_error": ("similar", {"code": BROKEN}),
        "negative_groups": ("scan", {"max_groups": -1}),
        "both": ("similar", {"code": "x = 1", "target": "shop/orders.py::order_total"}),
        "unknown_name": ("similar", {"target": "shop/orders.py::order_totl"}),
    }


Session = tuple[InitializeResult, ListToolsResult, dict[str, CallToolResult]]


@pytest.fixture(scope="module")
def server_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mcp-cache")


@pytest.fixture(scope="module")
def session(project: Path, server_cache: Path) -> Session:
    """One real session: the server is a subprocess started by the SDK's stdio client."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "dupfind", "mcp", str(project), "--cache-dir", str(server_cache / "given")],
        cwd=str(project), env={"XDG_CACHE_HOME": str(server_cache / "default")},
    )  # fmt: skip

    async def talk() -> Session:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
            started = await client.initialize()
            tools = await client.list_tools()
            results = {
                name: await client.call_tool(tool, arguments)
                for name, (tool, arguments) in _calls(project).items()
            }
        return started, tools, results

    return anyio.run(talk)


def _text(result: CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, TextContent))


def _data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, _text(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def test_three_read_only_tools_and_instructions_naming_the_root(
    session: Session, project: Path
) -> None:
    started, tools, _ = session
    assert {tool.name for tool in tools.tools} == {"scan", "similar", "plan"}
    for tool in tools.tools:
        assert tool.annotations is not None and tool.annotations.read_only_hint
        assert tool.annotations.destructive_hint is False
    (similar,) = [tool for tool in tools.tools if tool.name == "similar"]
    assert set(similar.input_schema["properties"]) == {
        "code", "target", "path", "top", "min_similarity",
    }  # fmt: skip
    assert started.instructions is not None and str(project.resolve()) in started.instructions


def test_the_cache_is_where_the_command_line_says(session: Session, server_cache: Path) -> None:
    assert (server_cache / "given" / FILENAME).is_file()
    assert not (server_cache / "default").exists()


def test_similar_answers_a_snippet_a_function_and_a_range(session: Session) -> None:
    results = session[2]
    matches = _data(results["similar_code"])["results"][0]["matches"]
    assert [(m["path"], m["qualname"]) for m in matches] == [
        ("billing/invoices.py", "invoice_amount"),
        ("shop/orders.py", "order_total"),
    ]
    (best,) = _data(results["similar_target"])["results"][0]["matches"]
    assert (best["qualname"], best["kind"], best["similarity"]) == (
        "invoice_amount",
        "renamed",
        1.0,
    )
    (found,) = _data(results["similar_range"])["results"]
    assert [m["qualname"] for m in found["matches"]] == ["order_total"]


def test_scan_and_plan_summarise_the_root(session: Session) -> None:
    results = session[2]
    scanned = _data(results["scan"])
    assert scanned["files_scanned"] == 4  # the symlinked directory is not followed
    assert scanned["groups_total"] == len(scanned["groups"]) >= 1
    members = {m["qualname"] for m in scanned["groups"][0]["members"]}
    assert {"invoice_amount", "order_total"} <= members
    planned = _data(results["plan"])
    assert len(planned["groups"]) == 1 <= planned["groups_total"]
    assert planned["groups"][0]["verdict"] in {"consolidate", "extract", "leave-separate"}
    assert planned["groups"][0]["reasons"]


@pytest.mark.parametrize(
    "call",
    [
        "outside_relative", "outside_absolute", "outside_symlink", "outside_target",
        "outside_range", "outside_no_form", "outside_parent",
    ],
)  # fmt: skip
def test_paths_outside_the_root_are_refused(session: Session, project: Path, call: str) -> None:
    result = session[2][call]
    assert result.is_error
    assert REFUSED in _text(result)
    assert str(project.resolve()) in _text(result)


def test_bad_arguments_are_tool_errors_with_dupfind_messages(session: Session) -> None:
    results = session[2]
    assert results["both"].is_error and "give either code" in _text(results["both"])
    unknown = results["unknown_name"]
    assert unknown.is_error and "did you mean shop/orders.py::order_total" in _text(unknown)
    stdin = results["stdin_target"]
    assert stdin.is_error and "pass the snippet itself as code" in _text(stdin)
    assert "<stdin>" not in _text(stdin)
    no_form = results["no_form"]
    assert no_form.is_error
    assert "'shop/orders.py': expected FILE::QUALNAME" in _text(no_form)
    negative = results["negative_groups"]
    assert negative.is_error
    assert "max_groups: expected a whole number >= 0, got -1" in _text(negative)


def test_a_snippet_that_does_not_parse_says_so_with_the_line(session: Session) -> None:
    notes = _data(session[2]["syntax_error"])["notes"]
    assert [note for note in notes if "could not be fully parsed" in note] == [
        "<stdin>:1: the code searched for could not be fully parsed (syntax error; the code "
        "containing it was not analysed); fix it and search again for a complete answer"
    ]


def test_the_results_have_typed_output_schemas(session: Session) -> None:
    schemas = {tool.name: tool.output_schema for tool in session[1].tools}
    for name in ("scan", "plan"):
        schema = schemas[name]
        assert schema is not None
        assert set(schema["required"]) == {
            "files_scanned", "lines_scanned", "duplicated_lines", "duplicated_percent",
            "groups", "groups_total", "notes",
        }  # fmt: skip
        assert schema["properties"]["groups_total"]["type"] == "integer"
    similar = schemas["similar"]
    assert similar is not None and similar["type"] == "object"
    assert similar["additionalProperties"] == {"$ref": "#/$defs/JSONValue"}


def test_the_tools_in_process(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    server = build_server(Roots([str(project)]))

    async def call(tool: str, arguments: dict[str, Any]) -> Any:
        return await server.call_tool(tool, arguments)

    found = anyio.run(call, "similar", {"target": "shop/orders.py::order_total", "top": 1})
    assert found.structured_content["results"][0]["matches"][0]["qualname"] == "invoice_amount"
    assert anyio.run(call, "scan", {"max_groups": 0}).structured_content["groups"] == []
    with pytest.raises(ToolError, match="top: expected a whole number >= 1, got 0"):
        anyio.run(call, "similar", {"code": LOADER, "top": 0})
    with pytest.raises(ToolError, match=REFUSED):
        anyio.run(call, "plan", {"path": "/"})
    with pytest.raises(ToolError, match="not a usable path"):
        anyio.run(call, "scan", {"path": "nul\0byte"})
    with pytest.raises(ToolError, match="min-similarity: expected a number between 0 and 1"):
        anyio.run(call, "similar", {"code": LOADER, "min_similarity": 3})


def test_roots_must_be_directories(project: Path) -> None:
    with pytest.raises(UsageError, match="not a directory"):
        Roots([str(project / "snippet.txt")])
    result = CliRunner().invoke(app, ["mcp", str(project / "missing")])
    assert result.exit_code == 2
    assert "missing: not a directory" in result.stderr


def test_without_the_extra_the_command_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "dupfind.mcp_server", raising=False)
    monkeypatch.setitem(sys.modules, "mcp.server.mcpserver", None)
    result = CliRunner().invoke(app, ["mcp"])
    assert result.exit_code == 2
    assert "pip install 'dupfind[mcp]'" in result.stderr


# Configuration: read within the roots only, and never where dupfind stores or runs.


def _call(server: MCPServer[object], tool: str, arguments: dict[str, Any]) -> Any:
    async def call() -> Any:
        return (await server.call_tool(tool, arguments)).structured_content

    return anyio.run(call)


@pytest.fixture
def nested(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A root (the ranking fixture) inside a directory whose pyproject.toml excludes billing."""
    (tmp_path / "pyproject.toml").write_text('[tool.dupfind]\nexclude = ["billing/"]\n')
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "similar" / "ranking", root)
    monkeypatch.chdir(root)
    return root


def test_configuration_above_the_roots_is_not_read(nested: Path) -> None:
    outside_the_server = CliRunner().invoke(app, ["scan", ".", "--format", "json"])
    assert json.loads(outside_the_server.stdout)["files_scanned"] == 2  # the exclude applies
    scanned = _call(build_server(Roots([str(nested)])), "scan", {})
    assert scanned["files_scanned"] == 4
    members = {m["path"] for group in scanned["groups"] for m in group["members"]}
    assert "billing/invoices.py" in members


def test_configuration_within_the_roots_is_read(nested: Path) -> None:
    (nested / "pyproject.toml").write_text('[tool.dupfind]\nexclude = ["shop/"]\n')
    assert _call(build_server(Roots([str(nested)])), "scan", {})["files_scanned"] == 3


def test_a_bad_setting_within_the_roots_is_a_tool_error_naming_it(nested: Path) -> None:
    (nested / "pyproject.toml").write_text("[tool.dupfind]\nmin-lines = 0\n")
    with pytest.raises(ToolError) as refused:
        _call(build_server(Roots([str(nested)])), "scan", {})
    message = str(refused.value)
    assert f"{nested / 'pyproject.toml'} [tool.dupfind]: min-lines: expected a whole" in message


@pytest.mark.parametrize(
    "setting",
    ['executor = "dask"\nscheduler = "tcp://127.0.0.1:9"', 'cache-dir = "."', 'scheduler = "h:1"'],
)
def test_a_project_setting_where_dupfind_runs_or_stores_is_a_tool_error(
    nested: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    (nested / "pyproject.toml").write_text(f"[tool.dupfind]\n{setting}\n")

    def connect(address: str) -> None:
        raise AssertionError(f"connected to {address}")

    monkeypatch.setattr(dupfind.executor, "dask_cluster", connect)
    server = build_server(Roots([str(nested)]))
    for tool, arguments in [("scan", {}), ("plan", {}), ("similar", {"code": LOADER})]:
        with pytest.raises(ToolError) as refused:
            _call(server, tool, arguments)
        message = str(refused.value)
        assert f"{nested / 'pyproject.toml'} [tool.dupfind]: " in message
        assert "never takes from the project it serves" in message
        assert "remove the key from that table" in message


def test_the_server_runs_locally_with_its_own_cache_whatever_the_settings(
    nested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: even settings naming a scheduler and a cache reach the scan as the
    server's own (local, its cache directory)."""
    chosen = Config(executor="dask", scheduler="tcp://10.0.0.1:8786", cache_dir="/elsewhere")
    monkeypatch.setattr(dupfind.mcp_server, "load_config", lambda *args, **kwargs: chosen)
    used: list[Config] = []
    real = dupfind.mcp_server.run_scan

    def scan(paths: list[str], config: Config, *rest: Any) -> Any:
        used.append(config)
        return real(paths, config, *rest)

    monkeypatch.setattr(dupfind.mcp_server, "run_scan", scan)
    cache = str(tmp_path / "server-cache")
    _call(build_server(Roots([str(nested)]), cache), "scan", {})
    ((executor, scheduler, cache_dir, follow),) = [
        (c.executor, c.scheduler, c.cache_dir, c.follow_symlinks) for c in used
    ]
    assert (executor, scheduler, cache_dir, follow) == ("local", "", cache, False)
    assert (tmp_path / "server-cache" / FILENAME).is_file()


# Concurrency: the SDK runs sync tools on worker threads, several at once.


@pytest.fixture
def two_trees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two trees under one root, each with its own clone group."""
    for tree, source in (("a", LOADER), ("b", LOADER_RENAMED)):
        for copy in range(2):
            name = tmp_path / tree / f"m{copy}.py"
            name.parent.mkdir(exist_ok=True)
            name.write_text(source.replace("(", f"_{tree}{copy}(", 1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _concurrently(server: MCPServer[object], calls: dict[str, dict[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def call(key: str) -> None:
        found[key] = (await server.call_tool("plan", calls[key])).structured_content

    async def all_at_once() -> None:
        async with anyio.create_task_group() as group:
            for key in calls:
                group.start_soon(call, key)

    anyio.run(all_at_once)
    return found


def test_concurrent_calls_answer_each_for_its_own_tree(two_trees: Path) -> None:
    server = build_server(Roots([str(two_trees)]))
    calls = {tree: {"path": tree} for tree in ("a", "b")}
    alone = {tree: _call(server, "plan", arguments) for tree, arguments in calls.items()}
    for tree, answer in alone.items():
        (group,) = answer["groups"]
        assert {(m["path"][0], m["domain"]) for m in group["members"]} == {(tree, tree)}
    for _ in range(3):
        assert _concurrently(server, calls) == alone


def test_tool_bodies_run_one_at_a_time(two_trees: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    running: list[int] = [0]
    most: list[int] = []
    real = dupfind.mcp_server.run_scan

    def scan(paths: list[str], config: Config, *rest: Any) -> Any:
        running[0] += 1
        most.append(running[0])
        time.sleep(0.2)  # long enough for the other call's thread to start
        try:
            return real(paths, config, *rest)
        finally:
            running[0] -= 1

    monkeypatch.setattr(dupfind.mcp_server, "run_scan", scan)
    server = build_server(Roots([str(two_trees)]))
    found = _concurrently(server, {tree: {"path": tree} for tree in ("a", "b")})
    assert set(found) == {"a", "b"}
    assert most == [1, 1]


def test_a_scan_after_an_edit_answers_as_a_fresh_one_and_reads_only_the_edit(
    two_trees: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server keeps its last scan's analyses and memos (cache.Resident): a scan after a
    file is added looks up only that file in the cache file."""
    server = build_server(Roots([str(two_trees)]), str(tmp_path / "server-cache"))
    _call(server, "plan", {"path": "a"})
    read: list[int] = []
    rows = AnalysisCache.rows

    def recorded(self: AnalysisCache, table: str, keys: Any, *rest: Any) -> Any:
        wanted = list(keys)
        if table == "analyses":
            read.append(len(wanted))
        return rows(self, table, wanted, *rest)

    monkeypatch.setattr(AnalysisCache, "rows", recorded)
    (two_trees / "a" / "m2.py").write_text(LOADER, encoding="utf-8")
    again = _call(server, "plan", {"path": "a"})
    assert read == [1]  # the new file's key only (another process may have analysed it)
    monkeypatch.setattr(AnalysisCache, "rows", rows)
    fresh = _call(
        build_server(Roots([str(two_trees)]), str(tmp_path / "other-cache")), "plan", {"path": "a"}
    )
    assert again == fresh
