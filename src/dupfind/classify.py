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

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from dupfind.config import Config
from dupfind.context import Context, Recalled
from dupfind.differences import MemberTokens, differences, member_tokens
from dupfind.domains import is_test_path
from dupfind.group import FoundGroup
from dupfind.memo import content_key
from dupfind.models import (
    Classified,
    CloneKind,
    CodeUnit,
    Compared,
    Member,
    Recommendation,
    UnitKind,
    Verdict,
)
from dupfind.normalise import HIGH_BIT

# Canonical-member ranking: production, test references, references, -age, tokens, -index.
Row = tuple[bool, int, int, int, int, int]


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


def classify(found: FoundGroup, context: Context) -> tuple[Recommendation, bytes | None]:
    """The recommendation for one group, remembered by everything it reads
    (``_recommendation_key``): a rescan classifies again only the groups a change touched.
    With it, the memo key its differences and signature are remembered under (None without
    the cache): a stored result refers to them by it (cache.py)."""
    rows = _rows(found, context)
    key = _recommendation_key(found, rows, context)
    known = context.verdicts.get(key) if key is not None else None
    if known is not None:
        compared = context.memo.get(known[1])
        if compared is not None:
            return _joined(known, compared, context.recalled), known[1]
    recommendation, compared_key = _classified(found, rows, context)
    if key is not None and compared_key is not None:
        bare = replace(recommendation, differences=(), signature="")
        context.verdicts.put(key, (bare, compared_key))
    return recommendation, compared_key


def _joined(known: Classified, compared: Compared, recalled: Recalled | None) -> Recommendation:
    """The remembered recommendation ``known`` with its differences and signature; the last
    scan's object when both memo entries are the ones it was made from (``Recalled``)."""
    last = recalled.joined.recall(known) if recalled is not None else None
    if last is not None and last[0] is compared:
        recommendation = last[1]
    else:
        recommendation = replace(known[0], differences=compared[0], signature=compared[1])
    if recalled is not None:
        recalled.joined.keep(known, (compared, recommendation))
    return recommendation


def classify_all(
    found: Sequence[FoundGroup], context: Context
) -> list[tuple[Recommendation, bytes | None]]:
    """``classify`` of each group. In a long-lived process (``context.recalled``), a group
    its component left unchanged (group.Regrouping) is the same object as in the last scan,
    and its recommendation key is not hashed again if the facts read besides it are those of
    then (0.08 s of a one-file rescan of the stdlib)."""
    recalled = context.recalled
    if recalled is not None:
        recalled.begin()
    classified = [classify(item, context) for item in found]
    if recalled is not None:
        recalled.turn()
    return classified


def _recommendation_key(found: FoundGroup, rows: list[Row], context: Context) -> bytes | None:
    """Everything a group's recommendation depends on besides the scan's scope (settings,
    roots: the memo is per scope): the group, its members' contents (``_compared_key`` of
    them all: their files' contents, their analyses and sources, hotspot markers and class
    headers included), their git answers and the ranking the copy to keep is chosen by
    (``rows``: references, ages). None without the files' keys (no cache)."""
    if context.keyed is None:
        return None
    members = found.group.members
    answers = tuple(context.history.changes(member) for member in members)
    recalled = context.recalled
    if recalled is None:
        return _hashed_key(found, rows, answers, context)
    files = tuple(context.keyed.keys.get(member.path) for member in members)
    facts = (id(found), *rows, *files, *answers)  # the group is held: no other has its id
    known = recalled.keys.recall(facts)
    if known is None:
        key = _hashed_key(found, rows, answers, context)
        if key is None:
            return None
        known = (found, key)
    return recalled.keys.keep(facts, known)[1]


def _hashed_key(
    found: FoundGroup, rows: list[Row], answers: tuple[int | None, ...], context: Context
) -> bytes | None:
    """``_recommendation_key`` made: its parts hashed (``answers``: the members' git
    answers)."""
    group = found.group
    contents = _compared_key(found, range(len(group.members)), context)
    if contents is None:
        return None
    parts: list[bytes | str | int] = [
        contents, group.id, group.kind.value, repr(rows),
        repr(group.similarity_min), repr(group.similarity_mean),
    ]  # fmt: skip
    for member, changes in zip(group.members, answers, strict=True):
        parts += [member.path, member.start_line, member.end_line, member.qualname,
                  repr(changes)]  # fmt: skip
    return content_key(parts)


def _shown(found: FoundGroup, canonical: int) -> list[int]:
    """The members compared for differences: the canonical one and ``MAX_SHOWN - 1`` others."""
    others = [i for i in range(len(found.spans)) if i != canonical]
    return [canonical, *others[: MAX_SHOWN - 1]]


def _classified(
    found: FoundGroup, rows: list[Row], context: Context
) -> tuple[Recommendation, bytes | None]:
    """The recommendation, and the memo key of its differences (None without the cache)."""
    facts = _facts(found, context)
    rule, verdict, reason = decide(facts)
    canonical = max(range(len(rows)), key=lambda i: rows[i])
    why = _canonical_reason(rows, canonical, found.group.members)
    shared = verdict in (Verdict.EXTRACT, Verdict.CONSOLIDATE)
    kinship = _inheritance(found, context) if shared else None
    inherited = None
    if kinship is not None:  # the base's copy is the one to keep: the others inherit from it
        inherited, canonical = kinship
        why = "the base class's copy (the others are in its subclasses)"
    shown = _shown(found, canonical)
    compared_key = _compared_key(found, shown, context)
    found_differences, signature = _compared(found, shown, compared_key, context)
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
    ), compared_key


MAX_SHOWN = 4  # members compared for differences (the canonical one and 3 others)


def _compared(
    found: FoundGroup, shown: Sequence[int], key: bytes | None, context: Context
) -> Compared:
    """``differences`` of the shown members, remembered by their content (``key``: memo.py)."""
    remembered = context.memo.get(key) if key is not None else None
    if remembered is not None:
        return remembered
    compared = differences([_member_tokens(found, index, context) for index in shown], 0)
    if key is not None:
        context.memo.put(key, compared)
    return compared


def _compared_key(found: FoundGroup, shown: Sequence[int], context: Context) -> bytes | None:
    """The shown members' content: their files' cache keys, spans, kinds and names (None
    without the cache)."""
    if context.keyed is None:
        return None
    parts: list[bytes | str | int] = []
    for index in shown:
        member = found.group.members[index]
        file_key = context.keyed.keys.get(member.path)
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
    index_of = {_simple_name(owner): index for index, owner in enumerate(classes)}
    for member, owner, (analysis, _, _) in zip(members, classes, found.spans, strict=True):
        name = _simple_name(owner)
        others = index_of.keys() - {name}
        parents = sorted(context.bases(owner, analysis) & others) if others else []
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


def _simple_name(member: Member | CodeUnit) -> str:
    """The last part of a qualified name ("module" for module-level code)."""
    return member.qualname.rsplit(".", 1)[-1].strip("<>") or "module"


AGE = 3  # the position of the age criterion in a Row


def _rows(found: FoundGroup, context: Context) -> list[Row]:
    """Each member's ranking for the copy to keep (the highest): production code, then the
    most referenced from tests, the most referenced, the oldest in git, the most complete.
    The age is looked up only for the members tied with the best on the criteria before it
    (outside a cached history, git lists every file's age in one log: history.py): on no
    other does it decide, nor does it name the reason (``_canonical_reason``); the others'
    age is 0."""
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
