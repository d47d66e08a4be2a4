"""Normalisation: syntax-tree leaves → two parallel integer token sequences.

* ``exact`` (Type-1): every token kept; identifier and literal text hashed (CRC-32, stable across
  processes, with the top bit set so it never meets a grammar id). Layout, comments and
  docstrings are not tokens, so they never change it; nor do the two layout choices a
  formatter makes inside the tokens: a string's quotes (``'x'`` is hashed as ``"x"``) and the
  "magic" trailing comma before a closing bracket (left out wherever it changes nothing:
  not in ``(x,)`` or ``a[x,]``).
* ``shape`` (Type-2): identifiers become one code, strings one code, numbers one code; keywords,
  operators and brackets keep their grammar id. Consistent (or inconsistent) renaming and
  literal edits never change it.

Both include INDENT/DEDENT pseudo-tokens around each block so nesting is part of the structure.
Tokens are small ints so rapidfuzz compares sequences natively. One cursor walk per subtree, no
recursion (deeply nested expressions cannot overflow the stack).
"""

from __future__ import annotations

import sys
import zlib
from array import array
from functools import lru_cache

import tree_sitter

from dupfind.parse import language

HIGH_BIT = 0x80000000
# Pseudo-tokens in the Unicode private use area: shape codes stay valid code points, so a
# shape sequence converts to a str, which rapidfuzz compares several times faster than a list.
INDENT = 0xE000
DEDENT = 0xE001
_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"

_OTHER, _SKIP, _IDENT, _STRING, _NUMBER, _COMMA = range(6)


@lru_cache(maxsize=1)
def kind_ids() -> dict[str, frozenset[int]]:
    """Grammar names → every kind id that renders under that name."""
    lang = language()
    ids: dict[str, set[int]] = {}
    for kind in range(lang.node_kind_count):
        name = lang.node_kind_for_id(kind)
        if name is not None:
            ids.setdefault(name, set()).add(kind)
    return {name: frozenset(values) for name, values in ids.items()}


def ids_of(*names: str) -> frozenset[int]:
    """The kind ids of the given grammar names (unknown names contribute nothing)."""
    table = kind_ids()
    return frozenset().union(*(table.get(name, frozenset()) for name in names))


@lru_cache(maxsize=1)
def _categories() -> tuple[int, ...]:
    # Indexed by kind id directly; 0xFFFF is tree-sitter's ERROR symbol.
    table = [_OTHER] * 0x10000
    for kind in ids_of("comment", "line_continuation"):
        table[kind] = _SKIP
    for kind in ids_of("identifier"):
        table[kind] = _IDENT
    for kind in ids_of("string"):
        table[kind] = _STRING
    for kind in ids_of("integer", "float"):
        table[kind] = _NUMBER
    for kind in ids_of(","):
        table[kind] = _COMMA
    return tuple(table)


@lru_cache(maxsize=1)
def _trailing_kinds() -> tuple[frozenset[int], frozenset[int], frozenset[int], frozenset[int]]:
    """Closing brackets; comments; the brackets whose trailing comma is only layout (a
    formatter's "magic trailing comma"); and tuples, where it is layout only with two or more
    elements (``(x,)`` is a tuple, ``(x)`` is not). Never in a subscript: ``a[x,]`` indexes
    with a tuple."""
    layout_only = ids_of(
        "argument_list", "parameters", "list", "set", "dictionary", "import_from_statement",
        "list_pattern", "dict_pattern", "class_pattern", "type_parameter", "with_clause",
    )  # fmt: skip
    return ids_of(")", "]", "}"), ids_of("comment"), layout_only, ids_of("tuple")


def _is_trailing_comma(comma: tree_sitter.Node, after: tree_sitter.Node) -> bool:
    """A comma right before its bracket closes (``after``: its next sibling), where leaving
    it out changes nothing."""
    closers, comments, layout_only, tuples = _trailing_kinds()
    while after is not None and after.kind_id in comments:
        after = after.next_sibling  # type: ignore[assignment]
    if after is None or after.kind_id not in closers:
        return False
    parent = comma.parent
    if parent is None:
        return False
    kind = parent.kind_id
    if kind in layout_only:
        return True
    elements = sum(1 for child in parent.named_children if child.kind_id not in comments)
    return kind in tuples and elements > 1  # a comment is no element: (x,  # note\n) is (x,)


def string_key(text: bytes) -> bytes:
    """A string literal's text with its quotes made double: ``'x'`` and ``"x"`` (and their
    triple-quoted forms) are the same literal written in two layouts. Prefix letters are
    kept, lower-cased."""
    start = 0
    while start < len(text) and text[start] not in b"'\"":
        start += 1
    prefix = text[:start].lower()
    if text[start : start + 1] != b"'" or b'"' in text:
        return prefix + text[start:]  # with a " inside, re-quoting could meet another value
    width = 3 if text[start : start + 3] == b"'''" and len(text) - start >= 6 else 1
    body = text[start + width : len(text) - width]
    return prefix + b'"' * width + body + b'"' * width


@lru_cache(maxsize=1)
def _codes() -> tuple[int, int, int]:
    return min(ids_of("identifier")), min(ids_of("string")), min(ids_of("integer"))


class TokenSink:
    """Accumulates the token sequences of one file.

    ``anchor`` is the shape sequence with attribute names (``x.name``) kept as text: attribute
    names survive the renaming of local variables and make shingles distinctive, so it is the
    sequence the near-miss index is built from (fingerprint.shingles).
    """

    __slots__ = ("anchor", "categories", "codes", "exact", "offsets", "shape")

    def __init__(self) -> None:
        self.exact: array[int] = array("I")
        self.shape: array[int] = array("I")
        self.anchor: array[int] = array("I")
        self.offsets: array[int] = array("I")  # start and end byte of every token
        self.categories = _categories()
        self.codes = _codes()

    def __len__(self) -> int:
        return len(self.shape)

    def pseudo(self, code: int) -> None:
        self.exact.append(code)
        self.shape.append(code)
        self.anchor.append(code)
        self.offsets.extend((0, 0))

    def emit(self, node: tree_sitter.Node) -> None:
        """Append the tokens of ``node``'s whole subtree (the hot loop of a scan)."""
        categories = self.categories
        ident_code, string_code, number_code = self.codes
        exact, shape, crc = self.exact.append, self.shape.append, zlib.crc32
        anchor, offsets = self.anchor.append, self.offsets.extend
        closers, comments = _trailing_kinds()[:2]
        cursor = node.walk()
        while True:
            current: tree_sitter.Node = cursor.node  # type: ignore[assignment]
            kind = current.kind_id
            category = categories[kind]
            if category == _OTHER:
                if cursor.goto_first_child():
                    continue
                exact(kind)
                shape(kind)
                anchor(kind)
                offsets(current.byte_range)
            elif category == _IDENT:
                code = crc(current.text) | HIGH_BIT  # type: ignore[arg-type]
                exact(code)
                shape(ident_code)
                anchor(code if cursor.field_name == "attribute" else ident_code)
                offsets(current.byte_range)
            elif category == _STRING:
                text = current.text or b""
                exact(crc(text if text[:1] == b'"' else string_key(text)) | HIGH_BIT)
                shape(string_code)
                anchor(string_code)
                offsets(current.byte_range)
            elif category == _NUMBER:
                exact(crc(current.text) | HIGH_BIT)  # type: ignore[arg-type]
                shape(number_code)
                anchor(number_code)
                offsets(current.byte_range)
            elif category == _COMMA and not (
                (after := current.next_sibling) is not None
                and (after.kind_id in closers or after.kind_id in comments)
                and _is_trailing_comma(current, after)
            ):
                exact(kind)
                shape(kind)
                anchor(kind)
                offsets(current.byte_range)
            while not cursor.goto_next_sibling():
                if not cursor.goto_parent():
                    return


def shape_text(shape: array[int]) -> str:
    """The shape codes as a string, one character per token."""
    return shape.tobytes().decode(_UTF32)


def named_codes(exact: array[int], shape: array[int]) -> array[int]:
    """Shape codes with each identifier's hashed text in its place (literals stay abstract)."""
    ident = identifier_code()
    return array("I", [e if s == ident else s for e, s in zip(exact, shape, strict=True)])


def identifier_code() -> int:
    """The shape code every identifier becomes."""
    return _codes()[0]
