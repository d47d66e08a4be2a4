#!/usr/bin/env python3
"""Build a dupfind benchmark corpus: real Python code plus planted clones with ground truth.

Usage::

    python benchmarks/make_corpus.py OUTDIR [--seed 1234] [--source DIR] [--plants N] [--force]

Layout of the result:

* ``OUTDIR/src/`` - the tree to scan: every ``.py`` file of SOURCE (default: the running
  interpreter's stdlib, without site-packages) plus ``planted/<pkg>/mod_XXXX.py`` files
  holding modified copies of real functions.
* ``OUTDIR/truth.json`` - one record per planted clone (type, measured token similarity,
  original and copy spans; paths relative to ``OUTDIR/src``, lines 1-based inclusive).

Clone types (planted in equal numbers, round-robin):

* ``exact``   - layout-only changes (docstring, comments, blank lines, spaces in brackets).
* ``renamed`` - consistent renaming of locals/parameters and the function name, changed
  literals, plus layout changes.
* ``near90`` / ``near75`` / ``near55`` - statement-level edits (insert, delete, swap,
  modify an expression, replace a call) until the token similarity lies in
  [0.90, 1.0) / [0.70, 0.90) / [0.50, 0.70).

Token similarity is ``rapidfuzz.distance.Levenshtein.normalized_similarity`` over the
token texts produced by ``tokenize``, without COMMENT/NL/NEWLINE/INDENT/DEDENT/ENCODING/
ENDMARKER tokens and without docstring STRING tokens.  The output is deterministic for a
given seed, source tree and Python version.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import io
import itertools
import json
import keyword
import os
import random
import re
import shutil
import statistics
import sys
import sysconfig
import time
import tokenize
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from rapidfuzz.distance import Levenshtein

DEFAULT_SEED = 1234
DEFAULT_PLANTS = 400
DEFAULT_SOURCE = Path(sysconfig.get_paths()["stdlib"])
MARKER = ".dupfind-corpus"
CLONE_TYPES = ("exact", "renamed", "near90", "near75", "near55")
BANDS: dict[str, tuple[float, float]] = {
    "near90": (0.90, 1.0),
    "near75": (0.70, 0.90),
    "near55": (0.50, 0.70),
}
MIN_LINES = 8
MAX_LINES = 120
MIN_TOKENS = 60
MAX_EDIT_STEPS = 200
OVERSHOOT = 0.03
EXCLUDED_DIRS = frozenset({"site-packages", "dist-packages", "__pycache__"})
SKIPPED_TOKENS = frozenset(
    {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENCODING,
        tokenize.ENDMARKER,
    }
)
RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))
OPENERS = frozenset("([{")
CLOSERS = frozenset(")]}")
FUNC_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)
FuncNode = ast.FunctionDef | ast.AsyncFunctionDef
Range = tuple[tuple[int, int], tuple[int, int]]  # (row, col) start and end
Edit = tuple[int, int, int, str]  # row (1-based), start col, end col, replacement text

COMMENTS = (
    "fast path",
    "handle the common case first",
    "keep this in sync with the caller",
    "XXX: is this still needed?",
    "normalise the input first",
    "TODO: simplify this",
    "defensive copy",
    "mirrors the upstream implementation",
    "edge case: empty input",
    "order matters here",
    "avoid a second lookup",
    "see the module docstring",
)
DOC_VERBS = ("Handle", "Compute", "Process", "Helper for", "Implement", "Run")
NAME_WORDS = (
    "item", "value", "result", "node", "entry", "data", "buf", "obj", "elem", "val",
    "tmp", "acc", "res", "cur", "part", "chunk", "token", "rec", "target", "src", "ctx",
    "state", "info", "spec", "idx", "pos", "count", "total", "flag", "opts", "cfg",
    "payload", "record", "current", "candidate", "piece", "word", "label", "field",
    "element", "member", "unit", "slot", "mark", "probe", "handle", "blob", "thing",
)  # fmt: skip
FUNC_PATTERNS = ("{}_impl", "do_{}", "_{}_helper", "{}_v2", "compute_{}", "handle_{}")
STRING_WORDS = ("alpha", "beta", "default", "value", "utf-8", "none", "data", "%s", "ok", "name")
OPERATOR_SWAPS = {
    "==": "!=", "!=": "==", "<": "<=", "<=": "<", ">": ">=", ">=": ">", "+": "-",
    "-": "+", "and": "or", "or": "and", "+=": "-=", "-=": "+=", "True": "False",
    "False": "True", "//": "/", "/": "//",
}  # fmt: skip
CALL_SWAPS = {
    "append": "extend", "extend": "append", "get": "pop", "pop": "get",
    "startswith": "endswith", "endswith": "startswith", "strip": "rstrip",
    "rstrip": "strip", "lstrip": "strip", "split": "rsplit", "rsplit": "split",
    "find": "rfind", "rfind": "find", "index": "rindex", "lower": "upper",
    "upper": "lower", "keys": "values", "values": "items", "items": "keys", "min": "max",
    "max": "min", "any": "all", "all": "any", "sorted": "reversed", "list": "tuple",
    "tuple": "list", "isinstance": "issubclass", "encode": "decode", "decode": "encode",
    "read": "readline", "write": "writelines", "add": "discard", "remove": "discard",
}  # fmt: skip
CALL_PATTERNS = ("{}_safe", "_{}", "safe_{}", "{}_ex")
KEYWORD_ARGS = (
    "strict=True",
    "default=None",
    "timeout=None",
    "check=False",
    "encoding='utf-8'",
    "errors='replace'",
    "reverse=True",
)
WRAPPERS = ("list", "tuple", "str", "int", "bool", "sorted", "len", "repr")
VAR_TEMPLATES = (
    "if {v} is None:\n    return",
    "if {v} is None:\n    {v} = {default}",
    "if not {v}:\n    raise ValueError({msg!r})",
    "assert {v} is not None, {msg!r}",
    "{n} = len({v})",
    "{n} = list({v})",
    "logger.debug({fmt!r}, {v})",
    "if isinstance({v}, str):\n    {v} = {v}.strip()",
    "{n} = {v} if {w} else None",
    "try:\n    {v}.flush()\nexcept AttributeError:\n    pass",
    "{v} = os.fspath({v})",
    "{n} = getattr({v}, {attr!r}, None)",
    "for {n} in list({v}):\n    if {n} is None:\n        break",
    "{n} = ({v}, {w})",
)
PLAIN_TEMPLATES = (
    "warnings.warn({msg!r}, RuntimeWarning, stacklevel=2)",
    "{n} = sys.maxsize",
    "logger.debug({fmt!r}, {n!r})",
)
SELF_TEMPLATES = (
    "self._{attr} = {v}",
    "if self._closed:\n    raise ValueError({msg!r})",
)


@dataclass(frozen=True)
class Span:
    path: str
    start_line: int
    end_line: int
    qualname: str


@dataclass(frozen=True)
class Candidate:
    span: Span
    text: str  # dedented source, starting at the ``def`` line, ending with one newline


@dataclass(frozen=True)
class Clone:
    kind: str
    original: Span
    name: str
    text: str
    similarity: float


@dataclass(frozen=True)
class Stmt:
    node: ast.stmt
    block: list[ast.stmt]
    index: int
    whole_line: bool
    is_docstring: bool


# --------------------------------------------------------------------------- token helpers


def end_line(node: ast.AST) -> int:
    end = getattr(node, "end_lineno", None)
    return int(end if end is not None else node.lineno)  # type: ignore[attr-defined]


def end_col(node: ast.AST) -> int:
    end = getattr(node, "end_col_offset", None)
    return int(end if end is not None else node.col_offset)  # type: ignore[attr-defined]


def tokens(text: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(text).readline))


def docstring_expr(node: ast.AST) -> ast.Expr | None:
    body = getattr(node, "body", None)
    if not isinstance(body, list) or not body or not isinstance(body[0], ast.Expr):
        return None
    value = body[0].value
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return body[0]
    return None


def docstring_ranges(tree: ast.AST) -> list[Range]:
    ranges = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = docstring_expr(node)
            if doc is not None:
                ranges.append(((doc.lineno, doc.col_offset), (end_line(doc), end_col(doc))))
    return ranges


def is_docstring_token(tok: tokenize.TokenInfo, ranges: list[Range]) -> bool:
    return tok.type == tokenize.STRING and any(a <= tok.start and tok.end <= b for a, b in ranges)


def token_texts(text: str) -> list[str]:
    """The token sequence used for similarity (see module docstring)."""
    ranges = docstring_ranges(ast.parse(text))
    return [
        tok.string
        for tok in tokens(text)
        if tok.type not in SKIPPED_TOKENS and not is_docstring_token(tok, ranges)
    ]


def similarity(a: list[str], b: list[str]) -> float:
    return float(Levenshtein.normalized_similarity(a, b))


def compiles(text: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(text, "<plant>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            return False
    return True


def trim_function(text: str) -> str:
    """Drop anything (trailing comments, blank lines) after the function's last line."""
    lines = text.split("\n")[: end_line(parse_function(text))]
    return "\n".join(lines) + "\n"


def apply_edits(text: str, edits: list[Edit]) -> str:
    lines = text.split("\n")
    for row, start, stop, new in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + new + line[stop:]
    return "\n".join(lines)


def splice_lines(text: str, start: int, stop: int, new_lines: list[str]) -> str:
    """Replace lines start..stop (1-based, inclusive; stop = start - 1 inserts)."""
    lines = text.split("\n")
    lines[start - 1 : stop] = new_lines
    return "\n".join(lines)


def insert_before(text: str, inserts: list[tuple[int, list[str]]]) -> str:
    for line, new_lines in sorted(inserts, key=lambda item: item[0], reverse=True):
        text = splice_lines(text, line, line - 1, new_lines)
    return text


# --------------------------------------------------------------------- corpus + candidates


def copy_tree(source: Path, dest: Path) -> list[str]:
    """Copy every regular .py file of source into dest; return sorted relative paths."""
    rels: list[str] = []
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if not name.endswith(".py") or path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(source)
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel)
            rels.append(rel.as_posix())
    return sorted(rels)


def iter_functions(tree: ast.Module) -> Iterator[tuple[str, FuncNode]]:
    for node in tree.body:
        if isinstance(node, FUNC_TYPES):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, FUNC_TYPES):
                    yield f"{node.name}.{item.name}", item


def has_nested_scope(node: FuncNode) -> bool:
    nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return any(isinstance(child, nested) for child in ast.walk(node) if child is not node)


def dedent_function(lines: list[str], node: FuncNode) -> str | None:
    """Source of node with its indentation removed, or None if it is not extractable."""
    start, stop, indent = node.lineno, end_line(node), node.col_offset
    segment = lines[start - 1 : stop]
    if lines[start - 1][:indent].strip() or lines[stop - 1][end_col(node) :].strip():
        return None
    joined = "\n".join(segment)
    if not joined.isascii() or "\t" in joined or "\f" in joined:
        return None
    prefix = " " * indent
    out = [line[indent:] if line.startswith(prefix) else line for line in segment]
    return "\n".join(line if line.strip() else "" for line in out) + "\n"


def function_candidates(rel: str, text: str) -> Iterator[Candidate]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return
    lines = text.split("\n")
    for qualname, node in iter_functions(tree):
        size = end_line(node) - node.lineno + 1
        if not MIN_LINES <= size <= MAX_LINES or has_nested_scope(node):
            continue
        body = dedent_function(lines, node)
        if body is not None and compiles(body):
            yield Candidate(Span(rel, node.lineno, end_line(node), qualname), body)


def find_candidates(root: Path, rels: list[str]) -> list[Candidate]:
    found: list[Candidate] = []
    for rel in rels:
        try:
            text = (root / rel).read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        found.extend(function_candidates(rel, text))
    return found


# ------------------------------------------------------------------------ statement model


def parse_function(text: str) -> FuncNode:
    node = ast.parse(text).body[0]
    assert isinstance(node, FUNC_TYPES)
    return node


def whole_line(lines: list[str], node: ast.AST) -> bool:
    """True if node starts its first line and nothing but a comment follows it."""
    head = lines[node.lineno - 1][: node.col_offset]  # type: ignore[attr-defined]
    tail = lines[end_line(node) - 1][end_col(node) :].strip()
    return not head.strip() and (not tail or tail.startswith("#"))


def iter_blocks(func: FuncNode) -> Iterator[list[ast.stmt]]:
    for node in ast.walk(func):
        for _field, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                yield value


def statements(text: str, func: FuncNode) -> list[Stmt]:
    lines = text.split("\n")
    doc = docstring_expr(func)
    return [
        Stmt(node, block, i, whole_line(lines, node), node is doc)
        for block in iter_blocks(func)
        for i, node in enumerate(block)
    ]


def editable(stmts: list[Stmt]) -> list[Stmt]:
    return [s for s in stmts if s.whole_line and not s.is_docstring]


def bound_names(func: FuncNode) -> set[str]:
    names = {arg.arg for arg in ast.walk(func) if isinstance(arg, ast.arg)}
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def variables(func: FuncNode) -> list[str]:
    return sorted(bound_names(func) - {"self", "cls"})


def identifiers(text: str) -> set[str]:
    return {tok.string for tok in tokens(text) if tok.type == tokenize.NAME}


def fresh_name(rng: random.Random, taken: set[str], words: tuple[str, ...]) -> str:
    base = rng.choice(words)
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    taken.add(name)
    return name


# ------------------------------------------------------------------------ layout changes


def doc_summary(name: str, rng: random.Random) -> str:
    words = name.strip("_").replace("_", " ") or "this"
    return f"{rng.choice(DOC_VERBS)} {words}."


def rewrite_docstring(text: str, rng: random.Random) -> str:
    func = parse_function(text)
    lines = text.split("\n")
    doc = docstring_expr(func)
    first = func.body[0]
    new_doc = " " * first.col_offset + f'"""{doc_summary(func.name, rng)}"""'
    if not whole_line(lines, first):
        return text
    if doc is None:
        return splice_lines(text, first.lineno, first.lineno - 1, [new_doc])
    if len(func.body) > 1 and rng.random() < 0.4:
        return splice_lines(text, doc.lineno, end_line(doc), [])
    return splice_lines(text, doc.lineno, end_line(doc), [new_doc])


def drop_comments(text: str, rng: random.Random, prob: float) -> str:
    edits: list[Edit] = []
    doomed: list[int] = []
    for tok in tokens(text):
        if tok.type != tokenize.COMMENT or rng.random() >= prob:
            continue
        row, col = tok.start
        if tok.line[:col].strip():
            stripped = len(tok.line[:col].rstrip())
            edits.append((row, stripped, tok.end[1], ""))
        else:
            doomed.append(row)
    text = apply_edits(text, edits)
    for row in sorted(doomed, reverse=True):
        text = splice_lines(text, row, row, [])
    return text


def add_trailing_comments(text: str, rng: random.Random, prob: float) -> str:
    edits: list[Edit] = []
    toks = tokens(text)
    for prev, tok in itertools.pairwise(toks):
        newline = tok.type == tokenize.NEWLINE and prev.type != tokenize.COMMENT
        if newline and rng.random() < prob:
            comment = f"  # {rng.choice(COMMENTS)}"
            edits.append((tok.start[0], tok.start[1], tok.start[1], comment))
    return apply_edits(text, edits)


def add_line_comments(text: str, rng: random.Random, prob: float) -> str:
    stmts = [s for s in statements(text, parse_function(text)) if s.whole_line]
    inserts = [
        (s.node.lineno, [" " * s.node.col_offset + f"# {rng.choice(COMMENTS)}"])
        for s in stmts
        if rng.random() < prob
    ]
    return insert_before(text, inserts)


def add_blank_lines(text: str, rng: random.Random, prob: float) -> str:
    stmts = [s for s in statements(text, parse_function(text)) if s.whole_line]
    return insert_before(text, [(s.node.lineno, [""]) for s in stmts if rng.random() < prob])


def space_brackets(text: str, rng: random.Random, prob: float) -> str:
    toks = [t for t in tokens(text) if t.type not in SKIPPED_TOKENS]
    edits: list[Edit] = []
    for prev, tok, nxt in zip(toks, toks[1:], toks[2:], strict=False):
        if tok.string in OPENERS and tok.end == nxt.start and nxt.string not in CLOSERS:
            row, col = tok.end
        elif tok.string in CLOSERS and prev.end == tok.start and prev.string not in OPENERS:
            row, col = tok.start
        else:
            continue
        if rng.random() < prob:
            edits.append((row, col, col, " "))
    return apply_edits(text, edits)


def relayout(text: str, rng: random.Random, strength: float) -> str:
    """Layout-only changes; strength 1.0 for exact clones, lower for the others."""
    if rng.random() < max(strength, 0.3):
        text = rewrite_docstring(text, rng)
    text = drop_comments(text, rng, 0.5 * strength)
    text = add_trailing_comments(text, rng, 0.08 * strength)
    text = add_line_comments(text, rng, 0.12 * strength)
    text = space_brackets(text, rng, 0.25 * strength)
    return add_blank_lines(text, rng, 0.15 * strength)


# ----------------------------------------------------------------------- renamed clones


def unrenamable(func: FuncNode) -> set[str]:
    names = {"self", "cls"}
    for node in ast.walk(func):
        if isinstance(node, ast.Global | ast.Nonlocal):
            names.update(node.names)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.JoinedStr):
            names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
        elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


def rename_map(func: FuncNode, text: str, rng: random.Random) -> dict[str, str]:
    taken = identifiers(text) | RESERVED
    mapping = {
        old: fresh_name(rng, taken, NAME_WORDS)
        for old in sorted(bound_names(func) - unrenamable(func))
    }
    if func.name not in mapping:
        base = func.name.strip("_") or "func"
        mapping[func.name] = rng.choice(FUNC_PATTERNS).format(base)
        while mapping[func.name] in taken:
            mapping[func.name] += "_"
    return mapping


def name_positions(func: FuncNode, mapping: dict[str, str]) -> set[tuple[int, int]]:
    positions = set()
    for node in ast.walk(func):
        name = node.id if isinstance(node, ast.Name) else getattr(node, "arg", None)
        if isinstance(node, ast.Name | ast.arg) and name in mapping:
            positions.add((node.lineno, node.col_offset))
    return positions


def rename_identifiers(text: str, rng: random.Random) -> tuple[str, str]:
    """Consistently rename locals, parameters and the function name; return (text, name)."""
    func = parse_function(text)
    mapping = rename_map(func, text, rng)
    positions = name_positions(func, mapping)
    toks = [t for t in tokens(text) if t.type not in SKIPPED_TOKENS]
    edits: list[Edit] = []
    for i, tok in enumerate(toks):
        if tok.type != tokenize.NAME or tok.string not in mapping:
            continue
        prev = toks[i - 1].string if i else ""
        if tok.start in positions or prev in {"as", "def"}:
            edits.append((tok.start[0], tok.start[1], tok.end[1], mapping[tok.string]))
    return apply_edits(text, edits), mapping[func.name]


def new_literal(tok: tokenize.TokenInfo, rng: random.Random) -> str | None:
    if tok.type == tokenize.NUMBER and re.fullmatch(r"0|[1-9][0-9]*", tok.string):
        return str(int(tok.string) + rng.randint(1, 9))
    match = re.fullmatch(r"([rRbBuU]?)(['\"])([\w .:,%-]*)\2", tok.string)
    if tok.type != tokenize.STRING or match is None:
        return None
    prefix, quote, body = match.groups()
    word = rng.choice(STRING_WORDS)
    new_body = rng.choice((word, body.upper(), f"{body}_{word}")) if body else word
    new_body = new_body if new_body != body else f"{body}_{word}"
    return f"{prefix}{quote}{new_body}{quote}"


def literal_edits(text: str, rng: random.Random) -> list[Edit]:
    ranges = docstring_ranges(ast.parse(text))
    edits: list[Edit] = []
    for tok in tokens(text):
        if is_docstring_token(tok, ranges) or tok.start[0] != tok.end[0]:
            continue
        new = new_literal(tok, rng)
        if new is not None:
            edits.append((tok.start[0], tok.start[1], tok.end[1], new))
    return edits


def change_literals(text: str, rng: random.Random, prob: float) -> str:
    edits = literal_edits(text, rng)
    chosen = [e for e in edits if rng.random() < prob]
    if edits and not chosen:
        chosen = [rng.choice(edits)]
    return apply_edits(text, chosen)


# ------------------------------------------------------------------ statement-level edits


def template_values(func: FuncNode, text: str, rng: random.Random) -> dict[str, str]:
    names = variables(func) or (["self"] if "self" in bound_names(func) else ["args"])
    var = rng.choice(names)
    new = fresh_name(rng, identifiers(text) | RESERVED, NAME_WORDS)
    msg = rng.choice((f"invalid {var}", f"{var} must not be empty", f"unexpected {var}"))
    return {
        "v": var,
        "w": rng.choice(names),
        "n": new,
        "msg": msg,
        "fmt": f"{var}=%r",
        "attr": f"{var.strip('_')}_{rng.choice(('cache', 'state', 'last'))}",
        "default": rng.choice(("()", "[]", "0", "''", "None")),
    }


def make_statement(func: FuncNode, text: str, rng: random.Random) -> list[str]:
    values = template_values(func, text, rng)
    templates = list(PLAIN_TEMPLATES)
    if variables(func):
        templates += VAR_TEMPLATES
    if "self" in bound_names(func):
        templates += SELF_TEMPLATES
    return rng.choice(templates).format(**values).split("\n")


def edit_insert(text: str, rng: random.Random) -> str | None:
    func = parse_function(text)
    anchors = editable(statements(text, func))
    if not anchors:
        return None
    anchor = rng.choice(anchors).node
    new = [" " * anchor.col_offset + line for line in make_statement(func, text, rng)]
    return splice_lines(text, anchor.lineno, anchor.lineno - 1, new)


def edit_delete(text: str, rng: random.Random) -> str | None:
    stmts = statements(text, parse_function(text))
    choices = [
        s
        for s in editable(stmts)
        if sum(not t.is_docstring for t in stmts if t.block is s.block) >= 2
    ]
    if not choices:
        return None
    node = rng.choice(choices).node
    return splice_lines(text, node.lineno, end_line(node), [])


def movable(node: ast.stmt) -> bool:
    return not isinstance(node, ast.Return | ast.Raise | ast.Continue | ast.Break | ast.Pass)


def edit_swap(text: str, rng: random.Random) -> str | None:
    stmts = [s for s in editable(statements(text, parse_function(text))) if movable(s.node)]
    movable_ids = {id(s.node): s for s in stmts}
    pairs = [
        (s.node, s.block[s.index + 1])
        for s in stmts
        if s.index + 1 < len(s.block) and id(s.block[s.index + 1]) in movable_ids
    ]
    if not pairs:
        return None
    a, b = rng.choice(pairs)
    lines = text.split("\n")
    a_lines = lines[a.lineno - 1 : end_line(a)]
    between = lines[end_line(a) : b.lineno - 1]
    b_lines = lines[b.lineno - 1 : end_line(b)]
    return splice_lines(text, a.lineno, end_line(b), b_lines + between + a_lines)


def edit_operator(text: str, rng: random.Random) -> str | None:
    toks = [t for t in tokens(text) if t.type in (tokenize.OP, tokenize.NAME)]
    choices = [t for t in toks if t.string in OPERATOR_SWAPS]
    if not choices:
        return None
    tok = rng.choice(choices)
    return apply_edits(text, [(tok.start[0], tok.start[1], tok.end[1], OPERATOR_SWAPS[tok.string])])


def calls(text: str) -> list[ast.Call]:
    return [n for n in ast.walk(parse_function(text)) if isinstance(n, ast.Call)]


def edit_add_argument(text: str, rng: random.Random) -> str | None:
    choices = calls(text)
    if not choices:
        return None
    call = rng.choice(choices)
    row, col = end_line(call), end_col(call) - 1
    if text.split("\n")[row - 1][col : col + 1] != ")":
        return None
    names = variables(parse_function(text))
    arg = rng.choice(KEYWORD_ARGS) if call.keywords or not names else rng.choice(names)
    if call.args or call.keywords:
        arg = ", " + arg
    return apply_edits(text, [(row, col, col, arg)])


def callee(call: ast.Call) -> tuple[str, int, int] | None:
    """Name of the called function or method and where it starts (row, col)."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id, func.lineno, func.col_offset
    if isinstance(func, ast.Attribute):
        return func.attr, end_line(func), end_col(func) - len(func.attr)
    return None


def edit_replace_call(text: str, rng: random.Random) -> str | None:
    choices = calls(text)
    found = callee(rng.choice(choices)) if choices else None
    if found is None:
        return None
    name, row, col = found
    if text.split("\n")[row - 1][col : col + len(name)] != name:
        return None
    new = CALL_SWAPS.get(name) or rng.choice(CALL_PATTERNS).format(name.strip("_"))
    return apply_edits(text, [(row, col, col + len(name), new)])


def edit_literal(text: str, rng: random.Random) -> str | None:
    edits = literal_edits(text, rng)
    return apply_edits(text, [rng.choice(edits)]) if edits else None


def edit_wrap_name(text: str, rng: random.Random) -> str | None:
    func = parse_function(text)
    skip: set[int] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Call):
            skip.add(id(node.func))
        elif isinstance(node, ast.Attribute | ast.Subscript):
            skip.add(id(node.value))
        elif isinstance(node, ast.JoinedStr):
            skip.update(id(n) for n in ast.walk(node))
    names = [
        n
        for n in ast.walk(func)
        if isinstance(n, ast.Name)
        and isinstance(n.ctx, ast.Load)
        and id(n) not in skip
        and n.id not in {"self", "cls"}
    ]
    if not names:
        return None
    node = rng.choice(names)
    new = f"{rng.choice(WRAPPERS)}({node.id})"
    return apply_edits(text, [(node.lineno, node.col_offset, end_col(node), new)])


GROWING_EDITS: tuple[Callable[[str, random.Random], str | None], ...] = (
    edit_insert,
    edit_insert,
    edit_add_argument,
    edit_wrap_name,
)
NEUTRAL_EDITS: tuple[Callable[[str, random.Random], str | None], ...] = (
    edit_swap,
    edit_operator,
    edit_replace_call,
    edit_literal,
)
SHRINKING_EDITS: tuple[Callable[[str, random.Random], str | None], ...] = (
    edit_delete,
    edit_delete,
)


def random_edit(text: str, rng: random.Random, size: int, target_size: int) -> str | None:
    ops = list(NEUTRAL_EDITS)
    if size <= target_size * 1.1:
        ops += GROWING_EDITS
    if size >= target_size * 0.9:
        ops += SHRINKING_EDITS
    new = rng.choice(ops)(text, rng)
    return new if new is not None and new != text and compiles(new) else None


def edit_into_band(
    text: str, orig: list[str], band: tuple[float, float], rng: random.Random
) -> tuple[str, float] | None:
    """Apply random edits until the similarity to orig drops to a target inside band."""
    low, high = band
    target = rng.uniform(low + 0.005, min(high, 0.995) - 0.005)
    size = len(orig)
    for step in range(MAX_EDIT_STEPS):
        new = random_edit(text, rng, size, len(orig))
        if new is None:
            continue
        new_tokens = token_texts(new)
        score = similarity(orig, new_tokens)
        # Early on, refuse edits that overshoot the target by much (keeps the band filled).
        if score < (max(low, target - OVERSHOOT) if step < MAX_EDIT_STEPS // 2 else low):
            continue
        text, size = new, len(new_tokens)
        if score <= target:
            return text, score
    return None


# ------------------------------------------------------------------------------ planting


def make_clone(cand: Candidate, kind: str, orig: list[str], rng: random.Random) -> Clone | None:
    name = parse_function(cand.text).name
    if kind == "exact":
        text = relayout(cand.text, rng, 1.0)
        if text == cand.text:
            text = splice_lines(text, 2, 1, [""])
    elif kind == "renamed":
        text, name = rename_identifiers(cand.text, rng)
        text = relayout(change_literals(text, rng, 0.4), rng, 1.0)
    else:
        result = edit_into_band(cand.text, orig, BANDS[kind], rng)
        if result is None:
            return None
        text = relayout(result[0], rng, 0.4)
    if not compiles(text):
        return None
    text = trim_function(text)
    score = similarity(orig, token_texts(text))
    if kind == "exact" and score != 1.0:
        return None
    if kind in BANDS and not BANDS[kind][0] <= score < BANDS[kind][1]:
        return None
    return Clone(kind, cand.span, name, text, score)


def plant_clones(cands: list[Candidate], count: int, rng: random.Random) -> list[Clone]:
    pool = iter(rng.sample(cands, len(cands)))
    clones: list[Clone] = []
    for i in range(count):
        kind = CLONE_TYPES[i % len(CLONE_TYPES)]
        for cand in pool:
            orig = token_texts(cand.text)
            clone = make_clone(cand, kind, orig, rng) if len(orig) >= MIN_TOKENS else None
            if clone is not None:
                clones.append(clone)
                break
        else:
            raise SystemExit(f"ran out of candidate functions after {len(clones)} plants")
    return clones


def package_of(path: str) -> str:
    first = path.split("/")[0]
    return first.removesuffix(".py") or "root"


def chunk_plants(indices: list[int], clones: list[Clone], rng: random.Random) -> list[list[int]]:
    chunks: list[list[int]] = []
    size = 0
    for i in indices:
        names = {clones[j].name for j in chunks[-1]} if chunks else set()
        if not chunks or len(chunks[-1]) >= size or clones[i].name in names:
            chunks.append([])
            size = rng.randint(1, 4)
        chunks[-1].append(i)
    return chunks


def write_module(path: Path, rel: str, clones: list[Clone]) -> list[Span]:
    lines = ["# Generated by benchmarks/make_corpus.py: planted clones, do not edit."]
    spans = []
    for clone in clones:
        lines += ["", ""]
        body = clone.text.rstrip("\n").split("\n")
        spans.append(Span(rel, len(lines) + 1, len(lines) + len(body), clone.name))
        lines += body
    text = "\n".join(lines) + "\n"
    verify_module(text, rel, spans)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return spans


def verify_module(text: str, rel: str, spans: list[Span]) -> None:
    if not compiles(text):
        raise AssertionError(f"{rel} does not compile")
    found = {
        (n.name, n.lineno, end_line(n)) for n in ast.parse(text).body if isinstance(n, FUNC_TYPES)
    }
    for span in spans:
        if (span.qualname, span.start_line, span.end_line) not in found:
            raise AssertionError(f"span mismatch in {rel}: {span}")


def write_planted(src: Path, clones: list[Clone], rng: random.Random) -> list[Span]:
    by_pkg: dict[str, list[int]] = {}
    for i, clone in enumerate(clones):
        by_pkg.setdefault(package_of(clone.original.path), []).append(i)
    copies: dict[int, Span] = {}
    number = 0
    for pkg in sorted(by_pkg):
        for chunk in chunk_plants(by_pkg[pkg], clones, rng):
            rel = f"planted/{pkg}/mod_{number:04d}.py"
            number += 1
            spans = write_module(src / rel, rel, [clones[i] for i in chunk])
            copies.update(zip(chunk, spans, strict=True))
    return [copies[i] for i in range(len(clones))]


# ---------------------------------------------------------------------------------- main


def prepare_outdir(outdir: Path, force: bool) -> Path:
    src = outdir / "src"
    if src.exists() or (outdir / "truth.json").exists():
        if not force:
            raise SystemExit(f"{outdir} already holds a corpus; pass --force to rebuild it")
        if not (outdir / MARKER).exists():
            raise SystemExit(f"refusing to delete {src}: {outdir / MARKER} is missing")
        shutil.rmtree(src, ignore_errors=True)
        (outdir / "truth.json").unlink(missing_ok=True)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / MARKER).write_text("created by benchmarks/make_corpus.py\n", encoding="utf-8")
    return src


def build_corpus(
    outdir: Path,
    seed: int = DEFAULT_SEED,
    source: Path = DEFAULT_SOURCE,
    plants: int = DEFAULT_PLANTS,
    force: bool = False,
) -> dict[str, object]:
    """Build OUTDIR/src and OUTDIR/truth.json; return the truth document."""
    src = prepare_outdir(outdir, force)
    rng = random.Random(seed)
    rels = copy_tree(source, src)
    if any(rel.startswith("planted/") for rel in rels):
        raise SystemExit(f"{source} already contains a planted/ directory")
    clones = plant_clones(find_candidates(src, rels), plants, rng)
    copies = write_planted(src, clones, rng)
    truth: dict[str, object] = {
        "seed": seed,
        "source": str(source),
        "plants": [
            {
                "id": f"p{i + 1:04d}",
                "type": clone.kind,
                "similarity": round(clone.similarity, 4),
                "original": asdict(clone.original),
                "copy": asdict(copy),
            }
            for i, (clone, copy) in enumerate(zip(clones, copies, strict=True))
        ],
    }
    text = json.dumps(truth, indent=1) + "\n"
    (outdir / "truth.json").write_text(text, encoding="utf-8")
    return truth


def summarize(truth: dict[str, object]) -> None:
    plants = truth["plants"]
    assert isinstance(plants, list)
    print(f"{'type':<8} {'n':>4} {'min':>6} {'median':>6} {'max':>6}")
    for kind in CLONE_TYPES:
        sims = [p["similarity"] for p in plants if p["type"] == kind]
        if sims:
            row = f"{min(sims):6.3f} {statistics.median(sims):6.3f} {max(sims):6.3f}"
            print(f"{kind:<8} {len(sims):>4} {row}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Build a dupfind benchmark corpus.")
    parser.add_argument("outdir", type=Path, help="output directory (OUTDIR/src is scanned)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="tree to copy")
    parser.add_argument("--plants", type=int, default=DEFAULT_PLANTS, help="clones to plant")
    parser.add_argument("--force", action="store_true", help="rebuild an existing corpus")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    truth = build_corpus(args.outdir, args.seed, args.source.resolve(), args.plants, args.force)
    print(f"corpus written to {args.outdir} in {time.perf_counter() - started:.1f}s")
    summarize(truth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
