"""The CI gate: which groups fail a run, baselines of accepted duplication, and changed-code
mode.

* A group is **actionable** when its verdict is at or above ``--fail-on``: ``consolidate``
  (default) fails on consolidate only, ``extract`` on consolidate and extract. Leave-separate
  never fails a run.
* A **baseline** (``.dupfind-baseline.json``) records group ids. The id hashes each member's
  path, qualified name and normalised (Type-2) content, so it survives line shifts, unrelated
  edits elsewhere in the file and reformatting. A group whose id changed (an edit inside a
  member, or a dupfind upgrade that normalises more) is still accepted by an unused entry
  with exactly its members (path and qualified name; not for statement runs, named by their
  enclosing function); a group that grows a member counts as new.
  Baseline entries no longer found are reported as fixed (``baseline prune`` drops them).
* **Changed-code mode** (``--diff BASE``) keeps groups with a member touching lines changed
  since ``BASE`` (``git diff -U0 BASE``, plus untracked files), while still comparing against
  the whole tree, so a changed file that copies unchanged code elsewhere is caught.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dupfind.errors import UsageError
from dupfind.history import run_git
from dupfind.models import CloneGroup, Recommendation, ScanResult, UnitKind, Verdict

BASELINE_VERSION = 1
FAIL_ON = {"consolidate": {Verdict.CONSOLIDATE}, "extract": {Verdict.CONSOLIDATE, Verdict.EXTRACT}}
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Baseline:
    """Accepted groups: id → a readable description (members), kept for humans reading diffs."""

    entries: dict[str, dict[str, object]]

    @classmethod
    def read(cls, path: Path) -> Baseline:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError(
                f"{path}: baseline not found; create it with `dupfind baseline write`"
            ) from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"{path}: cannot read the baseline: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
            raise UsageError(f"{path}: not a dupfind baseline (no 'groups' list)")
        return cls({str(g["id"]): g for g in data["groups"] if isinstance(g, dict) and "id" in g})

    @classmethod
    def of(cls, groups: Iterable[CloneGroup]) -> Baseline:
        return cls({g.id: _describe(g) for g in groups})

    def write(self, path: Path) -> None:
        document = {
            "schema_version": BASELINE_VERSION,
            "tool": "dupfind",
            "groups": [self.entries[key] for key in sorted(self.entries)],
        }
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    def pruned(self, current: Sequence[CloneGroup]) -> Baseline:
        alive = set(self.matches(current))
        return Baseline({k: v for k, v in self.entries.items() if k in alive})

    def matches(self, groups: Sequence[CloneGroup]) -> list[str | None]:
        """The entry that accepts each group: the one with its id or, when the id changed (a
        dupfind upgrade that normalises more, or an edit inside a member), an entry no other
        group took with exactly its members (path and qualified name, as a multiset). Groups
        of statement runs never match by members: a run is named by its enclosing function,
        so a second, different run in the same functions would pass for the first."""
        found: list[str | None] = [g.id if g.id in self.entries else None for g in groups]
        free: dict[tuple[str, ...], list[str]] = {}
        for key in sorted(set(self.entries) - set(found)):
            members = self.entries[key].get("members")
            if isinstance(members, list) and not self.entries[key].get("blocks"):
                free.setdefault(tuple(sorted(str(m) for m in members)), []).append(key)
        for index, group in enumerate(groups):
            if found[index] is None and all(m.unit is not UnitKind.BLOCK for m in group.members):
                spare = free.get(tuple(sorted(_member_keys(group))))
                found[index] = spare.pop(0) if spare else None
        return found


def _describe(group: CloneGroup) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": group.id,
        "kind": group.kind.value,
        "members": _member_keys(group),
    }
    if any(m.unit is UnitKind.BLOCK for m in group.members):
        entry["blocks"] = True  # named by their functions: never matched by members
    return entry


def _member_keys(group: CloneGroup) -> list[str]:
    return [f"{m.path}::{m.qualname}" for m in group.members]


@dataclass(frozen=True, slots=True)
class GateResult:
    """What a check found: groups to show, which of them fail, and bookkeeping."""

    shown: tuple[int, ...]  # indexes of groups in scope (new, and in the diff when asked)
    failing: tuple[int, ...]
    baselined: int
    fixed: tuple[str, ...]
    duplication_exceeded: bool


def evaluate(
    result: ScanResult,
    fail_on: str,
    max_duplication: float | None,
    baseline: Baseline | None,
    changed: dict[str, list[tuple[int, int]]] | None,
) -> GateResult:
    """Apply the gate's rules to a scan."""
    failing_verdicts = FAIL_ON[fail_on]
    shown, failing, baselined = [], [], 0
    entries = baseline.matches(result.groups) if baseline is not None else []
    accepted = {entry for entry in entries if entry is not None}
    for index, (group, advice) in enumerate(
        zip(result.groups, _recommendations(result), strict=True)
    ):
        if entries and entries[index] is not None:
            baselined += 1
            continue
        if changed is not None and not _touches(group, changed):
            continue
        shown.append(index)
        if advice.verdict in failing_verdicts:
            failing.append(index)
    fixed = tuple(sorted(k for k in (baseline.entries if baseline else {}) if k not in accepted))
    exceeded = max_duplication is not None and result.stats.duplicated_percent > max_duplication
    return GateResult(tuple(shown), tuple(failing), baselined, fixed, exceeded)


def _recommendations(result: ScanResult) -> Sequence[Recommendation]:
    if len(result.recommendations) != len(result.groups):  # pragma: no cover - defensive
        raise AssertionError("every group is classified before gating")
    return result.recommendations


def _touches(group: CloneGroup, changed: dict[str, list[tuple[int, int]]]) -> bool:
    return any(touches(changed, m.path, m.start_line, m.end_line) for m in group.members)


def touches(
    changed: Mapping[str, Sequence[tuple[int, int]]], path: str, start: int, end: int
) -> bool:
    """Whether lines ``start..end`` of ``path`` overlap its changed lines (``changed_lines``);
    the path may be spelled any way (a display path is relative to the working directory, or
    absolute outside it): both sides are real paths."""
    return any(
        first <= end and start <= last for first, last in changed.get(_real(os.getcwd(), path), ())
    )


@lru_cache(maxsize=1 << 16)
def _real(cwd: str, path: str) -> str:
    """``os.path.realpath`` of a reported path from ``cwd``, resolved once per path (asked
    for every member of every group)."""
    return os.path.realpath(os.path.join(cwd, path))


def changed_lines(
    base: str, command: str = "check", instead: str = "drop --diff to gate every group"
) -> dict[str, list[tuple[int, int]]]:
    """Lines changed since git ref ``base`` (committed or not) and all lines of untracked
    files, keyed by real path (ask ``touches``). ``command`` and ``instead`` (what else the
    user can do) word the error outside a repository."""
    where = Path.cwd()
    done = _run(where, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise UsageError(
            f"{command} --diff {base}: {where} is not inside a git repository (git: "
            f"{done.stderr.strip()}): run dupfind {command} --diff from inside the repository, or "
            f"{instead}"
        )
    root = Path(done.stdout.strip())
    # From the top, with the prefixes spelled out and no text conversion: whatever the user's
    # diff.relative, diff.noprefix, diff.mnemonicPrefix or textconv drivers, every name is
    # b/<path from the top> and every hunk counts the file's own lines.
    diff = _git(root, "diff", "--unified=0", "--no-color", "--no-ext-diff", "--no-textconv",
                "--src-prefix=a/", "--dst-prefix=b/", base, "--")  # fmt: skip
    changed: dict[str, list[tuple[int, int]]] = {}
    for path, text in _files_in_diff(diff):
        spans = []
        for match in _HUNK.finditer(text):
            start, count = int(match.group(1)), int(match.group(2) or "1")
            if count:
                spans.append((start, start + count - 1))
        if spans:
            changed[os.path.realpath(root / path)] = spans
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--full-name")
    for name in filter(None, untracked.split("\0")):
        changed[os.path.realpath(root / name)] = [(1, 1 << 30)]
    return changed


def _files_in_diff(diff: str) -> list[tuple[str, str]]:
    parts = re.split(r"^diff --git ", diff, flags=re.MULTILINE)
    found = []
    for part in parts[1:]:
        target = re.search(r"^\+\+\+ (.+)$", part, flags=re.MULTILINE)
        # A tab ends a name holding a space (a tab in a name is quoted as \t).
        name = _git_path(target.group(1).removesuffix("\t")) if target else ""
        if name.startswith("b/"):  # not /dev/null: a deleted file
            found.append((name[2:], part))
    return found


_GIT_ESCAPES = {b"a": b"\a", b"b": b"\b", b"t": b"\t", b"n": b"\n", b"v": b"\v", b"f": b"\f",
                b"r": b"\r"}  # fmt: skip


def _git_path(name: str) -> str:
    """A path as git prints it in a diff: as it is, or C-quoted (``"b/donn\\303\\251es.py"``)
    when it holds a byte past ASCII, a quote, a backslash or a control character: a file
    changed under such a name was left out of the changed lines."""
    if len(name) < 2 or name[0] != '"' or name[-1] != '"':
        return name
    raw = name[1:-1].encode("utf-8", "surrogateescape")

    def unescaped(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        return bytes([int(code, 8)]) if len(code) == 3 else _GIT_ESCAPES.get(code, code)

    return os.fsdecode(re.sub(rb"\\([0-7]{3}|.)", unescaped, raw))


def _run(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = run_git(where, *args)
    if done is None:
        raise UsageError("--diff needs git, which is not installed")
    return done


def _git(where: Path, *args: str) -> str:
    done = _run(where, *args)
    if done.returncode != 0:
        raise UsageError(f"git {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout
