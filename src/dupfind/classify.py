"""Classification: each clone group → a verdict with its reasons, the copy to keep, what
differs, the signature that would absorb it, and the lines a refactoring would save.

The decision rule is an ordered table (first match wins), each row a plain function of the
group's facts; thresholds come from the configuration:

====  =========================  ==================================================  ==========
 #    rule                       fires when                                          verdict
====  =========================  ==================================================  ==========
 1    test-and-production        members mix test and production code                leave
 2    hotspot                    a member is marked ``# dupfind: hotspot`` / glob    leave
 3    change-frequency           one member changed ≥ history-hot times in the       leave
                                 window, another ≤ history-cold (git; skipped
                                 outside a repository)
 4    cross-domain-dissimilar    domains differ and similarity < extract-similarity  leave
 5    long-shared-block          runs of statements longer than extract-min-lines    extract
 6    same-domain-similar        one domain, similarity ≥ consolidate-similarity     consolidate
 7    cross-domain               domains differ, similarity ≥ extract-similarity     extract
 8    same-domain-partial        one domain, similarity in between                   extract
 9    dissimilar                 anything else                                       leave
====  =========================  ==================================================  ==========

Why these thresholds: 80% similar code in one domain differs only in details a parameter can
carry, so one copy can replace the others; at 50-80%, or across domains (whose business rules
may drift apart), only the shared part should be shared. A block over 50 lines inside
different functions deserves a function of its own.

Lines saved: consolidate replaces every other copy by one line (a call or an import); extract
removes the shared part of every other copy (its lines times the group's mean similarity) and
turns every member into a call; leave-separate saves nothing.
"""

from __future__ import annotations

import ast
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property

import pathspec

from dupfind.cache import Keyed
from dupfind.config import Config
from dupfind.corpus import References
from dupfind.differences import MemberTokens, differences, line_starts, member_tokens
from dupfind.domains import DomainMap, is_test_path
from dupfind.group import FoundGroup
from dupfind.history import History
from dupfind.memo import Memo, content_key
from dupfind.models import (
    Classified,
    CloneKind,
    CodeUnit,
    Compared,
    FileAnalysis,
    Member,
    Recommendation,
    SkippedFile,
    UnitKind,
    Verdict,
)
from dupfind.normalise import HIGH_BIT
from dupfind.parse import decode_source, read_source
from dupfind.suppress import HOTSPOT

# Canonical-member ranking: production, test references, references, -age, tokens, -index.
Row = tuple[bool, int, int, int, int, int]
_HEADER = re.compile(rb"^\s*(async\s+def|def|class)\b")
HEAD_LINES = 20  # a hotspot marker counts in a member's first lines, up to its def/class
_CLASS_LINE = re.compile(rb"^[ \t]*class\b", re.MULTILINE)


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

    def bases(self, path: str, unit: CodeUnit, analysis: FileAnalysis) -> frozenset[str]:
        """The simple names of a class unit's bases, from its header parsed by ``ast`` (the
        first ``class`` line of the unit, after its decorators, to the ``:``): ``class
        DiGraph(graph.Graph, Generic[K, V], metaclass=M)`` gives ``Graph`` and ``Generic``; a
        call (``namedtuple(...)``) names no class. Found from the unit's first token's
        offset: no pass over the file's lines."""
        source = self.read(path)
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


@dataclass(frozen=True)
class Facts:
    """What the rules look at, measured once per group."""

    found: FoundGroup
    domains: tuple[str, ...]
    tests: tuple[bool, ...]
    hotspots: tuple[bool, ...]
    changes: tuple[int | None, ...]
    config: Config

    @property
    def members(self) -> tuple[Member, ...]:
        return self.found.group.members

    @property
    def similarity(self) -> float:
        return self.found.group.similarity_min


Outcome = tuple[Verdict, str] | None
Rule = Callable[[Facts], Outcome]


def _where(member: Member) -> str:
    return f"{member.path}:{member.start_line}-{member.end_line}"


def _rule_tests(facts: Facts) -> Outcome:
    if all(facts.tests) or not any(facts.tests):
        return None
    test = next(m for m, t in zip(facts.members, facts.tests, strict=True) if t)
    prod = next(m for m, t in zip(facts.members, facts.tests, strict=True) if not t)
    return Verdict.LEAVE_SEPARATE, (
        f"members mix test code ({test.path}) and production code ({prod.path}); "
        "test code is never merged with production code"
    )


def _rule_hotspot(facts: Facts) -> Outcome:
    marked = [m for m, hot in zip(facts.members, facts.hotspots, strict=True) if hot]
    if not marked:
        return None
    return Verdict.LEAVE_SEPARATE, (
        f"{_where(marked[0])} is marked as a performance hotspot; "
        "hand-tuned copies are kept separate"
    )


def _rule_history(facts: Facts) -> Outcome:
    known = [(c, m) for c, m in zip(facts.changes, facts.members, strict=True) if c is not None]
    if len(known) < 2:
        return None
    hot_count, hot = max(known, key=lambda item: item[0])
    cold_count, cold = min(known, key=lambda item: item[0])
    config = facts.config
    if hot_count < config.history_hot or cold_count > config.history_cold:
        return None
    return Verdict.LEAVE_SEPARATE, (
        f"{_where(hot)} changed in {hot_count} commits over the last {config.history_days} "
        f"days, {_where(cold)} in {cold_count}: one evolves quickly, the other is stable "
        f"(thresholds: ≥ {config.history_hot} vs ≤ {config.history_cold})"
    )


def _domains_text(facts: Facts) -> str:
    return ", ".join(sorted(set(facts.domains)))


def _across_domains(facts: Facts, similar: bool) -> Outcome:
    """Rules 4 and 7: members in several domains, below (leave) or above (extract) the
    extract-similarity threshold."""
    limit = facts.config.extract_similarity
    if len(set(facts.domains)) == 1 or (facts.similarity >= limit) != similar:
        return None
    if similar:
        return Verdict.EXTRACT, (
            f"members span domains ({_domains_text(facts)}) and are "
            f"{_at_least(facts.similarity)} (≥ {limit:.0%}): extract a shared abstraction"
        )
    return Verdict.LEAVE_SEPARATE, (
        f"members are in different domains ({_domains_text(facts)}) and only "
        f"{facts.similarity:.0%} similar (< {limit:.0%}): likely different business rules"
    )


def _rule_long_block(facts: Facts) -> Outcome:
    limit = facts.config.extract_min_lines
    group = facts.found.group
    if group.lines <= limit or any(m.unit is not UnitKind.BLOCK for m in group.members):
        return None
    return Verdict.EXTRACT, (
        f"a shared block of {group.lines} lines (> {limit}) inside different code: "
        "extract it into a function of its own"
    )


def _at_least(similarity: float) -> str:
    """How similar all pairs are: "100% similar", or "at least 84% similar"."""
    if similarity >= 1.0:
        return "100% similar"
    return f"at least {min(99, round(100 * similarity))}% similar"  # 99.8% is not 100%


def _within_domain(facts: Facts, similar: bool) -> Outcome:
    """Rules 6 and 8: one domain, at or above consolidate-similarity (consolidate), or between
    the two thresholds (extract the shared part)."""
    low, high = facts.config.extract_similarity, facts.config.consolidate_similarity
    if len(set(facts.domains)) != 1:
        return None
    tests = _test_functions(facts)
    if similar and facts.similarity >= high:
        action = _consolidate_action(facts, tests)
        return Verdict.CONSOLIDATE, (
            f"all members are in domain '{facts.domains[0]}' and "
            f"{_at_least(facts.similarity)} (≥ {high:.0%}): {action}"
        )
    if not similar and low <= facts.similarity < high:
        action = _SHARED_STEPS if tests else "extract the shared part"
        return Verdict.EXTRACT, (
            f"all members are in domain '{facts.domains[0]}' but only {facts.similarity:.0%} "
            f"similar ({low:.0%}-{high:.0%}): {action}"
        )
    return None


_PARAMETRIZE = (
    "keep one test, parametrized over what differs (pytest.mark.parametrize, or a subTest "
    "loop in a unittest.TestCase)"
)
_ONE_FUNCTION = "move the block into one function and call it from each place"


def _consolidate_action(facts: Facts, tests: bool) -> str:
    """How copies are consolidated: a block inside other code becomes a function of its own
    (deleting a copy would break the code around it), a test a parametrized test, anything
    else loses its copies."""
    if all(member.unit is UnitKind.BLOCK for member in facts.members):
        return _ONE_FUNCTION
    if tests and facts.found.group.kind is not CloneKind.EXACT:
        return _PARAMETRIZE
    return "keep one copy"


_SHARED_STEPS = "extract the shared steps into a fixture or helper"


def _test_functions(facts: Facts) -> bool:
    """Every member is a test function (``test*``, in test code): copies of a test are merged
    by parametrizing it, and look-alike tests share a fixture or helper, not a function with
    one parameter per difference."""
    return all(facts.tests) and all(
        m.unit is UnitKind.FUNCTION and _simple_name(m).startswith("test") for m in facts.members
    )


def _rule_fallback(facts: Facts) -> Outcome:
    return Verdict.LEAVE_SEPARATE, (
        f"only {facts.similarity:.0%} similar (< {facts.config.extract_similarity:.0%})"
    )


RULES: tuple[tuple[str, Rule], ...] = (
    ("test-and-production", _rule_tests),
    ("hotspot", _rule_hotspot),
    ("change-frequency", _rule_history),
    ("cross-domain-dissimilar", lambda facts: _across_domains(facts, similar=False)),
    ("long-shared-block", _rule_long_block),
    ("same-domain-similar", lambda facts: _within_domain(facts, similar=True)),
    ("cross-domain", lambda facts: _across_domains(facts, similar=True)),
    ("same-domain-partial", lambda facts: _within_domain(facts, similar=False)),
    ("dissimilar", _rule_fallback),
)


def decide(facts: Facts) -> tuple[str, Verdict, str]:
    """The first rule that fires: (rule id, verdict, reason)."""
    for name, rule in RULES:
        outcome = rule(facts)
        if outcome is not None:
            return name, outcome[0], outcome[1]
    raise AssertionError("the fallback rule always fires")  # pragma: no cover


def classify(found: FoundGroup, context: Context) -> Recommendation:
    """The recommendation for one group, remembered by everything it reads
    (``_recommendation_key``): a rescan classifies again only the groups a change touched."""
    key = _recommendation_key(found, context)
    known = context.verdicts.get(key) if key is not None else None
    if known is not None:
        compared = context.memo.get(known[1])
        if compared is not None:
            return replace(known[0], differences=compared[0], signature=compared[1])
    recommendation = _classified(found, context)
    compared_key = _compared_key(found, _shown(found, recommendation.canonical), context)
    if key is not None and compared_key is not None:
        bare = replace(recommendation, differences=(), signature="")
        context.verdicts.put(key, (bare, compared_key))
    return recommendation


def _recommendation_key(found: FoundGroup, context: Context) -> bytes | None:
    """Everything a group's recommendation depends on besides the scan's scope (settings,
    roots: the memo is per scope): the group, each member's file contents (its analysis, its
    source: hotspot markers, class headers, differences), its git answers and the ranking the
    copy to keep is chosen by (``_rows``: references, ages). None without the files' keys (no
    cache)."""
    group = found.group
    parts: list[bytes | str | int] = [group.id, group.kind.value, repr(group.similarity_min),
                                      repr(group.similarity_mean)]  # fmt: skip
    for member, (_, start, end) in zip(group.members, found.spans, strict=True):
        file_key = context.keyed.keys.get(member.path) if context.keyed is not None else None
        if file_key is None:
            return None
        parts += [file_key, start, end, member.path, member.start_line, member.end_line,
                  member.qualname, member.unit.value,
                  repr(context.history.changes(member))]  # fmt: skip
    parts.append(repr(_rows(found, context)))
    return content_key(parts)


def _shown(found: FoundGroup, canonical: int) -> list[int]:
    """The members compared for differences: the canonical one and ``MAX_SHOWN - 1`` others."""
    others = [i for i in range(len(found.spans)) if i != canonical]
    return [canonical, *others[: MAX_SHOWN - 1]]


def _classified(found: FoundGroup, context: Context) -> Recommendation:
    facts = _facts(found, context)
    rule, verdict, reason = decide(facts)
    canonical, why = _canonical(found, context)
    shared = verdict in (Verdict.EXTRACT, Verdict.CONSOLIDATE)
    kinship = _inheritance(found, context) if shared else None
    inherited = None
    if kinship is not None:  # the base's copy is the one to keep: the others inherit from it
        inherited, canonical = kinship
        why = "the base class's copy (the others are in its subclasses)"
    found_differences, signature = _compared(found, _shown(found, canonical), context)
    return Recommendation(
        verdict=verdict,
        rule=rule,
        reasons=(reason,) if inherited is None else (reason, inherited),
        confidence=_confidence(verdict, found),
        canonical=canonical,
        canonical_reason=why,
        domains=facts.domains,
        differences=found_differences,
        signature=signature,
        lines_saved=_lines_saved(verdict, found, canonical),
    )


MAX_SHOWN = 4  # members compared for differences (the canonical one and 3 others)


def _compared(found: FoundGroup, shown: Sequence[int], context: Context) -> Compared:
    """``differences`` of the shown members, remembered by their content (memo.py)."""
    key = _compared_key(found, shown, context)
    remembered = context.memo.get(key) if key is not None else None
    if remembered is not None:
        return remembered
    compared = differences([_member_tokens(found, index, context) for index in shown], 0)
    if key is not None:
        context.memo.put(key, compared)
    return compared


def _compared_key(found: FoundGroup, shown: Sequence[int], context: Context) -> bytes | None:
    parts: list[bytes | str | int] = []
    for index in shown:
        member = found.group.members[index]
        file_key = context.keyed.keys.get(member.path) if context.keyed is not None else None
        if file_key is None:
            return None
        _, start, end = found.spans[index]
        parts += [file_key, start, end, member.unit.value, _simple_name(member)]
    return content_key(parts)


def _member_tokens(found: FoundGroup, index: int, context: Context) -> MemberTokens:
    member = found.group.members[index]
    analysis, start, end = found.spans[index]
    return member_tokens(
        analysis,
        context.read(analysis.path),
        context.line_starts(analysis.path),
        (start, end),
        member.unit,
        _simple_name(member),
    )


def _facts(found: FoundGroup, context: Context) -> Facts:
    members = found.group.members
    return Facts(
        found=found,
        domains=tuple(context.domains.domain(m.path) for m in members),
        tests=tuple(is_test_path(m.path) for m in members),
        hotspots=tuple(
            context.is_hotspot(m, analysis)
            for m, (analysis, _, _) in zip(members, found.spans, strict=True)
        ),
        changes=tuple(context.history.changes(m) for m in members),
        config=context.config,
    )


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


def _inheritance(found: FoundGroup, context: Context) -> tuple[str, int] | None:
    """When the members are classes and one already subclasses another (networkx's
    ``DiGraph(Graph)``, the stdlib's ``Real(Complex)``), the shared abstraction exists: say so,
    rather than only "extract a shared abstraction". Likewise for methods of one name whose
    classes are so related (``MultiGraph.copy`` and ``Graph.copy``): the copy is an override,
    and deleting it would change what the subclass does. With the base's member (the copy to
    keep)."""
    members = found.group.members
    if len(found.spans) != len(members):
        return None  # built without its analyses (a library caller's group)
    if len({_simple_name(m) for m in members if m.unit is UnitKind.FUNCTION}) > 1:
        return None
    owners = [context.owner(member, analysis) for member, (analysis, _, _) in
              zip(members, found.spans, strict=True)]  # fmt: skip
    classes = [owner for owner in owners if owner is not None]
    if len(classes) != len(owners):
        return None
    index_of = {_unit_name(owner): index for index, owner in enumerate(classes)}
    for member, owner, (analysis, _, _) in zip(members, classes, found.spans, strict=True):
        name = _unit_name(owner)
        others = index_of.keys() - {name}
        parents = sorted(context.bases(member.path, owner, analysis) & others) if others else []
        if not parents:
            continue
        base = index_of[parents[0]]
        if member.unit is UnitKind.CLASS:
            reason = (
                f"{name} already subclasses {parents[0]}: let it inherit what they share and "
                "override only what differs"
            )
            return reason, base
        method = _simple_name(member)
        reason = (
            f"{name}.{method} overrides {parents[0]}.{method}: keep in the override only what "
            f"differs, and call super().{method}() for the rest"
        )
        return reason, base
    return None


def _unit_name(unit: CodeUnit) -> str:
    return unit.qualname.rsplit(".", 1)[-1]


def _simple_name(member: Member) -> str:
    return member.qualname.rsplit(".", 1)[-1].strip("<>") or "module"


def _canonical(found: FoundGroup, context: Context) -> tuple[int, str]:
    """Which copy to keep: production code, then the most referenced from tests, the most
    referenced, the oldest in git, the most complete; with the reason that decided."""
    rows = _rows(found, context)
    best = max(range(len(rows)), key=lambda i: rows[i])
    return best, _canonical_reason(rows, best, found.group.members)


AGE = 3  # the position of the age criterion in a Row


def _rows(found: FoundGroup, context: Context) -> list[Row]:
    """Each member's ranking. Its age (one git query per file) is looked up only for the
    members tied with the best on the criteria before it: on no other does it decide, nor
    does it name the reason (``_canonical_reason``); the others' age is 0."""
    everywhere, in_tests = context.references.everywhere, context.references.in_tests
    members = found.group.members
    rows: list[Row] = []
    for index, member in enumerate(members):
        code = _name_code(member)
        rows.append((
            not is_test_path(member.path),
            in_tests[code] if code else 0,
            max(0, everywhere[code] - 1) if code else 0,
            0,
            found.spans[index][2] - found.spans[index][1],
            -index,
        ))  # fmt: skip
    top = max(row[:AGE] for row in rows)
    tied = [index for index, row in enumerate(rows) if row[:AGE] == top]
    if len(tied) > 1:
        for index in tied:
            added = context.history.first_commit_time(members[index].path)
            age = -(added if added is not None else 2**62)  # unknown ages rank last
            production, tests, uses, _, tokens, order = rows[index]
            rows[index] = (production, tests, uses, age, tokens, order)
    return rows


def _name_code(member: Member) -> int:
    if member.unit is UnitKind.BLOCK:
        return 0
    return zlib.crc32(_simple_name(member).encode()) | HIGH_BIT


CRITERIA: tuple[Callable[[Row], str], ...] = (
    lambda row: "the production copy (the others are test code)",
    # References are counted by name (an approximation: every ``add_edge`` counts), and the
    # reasons say so rather than claim calls of this very copy.
    lambda row: f"its name is the most used in tests ({_times(row[1], '')} in test files)",
    lambda row: f"its name is the most used ({_times(row[2], 'other ')})",
    lambda row: (
        "the oldest in git (added "
        + datetime.fromtimestamp(-int(row[3]), tz=UTC).date().isoformat()
        + ")"
    ),
    lambda row: f"the most complete ({row[4]} tokens)",
)


def _times(count: int, qualifier: str) -> str:
    return f"{count} {qualifier}occurrence{'' if count == 1 else 's'}"


def _canonical_reason(rows: Sequence[Row], best: int, members: Sequence[Member]) -> str:
    """Name the first criterion (in ranking order) that separates the kept copy from the
    copies still tied with it."""
    tied = list(range(len(rows)))
    for position, describe in enumerate(CRITERIA):
        top = rows[best][position]
        if any(rows[i][position] != top for i in tied):
            return describe(rows[best])
        tied = [i for i in tied if rows[i][position] == top]
    return f"the first by location ({members[best].path}); the copies are otherwise equal"


def _confidence(verdict: Verdict, found: FoundGroup) -> float:
    group = found.group
    if verdict is Verdict.CONSOLIDATE:
        return group.similarity_min
    if verdict is Verdict.EXTRACT:
        return round(0.8 * group.similarity_mean, 4)
    return 1.0


def _lines_saved(verdict: Verdict, found: FoundGroup, canonical: int) -> int:
    """Consolidating removes every other copy (one call left in each); extracting the shared
    part removes only what is shared, about the group's mean similarity of each other copy
    (plus a call in every member): two 51% alike classes of 2,012 and 1,363 lines do not save
    1,363 lines by sharing a base."""
    members = found.group.members
    others = [m.line_count for i, m in enumerate(members) if i != canonical]
    if verdict is Verdict.CONSOLIDATE:
        return max(0, sum(others) - len(others))
    if verdict is Verdict.EXTRACT:
        return max(0, round(found.group.similarity_mean * sum(others)) - len(members))
    return 0
