"""Extraction: a parsed file → code units, statement lists and the file's token sequences.

One walk over the statement structure: compound statements are entered, everything else is
handed to ``TokenSink.emit`` in one piece, so each tree node is visited once. Units are
functions (async, nested, methods) and classes, as slices of the file's token arrays; every
body (module, class, function, and nested blocks) is also recorded as a statement list, from
which candidates.py finds clones of runs of statements (half a function, module-level code).

Boilerplate that is never duplication worth reporting is flagged here, each kind configurable:
imports (also under ``if TYPE_CHECKING:`` and ``try: import … except ImportError``), ``__all__``
assignments, stub bodies (``...``, ``pass``, ``raise NotImplementedError``) and ``@overload``
stubs. Boilerplate statements and definitions split statement runs; boilerplate definitions are
not units. A class counts the tokens of its methods and nested classes (``CodeUnit.nested``), so
the near-miss index can pass over records whose fields merely look alike (candidates.py); and,
with ``ignore_records``, data joins runs only with exact copies of itself: every statement of a
class body (field declarations, class attributes) and top-level module constants (``NAME =
literal``, upper-case names). Two tables of other names are not a renamed copy of each other.
Units and statements containing a syntax error are dropped (the file is reported partly parsed).
"""

from __future__ import annotations

import re
import textwrap
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import tree_sitter

from dupfind.config import Config
from dupfind.fingerprint import digest, hash64
from dupfind.models import CodeUnit, StatementList, UnitKind
from dupfind.normalise import DEDENT, INDENT, TokenSink, ids_of


@dataclass(frozen=True, slots=True)
class _Kinds:
    definitions: frozenset[int]
    function: frozenset[int]
    decorated: frozenset[int]
    compound: frozenset[int]
    block: frozenset[int]
    comment: frozenset[int]
    imports: frozenset[int]
    strings: frozenset[int]
    expression_statement: frozenset[int]
    assignment: frozenset[int]
    stub_statements: frozenset[int]
    if_statement: frozenset[int]
    try_statement: frozenset[int]
    literals: frozenset[int]
    containers: frozenset[int]


@lru_cache(maxsize=1)
def _kinds() -> _Kinds:
    return _Kinds(
        definitions=ids_of("function_definition", "class_definition", "decorated_definition"),
        function=ids_of("function_definition"),
        decorated=ids_of("decorated_definition"),
        compound=ids_of(
            "if_statement", "for_statement", "while_statement", "try_statement",
            "with_statement", "match_statement", "elif_clause", "else_clause",
            "except_clause", "except_group_clause", "finally_clause", "case_clause",
        ),
        block=ids_of("block"),
        comment=ids_of("comment"),
        imports=ids_of("import_statement", "import_from_statement", "future_import_statement"),
        strings=ids_of("string", "concatenated_string"),
        expression_statement=ids_of("expression_statement"),
        assignment=ids_of("assignment", "augmented_assignment"),
        stub_statements=ids_of("pass_statement", "raise_statement", "ellipsis"),
        if_statement=ids_of("if_statement"),
        try_statement=ids_of("try_statement"),
        literals=ids_of(
            "string", "concatenated_string", "integer", "float", "true", "false", "none",
        ),
        containers=ids_of(
            "tuple", "list", "set", "dictionary", "pair", "unary_operator", "binary_operator",
            "parenthesized_expression", "expression_list",
        ),
    )  # fmt: skip


def _line_end(node: tree_sitter.Node) -> int:
    row, column = node.end_point
    return row if column == 0 and row > node.start_point[0] else row + 1


@dataclass(slots=True)
class Extraction:
    """The mutable result of walking one file (frozen into FileAnalysis by the pipeline)."""

    sink: TokenSink = field(default_factory=TokenSink)
    units: list[CodeUnit] = field(default_factory=list)
    lists: list[StatementList] = field(default_factory=list)
    # Runs of comment lines in a body: (first line, last line, start byte, end byte).
    comments: list[tuple[int, int, int, int]] = field(default_factory=list)


@dataclass(slots=True)
class _Columns:
    tok_starts: array[int] = field(default_factory=lambda: array("I"))
    tok_ends: array[int] = field(default_factory=lambda: array("I"))
    start_lines: array[int] = field(default_factory=lambda: array("I"))
    end_lines: array[int] = field(default_factory=lambda: array("I"))
    boilerplate: bytearray = field(default_factory=bytearray)
    shape_hashes: array[int] = field(default_factory=lambda: array("Q"))
    run_hashes: array[int] = field(default_factory=lambda: array("Q"))

    def add(
        self, sink: TokenSink, start: int, node: tree_sitter.Node, boilerplate: bool, exact: bool
    ) -> None:
        end = len(sink.shape)
        self.tok_starts.append(start)
        self.tok_ends.append(end)
        self.start_lines.append(node.start_point[0] + 1)
        self.end_lines.append(_line_end(node))
        self.boilerplate.append(boilerplate)
        shape = hash64(sink.shape, start, end)
        self.shape_hashes.append(shape)
        self.run_hashes.append(hash64(sink.exact, start, end) if exact else shape)

    def freeze(self, qualname: str) -> StatementList:
        return StatementList(
            qualname, self.tok_starts, self.tok_ends, self.start_lines, self.end_lines,
            bytes(self.boilerplate), self.shape_hashes, self.run_hashes,
        )  # fmt: skip


class _Walker:
    def __init__(self, config: Config, blanked: Sequence[tuple[int, int]] = ()) -> None:
        self.config = config
        self.kinds = _kinds()
        self.out = Extraction()
        self.runs: list[list[int]] = []
        self.blanked = blanked  # line spans the parse recovery blanked (parse.py)

    def _holds_blanked(self, node: tree_sitter.Node) -> bool:
        """Whether ``node`` holds (or is) a definition blanked by the parse recovery: its
        placeholder ``pass`` is no code, and a class around it is not the class written."""
        first, last = node.start_point[0] + 1, node.end_point[0] + 1
        return any(first <= b and a <= last for a, b in self.blanked)

    def body(
        self,
        nodes: list[tree_sitter.Node],
        scope: str,
        docstring: bool,
        data: bool = False,
        constants: bool = False,
    ) -> int:
        """Walk a body's statements; return how many of its tokens are in definitions (also
        inside its compound statements). With records ignored, the statements of a ``data``
        body (a class's, and its nested blocks) and, in a ``constants`` body (a module's top
        level), its constants join runs only with exact copies (``_Columns.add``)."""
        kinds, sink = self.kinds, self.out.sink
        columns = _Columns()
        run: list[int] | None = None
        nested = 0
        for node in nodes:
            if node.kind_id in kinds.comment:
                run = self._comment(node, run)
                continue
            run = None
            if docstring and self._is_docstring(node):
                docstring = False
                continue
            docstring = False
            start = len(sink.shape)
            boilerplate, defined = self.statement(node, scope, data)
            exact = self.config.ignore_records and (data or (constants and self._is_constant(node)))
            broken = node.has_error or (bool(self.blanked) and self._holds_blanked(node))
            columns.add(sink, start, node, boilerplate or broken, exact)
            nested += defined
        if columns.tok_starts:
            self.out.lists.append(columns.freeze(scope.removesuffix(".<locals>")))
        return nested

    def _is_constant(self, node: tree_sitter.Node) -> bool:
        """``NAME = literal`` or ``NAME: type [= literal]``: an upper-case name (the
        convention for constants; ``total = 0`` in a script is a variable) and a literal."""
        if node.kind_id not in self.kinds.expression_statement or node.named_child_count != 1:
            return False
        child = node.named_child(0)
        if child is None or child.type != "assignment":
            return False
        left, right = child.child_by_field_name("left"), child.child_by_field_name("right")
        return (
            left is not None
            and left.type == "identifier"
            and _CONSTANT_NAME.fullmatch(left.text or b"") is not None
            and (right is None or self._is_literal(right))
        )

    def _is_literal(self, node: tree_sitter.Node) -> bool:
        """Numbers, strings without interpolation, ``True``/``False``/``None``, containers
        and arithmetic of them, and a call of a (dotted) name on them alone: ``IAC =
        bytes([255])``, ``MONOKAI = TerminalTheme((12, 12, 12), [...])`` are data too (comments
        inside are ignored)."""
        kinds = self.kinds
        if node.kind_id in kinds.literals:
            return not any(child.type == "interpolation" for child in node.named_children)
        if node.type == "call":
            return self._is_data_call(node)
        return node.kind_id in kinds.containers and all(
            self._is_literal(child) for child in node.named_children
            if child.kind_id not in kinds.comment
        )  # fmt: skip

    def _is_data_call(self, node: tree_sitter.Node) -> bool:
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        while function is not None and function.type == "attribute":
            function = function.child_by_field_name("object")  # down to the leftmost name
        if function is None or function.type != "identifier":
            return False  # a call or subscript inside the name: computed, not data
        if arguments is None or arguments.type != "argument_list":
            return False
        values = (
            argument.child_by_field_name("value")
            if argument.type == "keyword_argument"
            else argument
            for argument in arguments.named_children
            if argument.kind_id not in self.kinds.comment
        )
        return all(value is not None and self._is_literal(value) for value in values)

    def _comment(self, node: tree_sitter.Node, run: list[int] | None) -> list[int]:
        """Extend the current run of comment lines with ``node``, or start a new one."""
        row = node.start_point[0] + 1
        if run is not None and row == run[1] + 1:
            run[1], run[3] = row, node.end_byte
            return run
        run = [row, row, node.start_byte, node.end_byte]
        self.runs.append(run)
        return run

    def _is_docstring(self, node: tree_sitter.Node) -> bool:
        if node.kind_id not in self.kinds.expression_statement or node.named_child_count != 1:
            return False
        child = node.named_child(0)
        return child is not None and child.kind_id in self.kinds.strings

    def statement(self, node: tree_sitter.Node, scope: str, data: bool) -> tuple[bool, int]:
        """Emit one statement's tokens; return whether it stays out of statement runs, and
        how many of its tokens are in definitions.

        Definitions always stay out: they are units of their own, reported by name.
        """
        kind, sink = node.kind_id, self.out.sink
        if kind in self.kinds.definitions:
            start = len(sink.shape)
            self.definition(node, scope)
            return True, len(sink.shape) - start
        if kind in self.kinds.compound:
            defined = self.compound(node, scope, data)
            return self._boilerplate_compound(node), defined
        sink.emit(node)
        return self._boilerplate_simple(node), 0

    def compound(self, node: tree_sitter.Node, scope: str, data: bool) -> int:
        """Emit a compound statement; return how many of its tokens are in definitions."""
        kinds, sink = self.kinds, self.out.sink
        defined = 0
        for child in node.children:
            kind = child.kind_id
            if kind in kinds.block:
                sink.pseudo(INDENT)
                defined += self.body(child.children, scope, docstring=False, data=data)
                sink.pseudo(DEDENT)
            elif kind in kinds.compound:
                defined += self.compound(child, scope, data)
            elif kind not in kinds.comment:
                sink.emit(child)
        return defined

    def definition(self, node: tree_sitter.Node, scope: str) -> None:
        sink = self.out.sink
        start = len(sink)
        target = node
        overload = False
        if node.kind_id in self.kinds.decorated:
            for child in node.children:
                if child.kind_id in self.kinds.definitions:
                    target = child
                elif child.type == "decorator":
                    overload = overload or (child.text or b"").rstrip().endswith(b"overload")
                    sink.emit(child)
        is_function = target.kind_id in self.kinds.function
        name_node = target.child_by_field_name("name")
        name = (name_node.text or b"?").decode("utf-8", "replace") if name_node else "?"
        qualname = _qualify(scope, name)
        body = target.child_by_field_name("body")
        nested = 0
        header = len(sink)  # the target's keyword (``class``/``def``), then its name
        for child in target.children:
            if body is not None and child.id == body.id:
                sink.pseudo(INDENT)
                scoped = qualname + (".<locals>" if is_function else "")
                nested = self.body(child.children, scoped, True, not is_function)
                sink.pseudo(DEDENT)
            elif child.kind_id not in self.kinds.comment:
                sink.emit(child)
        boilerplate = (overload and self.config.ignore_overloads) or (
            self.config.ignore_stubs and body is not None and self._is_stub(body)
        )
        if not (boilerplate or node.has_error or (self.blanked and self._holds_blanked(node))):
            kind = UnitKind.FUNCTION if is_function else UnitKind.CLASS
            end = len(sink)
            record = not is_function and 2 * nested < end - start
            self.out.units.append(
                CodeUnit(
                    kind, qualname, node.start_point[0] + 1, _line_end(node), start, end,
                    digest(sink.exact, start, end), digest(sink.shape, start, end),
                    0 if is_function else nested,
                    _nameless_digest(sink.exact, start, end, header + 1) if record else b"",
                )
            )  # fmt: skip

    def _is_stub(self, body: tree_sitter.Node) -> bool:
        statements = [c for c in body.children if c.kind_id not in self.kinds.comment]
        if statements and self._is_docstring(statements[0]):
            statements = statements[1:]
        if not statements:
            return True
        if len(statements) > 1:
            return all(self._is_stub_def(s) for s in statements)
        only = statements[0]
        if only.kind_id in self.kinds.expression_statement:
            child = only.named_child(0)
            return child is not None and child.kind_id in self.kinds.stub_statements
        if only.type == "raise_statement":
            return b"NotImplementedError" in (only.text or b"")
        return only.kind_id in self.kinds.stub_statements or self._is_stub_def(only)

    def _is_stub_def(self, node: tree_sitter.Node) -> bool:
        """A class body made only of stub methods (a Protocol, an ABC) is a stub too."""
        target = node
        if node.kind_id in self.kinds.decorated:
            target = node.child_by_field_name("definition") or node
        if target.kind_id not in self.kinds.function:
            return False
        body = target.child_by_field_name("body")
        return body is not None and self._is_stub(body)

    def _boilerplate_simple(self, node: tree_sitter.Node) -> bool:
        if node.kind_id in self.kinds.imports:
            return self.config.ignore_imports
        if self.config.ignore_all_lists and node.kind_id in self.kinds.expression_statement:
            child = node.named_child(0)
            if child is not None and child.kind_id in self.kinds.assignment:
                left = child.child_by_field_name("left")
                return left is not None and left.text == b"__all__"
        return False

    def _boilerplate_compound(self, node: tree_sitter.Node) -> bool:
        """``if TYPE_CHECKING:`` imports and ``try: import … except ImportError``."""
        if not self.config.ignore_imports:
            return False
        kinds = self.kinds
        if node.kind_id in kinds.if_statement:
            condition = node.child_by_field_name("condition")
            return condition is not None and b"TYPE_CHECKING" in (condition.text or b"")
        if node.kind_id in kinds.try_statement:
            body = node.child_by_field_name("body")
            if body is None:
                return False
            statements = [c for c in body.named_children if c.kind_id not in kinds.comment]
            return bool(statements) and all(s.kind_id in kinds.imports for s in statements)
        return False


_CONSTANT_NAME = re.compile(rb"_*[A-Z][A-Z0-9_]*")


def _nameless_digest(exact: array[int], start: int, end: int, name_at: int) -> bytes:
    """The digest of a record's exact tokens without its name, wherever the class names
    itself (``parent: Node | None``): equal for a copy whose only change is the name."""
    name = exact[name_at]
    kept = array("I", [token for token in exact[start:end] if token != name])
    return digest(kept, 0, len(kept))


def _qualify(scope: str, name: str) -> str:
    return name if scope == "<module>" else f"{scope}.{name}"


def extract(
    tree: tree_sitter.Tree, config: Config, blanked: Sequence[tuple[int, int]] = ()
) -> Extraction:
    """Walk one parsed file (``blanked``: what its parse recovery blanked, parse.py)."""
    walker = _Walker(config, blanked)
    walker.body(tree.root_node.children, "<module>", docstring=True, constants=True)
    walker.out.comments = [
        (run[0], run[1], run[2], run[3])
        for run in walker.runs
        if run[1] - run[0] + 1 >= MIN_COMMENTED_LINES
    ]
    return walker.out


MIN_COMMENTED_LINES = 3
_COMMENT_PREFIX = re.compile(rb"^[ \t]*# ?", re.MULTILINE)


MAX_NOTE_LINES = 4
_CODE_LINE = re.compile(
    r"^\s*(?:(?:def|class|return|if|elif|for|while|import|from|with|raise|yield|assert|del"
    r"|async|await|global|nonlocal)\b|(?:else|try|finally)\s*:|except\b|@\w|pass$|break$"
    r"|continue$|[\w.\[\]'\"]+\s*(?:[-+*/%|&^]|//|\*\*)?=[^=]|[\w.]+\(.*\)\s*$|[)\]}],?$"
    r"|\w+\s*:\s*[\w.]+(?>\[[^=]*\])?(?:\s*\|\s*[\w.]+(?>\[[^=]*\])?)*\s*(?:=.*)?$)"  # name: T = x
    # (atomic brackets: a nested ``.*`` there backtracked exponentially on a long union)
)


def _looks_like_code(lines: list[str]) -> bool:
    """At least half of the non-blank lines look like Python statements."""
    filled = [line for line in lines if line.strip()]
    return 2 * sum(1 for line in filled if _CODE_LINE.match(line)) >= len(filled) > 0


def _parse_commented(
    text: str, parse: Callable[[bytes], tree_sitter.Tree]
) -> tuple[int, str, tree_sitter.Tree] | None:
    """The code in an uncommented run: (lines skipped, code, tree), dropping up to
    ``MAX_NOTE_LINES`` leading prose lines ("# Old rule, kept for reference:"); None if the
    run is prose."""
    lines = text.split("\n")
    if not _looks_like_code(lines):
        return None  # prose: parsing it would only exercise tree-sitter's error recovery
    for skipped in range(min(MAX_NOTE_LINES, len(lines) - 1) + 1):
        code = textwrap.dedent("\n".join(lines[skipped:]))
        if not code.strip():
            return None
        tree = parse(code.encode("utf-8"))
        if not tree.root_node.has_error and tree.root_node.named_child_count:
            return skipped, code, tree
    return None


def extract_commented(
    source: bytes, out: Extraction, config: Config, parse: Callable[[bytes], tree_sitter.Tree]
) -> None:
    """Add the code inside comment runs to ``out`` as COMMENTED units (appended to the same
    token arrays), so commented-out copies of live code are found by the normal index. Runs
    that do not parse as Python (prose) are ignored; commented code never joins statement runs.
    """
    for run_line, _, start, end in list(out.comments):
        text = _COMMENT_PREFIX.sub(b"", source[start:end]).decode("utf-8", "replace")
        parsed = _parse_commented(text, parse)
        if parsed is None:
            continue
        skipped, code, tree = parsed
        first_line = run_line + skipped
        walker = _Walker(config)
        walker.out.sink = out.sink
        begin = len(out.sink.shape)
        walker.body(tree.root_node.children, "<commented>", docstring=False)
        shift = first_line - 1
        units = [
            u._replace(kind=UnitKind.COMMENTED, start_line=u.start_line + shift,
                       end_line=u.end_line + shift)
            for u in walker.out.units
        ]  # fmt: skip
        if len(walker.out.units) != 1 or tree.root_node.named_child_count > 1:
            sink, end_token = out.sink, len(out.sink.shape)
            units.append(
                CodeUnit(
                    UnitKind.COMMENTED, "<commented>", first_line,
                    first_line + code.count("\n") - (1 if code.endswith("\n") else 0),
                    begin, end_token, digest(sink.exact, begin, end_token),
                    digest(sink.shape, begin, end_token),
                )
            )  # fmt: skip
        out.units.extend(units)
