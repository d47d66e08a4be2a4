"""dupfind similar: fixture projects whose best matches are known (ranking, kinds, ties), the
index among many decoys, the stdin snippet path, bad targets, the warm-cache path (nothing
analysed, few analyses loaded) and the command line's exit codes and JSON shape."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import dupfind.pipeline
import dupfind.similar
from dupfind import Config, scan
from dupfind.cache import FILENAME, AnalysisCache
from dupfind.cli import app
from dupfind.similar import CANDIDATES, SimilarResult, find_similar, split_target
from tests.conftest import FIXTURES, LOADER, LOADER_RENAMED

CASES = sorted(p for p in (FIXTURES / "similar").iterdir() if (p / "expected.json").is_file())
SRC = Path(__file__).resolve().parent.parent / "src" / "dupfind"
CONFIG = Config(jobs=1, history=False)


def invoke(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


def _keys(result: SimilarResult) -> list[str]:
    (finding,) = result.findings
    return [f"{m.path}::{m.qualname}" for m in finding.matches]


def _query(case: Path, query: dict[str, Any], config: Config = CONFIG) -> SimilarResult:
    snippet = (case / query["snippet"]).read_text(encoding="utf-8") if "snippet" in query else None
    return find_similar(
        query.get("target", "-"), ["."], config, min_similarity=query["min_similarity"],
        snippet=snippet,
    )  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_projects_rank_the_known_matches(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(case)
    for query in json.loads((case / "expected.json").read_text(encoding="utf-8"))["queries"]:
        result = _query(case, query)
        (finding,) = result.findings
        found = [(f"{m.path}::{m.qualname}", m.kind.value) for m in finding.matches]
        assert found == [(m["match"], m["kind"]) for m in query["matches"]], query
        for match, spec in zip(finding.matches, query["matches"], strict=True):
            low, high = spec["similarity"]
            assert low <= match.similarity <= high, (query, match)
        similarities = [m.similarity for m in finding.matches]
        assert similarities == sorted(similarities, reverse=True)


def test_top_keeps_the_best_and_a_target_never_matches_itself_or_its_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(FIXTURES / "similar" / "methods")
    best = find_similar("cache/lru.py::LRUCache.get", ["."], CONFIG, top=1, min_similarity=0.0)
    assert _keys(best) == ["cache/ttl.py::TTLCache.lookup"]
    everything = _keys(find_similar("cache/lru.py::LRUCache.get", ["."], CONFIG, top=50,
                                    min_similarity=0.0))  # fmt: skip
    assert "cache/lru.py::LRUCache.get" not in everything
    assert "cache/lru.py::LRUCache" not in everything  # encloses the target
    assert "cache/ttl.py::TTLCache" in everything


def test_the_index_finds_the_copies_among_hundreds_of_decoys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dupfind's own source (hundreds of functions) plus the ranking fixture: the candidates
    rescored exactly are bounded, and the known matches still come first."""
    shutil.copytree(SRC, tmp_path / "decoys", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(FIXTURES / "similar" / "ranking", tmp_path / "shop")
    monkeypatch.chdir(tmp_path)
    scored: list[int] = []
    real = dupfind.similar.similarity

    def counting(*args: Any) -> float:
        scored.append(1)
        return real(*args)

    monkeypatch.setattr(dupfind.similar, "similarity", counting)
    snippet = (tmp_path / "shop" / "snippet.txt").read_text(encoding="utf-8")
    result = find_similar("-", ["."], CONFIG, top=3, min_similarity=0.5, snippet=snippet)
    assert _keys(result) == [
        "shop/billing/invoices.py::invoice_amount",
        "shop/shop/orders.py::order_total",
        "shop/billing/credit_notes.py::credit_total",
    ]
    units = sum(len(a.units) for a in _analyses(tmp_path))
    assert units > 4 * CANDIDATES
    assert 0 < len(scored) <= CANDIDATES


def _analyses(root: Path) -> list[dupfind.pipeline.FileAnalysis]:
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*.py"))
    found = [dupfind.pipeline.analyse_file(f, CONFIG) for f in files]
    return [a for a in found if isinstance(a, dupfind.pipeline.FileAnalysis)]


@pytest.fixture
def shop(monkeypatch: pytest.MonkeyPatch) -> Path:
    root = FIXTURES / "similar" / "ranking"
    monkeypatch.chdir(root)
    return root


def test_a_snippet_on_stdin(shop: Path) -> None:
    snippet = (shop / "snippet.txt").read_text(encoding="utf-8")
    result = invoke("similar", "-", "--format", "json", "--top", "2", stdin=snippet)
    assert result.exit_code == 0, result.output
    (found,) = json.loads(result.stdout)["results"]
    assert found["target"] == {
        "path": "<stdin>", "start_line": 1, "end_line": 9, "qualname": "basket_total",
        "tokens": 92,
    }  # fmt: skip
    assert [m["qualname"] for m in found["matches"]] == ["invoice_amount", "order_total"]


PARSED_PARTLY = (
    "the code searched for could not be fully parsed (syntax error; the code containing it was "
    "not analysed); fix it and search again for a complete answer"
)


def test_a_snippet_that_does_not_parse_says_so_with_the_line(shop: Path) -> None:
    snippet = "total = 0\ndef basket_total(:\n    for item in items:\n        total += item\n"
    document = json.loads(invoke("similar", "-", "--format", "json", stdin=snippet).stdout)
    assert document["notes"] == [f"<stdin>:2: {PARSED_PARTLY}"]
    terminal = invoke("similar", "-", stdin=snippet)
    assert terminal.exit_code == 0
    assert f"Note: <stdin>:2: {PARSED_PARTLY}" in terminal.stdout
    clean = json.loads(invoke("similar", "-", "--format", "json", stdin=LOADER).stdout)
    assert clean["notes"] == []


def test_a_snippet_from_a_file_names_the_file_line_that_does_not_parse() -> None:
    source = "x = compute(1)\ny = x + 2\ndef f(:\n    total = 0\n    return total\n"
    target = dupfind.similar.snippet_target(source, CONFIG, "mod.py", 10)
    assert target.note == f"mod.py:12: {PARSED_PARTLY}"


@pytest.mark.parametrize(
    ("spec", "parts"),
    [
        ("-", ("-", None, None)),
        ("pkg/mod.py::Class.method", ("pkg/mod.py", "Class.method", None)),
        ("a:b.py::f", ("a:b.py", "f", None)),
        ("pkg/mod.py:10-42", ("pkg/mod.py", None, (10, 42))),
        ("c:d.py:1-2", ("c:d.py", None, (1, 2))),
        ("pkg/mod.py", ("pkg/mod.py", None, None)),
        ("pkg/mod.py:10", ("pkg/mod.py:10", None, None)),
        ("/etc/passwd", ("/etc/passwd", None, None)),
    ],
)
def test_one_parser_splits_every_target(
    spec: str, parts: tuple[str, str | None, tuple[int, int] | None]
) -> None:
    found = split_target(spec)
    assert (found.file, found.qualname, found.lines) == parts
    assert found.is_snippet == (spec == "-")
    assert str(found) == spec


def test_terminal_output_names_target_matches_and_totals(shop: Path) -> None:
    result = invoke("similar", "shop/orders.py::order_total", "--min-similarity", "0.5")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Most similar to shop/orders.py:6-17  order_total")
    assert "100.0%" in lines[1] and "renamed" in lines[1] and "billing/invoices.py:6-17" in lines[1]
    assert "credit_notes.py" in lines[2]
    assert "Searched 4 files for code at least 50% similar." in result.stdout


def test_json_shape(shop: Path) -> None:
    result = invoke("similar", "billing/invoices.py:6-17", "shop", "--format", "json")
    document = json.loads(result.stdout)
    assert set(document) == {
        "schema_version", "tool", "mode", "base", "min_similarity", "files_searched", "targets",
        "results", "notes", "skipped",
    }  # fmt: skip
    assert (document["mode"], document["base"], document["files_searched"]) == ("similar", None, 1)
    (found,) = document["results"]
    assert found["target"]["qualname"] == "invoice_amount"  # the range is exactly that function
    (match,) = found["matches"]
    assert match == {
        "path": "shop/orders.py", "start_line": 6, "end_line": 17, "qualname": "order_total",
        "unit": "function", "kind": "renamed", "similarity": 1.0,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing.py::f", "missing.py::f: missing.py: no such file"),
        ("shop/orders.py::order_totl", "did you mean shop/orders.py::order_total (line 6) or "),
        ("shop/orders.py::nothing_alike", "it defines 4 functions and classes"),
        ("shop/orders.py:20-10", "shop/orders.py:20-10: START must be at least 1 and at most END"),
        ("shop/orders.py:1-99", "shop/orders.py:1-99: shop/orders.py has 25 lines"),
        ("shop/orders.py:1-2", "shop/orders.py:1-2: these lines hold no code"),
        ("shop/orders.py", "TARGET must be FILE::QUALNAME"),
        ("-", "<stdin>: the snippet holds no code"),
    ],
)
def test_bad_targets_exit_2_saying_where(shop: Path, target: str, message: str) -> None:
    result = invoke("similar", target, stdin="# only a comment\n")
    assert result.exit_code == 2
    assert message in result.stderr


def test_usage_errors(shop: Path) -> None:
    assert "needs a TARGET" in invoke("similar").stderr
    assert invoke("similar").exit_code == 2
    html = invoke("similar", "shop/orders.py::order_total", "--format", "html")
    assert html.exit_code == 2 and "similar writes terminal or json" in html.stderr
    assert invoke("similar", "shop/orders.py::order_total", "--top", "0").exit_code == 2
    assert invoke("similar", "shop/orders.py::order_total", "--min-similarity", "2").exit_code == 2


def test_nested_functions_answer_to_their_name_without_locals(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "def outer(items):\n" + "".join(f"    {line}\n" for line in LOADER.splitlines()),
        encoding="utf-8",
    )
    (tmp_path / "copy.py").write_text(LOADER_RENAMED, encoding="utf-8")
    spec = f"{source}::outer.load_settings"
    result = find_similar(spec, [str(tmp_path)], CONFIG, top=1)
    (finding,) = result.findings
    assert finding.target.qualname == "outer.<locals>.load_settings"
    assert [m.qualname for m in finding.matches] == ["read_options"]


# The cache: a scan warms the sketches; a warm search analyses nothing and loads few analyses.


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Hundreds of functions (dupfind's own source), files with no functions, and the shop."""
    shutil.copytree(SRC, tmp_path / "decoys", ignore=shutil.ignore_patterns("__pycache__"))
    for index in range(70):
        (tmp_path / "decoys" / f"constants_{index}.py").write_text(f"VALUE = {index}\n")
    shutil.copytree(FIXTURES / "similar" / "ranking", tmp_path / "shop")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _sketch_rows(cache_dir: Path) -> int:
    with sqlite3.connect(cache_dir / FILENAME) as connection:
        return int(connection.execute("SELECT count(*) FROM sketches").fetchone()[0])


def _spy(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[int]]:
    analysed: list[str] = []
    looked_up: list[int] = []
    real_analyse, real_lookup = dupfind.pipeline.analyse_source, AnalysisCache.lookup

    def analyse(path: str, data: bytes, config: Config) -> Any:
        analysed.append(path)
        return real_analyse(path, data, config)

    def lookup(self: AnalysisCache, keys: Any) -> Any:
        looked_up.append(len(keys))
        return real_lookup(self, keys)

    monkeypatch.setattr(dupfind.pipeline, "analyse_source", analyse)
    monkeypatch.setattr(dupfind.similar, "analyse_source", analyse)
    monkeypatch.setattr(AnalysisCache, "lookup", lookup)
    return analysed, looked_up


def test_a_warm_search_analyses_nothing_and_loads_few_analyses(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config(jobs=1, history=False, cache_dir=str(corpus / "cache"))
    files = scan(["."], config).stats.files_scanned
    assert _sketch_rows(corpus / "cache") == files > 100
    analysed, looked_up = _spy(monkeypatch)
    result = find_similar("shop/shop/orders.py::order_total", ["."], config, top=3)
    assert _keys(result)[0] == "shop/billing/invoices.py::invoice_amount"
    assert analysed == []
    assert sum(looked_up) <= CANDIDATES + 1 < files  # the target's file, then the candidates'


def test_files_changed_since_the_scan_are_analysed_on_the_fly(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config(jobs=1, history=False, cache_dir=str(corpus / "cache"))
    scan(["."], config)
    (corpus / "decoys" / "fresh.py").write_text(LOADER_RENAMED, encoding="utf-8")
    analysed, _ = _spy(monkeypatch)
    snippet = LOADER.replace("load_settings", "parse_settings")
    result = find_similar("-", ["."], config, top=1, snippet=snippet)
    assert _keys(result) == ["decoys/fresh.py::read_options"]
    assert analysed == ["decoys/fresh.py", "<stdin>"]
    analysed.clear()
    find_similar("-", ["."], config, top=1, snippet=snippet)
    assert analysed == ["<stdin>"]  # the search itself kept the new file's sketch


def test_damaged_sketches_are_rebuilt_and_cache_clear_removes_them(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config(jobs=1, history=False, cache_dir=str(corpus / "cache"))
    scan(["shop"], config)
    with sqlite3.connect(corpus / "cache" / FILENAME) as connection:
        connection.execute("UPDATE sketches SET value = x'0102'")
    analysed, _ = _spy(monkeypatch)
    result = find_similar("shop/shop/orders.py::order_total", ["shop"], config, top=1)
    assert _keys(result) == ["shop/billing/invoices.py::invoice_amount"]
    assert analysed == []  # rebuilt from the cached analyses, not analysed again
    cleared = invoke("cache", "clear", "--cache-dir", str(corpus / "cache"))
    assert cleared.exit_code == 0
    assert _sketch_rows(corpus / "cache") == 0


def test_without_the_cache_everything_is_analysed(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    analysed, _ = _spy(monkeypatch)
    config = Config(jobs=1, history=False, cache=False)
    result = find_similar("shop/shop/orders.py::order_total", ["shop"], config, top=1)
    assert _keys(result) == ["shop/billing/invoices.py::invoice_amount"]
    assert sorted(analysed) == sorted(
        str(p.relative_to(corpus)) for p in (corpus / "shop").rglob("*.py")
    )
    assert not (corpus / "cache").exists()


def test_files_that_cannot_be_analysed_are_skipped_and_explained_as_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "good.py").write_text(LOADER, encoding="utf-8")
    (tmp_path / "copy.py").write_text(LOADER_RENAMED, encoding="utf-8")
    (tmp_path / "binary.py").write_bytes(b"x = 1\n\x00\n")
    (tmp_path / "latin.py").write_bytes(b"x = '\xe9'\n")
    monkeypatch.chdir(tmp_path)
    document = json.loads(invoke("similar", "good.py::load_settings", "--format", "json").stdout)
    assert [s["path"] for s in document["skipped"]] == ["binary.py", "latin.py"]
    assert document["results"][0]["matches"][0]["qualname"] == "read_options"
    terminal = invoke("similar", "good.py::load_settings").stdout
    assert "Skipped or partly parsed files (2):" in terminal
    for target, message in [
        ("binary.py::f", "binary.py:2: binary file: NUL byte"),
        ("latin.py:1-1", "latin.py:1: cannot decode as utf-8"),
    ]:
        result = invoke("similar", target)
        assert (result.exit_code, message in result.stderr) == (2, True), result.stderr
    nul = invoke("similar", "-", stdin="x = 1\0\n")
    assert nul.exit_code == 2 and "<stdin>: binary file: NUL byte" in nul.stderr


def test_a_unit_index_past_the_analysis_is_no_match(shop: Path) -> None:
    """A file may change between reading its sketch and loading its analysis."""
    corpus = dupfind.similar.Corpus(["."], CONFIG, None)
    target = dupfind.similar.resolve_target("shop/orders.py::order_total", corpus)
    analysis = corpus.analysis("billing/invoices.py")
    assert dupfind.similar._match(target, analysis, len(analysis.units), 0.0) is None
    assert dupfind.similar._match(target, analysis, 0, 0.0) is not None
