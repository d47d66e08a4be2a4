"""The command line's options, declared once: typer annotations and, per command, the table
of (parameter, annotation, default) that ``cli._declared`` turns into a signature typer reads.
Settings options mirror ``Config`` fields and default to None ("not given"): the configuration
file or the documented default (shown in brackets) applies.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Annotated

import typer

from dupfind.config import Config

PathsArg = Annotated[
    list[str] | None, typer.Argument(help="Files or directories to scan (default: .).")
]


MinLines = Annotated[int | None, typer.Option(help="Smallest copy reported, in lines [6].")]
MinTokens = Annotated[int | None, typer.Option(help="Smallest copy reported, in tokens [50].")]
MinSimilarity = Annotated[
    float | None, typer.Option(help="Report groups at least this similar, 0-1 [0.5].")
]
Exclude = Annotated[
    list[str] | None,
    typer.Option(help="Skip paths matching this gitignore-style glob (repeatable)."),
]
Gitignore = Annotated[
    bool | None, typer.Option("--gitignore/--no-gitignore", help="Honour .gitignore [on].")
]
IncludePyi = Annotated[
    bool | None,
    typer.Option("--include-pyi/--no-include-pyi", help="Also scan .pyi stubs [off]."),
]
FollowSymlinks = Annotated[
    bool | None,
    typer.Option("--follow-symlinks/--no-follow-symlinks", help="Follow symbolic links [off]."),
]
MaxFileSize = Annotated[
    str | None, typer.Option(help="Skip files larger than this, e.g. 2MiB [1MiB].")
]
IgnoreImports = Annotated[
    bool | None,
    typer.Option("--ignore-imports/--report-imports", help="Never report import blocks [on]."),
]
IgnoreAllLists = Annotated[
    bool | None,
    typer.Option("--ignore-all-lists/--report-all-lists", help="Never report __all__ [on]."),
]
IgnoreStubs = Annotated[
    bool | None,
    typer.Option(
        "--ignore-stubs/--report-stubs",
        help="Never report stub bodies (..., pass, raise NotImplementedError) [on].",
    ),
]
IgnoreRecords = Annotated[
    bool | None,
    typer.Option(
        "--ignore-records/--report-records",
        help="Match data only as copies of the same data: records (classes under half "
        "methods) equal but for their name, class attributes and module constants exactly [on].",
    ),
]
IgnoreOverloads = Annotated[
    bool | None,
    typer.Option("--ignore-overloads/--report-overloads", help="Never report @overload [on]."),
]
Jobs = Annotated[
    int | None, typer.Option("--jobs", "-j", help="Worker processes; 0 = all cores [0].")
]
ExecutorOption = Annotated[
    str | None,
    typer.Option(
        "--executor",
        help="local, or dask: per-file analysis and scoring on a Dask cluster (needs "
        "--scheduler and pip install 'dupfind[dask]') [local].",
    ),
]
Scheduler = Annotated[
    str | None,
    typer.Option(help="Address of the Dask scheduler for --executor dask, e.g. tcp://HOST:8786."),
]
Format = Annotated[
    str | None, typer.Option("--format", "-f", help="terminal, json, markdown, html or sarif.")
]
Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="Read [tool.dupfind] from this file.")
]
Debug = Annotated[bool, typer.Option(help="Show tracebacks of internal errors.")]
Timings = Annotated[bool, typer.Option(help="Print the wall time of each stage on stderr.")]
Watch = Annotated[
    bool,
    typer.Option(
        help="Report again whenever a scanned file or setting changes, until Ctrl-C (one "
        "process, its cache state kept in memory between scans). Needs the extra: pip install "
        "'dupfind[watch]'."
    ),
]


History = Annotated[
    bool | None,
    typer.Option("--history/--no-history", help="Read git history for change frequency [on]."),
]

COMMAND_HELP = {
    "scan": "Scan PATHS for duplicated code and report the clone groups, largest first.",
    "check": (
        "The CI gate: scan PATHS and exit 1 when a group's verdict is at or above --fail-on "
        "(leave-separate never fails), or duplication exceeds --max-duplication; with "
        "--baseline only new groups count, with --diff only groups touching changed lines. "
        "Exit codes: 0 nothing actionable, 1 actionable duplicates, 2 usage error, 3 internal."
    ),
    "baseline-write": "Record every current group in the baseline file.",
    "baseline-prune": "Drop baseline entries whose groups no longer exist.",
    "plan": (
        "The refactoring plan for PATHS: a scorecard, then every clone group with its verdict "
        "(consolidate / extract / leave-separate) and reasons, the copy to keep, the proposed "
        "signature and the lines saved, ordered by lines saved times confidence; then the "
        "leftovers of repeated attempts."
    ),
}


FailOn = Annotated[
    str,
    typer.Option(
        "--fail-on",
        help="consolidate: fail on consolidate groups; extract: on consolidate and extract.",
    ),
]
MaxDuplication = Annotated[
    float | None,
    typer.Option(help="Also fail when duplicated lines exceed this percentage of all lines."),
]
ExitZero = Annotated[bool, typer.Option(help="Always exit 0 (report only).")]
BaselineFile = Annotated[
    Path | None, typer.Option("--baseline", help="Fail only on groups not in this baseline.")
]
Diff = Annotated[
    str | None,
    typer.Option(help="Only groups with a member in lines changed since this git ref."),
]
CacheSwitch = Annotated[
    bool | None, typer.Option("--cache/--no-cache", help="Reuse per-file results [on].")
]
CacheDir = Annotated[
    str | None,
    typer.Option(help="Where the cache lives [$XDG_CACHE_HOME/dupfind or ~/.cache/dupfind]."),
]
NoSuppress = Annotated[
    bool, typer.Option("--no-suppress", help="Ignore # dupfind: ignore markers (audits).")
]

# One declaration of every option; scan, plan and check take the common ones, check the gate's.
COMMON: list[tuple[str, object, object]] = [
    ("paths", PathsArg, None), ("min_lines", MinLines, None), ("min_tokens", MinTokens, None),
    ("min_similarity", MinSimilarity, None), ("exclude", Exclude, None),
    ("gitignore", Gitignore, None), ("include_pyi", IncludePyi, None),
    ("follow_symlinks", FollowSymlinks, None), ("max_file_size", MaxFileSize, None),
    ("ignore_imports", IgnoreImports, None), ("ignore_all_lists", IgnoreAllLists, None),
    ("ignore_stubs", IgnoreStubs, None), ("ignore_overloads", IgnoreOverloads, None),
    ("ignore_records", IgnoreRecords, None), ("history", History, None),
    ("cache", CacheSwitch, None), ("cache_dir", CacheDir, None),
    ("jobs", Jobs, None), ("executor", ExecutorOption, None), ("scheduler", Scheduler, None),
    ("output_format", Format, None),
    ("output", Output, None), ("config", ConfigFile, None), ("debug", Debug, False),
    ("timings", Timings, False), ("watch", Watch, False),
]  # fmt: skip
GATE: list[tuple[str, object, object]] = [
    ("fail_on", FailOn, "consolidate"), ("max_duplication", MaxDuplication, None),
    ("exit_zero", ExitZero, False), ("baseline", BaselineFile, None), ("diff", Diff, None),
    ("no_suppress", NoSuppress, False),
]  # fmt: skip
# The options that are settings (Config fields, also keys of [tool.dupfind]).
SETTINGS = tuple(name for name, _, _ in COMMON if name in {f.name for f in fields(Config)})


BaselineTarget = Annotated[
    Path, typer.Option("--baseline", help="The baseline file [.dupfind-baseline.json].")
]
BASELINE: list[tuple[str, object, object]] = [
    ("baseline", BaselineTarget, Path(".dupfind-baseline.json"))
]


SimilarArgs = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="[TARGET] [PATHS]...",
        help="TARGET is FILE::QUALNAME, FILE:START-END or - (a snippet on stdin); then the files "
        "or directories to search (default: .). With --diff, every argument is a path.",
        show_default=False,
    ),
]
Top = Annotated[int, typer.Option("--top", min=1, help="At most this many matches per target.")]
SimilarThreshold = Annotated[
    float | None,
    typer.Option(
        "--min-similarity",
        help="Show matches at least this similar, 0-1 [min-similarity, 0.5; with --diff: "
        "consolidate-similarity, 0.8].",
    ),
]
SimilarDiff = Annotated[
    str | None,
    typer.Option(
        "--diff",
        help="Search for every function added or changed since this git ref; exit 1 when one is "
        "at least --min-similarity similar to existing code.",
    ),
]
SimilarFormat = Annotated[str | None, typer.Option("--format", "-f", help="terminal or json.")]
SIMILAR: list[tuple[str, object, object]] = [
    ("args", SimilarArgs, None), ("top", Top, 10), ("min_similarity", SimilarThreshold, None),
    ("diff", SimilarDiff, None), ("exit_zero", ExitZero, False),
    ("output_format", SimilarFormat, None),
    *(o for o in COMMON if o[0] not in ("paths", "min_similarity", "history", "timings", "watch",
                                        "executor", "scheduler", "output_format")),
]  # fmt: skip
SIMILAR_HELP = (
    "Search before writing: the existing code most similar to TARGET, ranked, with similarity, "
    "kind and location; with --diff BASE, for every function added or changed since BASE, the "
    "existing code at least --min-similarity similar (exit 1 when there is some, for pre-commit "
    "and review). Answers from the cache a scan leaves. Exit codes: 0 searched (also with "
    "matches, except with --diff), 1 --diff found matches, 2 bad TARGET or usage, 3 internal."
)


McpRoots = Annotated[
    list[str] | None,
    typer.Argument(
        help="The directories the server may read (default: .); any other path is refused.",
        show_default=False,
    ),
]
