"""memo.py: what a memo hands back, what it keeps, and keys that cannot collide."""

from __future__ import annotations

from dupfind.memo import Held, LastPass, Memo, content_key


def test_a_memo_keeps_only_what_this_scan_used() -> None:
    memo: Memo[float] = Memo({b"a": 0.5, b"b": 0.75})
    assert memo.get(b"a") == 0.5
    assert memo.get(b"missing") is None
    memo.put(b"c", 1.0)
    assert memo.used == {b"a": 0.5, b"c": 1.0}  # b was not used: dropped when stored


def test_content_keys_separate_their_parts() -> None:
    assert content_key([b"ab", b"c"]) != content_key([b"a", b"bc"])
    assert content_key(["1"]) != content_key([1]) != content_key([b"1"])
    one, other = "".join(["pa", "th"]), "".join(["pa", "th"])  # one object twice, or two
    assert one is not other and content_key([one, one]) == content_key([one, other])
    assert content_key([b"x"]) != content_key([b"x", b""])
    assert len(content_key([])) == 16


def test_a_pass_offers_the_last_turned_one_and_a_failed_pass_is_dropped() -> None:
    """LastPass: the next pass recalls what the last one kept; a pass that failed before its
    ``turn`` leaves nothing once the next begins, so repeated failures hold no more."""
    last: LastPass[str, int] = LastPass()
    last.begin()
    assert last.keep("a", 1) == 1
    last.turn()
    last.begin()
    assert last.recall("a") == 1 and last.recall("b") is None
    last.keep("b", 2)  # this pass fails: no turn
    last.begin()
    last.keep("c", 3)
    last.turn()
    assert last.previous == {"c": 3}


def test_a_held_value_is_recalled_for_that_very_object_only() -> None:
    """Held: a value kept for an object is recalled for it in the next pass, not for an equal
    object, and not once a pass went by without keeping it."""
    held: Held[list[int], str] = Held()
    thing, twin = [1, 2], [1, 2]
    held.keep(thing, "made")
    held.turn()
    assert held.recall(thing) == "made" and held.recall(twin) is None
    held.turn()  # a pass that kept nothing
    assert held.recall(thing) is None
