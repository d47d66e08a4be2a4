"""The one exception hierarchy of dupfind, and the process exit codes.

Every error says what failed, where, and what to do; ``cli.py`` is the only place that catches
:class:`DupfindError`, prints its message and exits with its ``exit_code``. Problems with a single
input file are not errors: they become ``SkippedFile`` records and the scan goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in README and ``--help``."""

    OK = 0
    DUPLICATES = 1
    USAGE = 2
    INTERNAL = 3


class DupfindError(Exception):
    """Base class: an internal error unless a subclass says otherwise."""

    exit_code: ExitCode = ExitCode.INTERNAL


class UsageError(DupfindError):
    """The command line asks for something impossible (bad path, bad option value)."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """``[tool.dupfind]`` or a CLI option holds an unknown key or an invalid value."""

    def __init__(self, key: str, problem: str, source: str = "configuration") -> None:
        self.key = key
        self.problem = problem
        self.source = source
        super().__init__(f"{source}: {key}: {problem}")


class ClusterError(UsageError):
    """``--executor dask`` cannot run: the extra is missing, or the scheduler cannot be reached
    or has no usable workers."""


class TargetError(UsageError):
    """``dupfind similar``'s TARGET names no code: a missing file, an unknown qualified name,
    a bad line range or an empty snippet."""


class OutsideRootError(UsageError):
    """The MCP server was asked about a path outside the roots it was started with."""


@contextmanager
def optional_extra(
    module: str, feature: str, what: str, extra: str, error: type[UsageError] = UsageError
) -> Iterator[None]:
    """Imports of ``module`` inside need the optional ``extra``: when it is missing, ``feature``
    fails with ``error`` saying how to install it (a module it imports that is missing is not
    that: it is raised as it is)."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != module:
            raise
        raise error(
            f"{feature} needs {what}, an optional extra: pip install 'dupfind[{extra}]'"
        ) from None
