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
import builtins
import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress

from dupfind.models import Difference, FileAnalysis, UnitKind
from dupfind.normalise import INDENT, identifier_code
from dupfind.score import opcode_tuples

MAX_DIFFERENCES = 40
MAX_DEFAULT = 40  # characters of a literal shown as a parameter's default
_BINDERS = frozenset({"def", "class", "for", "as", "import", "global", "nonlocal", "lambda"})
_ASSIGN = frozenset({"=", ":=", "+=", "-=", "*=", "/=", "//=", "%=", "|=", "&=", "^=", "**="})
_NAME = re.compile(r"[^0-9A-Za-z_]+")
# The interpreter's builtins, without those ``site`` adds (``exit``, ``help``...): the same
# set however Python was started.
_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_")) - {
    "copyright", "credits", "exit", "help", "license", "quit",
}  # fmt: skip


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
    import numpy as np  # only scans need it (as in pairs.py); 3x faster than a regex

    newlines = np.flatnonzero(np.frombuffer(source, dtype=np.uint8) == ord("\n"))
    return [0, *(newlines + 1).tolist()]


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
    changes: dict[Difference, None] = {}  # insertion-ordered set: one per line and values
    for index, other in enumerate(members):
        if index != canonical:
            _align(base, other, (canonical, index, len(members)), slots, changes)
    token_diffs, parameters = _token_differences(base, slots)
    existing = _parameter_names(_existing_parameters(base))
    parameters = [p for p in parameters if p.split("=")[0] not in existing]
    found = sorted([*token_diffs, *changes], key=lambda d: (d.line, d.kind, d.values))
    return tuple(found[:MAX_DIFFERENCES]), _signature(base, parameters)


def _align(
    base: MemberTokens,
    other: MemberTokens,
    where: tuple[int, int, int],
    slots: dict[int, list[str]],
    changes: dict[Difference, None],
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
        changes[Difference(kind, line, tuple(values))] = None  # several edits on a line: one


_CALL = re.compile(r"(\w+|[)\]])\s+(?=[(\[])")


def _code(tokens: Sequence[str]) -> str:
    """Tokens back to code: no space before , ) ] : . nor after ( [ . nor between a name
    and the ( or [ of a call or subscript (but ``if (`` keeps its space)."""
    joined = " ".join(tokens)
    joined = re.sub(r"\s+([,)\]:.])", r"\1", re.sub(r"([(\[.])\s+", r"\1", joined))
    return _CALL.sub(lambda m: m.group(0) if keyword.iskeyword(m.group(1)) else m.group(1), joined)


def _token_differences(
    base: MemberTokens, slots: dict[int, list[str]]
) -> tuple[list[Difference], list[str]]:
    ident = identifier_code()
    local = _local_names(base)
    header_end = _header_end(base)
    seen: set[tuple[str, tuple[str, ...]]] = set()
    found: list[Difference] = []
    parameters: list[str] = []
    assigned: set[str] = set()  # locals a literal parameter replaces (``endpoint = "/v3"``)
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
        after_dot = position > 0 and base.texts[position - 1] == "."
        if is_name and base.texts[position] not in local and not after_dot:
            parameters.append(_identifier(base.texts[position]))
        elif is_name and after_dot:
            parameters.extend(_called_function(base, position, local))
        elif not is_name:
            parameters.append(_literal_parameter(base, position))
            if position >= 2 and base.texts[position - 1] == "=":
                assigned.add(base.texts[position - 2])
    return found, _unique(parameters, local - assigned)


def _def_index(base: MemberTokens) -> int:
    """Index of a function's ``def`` keyword, after its decorators (0 for other units): the
    parentheses of ``@pytest.mark.parametrize("edge", …)`` are not the parameter list."""
    if base.kind is not UnitKind.FUNCTION:
        return 0
    return _outside_brackets(base.texts, "def", 0) or 0


def _called_function(base: MemberTokens, position: int, local: set[str]) -> list[str]:
    """``module.function(…)`` where the copies call other functions of a module
    (``nx.petersen_graph()`` / ``nx.cycle_graph()``): the function is a parameter, the
    canonical one its default. Methods (``self.x()``) and attributes that are not called are
    not: a signature cannot name them."""
    texts = base.texts
    called = position + 1 < len(texts) and texts[position + 1] == "("
    owner = texts[position - 2] if position >= 2 else ""
    simple = position < 3 or texts[position - 3] != "."
    if not called or not simple or owner in local or not _imports(base.source, owner):
        return []
    return [f"{_identifier(texts[position])}={owner}.{texts[position]}"]


def _imports(source: bytes, name: str) -> bool:
    """Whether the file binds ``name`` by an import (a module, so ``name.f`` can be a
    default): ``import name``, ``import x as name``, ``from x import name``."""
    if not name.isidentifier():
        return False
    word = re.escape(name.encode())
    pattern = rb"^[ \t]*(?:import\s+" + word + rb"\b|import\s+[\w.]+\s+as\s+" + word + rb"\b"
    pattern += rb"|from\s+[\w.]+\s+import\s+[^#\n]*\b" + word + rb"\b)"
    return re.search(pattern, source, re.MULTILINE) is not None


def _header_end(base: MemberTokens) -> int:
    """Index of the token after a function's ``def …(…):`` header (0 for other units)."""
    if base.kind is not UnitKind.FUNCTION:
        return 0
    colon = _outside_brackets(base.texts, ":", _def_index(base))
    return 0 if colon is None else colon + 1


def _outside_brackets(texts: list[str], wanted: str, start: int) -> int | None:
    """Index of the first ``wanted`` token from ``start`` that no bracket encloses."""
    depth = 0
    for index in range(start, len(texts)):
        text = texts[index]
        depth += text in {"(", "[", "{"}
        depth -= text in {")", "]", "}"}
        if text == wanted and depth == 0:
            return index
    return None


def _local_names(base: MemberTokens) -> set[str]:
    """Names the canonical member binds itself (parameters, targets, loop variables…)."""
    ident = identifier_code()
    texts, shape = base.texts, base.shape
    local: set[str] = set()
    depth = 0
    start = _def_index(base)  # decorators bind nothing
    in_header = base.kind is not UnitKind.BLOCK
    for index in range(start, len(texts)):
        text = texts[index]
        depth += text in {"(", "[", "{"}
        depth -= text in {")", "]", "}"}
        if in_header and text == ":" and depth == 0:
            in_header = False
        if shape[index] != ident:
            continue
        if (in_header and depth == 1) or _binds(texts, index, nested=depth > 0):
            local.add(text)
    return local


def _binds(texts: list[str], index: int, nested: bool) -> bool:
    """Whether the name at ``index`` is bound there. Inside brackets ``name=`` is a keyword
    argument, not an assignment (``:=`` still binds)."""
    after = texts[index + 1] if index + 1 < len(texts) else ""
    before = texts[index - 1] if index else ""
    assigns = after == ":=" or (after in _ASSIGN and not nested)
    return assigns or before in _BINDERS or (after == "," and _assigned_tuple(texts, index))


def _assigned_tuple(texts: list[str], index: int) -> bool:
    for text in texts[index + 1 : index + 12]:
        if text in _ASSIGN:
            return True
        if text in {"(", ")", "[", "]", ":", "if", "return", "in"}:
            return False
    return False


def _literal_parameter(base: MemberTokens, position: int) -> str:
    """``name=<canonical value>``; an f-string reading local names cannot be a default, and
    a literal over ``MAX_DEFAULT`` characters (a test's whole expected output) would bury the
    signature: both are plain parameters."""
    text = base.texts[position]
    name = _literal_name(base, position)
    interpolated = re.match(r"(?i)[rbu]*f", text) is not None and "{" in text
    long = len(text) > MAX_DEFAULT or "\n" in text  # a signature is one line
    return name if interpolated or long else f"{name}={text}"


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


def _unique(names: list[str], reserved: set[str]) -> list[str]:
    """Distinct parameter names that clash with no name the code already uses, nor shadow a
    builtin (``max`` where the copies call ``max`` and ``min``, or ``type`` for the literal a
    ``type=`` keyword takes) with the conventional trailing underscore: ``max_``."""
    taken = set(reserved)
    result = []
    for parameter in names:
        head, sep, default = parameter.partition("=")
        head = f"{head}_" if head in _BUILTINS else head
        name, number = head, 1
        while name in taken:
            number += 1
            name = f"{head.rstrip('_') or head}_{number}"
        taken.add(name)
        result.append(f"{name}{sep}{default}")
    return result


def _signature(base: MemberTokens, parameters: list[str]) -> str:
    if base.kind is UnitKind.CLASS:
        extra = f"  # parameters: {', '.join(parameters)}" if parameters else ""
        return f"class {base.name}Base:{extra}"
    if base.kind is UnitKind.FUNCTION:
        at = _def_index(base)
        keyword = "async def" if at and base.texts[at - 1] == "async" else "def"
        return f"{keyword} {base.name}({_parameter_list(_existing_parameters(base), parameters)})"
    return f"def {base.name}_shared({_parameter_list('', parameters)})"


def _parameter_list(existing: str, added: list[str]) -> str:
    """Existing parameters, then the new ones, kept valid Python: new parameters without a
    default come before those with one, behind a ``*`` when an existing one has a default,
    and everything stays before ``**kwargs``."""
    old = [p.strip() for p in existing.split(",") if p.strip()]
    kwargs = [p for p in old if p.startswith("**")]
    old = [p for p in old if not p.startswith("**")]
    new = [p for p in added if "=" not in p] + [p for p in added if "=" in p]
    starred = any(p.startswith("*") for p in old)
    needs_star = new and not starred and any("=" in p for p in old) and "=" not in new[0]
    return ", ".join([*old, *(["*"] if needs_star else []), *new, *kwargs])


def _existing_parameters(base: MemberTokens) -> str:
    texts = base.texts
    try:
        start = texts.index("(", _def_index(base))
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
    """Parameters back to code with conventional spacing (as ``_code``, plus none around
    ``=`` and none between ``*``/``**`` and the name)."""
    joined = re.sub(r"\s*=\s*", "=", _code(tokens))
    return re.sub(r"(^|,\s*)(\*\*?)\s+(?=\w)", r"\1\2", joined)
