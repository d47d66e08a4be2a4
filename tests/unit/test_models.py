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
