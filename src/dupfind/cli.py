"""Command line: typer commands that turn options into a Config, run the pipeline and render.

The only module that reads argv, prints or exits. ``DupfindError`` → its exit code with
``dupfind: error: …`` on stderr; anything unexpected → exit 3 ("please report"), with the
traceback only under ``--debug``.

Exit codes: 0 success, 1 actionable duplicates (``check``, with the CI gate), 2 usage, config or
input error, 3 internal error.
"""

from __future__ import annotations

import gc
import inspect
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, NoReturn, TextIO, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from dupfind import __version__
from dupfind.cache import AnalysisCache
from dupfind.config import load_config
from dupfind.discover import display_path
from dupfind.errors import DupfindError, ExitCode, UsageError, optional_extra
from dupfind.gate import FAIL_ON, Baseline, GateResult, changed_lines, evaluate
from dupfind.models import ScanResult
from dupfind.options import (
    BASELINE,
    COMMAND_HELP,
    COMMON,
    GATE,
    SETTINGS,
    SIMILAR,
    SIMILAR_HELP,
    CacheDir,
    Debug,
    McpRoots,
)
from dupfind.pipeline import GC_YOUNG_THRESHOLD, flush
from dupfind.pipeline import scan as run_scan
from dupfind.report import get_reporter
from dupfind.report.similar import FORMATS as SIMILAR_FORMATS
from dupfind.report.similar import render_similar
from dupfind.report.view import build_view
from dupfind.similar import find_similar
from dupfind.state import Resident
from dupfind.watch import Watcher

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 actionable duplicates (dupfind check); "
    "2 usage, configuration or input error; 3 internal error."
)

R = TypeVar("R")
CLEAR_SCREEN = "\x1b[H\x1b[2J"  # cursor home, screen cleared (--watch: one report on the screen)

app = typer.Typer(
    name="dupfind",
    help="Find exact, renamed and near-miss duplicate code in Python projects. " + EXIT_CODES_HELP,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # help texts hold [defaults] and dupfind[extra]: not markup
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dupfind {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """dupfind: duplicate-code detection and consolidation for Python."""


class _LazyProgress:
    """A progress bar on stderr that appears only once a scan has run for a second."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.monotonic()
        self.bar: Progress | None = None
        self.task = TaskID(0)

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < 1.0 or not self.console.is_terminal:
                return
            self.bar = Progress(
                TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=self.console, transient=True,
            )  # fmt: skip
            self.bar.start()
            self.task = self.bar.add_task("scan", total=total)
        self.bar.update(self.task, completed=done)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    try:  # a file name that is not UTF-8 is written back as its bytes, as on stdout
        handle = path.open("w", encoding="utf-8", errors="surrogateescape", newline="\n")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the report: {exc.strerror}") from None
    with handle:
        yield handle


def _run(action: Callable[[], None], debug: bool) -> None:
    try:
        action()
    except DupfindError as exc:
        typer.echo(f"dupfind: error: {exc}", err=True)
        raise typer.Exit(int(exc.exit_code)) from None
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        typer.echo("dupfind: interrupted", err=True)
        raise typer.Exit(130) from None
    except Exception as exc:
        if debug:
            traceback.print_exc()
        typer.echo(
            f"dupfind: internal error: {exc!r}. Please report it (rerun with --debug for a "
            "traceback).",
            err=True,
        )
        raise typer.Exit(int(ExitCode.INTERNAL)) from None


def _command(mode: str) -> Callable[..., None]:
    """One command body for scan, plan, check and the baseline commands, with a signature
    typer reads."""
    extra = {"check": GATE, "baseline-write": BASELINE, "baseline-prune": BASELINE}
    report = ("output_format", "output", "watch")  # a baseline command writes the baseline
    common = [o for o in COMMON if not mode.startswith("baseline-") or o[0] not in report]
    declared = common + extra.get(mode, [])

    def command(**given: object) -> None:
        options = {key: given[key] for key in SETTINGS}
        options["exclude"] = given["exclude"] or None
        options["format"] = given.get("output_format")
        if given.get("no_suppress"):
            options["suppress"] = False
        targets = list(given["paths"] or ["."])  # type: ignore[call-overload]
        debug = bool(given["debug"])
        _run(lambda: _report(mode, targets, given, options), debug)

    return _declared(command, declared, COMMAND_HELP[mode])


def _declared(
    command: Callable[..., None], declared: list[tuple[str, object, object]], doc: str
) -> Callable[..., None]:
    """``command`` with the signature typer reads: one keyword parameter per declared option."""
    command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                              annotation=annotation)
            for name, annotation, default in declared
        ]
    )  # fmt: skip
    command.__annotations__ = {name: annotation for name, annotation, _ in declared}
    command.__doc__ = doc
    return command


def _report(
    mode: str, targets: list[str], given: dict[str, object], options: dict[str, object]
) -> None:
    if not given.get("watch"):
        _report_once(mode, targets, given, options, None)
        return
    read = (given["config"], given.get("baseline"))  # files a scan or the gate reads
    watcher = Watcher(targets, [path for path in read if isinstance(path, Path)])
    try:
        _watching(mode, targets, given, options, watcher)
    finally:
        watcher.close()


def _watching(
    mode: str,
    targets: list[str],
    given: dict[str, object],
    options: dict[str, object],
    watcher: Watcher,
) -> None:
    """``--watch``: report, then again after each batch of changes (watch.py)."""
    resident = Resident()
    started = time.perf_counter()
    _report_once(mode, targets, given, options, resident)  # its errors end the command
    reported: float | None = time.perf_counter() - started
    while True:
        done = f"reported in {reported:.2f} s; " if reported is not None else ""
        where = " ".join(targets)
        typer.echo(f"dupfind: {done}watching {where} for changes (Ctrl-C to stop)", err=True)
        # A rescan and its report run with the cyclic collector paused; it collects now, while
        # the process waits, as it stores (``flush``): young collections walking a rescan's new
        # objects took 0.03-0.08 s of a one-file stdlib rescan. A rescan's cyclic garbage is
        # small, and lives one rescan longer at most.
        gc.enable()
        for note in flush(resident):  # the report is out: store while waiting for an edit
            typer.echo(f"dupfind: {note}", err=True)
        changed = watcher.next()
        started = time.perf_counter()
        if given["output"] is None and sys.stdout.isatty():  # one report on the screen
            sys.stdout.write(CLEAR_SCREEN)
            sys.stdout.flush()
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        shown = display_path(changed[0])
        typer.echo(f"dupfind: {shown}{more} changed; scanning again", err=True)
        gc.disable()  # until its report is out (above: ``gc.enable``)
        try:
            _report_once(mode, targets, given, options, resident)
            reported = time.perf_counter() - started
        except DupfindError as exc:  # a bad edit to the configuration: say so, keep watching
            typer.echo(f"dupfind: error: {exc}", err=True)
            reported = None
        except BaseException:  # Ctrl-C or a failure ends the command: what the rescan left to
            gc.enable()  # store (its fresh analyses too: pipeline.scan's ``hold``) is stored
            flush(resident)
            raise


def _report_once(
    mode: str,
    targets: list[str],
    given: dict[str, object],
    options: dict[str, object],
    resident: Resident | None,
) -> None:
    """One scan and its report (or baseline update); with ``resident``, a scan of ``--watch``
    (the gate then says whether it fails, without ending the command)."""
    config = given["config"]
    settings = load_config(targets, config if isinstance(config, Path) else None, options)
    # Everything that can be wrong with the command line is found before the scan.
    gate = _GateInputs.of(given) if mode == "check" else None
    pruned = Baseline.read(Path(str(given["baseline"]))) if mode == "baseline-prune" else None
    renderer = None if mode.startswith("baseline-") else get_reporter(settings.format)
    progress = _LazyProgress(Console(stderr=True))
    try:  # a --watch scan stores in the cache after its report (flush)
        result = run_scan(targets, settings, progress, resident, defer=resident is not None)
    finally:
        progress.stop()
    if given["timings"]:
        for stage, seconds in result.timings:
            typer.echo(f"{seconds:8.3f}s  {stage}", err=True)
    if renderer is None:
        _update_baseline(result, given, pruned)
        return
    outcome = gate.evaluate(result) if gate is not None else None
    shown = result if outcome is None else _only(result, outcome.shown)
    kept = resident.reports if resident is not None else None
    view = build_view(shown, with_code=settings.format == "html", mode=mode, kept=kept)
    output = given["output"]
    with _output(output if isinstance(output, Path) else None) as out:
        renderer(view, out)
    if resident is not None:
        sys.stdout.flush()
    if outcome is not None:
        _finish_check(outcome, given, resident is None)


def _update_baseline(result: ScanResult, given: dict[str, object], old: Baseline | None) -> None:
    """``baseline write`` (``old`` is None) or ``baseline prune`` of ``old``."""
    path = Path(str(given["baseline"]))
    if old is None:
        Baseline.of(result.groups).write(path)
        typer.echo(f"dupfind: wrote {len(result.groups)} group(s) to {path}", err=True)
        return
    new = old.pruned(result.groups)
    new.write(path)
    removed = len(old.entries) - len(new.entries)
    typer.echo(f"dupfind: pruned {removed} fixed group(s) from {path}", err=True)


@dataclass(frozen=True)
class _GateInputs:
    """What ``check`` gates with, read and validated before the scan."""

    fail_on: str
    limit: float | None
    baseline: Baseline | None
    changed: dict[str, list[tuple[int, int]]] | None

    @classmethod
    def of(cls, given: dict[str, object]) -> _GateInputs:
        fail_on = str(given["fail_on"])
        if fail_on not in FAIL_ON:
            raise UsageError(f"--fail-on: expected one of {', '.join(FAIL_ON)}, got {fail_on!r}")
        baseline_path, diff, limit = given["baseline"], given["diff"], given["max_duplication"]
        return cls(
            fail_on,
            float(limit) if isinstance(limit, int | float) else None,
            Baseline.read(baseline_path) if isinstance(baseline_path, Path) else None,
            changed_lines(str(diff)) if diff else None,
        )

    def evaluate(self, result: ScanResult) -> GateResult:
        return evaluate(result, self.fail_on, self.limit, self.baseline, self.changed)


def _only(result: ScanResult, indexes: tuple[int, ...]) -> ScanResult:
    return replace(
        result,
        groups=tuple(result.groups[i] for i in indexes),
        recommendations=tuple(result.recommendations[i] for i in indexes),
    )


def _finish_check(gate: GateResult, given: dict[str, object], ends: bool = True) -> None:
    """The gate's summary on stderr, and exit 1 when it fails (if it ``ends`` the command)."""
    parts = [f"{len(gate.failing)} actionable group(s) at or above --fail-on {given['fail_on']}"]
    if given["baseline"] is not None:
        parts.append(f"{gate.baselined} baselined, {len(gate.fixed)} fixed since the baseline")
    if gate.duplication_exceeded:
        parts.append(f"duplication above --max-duplication {given['max_duplication']}%")
    typer.echo("dupfind check: " + "; ".join(parts), err=True)
    for key in gate.fixed:
        typer.echo(f"  fixed: {key} (remove it with `dupfind baseline prune`)", err=True)
    failed = bool(gate.failing) or gate.duplication_exceeded
    if failed and ends and not given["exit_zero"]:
        raise typer.Exit(int(ExitCode.DUPLICATES))


def _similar_command(**given: object) -> None:
    _run(lambda: _similar(given), bool(given["debug"]))


def _similar(given: dict[str, object]) -> None:
    args = [str(arg) for arg in given["args"] or []]  # type: ignore[attr-defined]
    base = given["diff"]
    target, paths = (args[0], args[1:]) if base is None and args else (None, args)
    output_format = str(given["output_format"] or "terminal")
    if output_format not in SIMILAR_FORMATS:
        raise UsageError(
            f"--format: similar writes {' or '.join(SIMILAR_FORMATS)}, not {output_format!r}"
        )
    options = {key: given[key] for key in SETTINGS if key in given}
    options["exclude"] = given["exclude"] or None
    config = given["config"]
    settings = load_config(paths or ["."], config if isinstance(config, Path) else None, options)
    threshold = None if given["min_similarity"] is None else settings.min_similarity
    top = int(str(given["top"]))
    progress = _LazyProgress(Console(stderr=True))
    try:
        snippet = sys.stdin.read() if target == "-" else None
        result = find_similar(
            target,
            paths or ["."],
            settings,
            top=top,
            min_similarity=threshold,
            snippet=snippet,
            base=None if base is None else str(base),
            progress=progress,
        )
    finally:
        progress.stop()
    output = given["output"]
    with _output(output if isinstance(output, Path) else None) as out:
        render_similar(result, output_format, out)
    if result.base is not None and result.findings and not given["exit_zero"]:
        raise typer.Exit(int(ExitCode.DUPLICATES))


def _serve(roots: list[str], cache_dir: str) -> None:
    with optional_extra("mcp", "dupfind mcp", "the Model Context Protocol SDK", "mcp"):
        from dupfind.mcp_server import serve
    serve(roots, cache_dir)


app.command("scan")(_command("scan"))
app.command("plan")(_command("plan"))
app.command("check")(_command("check"))
baseline_app = typer.Typer(
    help="Record today's duplication so the gate fails only on new groups.",
    rich_markup_mode=None,
)
baseline_app.command("write")(_command("baseline-write"))
baseline_app.command("prune")(_command("baseline-prune"))
app.add_typer(baseline_app, name="baseline")
app.command("similar")(_declared(_similar_command, SIMILAR, SIMILAR_HELP))


@app.command("mcp")
def mcp_command(roots: McpRoots = None, cache_dir: CacheDir = None, debug: Debug = False) -> None:
    """Serve dupfind to coding agents over the Model Context Protocol (stdio): read-only tools
    scan, similar and plan, confined to ROOTS. Needs the extra: pip install 'dupfind[mcp]'."""
    _run(lambda: _serve(roots or ["."], cache_dir or ""), debug)


cache_app = typer.Typer(help="The incremental cache of per-file results.", rich_markup_mode=None)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info(cache_dir: CacheDir = None) -> None:
    """Where the cache is, its entries and size, and the last run's hit rate."""
    info, _ = _on_cache(cache_dir, AnalysisCache.info, required=False)
    typer.echo(
        f"cache: {info.path}\nentries: {info.entries}\nsize: {info.size_bytes} bytes\n"
        f"last run: {info.last_hits} hits, {info.last_misses} misses "
        f"({info.hit_rate:.0%} hit rate)"
    )


@cache_app.command("clear")
def cache_clear(cache_dir: CacheDir = None) -> None:
    """Delete every cached result."""
    removed, where = _on_cache(cache_dir, AnalysisCache.clear, required=True)
    typer.echo(f"dupfind: removed {removed} cached file analyses from {where}")


def _on_cache(
    cache_dir: str | None, action: Callable[[AnalysisCache], R], required: bool
) -> tuple[R, Path]:
    """``action`` on the cache and its file's path, its notes reported on stderr; a cache
    that could not be opened ends a ``required`` action with exit 2 (nothing was done)."""
    cache = AnalysisCache.at(cache_dir)
    value = action(cache)
    cache.close()
    failed = required and cache.connection is None
    for note in cache.notes:
        typer.echo(f"dupfind: {'error: ' if failed else ''}{note}", err=True)
    if failed:
        raise typer.Exit(int(ExitCode.USAGE))
    return value, cache.path


def main() -> None:
    """Console-script entry point. A command builds millions of small objects that live to
    its end (a scan's analyses, groups and report): collecting the young generation every 700
    allocations made the cyclic collector rescan them over and over (half the JSON report's
    time on the stdlib), so dupfind's processes, the MCP server's included, collect it every
    ``GC_YOUNG_THRESHOLD`` allocations instead. For the same reason the process ends without
    the interpreter's teardown, which freed them one by one (0.1-0.2 s of a rescan of the
    standard library): by then every report, cache connection and worker pool is closed."""
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    try:
        app()
    except SystemExit as done:
        _exit(done.code)
    _exit(0)


def _exit(code: object) -> NoReturn:
    """What ``sys.exit(code)`` means (None is 0, an int is itself, anything else is printed
    and is 1), with the output flushed, but no teardown. Output that cannot be written (a
    full disk) is an error, as for ``--output``; a reader that went away (``| head``) is not."""
    status = 0 if code is None else code if isinstance(code, int) else 1
    if not isinstance(code, int | None):
        print(code, file=sys.stderr)
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass
    except OSError as exc:
        print(f"dupfind: error: cannot write the output: {exc.strerror}", file=sys.stderr)
        status = int(ExitCode.USAGE)
    with suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(status)
