"""The decision table (classify.decide) on hand-made facts: rule order and thresholds."""

from __future__ import annotations

import pytest

from dupfind.classify import RULES, Facts, decide
from dupfind.config import Config
from dupfind.group import FoundGroup
from dupfind.models import CloneGroup, CloneKind, Member, UnitKind, Verdict


def _facts(
    similarity: float = 0.9,
    domains: tuple[str, ...] = ("core", "core"),
    tests: tuple[bool, ...] = (False, False),
    hotspots: tuple[bool, ...] = (False, False),
    changes: tuple[int | None, ...] = (None, None),
    lines: int = 12,
    unit: UnitKind = UnitKind.FUNCTION,
    config: Config | None = None,
) -> Facts:
    members = tuple(
        Member(f"src/{domain}/m{i}.py", 10, 10 + lines - 1, f"f{i}", unit)
        for i, domain in enumerate(domains)
    )
    group = CloneGroup("g", CloneKind.NEAR_MISS, similarity, similarity, members)
    return Facts(FoundGroup(group, ()), domains, tests, hotspots, changes, config or Config())


def test_the_table_is_in_the_documented_order() -> None:
    assert [name for name, _ in RULES] == [
        "test-and-production",
        "hotspot",
        "change-frequency",
        "cross-domain-dissimilar",
        "long-shared-block",
        "same-domain-similar",
        "cross-domain",
        "same-domain-partial",
        "dissimilar",
    ]


@pytest.mark.parametrize(
    ("facts", "rule", "verdict"),
    [
        (_facts(tests=(True, False)), "test-and-production", Verdict.LEAVE_SEPARATE),
        (_facts(tests=(True, True)), "same-domain-similar", Verdict.CONSOLIDATE),
        (_facts(hotspots=(False, True)), "hotspot", Verdict.LEAVE_SEPARATE),
        (_facts(changes=(10, 1)), "change-frequency", Verdict.LEAVE_SEPARATE),
        (_facts(changes=(0, 12)), "change-frequency", Verdict.LEAVE_SEPARATE),
        (_facts(changes=(9, 0)), "same-domain-similar", Verdict.CONSOLIDATE),
        (_facts(changes=(10, 2)), "same-domain-similar", Verdict.CONSOLIDATE),
        (_facts(changes=(12, None)), "same-domain-similar", Verdict.CONSOLIDATE),
        (_facts(0.49, ("a", "b")), "cross-domain-dissimilar", Verdict.LEAVE_SEPARATE),
        (_facts(0.5, ("a", "b")), "cross-domain", Verdict.EXTRACT),
        (_facts(0.95, ("a", "b")), "cross-domain", Verdict.EXTRACT),
        (_facts(lines=51, unit=UnitKind.BLOCK), "long-shared-block", Verdict.EXTRACT),
        (_facts(lines=50, unit=UnitKind.BLOCK), "same-domain-similar", Verdict.CONSOLIDATE),
        (_facts(lines=80), "same-domain-similar", Verdict.CONSOLIDATE),
        (_facts(0.8), "same-domain-similar", Verdict.CONSOLIDATE),
        (_facts(0.7999), "same-domain-partial", Verdict.EXTRACT),
        (_facts(0.5), "same-domain-partial", Verdict.EXTRACT),
        (_facts(0.4999), "dissimilar", Verdict.LEAVE_SEPARATE),
    ],
)
def test_first_matching_rule_decides(facts: Facts, rule: str, verdict: Verdict) -> None:
    name, found, _ = decide(facts)
    assert (name, found) == (rule, verdict)


def test_earlier_rules_win_over_later_ones() -> None:
    everything = _facts(0.3, ("a", "b"), (True, False), (True, False), (15, 0), 60, UnitKind.BLOCK)
    assert decide(everything)[0] == "test-and-production"
    no_tests = _facts(0.3, ("a", "b"), hotspots=(True, False), changes=(15, 0))
    assert decide(no_tests)[0] == "hotspot"
    history_only = _facts(0.3, ("a", "b"), changes=(15, 0), lines=60, unit=UnitKind.BLOCK)
    assert decide(history_only)[0] == "change-frequency"


def test_reasons_carry_the_measured_figures_and_thresholds() -> None:
    config = Config(history_days=90, history_hot=4, history_cold=0)
    _, _, reason = decide(_facts(changes=(0, 7), config=config))
    assert "src/core/m1.py:10-21 changed in 7 commits over the last 90 days" in reason
    assert "src/core/m0.py:10-21 in 0:" in reason
    assert "(thresholds: ≥ 4 vs ≤ 0)" in reason
    _, _, reason = decide(_facts(0.42, ("shipping", "billing")))
    assert "(billing, shipping)" in reason
    assert "only 42% similar (< 50%)" in reason
    _, _, reason = decide(_facts(0.6, ("core", "core"), config=Config(extract_similarity=0.55)))
    assert "'core' but only 60% similar (55%-80%)" in reason
    _, _, reason = decide(_facts(lines=72, unit=UnitKind.BLOCK))
    assert "a shared block of 72 lines (> 50)" in reason


def test_configured_thresholds_move_the_boundaries() -> None:
    config = Config(consolidate_similarity=0.95, extract_similarity=0.3, extract_min_lines=20)
    assert decide(_facts(0.9, config=config))[0] == "same-domain-partial"
    assert decide(_facts(0.35, ("a", "b"), config=config))[0] == "cross-domain"
    block = _facts(lines=21, unit=UnitKind.BLOCK, config=config)
    assert decide(block)[0] == "long-shared-block"


def _tests(similarity: float, names: tuple[str, str], kind: CloneKind) -> Facts:
    members = tuple(
        Member(f"tests/test_m{i}.py", 10, 21, f"TestM.{name}", UnitKind.FUNCTION)
        for i, name in enumerate(names)
    )
    group = CloneGroup("g", kind, similarity, similarity, members)
    return Facts(FoundGroup(group, ()), ("tests",) * 2, (True, True), (False, False),
                 (None, None), Config())  # fmt: skip


def test_copies_of_a_test_are_merged_into_a_parametrized_test() -> None:
    names = ("test_parse_ints", "test_parse_floats")
    reason = decide(_tests(0.9, names, CloneKind.RENAMED))[2]
    assert reason.endswith("keep one test, parametrized over what differs "
                           "(pytest.mark.parametrize, or a subTest loop in a "
                           "unittest.TestCase)")  # fmt: skip
    assert decide(_tests(1.0, names, CloneKind.EXACT))[2].endswith(": keep one copy")
    assert decide(_tests(0.6, names, CloneKind.NEAR_MISS))[2].endswith(
        "extract the shared steps into a fixture or helper"
    )
    helpers = ("make_parser", "make_reader")  # helpers in test code are code like any other
    assert decide(_tests(0.9, helpers, CloneKind.RENAMED))[2].endswith(": keep one copy")
    assert decide(_tests(0.6, helpers, CloneKind.NEAR_MISS))[2].endswith(
        ": extract the shared part"
    )


def test_copies_of_a_block_are_moved_into_one_function_not_deleted() -> None:
    reason = decide(_facts(0.9, unit=UnitKind.BLOCK))[2]
    assert reason.endswith(": move the block into one function and call it from each place")
    assert decide(_facts(0.9))[2].endswith(": keep one copy")


@pytest.mark.parametrize(
    ("header", "bases"),
    [
        (b"class A(Base): x = 1", ["Base"]),
        (
            b"    class A(graph.Graph, Generic[K, V], metaclass=M):\n        x = 1",
            ["Generic", "Graph"],
        ),
        (b"class A(\n  # a comment (x)\n  Base,\ndoc='a, b'):\n    x = 1", ["Base"]),
        (b'class A(namedtuple("A", "x y")):\n    pass', []),  # a call names no class
        (b"class A:\n    class B(C):\n        pass", []),  # a nested class's bases are not A's
    ],
)
def test_a_class_header_names_its_bases(header: bytes, bases: list[str]) -> None:
    from dupfind.context import _base_names, _class_header

    parsed = _class_header(header)
    assert parsed is not None
    assert sorted(_base_names(parsed)) == bases


def test_a_method_belongs_to_the_class_holding_its_lines() -> None:
    """Two classes of one name (defined under if / else): the method's owner is the one
    around it, not the first of that name."""
    from dupfind.config import Config
    from dupfind.context import Context
    from dupfind.corpus import references
    from dupfind.domains import domain_map
    from dupfind.history import open_history
    from dupfind.models import FileAnalysis
    from dupfind.pipeline import analyse_source

    source = b"""
if FAST:
    class Prices(Base):
        def prices(self, skus):
            return [self.get(sku) for sku in skus]
else:
    class Prices:
        def prices(self, skus):
            return [self.load(sku) for sku in skus]
"""
    analysis = analyse_source("m.py", source, Config(min_lines=1, min_tokens=1))
    assert isinstance(analysis, FileAnalysis)
    method = next(u for u in analysis.units if u.qualname == "Prices.prices" and u.start_line > 6)
    member = Member("m.py", method.start_line, method.end_line, method.qualname, method.kind)
    config = Config(min_lines=1, min_tokens=1)
    context = Context(config, domain_map(config, ["."]), open_history(["."], False, 1),
                      references([analysis]))  # fmt: skip
    owner = context.owner(member, analysis)
    assert owner is not None and owner.start_line == 7
    outer = next(u for u in analysis.units if u.qualname == "Prices" and u.start_line == 3)
    assert context.owner(Member("m.py", 3, 5, "Prices", outer.kind), analysis) == outer


def test_occurrences_are_counted_in_words() -> None:
    from dupfind.classify import _times

    assert _times(1, "other ") == "1 other occurrence"
    assert _times(3, "") == "3 occurrences"
