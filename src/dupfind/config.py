"""Settings: one frozen ``Config``, validated once at the edge.

Sources, in precedence order: CLI options > ``[tool.dupfind]`` of the nearest pyproject.toml above
the scanned paths (searched upward, stopping at a ``.git`` directory) or ``--config FILE`` >
defaults. Keys are the CLI long option names; dashes and underscores are interchangeable.
Unknown keys and bad values are errors (a mistyped threshold would silently change what is
reported), with "did you mean" and the valid choices.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from dupfind.errors import ConfigError

FORMATS = ("terminal", "json", "markdown", "html", "sarif")
EXECUTORS = ("local", "dask")
# Where dupfind stores and runs, not what it finds: never taken from a pyproject.toml found in
# the scanned tree (a repository could point the cache at a file it ships, whose pickles would
# run when loaded, or send its code to a scheduler of its choosing); --config FILE or options.
MACHINE_KEYS = frozenset({"cache_dir", "executor", "scheduler"})
_HOW_NOT_WHAT = MACHINE_KEYS | {"format", "jobs", "cache"}  # never change a result
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Config:
    """Every setting of a scan. Defaults are the documented defaults."""

    min_lines: int = 6
    min_tokens: int = 50
    min_similarity: float = 0.5
    include_pyi: bool = False
    gitignore: bool = True
    exclude: tuple[str, ...] = ()
    max_file_size: int = MIB
    follow_symlinks: bool = False
    jobs: int = 0
    ignore_imports: bool = True
    ignore_all_lists: bool = True
    ignore_stubs: bool = True
    ignore_records: bool = True
    ignore_overloads: bool = True
    format: str = "terminal"
    domains: tuple[tuple[str, tuple[str, ...]], ...] = ()
    hotspots: tuple[str, ...] = ()
    history: bool = True
    history_days: int = 365
    history_hot: int = 10
    history_cold: int = 1
    consolidate_similarity: float = 0.8
    extract_similarity: float = 0.5
    extract_min_lines: int = 50
    suppress: bool = True
    cache: bool = True
    cache_dir: str = ""  # "" = the default location (see cache.py)
    executor: str = "local"  # or "dask": per-file stages and scoring on a Dask cluster
    scheduler: str = ""  # the Dask scheduler's address, required with executor = "dask"

    @classmethod
    def from_mapping(cls, values: Mapping[str, object], source: str = "configuration") -> Config:
        """Validate ``values`` (keys with dashes or underscores) into a Config."""
        converted: dict[str, object] = {}
        for raw_key, value in values.items():
            key = raw_key.replace("-", "_")
            if key not in _VALIDATORS:
                raise ConfigError(raw_key, _unknown_key_hint(key), source)
            try:
                converted[key] = _VALIDATORS[key](value)
            except ValueError as exc:
                raise ConfigError(raw_key, str(exc), source) from None
        return cls(**converted)  # type: ignore[arg-type]

    def merged(self, overrides: Mapping[str, object]) -> Config:
        """A copy with ``overrides`` (already validated values) applied."""
        values = asdict(self)
        values.update(overrides)
        return Config(**values)

    def result_key(self) -> str:
        """Every setting that can change a scan's result (not how it is run or shown)."""
        kept = {name: value for name, value in asdict(self).items() if name not in _HOW_NOT_WHAT}
        return repr(sorted(kept.items()))

    def analysis_key(self) -> str:
        """A digest of the settings that change per-file results (for caches)."""
        relevant = (
            self.min_lines,
            self.min_tokens,
            self.ignore_imports,
            self.ignore_all_lists,
            self.ignore_stubs,
            self.ignore_overloads,
            self.ignore_records,
        )
        return hashlib.blake2b(repr(relevant).encode(), digest_size=8).hexdigest()


def _int_at_least(minimum: int) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number >= {minimum}, got {value!r}")
        if value < minimum:
            raise ValueError(f"expected a whole number >= {minimum}, got {value}")
        return value

    return check


def _fraction(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number between 0 and 1, got {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"expected a number between 0 and 1, got {value}")
    return float(value)


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _globs(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(f"expected a list of glob patterns, got {value!r}")
    if not all(isinstance(item, str) for item in value):
        raise ValueError(f"expected a list of glob patterns, got {value!r}")
    return tuple(str(item) for item in value)


_SIZE = re.compile(r"^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "b": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}


def parse_size(value: object) -> int:
    """A byte count: a whole number, or a string such as ``"512KiB"`` or ``"2MiB"``."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _SIZE.match(value) if isinstance(value, str) else None
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"expected a positive size such as 1048576 or '1MiB', got {value!r}")
    unit = (match.group(2) or "").lower()[:1]
    return int(match.group(1)) * _SIZE_FACTORS[unit]


def _domains(value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a table of domain = [globs], got {value!r}")
    return tuple((str(name), _globs(globs)) for name, globs in value.items())  # TOML order


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _one_of(choices: tuple[str, ...]) -> Callable[[object], str]:
    def check(value: object) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
        return str(value)

    return check


_ADDRESS = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}|inproc://\S+"
)


def _address(value: object) -> str:
    text = _text(value).strip()
    if not _ADDRESS.fullmatch(text):
        raise ValueError(
            f"expected a scheduler address HOST:PORT, optionally with a protocol, such as "
            f"tcp://10.0.0.5:8786, got {value!r}"
        )
    return text


_VALIDATORS: dict[str, Callable[[object], object]] = {
    "min_lines": _int_at_least(1),
    "min_tokens": _int_at_least(1),
    "min_similarity": _fraction,
    "include_pyi": _boolean,
    "gitignore": _boolean,
    "exclude": _globs,
    "max_file_size": parse_size,
    "follow_symlinks": _boolean,
    "jobs": _int_at_least(0),
    "ignore_imports": _boolean,
    "ignore_all_lists": _boolean,
    "ignore_stubs": _boolean,
    "ignore_records": _boolean,
    "ignore_overloads": _boolean,
    "format": _one_of(FORMATS),
    "domains": _domains,
    "hotspots": _globs,
    "history": _boolean,
    "history_days": _int_at_least(1),
    "history_hot": _int_at_least(1),
    "history_cold": _int_at_least(0),
    "consolidate_similarity": _fraction,
    "extract_similarity": _fraction,
    "extract_min_lines": _int_at_least(1),
    "suppress": _boolean,
    "cache": _boolean,
    "cache_dir": _text,
    "executor": _one_of(EXECUTORS),
    "scheduler": _address,
}
assert set(_VALIDATORS) == {f.name for f in fields(Config)}


def _unknown_key_hint(key: str) -> str:
    valid = sorted(name.replace("_", "-") for name in _VALIDATORS)
    close = difflib.get_close_matches(key.replace("_", "-"), valid, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"unknown key.{hint} Valid keys: {', '.join(valid)}."


def validate_option(key: str, value: object, source: str = "command line") -> object:
    """Validate one option value (from the command line, or a tool call's argument) with the
    same rules as the config file."""
    name = key.replace("_", "-")
    try:
        return _VALIDATORS[key](value)
    except ValueError as exc:
        raise ConfigError(
            f"--{name}" if source == "command line" else name, str(exc), source
        ) from None


def whole_number(minimum: int, name: str, value: object, source: str) -> int:
    """``value`` as a whole number at least ``minimum`` (the config file's rule for counts),
    for an argument that is not a setting (``name`` as the caller spells it)."""
    try:
        return _int_at_least(minimum)(value)
    except ValueError as exc:
        raise ConfigError(name, str(exc), source) from None


def find_pyproject(paths: Sequence[Path], ceilings: Sequence[Path] = ()) -> Path | None:
    """The nearest pyproject.toml with a ``[tool.dupfind]`` table above the common parent,
    searching no higher than a git repository's top or, when given, the ``ceilings``."""
    resolved = [p.resolve() for p in paths] or [Path.cwd().resolve()]
    start = Path(os.path.commonpath([str(p) for p in resolved]))
    if start.is_file():
        start = start.parent
    tops = {ceiling.resolve() for ceiling in ceilings}
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and _has_dupfind_table(candidate):
            return candidate
        if (directory / ".git").exists() or directory in tops:
            return None
    return None


def _has_dupfind_table(path: Path) -> bool:
    try:
        tool = _read_toml(path).get("tool", {})
        return isinstance(tool, dict) and "dupfind" in tool
    except ConfigError:
        return True  # report the broken file rather than skipping past it


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("toml", f"invalid TOML: {exc}. Fix the file.", str(path)) from None
    except OSError as exc:
        raise ConfigError("file", f"cannot read: {exc.strerror}", str(path)) from None


def load_config_file(path: Path, discovered: bool = False) -> Config:
    """Read and validate ``[tool.dupfind]`` from ``path`` (an empty table gives defaults);
    a ``discovered`` file (found in the scanned tree) may not set ``MACHINE_KEYS``."""
    data = _read_toml(path)
    tool = data.get("tool", {})
    table = tool.get("dupfind", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError("tool.dupfind", "expected a table", str(path))
    for key in table:
        if discovered and str(key).replace("-", "_") in MACHINE_KEYS:
            raise ConfigError(
                str(key),
                "is a setting of this machine, not of the project, and is not read from a "
                "pyproject.toml found in the scanned tree; pass it on the command line or "
                "with --config FILE",
                f"{path} [tool.dupfind]",
            )
    return Config.from_mapping(table, source=f"{path} [tool.dupfind]")


def load_config(
    paths: Sequence[str],
    config_path: Path | None = None,
    options: Mapping[str, object] | None = None,
    ceilings: Sequence[Path] = (),
) -> Config:
    """The settings of a run over ``paths``: defaults < ``[tool.dupfind]`` of the nearest
    pyproject.toml, searched no higher than ``ceilings`` (or ``config_path``) < ``options``
    (command-line values, None = not given)."""
    if config_path is not None:
        base = load_config_file(config_path)
    else:
        pyproject = find_pyproject([Path(p) for p in paths], ceilings)
        base = load_config_file(pyproject, discovered=True) if pyproject else Config()
    given = {k: validate_option(k, v) for k, v in (options or {}).items() if v is not None}
    return base.merged(given)
