"""Shared test helpers: a source-tree builder and the --update-goldens option."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="Rewrite tests/golden/* and fixtures' expected files from the current output.",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


TreeWriter = Callable[[dict[str, str]], Path]


@pytest.fixture
def make_tree(tmp_path: Path) -> TreeWriter:
    """Write ``{relative path: dedented source}`` under a temporary directory."""

    def write(files: dict[str, str]) -> Path:
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return tmp_path

    return write


# A realistic function (about 80 tokens, 12 lines) reused by several tests.
LOADER = '''
def load_settings(path, defaults):
    """Read settings from a file, falling back to defaults."""
    settings = dict(defaults)
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise ValueError(f"{path}:{number}: expected key=value")
            settings[key.strip()] = value.strip()
    return settings
'''

LOADER_RENAMED = """
def read_options(filename, fallback):
    options = dict(fallback)
    with open(filename, encoding="latin-1") as stream:
        for index, row in enumerate(stream, 1):
            row = row.strip()
            if not row or row.startswith(";"):
                continue
            name, sep, text = row.partition("=")
            if not sep:
                raise ValueError(f"{filename}:{index}: expected name=value")
            options[name.strip()] = text.strip()
    return options
"""
