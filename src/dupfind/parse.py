"""Parsing: a file's bytes → a tree-sitter tree, or the reason it cannot be parsed.

tree-sitter-python parses Python 2 and every Python 3 syntax whatever the host interpreter is,
and never raises: a syntax error becomes ERROR/MISSING nodes. Such files are reported as partly
parsed (the units containing errors are dropped by extract.py, the rest of the file is kept).
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
    problem = None
    if tree.root_node.has_error:
        line = _first_error_line(tree.root_node)
        problem = SkippedFile(
            path,
            "syntax error; the code containing it was not analysed",
            line,
            partial=True,
        )
    return ParsedSource(source, tree, problem)


def _first_error_line(root: tree_sitter.Node) -> int:
    """The line of the innermost first ERROR/MISSING node (recovery may wrap a whole file)."""
    node = root
    while True:
        child = next((c for c in node.children if c.has_error or c.is_missing), None)
        if child is None:
            return node.start_point[0] + 1
        node = child
