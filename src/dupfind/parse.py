"""Parsing: a file's bytes → a tree-sitter tree, or the reason it cannot be parsed.

tree-sitter-python parses Python 2 and every Python 3 syntax whatever the host interpreter is,
and never raises: a syntax error becomes ERROR/MISSING nodes. Such files are reported as partly
parsed (the units containing errors are dropped by extract.py, the rest of the file is kept).

Recovery: the grammar's error recovery can wrap a whole file in one ERROR node for one odd but
valid construct (the standard library's test_compile.py dedents inside parentheses, and lost
all 200 of its functions). So the definition around the first error is blanked (every byte but
newlines becomes a space, and its first line ``pass``: offsets and line numbers are unchanged)
and the file parsed again, widening to the enclosing definition while the error stays, up to
``MAX_RECOVERIES`` times; the recovered tree is used only if it has no error left. Only when
one ERROR node spans over half of a file of at most ``MAX_RECOVERY_BYTES``: a local error
costs only its own code already, and each try parses the whole file again.
Text is decoded as PEP 263 says: a UTF-8 BOM or a coding cookie in the first two lines, else
UTF-8; non-UTF-8 sources are re-encoded to UTF-8 for the parser (line numbers are unchanged).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter
import tree_sitter_python

from dupfind.models import SkippedFile

_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BOM = codecs.BOM_UTF8


@dataclass(frozen=True, slots=True)
class ParsedSource:
    """A parsed file: UTF-8 source bytes, the tree, and the first syntax problem if any."""

    source: bytes
    tree: tree_sitter.Tree
    problem: SkippedFile | None
    blanked: tuple[tuple[int, int], ...] = ()  # line spans blanked by the recovery


@lru_cache(maxsize=1)
def language() -> tree_sitter.Language:
    """The tree-sitter Python grammar (loaded once per process)."""
    return tree_sitter.Language(tree_sitter_python.language())


@lru_cache(maxsize=1)
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(language())


def parse_tree(source: bytes) -> tree_sitter.Tree:
    """Parse UTF-8 source bytes (no decoding checks: for code dupfind produced itself)."""
    return _parser().parse(source)


def read_source(path: str) -> bytes | SkippedFile:
    """A file's bytes (the one place dupfind reads a source file)."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        return SkippedFile(path, f"cannot read file: {exc.strerror}")


def decode_source(path: str, data: bytes) -> bytes | SkippedFile:
    """Validate and convert ``data`` to UTF-8 bytes, or say why it is not Python source."""
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        return SkippedFile(path, "binary file: NUL byte in the content", line)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
        encoding = "utf-8"
    else:
        encoding = _declared_encoding(data) or "utf-8"
    try:
        text = data.decode(encoding)
    except LookupError:
        return SkippedFile(path, f"unknown encoding {encoding!r} in the coding cookie", 1)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return SkippedFile(
            path,
            f"cannot decode as {encoding} (byte 0x{data[exc.start]:02x}); "
            "fix the bytes or declare the encoding with a PEP 263 coding cookie",
            line,
        )
    if codecs.lookup(encoding).name == "utf-8":
        return data
    return text.encode("utf-8")


def _declared_encoding(data: bytes) -> str | None:
    for line in data.split(b"\n", 2)[:2]:
        match = _COOKIE.match(line)
        if match:
            return match.group(1).decode("ascii")
        if line.strip() and not line.lstrip().startswith(b"#"):
            return None
    return None


def parse_source(path: str, data: bytes) -> ParsedSource | SkippedFile:
    """Decode and parse one file's bytes."""
    source = decode_source(path, data)
    if isinstance(source, SkippedFile):
        return source
    tree = _parser().parse(source)
    if not tree.root_node.has_error:
        return ParsedSource(source, tree, None)
    line = _first_error_line(tree.root_node)
    recovered = _recover(source, line) if _swallowed(tree, source) else None
    reason = "syntax error; the code containing it was not analysed"
    if recovered is None:
        return ParsedSource(source, tree, SkippedFile(path, reason, line, partial=True))
    tree, spans = recovered
    reason = (
        "syntax error; the definition containing it was not analysed"
        if len(spans) == 1
        else f"syntax errors; the {len(spans)} definitions containing them were not analysed"
    )
    return ParsedSource(source, tree, SkippedFile(path, reason, line, partial=True), spans)


MAX_RECOVERIES = 8
MAX_RECOVERY_BYTES = 512 * 1024  # each recovery parses the file again


def _swallowed(tree: tree_sitter.Tree, source: bytes) -> bool:
    """Whether the grammar's recovery wrapped over half the file in one ERROR node: only
    then is recovery tried (a local error costs only the code around it already)."""
    if len(source) > MAX_RECOVERY_BYTES:
        return False
    lines = source.count(b"\n") + 1
    root = tree.root_node
    return any(
        node.type == "ERROR" and 2 * (node.end_point[0] - node.start_point[0] + 1) > lines
        for node in (root, *root.children)
    )


_BLANKED = bytes(byte if byte == ord("\r") else ord(" ") for byte in range(256))
_DEFINITION = re.compile(rb"[ \t]*(?:async[ \t]+def|def|class)[ \t]")


def _recover(
    source: bytes, line: int
) -> tuple[tree_sitter.Tree, tuple[tuple[int, int], ...]] | None:
    """A tree of ``source`` with the definitions around its syntax errors blanked, and their
    line spans; None if blanking definitions does not remove every error (module docstring).
    (The reason names no line span: ``similar`` reports a snippet's lines shifted.)"""
    lines = source.split(b"\n")
    spans: list[tuple[int, int]] = []
    for _ in range(MAX_RECOVERIES):
        span = _enclosing_definition(lines, line)
        if span is None:
            return None
        spans = [s for s in spans if not (span[0] <= s[0] and s[1] <= span[1])] + [span]
        _blank(lines, span)
        tree = _parser().parse(b"\n".join(lines))
        if not tree.root_node.has_error:
            return tree, tuple(sorted(spans))
        line = _first_error_line(tree.root_node)
    return None


def _indent(text: bytes) -> int:
    return len(text) - len(text.lstrip(b" \t"))


def _is_code(text: bytes) -> bool:
    """Neither blank nor a comment."""
    stripped = text.strip()
    return bool(stripped) and not stripped.startswith(b"#")


def _enclosing_definition(lines: list[bytes], line: int) -> tuple[int, int] | None:
    """The 1-based first and last lines of the nearest ``def``/``class`` above ``line``
    (or on it) that is less indented than ``line`` (decorators included; its end is the line
    before the next code line indented no deeper than it)."""
    index = min(line, len(lines)) - 1
    start = _definition_above(lines, index)
    if start is None:
        return None
    depth = _indent(lines[start])
    start = _decorators_above(lines, start, depth)
    end = start + 1
    while end < len(lines) and (
        not _is_code(lines[end]) or _indent(lines[end]) > depth or end <= index
    ):
        end += 1
    while end - 1 > max(start, index) and not lines[end - 1].strip():
        end -= 1  # trailing blank lines belong to no definition
    return start + 1, end


def _definition_above(lines: list[bytes], index: int) -> int | None:
    """The ``def``/``class`` line holding line ``index`` (0-based): on it, or the nearest
    above indented less than every code line passed on the way (so an error in module-level
    code below a function is not blamed on the function)."""
    limit = 1 << 30
    for i in range(index, -1, -1):
        text = lines[i]
        if not _is_code(text):
            continue
        if _DEFINITION.match(text) and (_indent(text) < limit or i == index):
            return i
        limit = min(limit, _indent(text))
        if limit == 0:
            return None
    return None


def _decorators_above(lines: list[bytes], start: int, depth: int) -> int:
    """The first line of the decorators of the definition at ``start`` (over comments, blank
    lines and the continuation lines of multi-line decorators)."""
    first, i = start, start - 1
    while i >= 0:
        text = lines[i]
        if text.lstrip().startswith(b"@") and _indent(text) == depth:
            first = i
        elif _is_code(text) and _indent(text) <= depth:
            break
        i -= 1
    return first


def _blank(lines: list[bytes], span: tuple[int, int]) -> None:
    """Spaces in place of every byte of lines ``span`` (1-based, inclusive) but carriage
    returns, and ``pass`` on its ``def``/``class`` line at that line's indentation, so the
    enclosing body keeps a statement."""
    first, last = span
    header = next(i for i in range(first - 1, last) if _DEFINITION.match(lines[i]))
    original = lines[header]
    for index in range(first - 1, last):
        lines[index] = lines[index].translate(_BLANKED)
    depth = _indent(original)
    lines[header] = original[:depth] + b"pass" + lines[header][depth + 4 :]


def _first_error_line(root: tree_sitter.Node) -> int:
    """The line of the innermost first ERROR/MISSING node (recovery may wrap a whole file)."""
    node = root
    while True:
        child = next((c for c in node.children if c.has_error or c.is_missing), None)
        if child is None:
            return node.start_point[0] + 1
        node = child
