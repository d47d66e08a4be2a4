"""What differs between a group's members, and the signature that would absorb it.

Each member is aligned with the canonical one on exact tokens (rapidfuzz opcodes). A
same-length, same-shape replacement is a token-level difference (an identifier or a literal);
anything else is a statement-level one (inserted, deleted or changed), shown as each member's
code there. The proposed signature is the canonical one plus one parameter per varying literal
(defaulting to the canonical value, named after the keyword or variable it feeds) and per
varying name that is not a local binding (a consistently renamed local is cosmetic, not a
parameter).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress

from dupfind.models import Difference, FileAnalysis, UnitKind
from dupfind.normalise import INDENT, identifier_code
from dupfind.score import opcode_tuples

MAX_DIFFERENCES = 40
_BINDERS = frozenset({"def", "class", "for", "as", "import", "global", "nonlocal", "lambda"})
_ASSIGN = frozenset({"=", ":=", "+=", "-=", "*=", "/=", "//=", "%=", "|=", "&=", "^=", "**="})
_NAME = re.compile(r"[^0-9A-Za-z_]+")


@dataclass(frozen=True, slots=True)
class MemberTokens:
    """One member's tokens with their text, read back from its file; lines on demand."""

    exact: list[int]
    shape: list[int]
    texts: list[str]
    offsets: list[int]  # start byte of each token
    source: bytes
    starts: list[int]  # start byte of each line of the file
    kind: UnitKind
    name: str

    def line(self, index: int) -> int:
        """The 1-based line of token ``index`` (the last token's line past the end)."""
        if not self.offsets:
            return 0
        return bisect.bisect_right(self.starts, self.offsets[min(index, len(self.offsets) - 1)])

    def lines_code(self, start: int, end: int) -> str:
        """The source of the whole lines holding tokens ``start:end`` ("" for none)."""
        if start >= end:
            return ""
        first, last = self.line(start), self.line(end - 1)
        stop = self.starts[last] if last < len(self.starts) else len(self.source)
        text = self.source[self.starts[first - 1] : stop].decode("utf-8", "replace")
        return " / ".join(line.strip() for line in text.splitlines() if line.strip())


def line_starts(source: bytes) -> list[int]:
    """Byte offset of the start of every line (compute once per file)."""
    return [0, *(m.end() for m in re.finditer(rb"\n", source))]


def member_tokens(
    analysis: FileAnalysis,
    source: bytes,
    starts: list[int],
    span: tuple[int, int],
    kind: UnitKind,
    name: str,
) -> MemberTokens:
    """The tokens ``span`` of ``analysis`` with their text from ``source`` (the UTF-8 bytes
    the file was parsed from; ``starts`` its line starts). Indentation pseudo-tokens (the only
    codes ≥ INDENT) are left out."""
    begin, end = span
    shape = analysis.shape[begin:end]
    keep = [code < INDENT for code in shape]
    bounds = analysis.offsets[2 * begin : 2 * end]
    firsts = list(compress(bounds[0::2], keep))
    lasts = list(compress(bounds[1::2], keep))
    texts = [source[a:b].decode("utf-8", "replace") for a, b in zip(firsts, lasts, strict=True)]
    exact = list(compress(analysis.exact[begin:end], keep))
    return MemberTokens(exact, list(compress(shape, keep)), texts, firsts, source, starts, kind,
                        name)  # fmt: skip


def differences(
    members: Sequence[MemberTokens], canonical: int
) -> tuple[tuple[Difference, ...], str]:
    """The aligned differences from the canonical member, and the proposed signature."""
    base = members[canonical]
    slots: dict[int, list[str]] = {}
    changes: list[Difference] = []
    for index, other in enumerate(members):
        if index != canonical:
            _align(base, other, (canonical, index, len(members)), slots, changes)
    token_diffs, parameters = _token_differences(base, slots)
    existing = _parameter_names(_existing_parameters(base))
    parameters = [p for p in parameters if p.split("=")[0] not in existing]
    found = sorted(token_diffs + changes, key=lambda d: (d.line, d.kind, d.values))
    return tuple(found[:MAX_DIFFERENCES]), _signature(base, parameters)


def _align(
    base: MemberTokens,
    other: MemberTokens,
    where: tuple[int, int, int],
    slots: dict[int, list[str]],
    changes: list[Difference],
) -> None:
    """Record where ``other`` differs from ``base``; ``where`` is (canonical index, other's
    index, member count)."""
    canonical, index, count = where
    for tag, a1, a2, b1, b2 in opcode_tuples(base.exact, other.exact):
        if tag == "equal":
            continue
        if tag == "replace" and a2 - a1 == b2 - b1 and base.shape[a1:a2] == other.shape[b1:b2]:
            for offset in range(a2 - a1):
                slot = slots.setdefault(a1 + offset, [base.texts[a1 + offset]] * count)
                slot[index] = other.texts[b1 + offset]
            continue
        kind = "inserted" if a1 == a2 else "deleted" if b1 == b2 else "changed"
        values = [""] * count
        values[canonical] = base.lines_code(a1, a2)
        values[index] = other.lines_code(b1, b2)
        line = base.line(a1)
        difference = Difference(kind, line, tuple(values))
        if difference not in changes:  # several edits on one line show as one
            changes.append(difference)


def _code(tokens: Sequence[str]) -> str:
    """Tokens back to code: no space before , ) ] : . nor after ( [ ."""
    joined = " ".join(tokens)
    return re.sub(r"\s+([,)\]:.])", r"\1", re.sub(r"([(\[.])\s+", r"\1", joined))


def _token_differences(
    base: MemberTokens, slots: dict[int, list[str]]
) -> tuple[list[Difference], list[str]]:
    ident = identifier_code()
    local = _local_names(base)
    header_end = _header_end(base)
    seen: set[tuple[str, tuple[str, ...]]] = set()
    found: list[Difference] = []
    parameters: list[str] = []
    for position in sorted(slots):
        values = tuple(slots[position])
        is_name = base.shape[position] == ident
        key = ("identifier" if is_name else "literal", values)
        if key in seen:
            continue
        seen.add(key)
        found.append(Difference(key[0], base.line(position), values))
        if position < header_end:
            continue  # the signature itself: a renamed parameter or another default
        if is_name and base.texts[position] not in local:
            parameters.append(_identifier(base.texts[position]))
        elif not is_name:
            parameters.append(f"{_literal_name(base, position)}={base.texts[position]}")
    return found, _unique(parameters)


def _header_end(base: MemberTokens) -> int:
    """Index of the token after a function's ``def …(…):`` header (0 for other units)."""
    if base.kind is not UnitKind.FUNCTION:
        return 0
    depth = 0
    for index, text in enumerate(base.texts):
        depth += text in {"(", "[", "{"}
        depth -= text in {")", "]", "}"}
        if text == ":" and depth == 0:
            return index + 1
    return 0


def _local_names(base: MemberTokens) -> set[str]:
    """Names the canonical member binds itself (parameters, targets, loop variables…)."""
    ident = identifier_code()
    texts, shape = base.texts, base.shape
    local: set[str] = set()
    depth = 0
    in_header = base.kind is not UnitKind.BLOCK
    for index, text in enumerate(texts):
        if in_header:
            depth += text in "([{" and len(text) == 1
            depth -= text in ")]}" and len(text) == 1
            if text == ":" and depth == 0:
                in_header = False
        if shape[index] != ident:
            continue
        if (in_header and depth == 1) or _binds(texts, index):
            local.add(text)
    return local


def _binds(texts: list[str], index: int) -> bool:
    after = texts[index + 1] if index + 1 < len(texts) else ""
    before = texts[index - 1] if index else ""
    return (
        after in _ASSIGN or before in _BINDERS or (after == "," and _assigned_tuple(texts, index))
    )


def _assigned_tuple(texts: list[str], index: int) -> bool:
    for text in texts[index + 1 : index + 12]:
        if text in _ASSIGN:
            return True
        if text in {"(", ")", "[", "]", ":", "if", "return", "in"}:
            return False
    return False


def _literal_name(base: MemberTokens, position: int) -> str:
    texts = base.texts
    if position >= 2 and texts[position - 1] in {"=", ":"}:
        name = _identifier(texts[position - 2].strip("'\""))
        if name:
            return name
    return "value"


def _identifier(text: str) -> str:
    name = _NAME.sub("_", text).strip("_").lower()
    return f"_{name}" if name[:1].isdigit() else name or "value"


def _unique(names: list[str]) -> list[str]:
    taken: dict[str, int] = {}
    result = []
    for parameter in names:
        head, sep, default = parameter.partition("=")
        count = taken.get(head, 0)
        taken[head] = count + 1
        result.append(f"{head}_{count + 1}{sep}{default}" if count else parameter)
    return result


def _signature(base: MemberTokens, parameters: list[str]) -> str:
    if base.kind is UnitKind.CLASS:
        extra = f"  # parameters: {', '.join(parameters)}" if parameters else ""
        return f"class {base.name}Base:{extra}"
    if base.kind is UnitKind.FUNCTION:
        existing = _existing_parameters(base)
        keyword = "async def" if base.texts[:1] == ["async"] else "def"
        return f"{keyword} {base.name}({', '.join(p for p in [existing, *parameters] if p)})"
    return f"def {base.name}_shared({', '.join(parameters)})"


def _existing_parameters(base: MemberTokens) -> str:
    texts = base.texts
    try:
        start = texts.index("(")
    except ValueError:
        return ""
    depth, end = 0, start
    for end in range(start, len(texts)):
        depth += texts[end] in {"(", "[", "{"}
        depth -= texts[end] in {")", "]", "}"}
        if depth == 0:
            break
    return _compact(texts[start + 1 : end])


def _parameter_names(parameters: str) -> set[str]:
    return {p.split("=")[0].split(":")[0].strip("* ") for p in parameters.split(",")}


def _compact(tokens: Sequence[str]) -> str:
    """Tokens back to code with conventional spacing (no space before , ) ] : . or after
    ( [ ., none around = in parameters)."""
    return re.sub(r"\s*=\s*", "=", _code(tokens))
