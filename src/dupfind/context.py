"""What classification reads besides the group itself (classify.py): the settings, domains,
git history and references of the scan, and the members' sources, each read once per scan:
hotspot markers in a member's first lines, the class a method belongs to, a class's bases
(parsed with ``ast`` from its header alone)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import pathspec

from dupfind.config import Config
from dupfind.corpus import References
from dupfind.differences import line_starts
from dupfind.domains import DomainMap
from dupfind.history import History
from dupfind.keys import Keyed
from dupfind.memo import Held, LastPass, Memo
from dupfind.models import (
    Classified,
    CodeUnit,
    Compared,
    FileAnalysis,
    Member,
    Recommendation,
    SkippedFile,
    UnitKind,
)
from dupfind.parse import decode_source, read_source
from dupfind.suppress import HOTSPOT

_HEADER = re.compile(rb"^\s*(async\s+def|def|class)\b")
HEAD_LINES = 20  # a hotspot marker counts in a member's first lines, up to its def/class
_CLASS_LINE = re.compile(rb"^[ \t]*class\b", re.MULTILINE)


class Recalled:
    """What a long-lived process's classification keeps between scans (classify.py):
    - ``keys``: recommendation keys by the group object and the facts read besides it, with
      the group (held, so that no other object takes its id): ``_recommendation_key``;
    - ``joined``: each recommendation made whole again from the memo's entries (the bare
      recommendation and its differences), by the first entry's identity, with the second:
      the same entries give the same object, not another ``replace`` (0.03 s of a one-file
      rescan of the stdlib)."""

    def __init__(self) -> None:
        self.keys: LastPass[tuple[object, ...], tuple[object, bytes]] = LastPass()
        self.joined: Held[Classified, tuple[Compared, Recommendation]] = Held()

    def begin(self) -> None:
        self.keys.begin()
        self.joined.begin()

    def turn(self) -> None:
        self.keys.turn()
        self.joined.turn()


@dataclass
class Context:
    """Everything classification reads besides the group itself (shared by all groups)."""

    config: Config
    domains: DomainMap
    history: History
    references: References  # identifier occurrences (corpus.py)
    keyed: Keyed | None = None  # the files' content keys (cache.py), when cached
    memo: Memo[Compared] = field(default_factory=Memo)  # differences by content (memo.py)
    verdicts: Memo[Classified] = field(default_factory=Memo)  # recommendations, likewise
    recalled: Recalled | None = None  # a long-lived process's (classify.py)
    _starts: dict[str, list[int]] = field(default_factory=dict)
    _sources: dict[str, bytes] = field(default_factory=dict)
    _class_units: dict[str, dict[str, list[CodeUnit]]] = field(default_factory=dict)

    @cached_property
    def _hotspot_spec(self) -> pathspec.PathSpec[pathspec.Pattern]:
        return pathspec.GitIgnoreSpec.from_lines(self.config.hotspots)

    def read(self, path: str) -> bytes:
        """The UTF-8 bytes a file was parsed from (read once per scan)."""
        if path not in self._sources:
            data = read_source(path)
            if self.keyed is not None:
                self.keyed.check(path, data)  # edited since it was analysed: not stored
            if isinstance(data, SkippedFile):
                self._sources[path] = b""
                return b""
            decoded = decode_source(path, data)
            self._sources[path] = decoded if isinstance(decoded, bytes) else b""
        return self._sources[path]

    def is_hotspot(self, member: Member, analysis: FileAnalysis) -> bool:
        """Marked by a ``hotspots`` glob, or by a marker in the member's first lines up to its
        ``def``/``class`` line (the file is read only if a marker is in those lines)."""
        if self.config.hotspots and self._hotspot_spec.match_file(member.path.replace("\\", "/")):
            return True
        last = min(member.end_line, member.start_line + HEAD_LINES - 1)
        if not any(member.start_line <= line <= last for line in analysis.hotspots):
            return False
        starts, source = self.line_starts(member.path), self.read(member.path)
        first = starts[member.start_line - 1] if member.start_line <= len(starts) else len(source)
        lines = source[first:].split(b"\n", HEAD_LINES)[: member.end_line - member.start_line + 1]
        for line in lines[:HEAD_LINES]:
            if HOTSPOT.search(line):
                return True
            if _HEADER.match(line):
                break
        return False

    def bases(self, unit: CodeUnit, analysis: FileAnalysis) -> frozenset[str]:
        """The simple names of a class unit's bases, from its header parsed by ``ast`` (the
        first ``class`` line of the unit, after its decorators, to the ``:``): ``class
        DiGraph(graph.Graph, Generic[K, V], metaclass=M)`` gives ``Graph`` and ``Generic``; a
        call (``namedtuple(...)``) names no class. Found from the unit's first token's
        offset: no pass over the file's lines."""
        source = self.read(analysis.path)
        if 2 * unit.tok_start >= len(analysis.offsets):
            return frozenset()
        first = analysis.offsets[2 * unit.tok_start]
        match = _CLASS_LINE.search(source, source.rfind(b"\n", 0, first) + 1)
        if match is None:
            return frozenset()
        end = match.start()
        for _ in range(HEAD_LINES):  # the header is parsed from its first lines only
            end = source.find(b"\n", end + 1)
            if end < 0:
                end = len(source)
                break
        header = _class_header(source[match.start() : end])
        return frozenset() if header is None else frozenset(_base_names(header))

    def owner(self, member: Member, analysis: FileAnalysis) -> CodeUnit | None:
        """The class unit a member is (a class) or is a method of (a function directly in a
        class body: the innermost class of that name holding its lines); None for anything
        else."""
        if member.unit is UnitKind.CLASS:
            return next(
                (u for u in self._classes(analysis).get(member.qualname, ())
                 if (u.start_line, u.end_line) == (member.start_line, member.end_line)),
                None,
            )  # fmt: skip
        owner, _, _ = member.qualname.rpartition(".")
        if member.unit is not UnitKind.FUNCTION or not owner or owner.endswith("<locals>"):
            return None
        holders = [
            unit
            for unit in self._classes(analysis).get(owner, ())
            if unit.start_line <= member.start_line and member.end_line <= unit.end_line
        ]
        return max(holders, key=lambda held: held.start_line) if holders else None

    def _classes(self, analysis: FileAnalysis) -> dict[str, list[CodeUnit]]:
        """A file's class units by qualified name (built once per file)."""
        known = self._class_units.get(analysis.path)
        if known is None:
            known = self._class_units[analysis.path] = {}
            for unit in analysis.units:
                if unit.kind is UnitKind.CLASS:
                    known.setdefault(unit.qualname, []).append(unit)
        return known

    def line_starts(self, path: str) -> list[int]:
        if path not in self._starts:
            self._starts[path] = line_starts(self.read(path))
        return self._starts[path]


def _class_header(text: bytes) -> ast.ClassDef | None:
    """The ``class`` statement at the start of ``text``, parsed with an empty body: its
    first line, then one more line at a time while it is incomplete (up to ``HEAD_LINES``)."""
    lines = text.decode("utf-8", "replace").split("\n", HEAD_LINES)[:HEAD_LINES]
    lines[0] = lines[0].lstrip()  # lines inside the brackets may be indented anyhow
    for count in range(1, len(lines) + 1):
        head = "\n".join(lines[:count])
        for body in ("\n    pass\n", "\n"):  # a header, or a one-line class
            try:
                tree = ast.parse(head + body)
            except SyntaxError:
                continue
            node = tree.body[0] if tree.body else None
            return node if isinstance(node, ast.ClassDef) else None
    return None


def _base_names(header: ast.ClassDef) -> Iterator[str]:
    for base in header.bases:
        node = base.value if isinstance(base, ast.Subscript) else base
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
