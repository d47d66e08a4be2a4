import dataclasses
import pickle

import dupfind.models as models


def _pickled_models() -> list[type]:
    return [
        kind
        for kind in vars(models).values()
        if isinstance(kind, type)
        and issubclass(kind, models._Fields)
        and kind is not models._Fields
    ]


def test_every_model_pickles_as_a_call_of_its_constructor() -> None:
    kinds = _pickled_models()
    assert models.FileAnalysis in kinds and models.Member in kinds
    for kind in kinds:
        assert len(dataclasses.fields(kind)) >= 2  # the attrgetter in __reduce__ gives a tuple
    member = models.Member("a.py", 3, 9, "f", models.UnitKind.FUNCTION)
    group = models.CloneGroup("g", models.CloneKind.EXACT, 1.0, 1.0, (member, member))
    assert group.__reduce__() == (models.CloneGroup, ("g", models.CloneKind.EXACT, 1.0, 1.0,
                                                      (member, member)))  # fmt: skip
    assert pickle.loads(pickle.dumps(group)) == group


def test_a_recommendation_stores_its_differences_as_plain_tuples() -> None:
    differences = (
        models.Difference("identifier", 3, ("a", "b")),
        models.Difference("changed", 5, ("x = 1", "")),
    )
    advice = models.Recommendation(
        models.Verdict.CONSOLIDATE, "rule", ("why",), 0.9, 1, "kept", ("core", "core"),
        differences, "def f(a)", 12,
    )  # fmt: skip
    _, arguments = advice.__reduce__()
    assert arguments[-1] == (("identifier", 3, ("a", "b")), ("changed", 5, ("x = 1", "")))
    assert all(type(row) is tuple for row in arguments[-1])  # pickled in C, not per object
    loaded = pickle.loads(pickle.dumps(advice, protocol=5))
    assert loaded == advice
    assert all(type(d) is models.Difference for d in loaded.differences)
    assert loaded.differences[0].values == ("a", "b")
