"""Shared test helpers: a source-tree builder and the --update-goldens option."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Callable
from datetime import datetime
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


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own cache directory (never the user's)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


TreeWriter = Callable[[dict[str, str]], Path]


def git(repo: Path, *args: str, when: datetime | None = None) -> str:
    """Run git in ``repo`` isolated from the user's configuration, optionally dating the
    commit; returns stdout (raises if git fails)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    identity = ["-c", "user.name=t", "-c", "user.email=t@e", "-c", "commit.gpgsign=false"]
    done = subprocess.run(
        ["git", *identity, *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


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


# Two functions 55-80% alike: a near-miss pair under the consolidate threshold.
TOTAL = """
def total(rows):
    result = 0
    for row in rows:
        if row.active:
            result += row.amount * row.rate
        else:
            result -= row.fee
    print("total", result)
    return round(result, 2)
"""

SUMMED = """
def summed(items):
    acc = 0
    for item in items:
        if item.active:
            acc += item.amount * item.rate
        elif item.fee:
            acc -= item.fee
            log(item)
    print("summed", acc)
    return acc
"""

# A small class (with {decorator} and {bases} empty where a test needs neither).
PRICES = '''
{decorator}class {name}{bases}:
    """Prices of one supplier, loaded lazily."""

    def __init__(self, client):
        self.client = client
        self.cache = {{}}

    def price(self, sku):
        if sku not in self.cache:
            self.cache[sku] = self.client.get("{path}", params={{"sku": sku}})
        return self.cache[sku]
'''
