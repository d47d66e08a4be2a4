"""Aligned differences and the proposed signature, on small two-copy projects."""

from __future__ import annotations

import ast
import textwrap

import pytest

from dupfind import Config, scan
from dupfind.models import Recommendation
from tests.conftest import LOADER, LOADER_RENAMED, PRICES, TreeWriter

FETCH = '''
async def fetch_rates(session, base):
    """Exchange rates for ``base`` from the central bank feed."""
    url = RATES_URL + base
    async with session.get(url, timeout=10) as response:
        payload = await response.json()
    rates = {code: float(rate) for code, rate in payload["rates"].items()}
    rates[base] = 1.0
    return rates
'''

RETRY = '''
def {name}(action, attempts={attempts}):
    """Run ``action`` until it succeeds, sleeping longer after each failure."""
    delay = 0.5
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except ConnectionError:
            if attempt == attempts:
                raise
            time.sleep(delay)
            delay *= 2
    return None
'''


def _prices(name: str, path: str) -> str:
    return PRICES.format(name=name, path=path, decorator="", bases="")


def _only(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]
) -> Recommendation:
    monkeypatch.chdir(make_tree(files))
    result = scan(["."], Config(jobs=1, history=False))
    assert len(result.recommendations) == 1, result.groups
    return result.recommendations[0]


def _parameters(signature: str) -> dict[str, str | None]:
    """Parameter name → default (source text), of a proposed ``def`` signature."""
    function = ast.parse(signature + ": ...").body[0]
    assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
    pairs = list(zip(positional, [*defaults, *arguments.defaults], strict=True))
    pairs += zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
    return {a.arg: None if d is None else ast.get_source_segment(signature, d) for a, d in pairs}


def test_renamed_locals_are_cosmetic_and_literals_are_named_after_their_keyword(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = _only(make_tree, monkeypatch, {"a.py": LOADER, "b.py": LOADER_RENAMED})
    assert rec.canonical == 0
    assert rec.signature.startswith("def load_settings(path, defaults, ")
    parameters = _parameters(rec.signature)
    assert parameters["encoding"] == '"utf-8"'
    renamed = {"settings", "handle", "line", "number", "key", "sep", "filename", "fallback"}
    assert not renamed & set(parameters), rec.signature
    kinds = {(d.kind, d.values) for d in rec.differences}
    assert ("identifier", ("settings", "options")) in kinds
    assert ("literal", ('"utf-8"', '"latin-1"')) in kinds
    assert ("literal", ('"#"', '";"')) in kinds


def test_new_parameters_never_take_the_name_of_a_local(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_settings binds ``value`` (``key, sep, value = line.partition("=")``): a parameter
    called ``value`` would be overwritten on the first line read, and the comment character
    of every later line would be that line's value."""
    rec = _only(make_tree, monkeypatch, {"a.py": LOADER, "b.py": LOADER_RENAMED})
    tree = ast.parse(textwrap.dedent(LOADER))
    bound = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    signature = ast.parse(rec.signature + ": ...").body[0]
    assert isinstance(signature, ast.FunctionDef)
    added = [a.arg for a in [*signature.args.args[2:], *signature.args.kwonlyargs]]
    assert added, rec.signature
    assert not set(added) & bound, rec.signature


def test_an_f_string_reading_locals_is_not_a_default(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error message differs (``f"{path}:{number}: …"``): as a default it would be
    evaluated once, at definition time, where ``number`` does not exist."""
    rec = _only(make_tree, monkeypatch, {"a.py": LOADER, "b.py": LOADER_RENAMED})
    signature = ast.parse(rec.signature + ": ...").body[0]
    assert isinstance(signature, ast.FunctionDef)
    for default in [*signature.args.defaults, *signature.args.kw_defaults]:
        assert not isinstance(default, ast.JoinedStr), rec.signature


def test_a_different_default_in_the_header_adds_no_parameter(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = _only(
        make_tree,
        monkeypatch,
        {
            "net/retry.py": "import time\n" + RETRY.format(name="retry", attempts=3),
            "net/again.py": "import time\n" + RETRY.format(name="with_retries", attempts=5),
        },
    )
    assert rec.signature in {
        "def retry(action, attempts=3)",
        "def with_retries(action, attempts=5)",
    }
    literals = {tuple(sorted(d.values)) for d in rec.differences if d.kind == "literal"}
    assert ("3", "5") in literals  # shown as a difference all the same


def test_an_async_function_keeps_its_keyword(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = FETCH.replace("fetch_rates", "load_rates").replace("timeout=10", "timeout=30")
    rec = _only(make_tree, monkeypatch, {"fx/a.py": FETCH, "fx/b.py": other})
    assert rec.signature == "async def fetch_rates(session, base, timeout=10)"


def test_a_class_gets_a_base_class_with_its_parameters_as_a_comment(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = _only(
        make_tree,
        monkeypatch,
        {
            "suppliers/acme.py": PRICES.format(
                name="AcmePrices", path="/acme/prices", decorator="", bases=""
            ),
            "suppliers/globex.py": PRICES.format(
                name="GlobexPrices", path="/v2/price", decorator="", bases=""
            ),
        },
    )
    assert rec.signature == 'class AcmePricesBase:  # parameters: value="/acme/prices"'


def test_parameters_are_written_back_with_conventional_spacing() -> None:
    from dupfind.differences import _compact

    assert (
        _compact(["self", ",", "*", "args", ":", "str", ",", "**", "kw"])
        == "self, *args: str, **kw"
    )
    assert _compact(["a", ",", "*", ",", "b", "=", "1"]) == "a, *, b=1"


SUMMARY = '''
def {name}(records, out):
    """Write a summary of ``records`` to ``out``."""
    count = {aggregate}(len(r.fields) for r in records)
    header = render_header(records[0], type={kind})
    out.write(header)
    for record in records:
        out.write(render_row(record, width=count))
    out.write(render_footer(records, total=count))
    return count
'''


def test_new_parameters_never_shadow_a_builtin(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copies call ``max`` and ``min``, and pass ``type="short"`` and ``type="long"``:
    parameters called ``max`` and ``type`` would hide the builtins from the shared body."""
    rec = _only(make_tree, monkeypatch, {
        "a.py": SUMMARY.format(name="summarise", aggregate="max", kind='"short"'),
        "b.py": SUMMARY.format(name="summarise_all", aggregate="min", kind='"long"'),
    })  # fmt: skip
    signature = ast.parse(rec.signature + ": ...").body[0]
    assert isinstance(signature, ast.FunctionDef)
    added = [a.arg for a in [*signature.args.args[2:], *signature.args.kwonlyargs]]
    assert added == ["max_", "type_"], rec.signature


DECORATED = '''
@pytest.mark.parametrize("edge", [{edges}])
async def {name}(edge, make_graph):
    """Adding an edge adds its nodes, once."""
    graph = make_graph()
    graph.add_edge(*edge)
    graph.add_edge(*edge)
    assert graph.number_of_edges() == 1
    assert set(graph.nodes) == set(edge)
    assert graph.has_edge(*edge)
    graph.remove_edge(*edge)
    assert graph.number_of_edges() == {left}
'''


def test_the_signature_is_the_def_one_not_a_decorators(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decorator's parentheses come first: they are neither the parameter list nor the
    header, and the ``async`` after them is kept."""
    rec = _only(make_tree, monkeypatch, {
        "a.py": DECORATED.format(name="test_add", edges="(0, 1), (1, 2)", left=0),
        "b.py": DECORATED.format(name="test_add_again", edges="(3, 4)", left=1),
    })  # fmt: skip
    assert rec.signature.startswith("async def test_add"), rec.signature
    signature = ast.parse(rec.signature + ": ...").body[0]
    assert isinstance(signature, ast.AsyncFunctionDef), rec.signature
    assert [a.arg for a in signature.args.args][:2] == ["edge", "make_graph"], rec.signature


def test_clashing_parameter_names_are_numbered_once() -> None:
    from dupfind.differences import _unique

    assert _unique(["max", "max", "value", "value"], {"max_"}) == [
        "max_2", "max_3", "value", "value_2",
    ]  # fmt: skip
    assert _unique(["exit=1"], set()) == ["exit=1"]  # not a builtin without ``site``


REPORT = '''
def {name}(rows, out):
    """Render ``rows`` as a table."""
    header = {header}
    out.write(header)
    for row in rows:
        out.write(format_row(row, width=12))
        out.write("\\n")
    out.write(render_footer(rows))
    return len(rows)
'''


def test_a_long_literal_is_a_parameter_without_a_default(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test's whole expected output as a default would bury the proposed signature."""
    long_a = '"' + "name | size | owner | created | modified | " * 2 + '"'
    long_b = '"' + "NAME | SIZE | OWNER | CREATED | MODIFIED | " * 2 + '"'
    rec = _only(make_tree, monkeypatch, {
        "a.py": REPORT.format(name="render", header=long_a),
        "b.py": REPORT.format(name="render_upper", header=long_b),
    })  # fmt: skip
    signature = ast.parse(rec.signature + ": ...").body[0]
    assert isinstance(signature, ast.FunctionDef)
    assert [a.arg for a in signature.args.args] == ["rows", "out", "header"], rec.signature
    assert signature.args.defaults == [], rec.signature


CUTSET = '''
import networkx as nx


def {name}():
    """The minimum cut of a well-known graph."""
    G = nx.{generator}({size})
    cut = minimum_edge_cut(G)
    assert len(cut) == {expected}
    H = G.copy()
    H.remove_edges_from(cut)
    assert not nx.is_connected(H)
    return cut
'''


def test_a_called_module_function_that_differs_is_a_parameter(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copies build their graph with other generators of one module: the generator is
    what a shared test takes (a method or an attribute that is not called is not)."""
    rec = _only(make_tree, monkeypatch, {
        "a.py": CUTSET.format(name="test_petersen", generator="petersen_graph", size="",
                              expected=3),
        "b.py": CUTSET.format(name="test_cycle", generator="cycle_graph", size="", expected=2),
    })  # fmt: skip
    signature = ast.parse(rec.signature + ": ...").body[0]
    assert isinstance(signature, ast.FunctionDef)
    names = [a.arg for a in [*signature.args.args, *signature.args.kwonlyargs]]
    assert "petersen_graph" in names or "cycle_graph" in names, rec.signature
    assert "=nx." in rec.signature, rec.signature
    assert rec.signature == "def test_petersen(petersen_graph=nx.petersen_graph, value=3)"


NORMALISE = '''
def normalise_names(path):
    """Read ``path`` and normalise every value."""
    names = {{}}
    with open(path, encoding="utf-8") as handle:
        pairs = [line.split("=", 1) for line in handle if "=" in line]
    for key, value in pairs:
        names[key.strip()] = value.{method}()
        names[key.upper()] = len(names)
    return names
'''


def test_a_method_of_a_local_is_never_a_default(
    make_tree: TreeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``value.strip()`` / ``value.title()``: ``value`` is a local, so ``strip=value.strip``
    would raise NameError where the function is defined."""
    rec = _only(make_tree, monkeypatch, {
        "a.py": NORMALISE.format(method="strip"),
        "b.py": NORMALISE.format(method="title"),
    })  # fmt: skip
    assert "value." not in rec.signature, rec.signature
    ast.parse(rec.signature + ": ...")
