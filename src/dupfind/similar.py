"""``dupfind similar``: the existing code most similar to a target, ranked (search before
writing).

A target is a function or class (``FILE::QUALNAME``), a range of lines (``FILE:START-END``) or
a snippet (standard input, or the MCP ``similar`` tool); with ``--diff BASE``, every function
added or changed since the git ref BASE (``gate.changed_lines``). The corpus is every file
discovered under the given paths. An answer never runs the scan's global stages and never loads
every cached analysis:

1. discover the files and compute their cache keys (one read of each file);
2. load their sketches from the cache (sketch.py, which records the design and its costs);
   files without one (changed since the cache was warmed, or never scanned) are analysed now,
   through the cache, which keeps them for the next search;
3. rank every function and class by its estimated similarity to the target, and rescore the
   best ``CANDIDATES`` (at least four per match shown) exactly with ``score.similarity`` — the
   measure of clone groups, after undoing a consistent renaming — from their files' cached
   analyses;
4. keep those at least ``min_similarity`` similar, best first. The target itself and the units
   overlapping it (its class, its nested functions) are never matches.
"""

from __future__ import annotations

import difflib
import heapq
import math
import os
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from dupfind.cache import AnalysisCache
from dupfind.candidates import eligible_units
from dupfind.config import Config
from dupfind.discover import discover_files, display_path
from dupfind.errors import TargetError, UsageError
from dupfind.fingerprint import digest, window
from dupfind.gate import changed_lines, touches
from dupfind.keys import Keyed
from dupfind.models import CloneKind, CodeUnit, FileAnalysis, SkippedFile, UnitKind
from dupfind.parse import decode_source, read_source
from dupfind.pipeline import Progress, analyse_source, cached_map
from dupfind.score import Tokens, similarity
from dupfind.sketch import FileSketch, load_sketches, record_sketches, sketch_of

SNIPPET = "<stdin>"
SNIPPET_NAME = "<snippet>"
CANDIDATES = 48
TARGET_FORMS = (
    "FILE::QUALNAME (e.g. pkg/mod.py::Class.method), FILE:START-END (e.g. pkg/mod.py:10-42) "
    "or - (a snippet on standard input)"
)
_RANGE = re.compile(r"^(?P<path>.+):(?P<start>\d+)-(?P<end>\d+)$")


@dataclass(frozen=True, slots=True)
class Target:
    """What to search for: a location and its tokens, shingles and digests. ``origin`` is the
    real path of the file holding it (None for a snippet)."""

    path: str
    start_line: int
    end_line: int
    qualname: str
    tokens: Tokens
    shingles: frozenset[int]
    exact_digest: bytes
    shape_digest: bytes
    origin: str | None = None
    note: str | None = None  # a snippet that could not be fully parsed says so

    @property
    def length(self) -> int:
        return len(self.tokens.shape)


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """A TARGET split into its parts (``split_target``): ``file`` (``-`` for a snippet) and,
    for the two file forms, ``qualname`` (FILE::QUALNAME) or ``lines`` (FILE:START-END).
    A TARGET of neither form has neither, and its ``file`` is the whole TARGET, so that what
    names a path is always in ``file`` (the MCP server confines it)."""

    file: str
    qualname: str | None = None
    lines: tuple[int, int] | None = None

    @property
    def is_snippet(self) -> bool:
        return self.file == "-" and self.qualname is None and self.lines is None

    def __str__(self) -> str:
        if self.qualname is not None:
            return f"{self.file}::{self.qualname}"
        if self.lines is not None:
            return f"{self.file}:{self.lines[0]}-{self.lines[1]}"
        return self.file


def split_target(spec: str) -> TargetSpec:
    """TARGET ``spec`` in its parts: the one parser of TARGETs (the CLI's and the MCP
    server's)."""
    path, separator, qualname = spec.partition("::")
    if separator:
        return TargetSpec(path, qualname=qualname)
    found = _RANGE.match(spec)
    if found:
        return TargetSpec(found["path"], lines=(int(found["start"]), int(found["end"])))
    return TargetSpec(spec)


@dataclass(frozen=True, slots=True)
class Match:
    """Existing code similar to a target."""

    path: str
    start_line: int
    end_line: int
    qualname: str
    unit: UnitKind
    kind: CloneKind
    similarity: float


@dataclass(frozen=True, slots=True)
class Finding:
    target: Target
    matches: tuple[Match, ...]


@dataclass(frozen=True, slots=True)
class SimilarResult:
    """What ``dupfind similar`` found: one finding per target (with ``--diff``, only the
    targets that have matches), and bookkeeping."""

    findings: tuple[Finding, ...]
    targets: int
    files_searched: int
    min_similarity: float
    base: str | None = None
    skipped: tuple[SkippedFile, ...] = ()
    notes: tuple[str, ...] = ()


class Corpus:
    """The files searched: a sketch of each, and the analyses loaded so far (by display path)."""

    def __init__(
        self, paths: Sequence[str], config: Config, cache: AnalysisCache | None,
        progress: Progress | None = None,
    ) -> None:  # fmt: skip
        discovery = discover_files(paths, config)
        self.config = config
        self.cache = cache
        self.files = discovery.files
        self.skipped = {item.path: item for item in discovery.skipped}
        self.analyses: dict[str, FileAnalysis] = {}
        self.keyed = Keyed.of(self.files, config) if cache is not None else None
        keys = self.keyed.keys if self.keyed is not None else {}
        stored = load_sketches(cache, keys.values()) if cache is not None else {}
        self.sketches: dict[str, FileSketch] = {
            path: stored[keys[path]] for path in self.files if keys.get(path) in stored
        }
        missing = self.load([path for path in self.files if path not in self.sketches], progress)
        if cache is not None:  # the map stage has just stored the fresh ones: read them back
            stored = load_sketches(cache, [keys[p] for p in missing if p in keys])
        absent: dict[bytes, FileAnalysis] = {}  # cached analyses whose sketch was lost
        made: dict[bytes, bytes] = {}
        for path, analysis in missing.items():
            key = keys.get(path)
            sketch = self.sketches[path] = stored[key] if key in stored else sketch_of(analysis)
            if key is not None and key not in stored:
                absent[key], made[key] = analysis, sketch.encode()
        if cache is not None and absent:
            record_sketches(cache, absent, made)

    def load(
        self, paths: Sequence[str], progress: Progress | None = None
    ) -> dict[str, FileAnalysis]:
        """The analyses of ``paths`` that can be had: from memory, the cache, or analysed now
        (files that cannot be analysed are recorded as skipped)."""
        todo = [p for p in dict.fromkeys(paths) if p not in self.analyses and p not in self.skipped]
        if self.cache is not None and self.keyed is not None:  # a read: no run recorded
            keys = self.keyed.keys
            found = self.cache.lookup([keys[p] for p in todo if p in keys])
            self.analyses.update((p, found[keys[p]]) for p in todo if keys.get(p) in found)
            todo = [p for p in todo if p not in self.analyses]
        if not todo:
            return {path: self.analyses[path] for path in paths if path in self.analyses}
        for path, result in zip(
            todo, cached_map(todo, self.config, progress, self.cache, self.keyed), strict=True
        ):
            if isinstance(result, SkippedFile):
                self.skipped[path] = result
            else:
                self.analyses[path] = result
        return {path: self.analyses[path] for path in paths if path in self.analyses}

    def analysis(self, path: str) -> FileAnalysis:
        """One file's analysis, or a TargetError saying why there is none."""
        found = self.load([path]).get(path)
        if found is None:
            problem = self.skipped[path]
            where = f"{path}:{problem.line}" if problem.line else path
            raise TargetError(f"{where}: {problem.reason}")
        return found

    def search(self, target: Target, top: int, min_similarity: float) -> tuple[Match, ...]:
        """The units at least ``min_similarity`` similar to ``target``, best first (at most
        ``top``)."""
        shortest = min_similarity * target.length
        longest = target.length / min_similarity if min_similarity > 0 else math.inf
        estimates = (
            (estimate, path, index)
            for path, sketch in self.sketches.items()
            for estimate, index in sketch.estimates(
                target.shingles, target.shape_digest, shortest, longest
            )
        )
        ranked = heapq.nlargest(max(CANDIDATES, 4 * top), estimates)
        analyses = self.load(sorted({path for _, path, _ in ranked}))
        scored = (
            _match(target, analyses[path], index, min_similarity)
            for _, path, index in ranked
            if path in analyses
        )
        matches = sorted(
            (match for match in scored if match is not None),
            key=lambda m: (-m.similarity, m.path, m.start_line),
        )
        return tuple(matches[:top])

    def changed(self, changed: Mapping[str, Sequence[tuple[int, int]]]) -> list[Target]:
        """Every function (meeting the size floor) touching the ``changed`` lines (keyed as
        ``gate.changed_lines`` keys them)."""
        touched = [path for path in self.files if touches(changed, path, 1, 1 << 30)]
        targets = []
        for path, analysis in self.load(touched).items():
            for ref in eligible_units([analysis], self.config):
                unit = ref.unit
                if unit.kind is UnitKind.FUNCTION and touches(
                    changed, path, unit.start_line, unit.end_line
                ):
                    targets.append(_unit_target(analysis, unit))
        return targets


def _match(
    target: Target, analysis: FileAnalysis, index: int, min_similarity: float
) -> Match | None:
    if index >= len(analysis.units):  # the file was edited during the search
        return None
    unit = analysis.units[index]
    if (
        target.origin is not None
        and unit.start_line <= target.end_line
        and target.start_line <= unit.end_line
        and os.path.realpath(analysis.path) == target.origin
    ):
        return None
    tokens = Tokens.of(analysis.exact, analysis.shape, analysis.named, unit.tok_start, unit.tok_end)
    value = similarity(target.tokens, tokens, min_similarity)
    if value <= 0 or value < min_similarity:
        return None
    kind = CloneKind.of(
        {target.exact_digest, unit.exact_digest}, {target.shape_digest, unit.shape_digest}
    )
    return Match(
        analysis.path, unit.start_line, unit.end_line, unit.qualname, unit.kind, kind,
        round(value, 4),
    )  # fmt: skip


def _span_target(
    analysis: FileAnalysis, span: tuple[int, int], where: tuple[str, int, int], qualname: str,
    origin: str | None,
) -> Target:  # fmt: skip
    start, end = span
    path, start_line, end_line = where
    return Target(
        path, start_line, end_line, qualname,
        Tokens.of(analysis.exact, analysis.shape, analysis.named, start, end),
        frozenset(window(analysis.shingles, start, end)),
        digest(analysis.exact, start, end), digest(analysis.shape, start, end), origin,
    )  # fmt: skip


def _unit_target(analysis: FileAnalysis, unit: CodeUnit) -> Target:
    where = (analysis.path, unit.start_line, unit.end_line)
    origin = os.path.realpath(analysis.path)
    return _span_target(analysis, (unit.tok_start, unit.tok_end), where, unit.qualname, origin)


def snippet_target(text: str, config: Config, path: str = SNIPPET, first_line: int = 1) -> Target:
    """A snippet of code as a target (``path`` and ``first_line`` say where it came from)."""
    analysis = analyse_source(path, text.encode("utf-8"), config)
    if isinstance(analysis, SkippedFile):
        raise TargetError(f"{path}: {analysis.reason}")
    span = _module_span(analysis)
    if span is None:
        raise TargetError(f"{path}: the snippet holds no code to search for")
    name = next(
        (u.qualname for u in analysis.units if (u.tok_start, u.tok_end) == span), SNIPPET_NAME
    )
    where = (path, first_line, first_line + max(analysis.lines, 1) - 1)
    origin = None if path == SNIPPET else os.path.realpath(path)
    found = _span_target(analysis, span, where, name, origin)
    return replace(found, note=_parse_note(analysis, path, first_line))


def _parse_note(analysis: FileAnalysis, path: str, first_line: int) -> str | None:
    """What to say of a snippet that could not be fully parsed (None if it could)."""
    if analysis.problem is None:
        return None
    line = first_line + (analysis.problem.line or 1) - 1
    return (
        f"{path}:{line}: the code searched for could not be fully parsed "
        f"({analysis.problem.reason}); fix it and search again for a complete answer"
    )


def _module_span(analysis: FileAnalysis) -> tuple[int, int] | None:
    """The tokens of the module-level code: the span of the statement lists of the module's
    scope (its body and the blocks nested in it; commented-out code comes after them)."""
    table = analysis.statement_lists
    spans = [
        (table.tok_starts[table.bounds[i]], table.tok_ends[table.bounds[i + 1] - 1])
        for i, name in enumerate(table.qualnames)
        if name == "<module>"
    ]
    return (min(s for s, _ in spans), max(e for _, e in spans)) if spans else None


def resolve_target(spec: str | TargetSpec, corpus: Corpus, snippet: str | None = None) -> Target:
    """The target that TARGET ``spec`` names (``snippet`` is the text ``-`` stands for)."""
    parts = split_target(spec) if isinstance(spec, str) else spec
    if parts.is_snippet:
        return snippet_target(snippet or "", corpus.config)
    if parts.qualname is not None:
        return _qualified_target(corpus, _existing(parts), parts.qualname)
    if parts.lines is not None:
        return _range_target(corpus, _existing(parts), parts.lines)
    raise TargetError(f"{str(parts)!r}: TARGET must be {TARGET_FORMS}")


def _existing(parts: TargetSpec) -> str:
    if not Path(parts.file).is_file():
        raise TargetError(f"{parts}: {parts.file}: no such file. Check the path and try again.")
    return display_path(parts.file)


def _qualified_target(corpus: Corpus, path: str, qualname: str) -> Target:
    analysis = corpus.analysis(path)
    units = [u for u in analysis.units if u.kind is not UnitKind.COMMENTED]
    for unit in units:
        if qualname in (unit.qualname, unit.qualname.replace(".<locals>", "")):
            return _unit_target(analysis, unit)
    lines = {u.qualname: u.start_line for u in reversed(units)}  # the first of each name
    close = difflib.get_close_matches(qualname, list(lines), n=3)
    hint = (
        "; did you mean " + " or ".join(f"{path}::{name} (line {lines[name]})" for name in close)
        if close
        else f"; it defines {len(lines)} functions and classes"
    )
    raise TargetError(
        f"{path}::{qualname}: no function or class of that name in {path}{hint}? (Stub bodies "
        "and @overload stubs are not searched.)"
    )


def _range_target(corpus: Corpus, path: str, lines: tuple[int, int]) -> Target:
    start, end = lines
    where = f"{path}:{start}-{end}"
    text = _source_lines(path)
    if not 1 <= start <= end:
        raise TargetError(f"{where}: START must be at least 1 and at most END")
    if end > len(text):
        raise TargetError(f"{where}: {path} has {len(text)} lines; END must be at most that")
    analysis = corpus.analysis(path)
    for unit in analysis.units:
        if (unit.start_line, unit.end_line) == lines and unit.kind is not UnitKind.COMMENTED:
            return _unit_target(analysis, unit)
    try:
        return snippet_target(textwrap.dedent("\n".join(text[start - 1 : end])), corpus.config,
                              path, start)  # fmt: skip
    except TargetError:
        raise TargetError(f"{where}: these lines hold no code to search for") from None


def _source_lines(path: str) -> list[str]:
    """The file's lines as the parser counts them (only newline ends a line)."""
    data = read_source(path)
    source = data if isinstance(data, SkippedFile) else decode_source(path, data)
    if isinstance(source, SkippedFile):
        raise TargetError(f"{path}:{source.line or 1}: {source.reason}")
    text = source.decode("utf-8")
    return text.removesuffix("\n").split("\n") if text else []


def find_similar(
    spec: str | TargetSpec | None, paths: Sequence[str], config: Config, *, top: int = 10,
    min_similarity: float | None = None, snippet: str | None = None, base: str | None = None,
    progress: Progress | None = None,
) -> SimilarResult:  # fmt: skip
    """The code under ``paths`` most similar to TARGET ``spec``; or, with git ref ``base``
    (``spec`` None), to every function added or changed since ``base``, keeping only those with
    matches. ``min_similarity`` defaults to the configured ``min-similarity``, with ``base`` to
    ``consolidate-similarity`` (quiet enough for pre-commit)."""
    if spec is None and base is None:
        raise UsageError(f"dupfind similar needs a TARGET: {TARGET_FORMS}; or --diff BASE")
    default = config.min_similarity if base is None else config.consolidate_similarity
    threshold = default if min_similarity is None else min_similarity
    changed = (
        changed_lines(base, command="similar", instead="search a TARGET instead")
        if base is not None
        else {}
    )
    cache = AnalysisCache.at(config.cache_dir) if config.cache else None
    try:
        corpus = Corpus(paths, config, cache, progress)
        found = (
            [resolve_target(spec, corpus, snippet)] if spec is not None else corpus.changed(changed)
        )
        findings = [Finding(t, corpus.search(t, top, threshold)) for t in found]
        skipped = tuple(sorted(corpus.skipped.values(), key=lambda s: s.path))
    finally:
        if cache is not None:
            cache.close()
    notes = [t.note for t in found if t.note] + (cache.notes if cache is not None else [])
    return SimilarResult(
        tuple(f for f in findings if f.matches or base is None), len(found),
        len(corpus.sketches), threshold, base, skipped, tuple(notes),
    )  # fmt: skip
