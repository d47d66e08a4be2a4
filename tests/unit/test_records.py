"""Records and data (candidates.is_record, exact_buckets; extract's constants): matched only
as copies of the same data."""

from __future__ import annotations

from dupfind.candidates import UnitRef, eligible_units, exact_buckets, is_record
from dupfind.config import Config
from dupfind.models import FileAnalysis, UnitKind
from dupfind.pipeline import analyse_source

CONFIG = Config(min_lines=1, min_tokens=1)

NODE = b"""
@dataclass(frozen=True)
class Node:
    name: str
    weight: int = 0
    parent: Node | None = None
    label: str = "node"
"""


def _analysis(source: bytes, path: str = "m.py", config: Config = CONFIG) -> FileAnalysis:
    analysis = analyse_source(path, source, config)
    assert isinstance(analysis, FileAnalysis)
    return analysis


def _bucketed(sources: dict[str, bytes], records: bool = False) -> list[set[str]]:
    files = [_analysis(source, path) for path, source in sources.items()]
    units = eligible_units(files, CONFIG)
    return [
        {f"{files[units[i].file].path}::{units[i].unit.qualname}" for i in bucket}
        for bucket in exact_buckets(units, records)
    ]


def test_a_record_renamed_everywhere_it_names_itself_shares_a_bucket() -> None:
    renamed = NODE.replace(b"Node", b"TreeItem")
    other_fields = NODE.replace(b"weight", b"height").replace(b"label", b"title")
    buckets = _bucketed({"a.py": NODE, "b.py": renamed, "c.py": other_fields})
    assert buckets == [{"a.py::Node", "b.py::TreeItem"}]
    everything = _bucketed({"a.py": NODE, "b.py": renamed, "c.py": other_fields}, True)
    assert everything == [{"a.py::Node", "b.py::TreeItem", "c.py::Node"}]  # same shape


def test_a_commented_out_copy_of_a_record_shares_its_bucket() -> None:
    colour = b"class Colour(Enum):\n    RED = 1\n    GREEN = 2\n    BLUE = 3\n    ALPHA = 4\n"
    commented = b"\n".join(b"# " + line for line in colour.strip().split(b"\n")) + b"\n"
    buckets = _bucketed({"a.py": colour, "b.py": b"x = 1\n" + commented})
    kinds = {unit.kind for unit in _analysis(b"x = 1\n" + commented).units}
    assert UnitKind.COMMENTED in kinds
    assert buckets == [{"a.py::Colour", "b.py::<commented>.Colour"}]


def test_methods_under_if_and_try_count_as_methods() -> None:
    source = b"""
class Compat:
    x = 1
    if sys.version_info >= (3, 11):
        def read(self, path):
            with open(path, encoding="utf-8") as handle:
                return handle.read().strip().splitlines()
    else:
        def read(self, path):
            with open(path) as handle:
                return handle.read().decode("utf-8").strip().splitlines()
"""
    units = {u.qualname: u for u in _analysis(source).units if u.kind is UnitKind.CLASS}
    compat = units["Compat"]
    assert compat.nested > compat.tokens // 2
    assert not is_record(compat)


def test_records_and_data_are_part_of_the_analysis_key() -> None:
    assert Config().analysis_key() != Config(ignore_records=False).analysis_key()


def test_only_upper_case_literal_assignments_at_the_top_level_are_constants() -> None:
    source = b"""
LIMIT = 10
TABLE = [
    1,  # one
    2,
]
NAMES: tuple[str, ...] = ("a", "b")
DAY = 24 * 60 * 60
total = 0
LABEL = f"{LIMIT} items"
IAC = bytes([255])
THEME = themes.Theme((12, 12, 12), palette=[(0, 0, 0), (128, 0, 0)])
DERIVED = make(LIMIT)
CHAINED = load().Theme(1)
DEEP = load().x.Theme(1)
INDEXED = a[0].b.c(1)
if True:
    INNER = 1
"""
    analysis = _analysis(source)
    table = analysis.statement_lists
    top = table[len(table) - 1]  # the module's own statements (its list ends last)
    data = [shape != run for shape, run in zip(top.shape_hashes, top.run_hashes, strict=True)]
    assert data == [True, True, True, True, False, False, True, True, False, False, False,
                    False, False]  # fmt: skip
    inner = table[0]
    assert list(inner.shape_hashes) == list(inner.run_hashes)  # inside a block: code


def test_unit_refs_of_records_select_nothing_by_default() -> None:
    from dupfind.candidates import select_shingles
    from dupfind.corpus import Frequency, count

    files = [_analysis(NODE, "a.py"), _analysis(NODE.replace(b"weight", b"mass"), "b.py")]
    units: list[UnitRef] = eligible_units(files, CONFIG)
    frequency = Frequency.of(count(files))
    assert all(not selection for selection in select_shingles(files, units, frequency))
    assert any(select_shingles(files, units, frequency, records=True))
