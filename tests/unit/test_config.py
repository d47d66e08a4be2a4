"""Configuration: defaults, validation of [tool.dupfind] and option values, pyproject lookup."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dupfind.config import (
    FORMATS,
    MIB,
    Config,
    find_pyproject,
    load_config,
    load_config_file,
    parse_size,
    validate_option,
)
from dupfind.errors import ConfigError, ExitCode, UsageError

# --- defaults -------------------------------------------------------------------------------------


def test_defaults_are_the_documented_ones() -> None:
    config = Config()

    assert config.min_lines == 6
    assert config.min_tokens == 50
    assert config.min_similarity == 0.5
    assert config.include_pyi is False
    assert config.gitignore is True
    assert config.exclude == ()
    assert config.max_file_size == MIB == 1024 * 1024
    assert config.follow_symlinks is False
    assert config.jobs == 0
    assert config.ignore_imports is True
    assert config.ignore_all_lists is True
    assert config.ignore_stubs is True
    assert config.ignore_overloads is True
    assert config.format == "terminal"
    assert FORMATS == ("terminal", "json", "markdown", "html", "sarif")


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().min_lines = 3  # type: ignore[misc]


def test_empty_mapping_gives_defaults() -> None:
    assert Config.from_mapping({}) == Config()


# --- from_mapping -------------------------------------------------------------------------------


def test_from_mapping_accepts_dashes_and_underscores() -> None:
    config = Config.from_mapping(
        {
            "min-lines": 10,
            "min_tokens": 80,
            "min-similarity": 0.75,
            "include_pyi": True,
            "gitignore": False,
            "exclude": ["generated/", "*_pb2.py"],
            "max-file-size": "2MiB",
            "follow-symlinks": True,
            "jobs": 4,
            "ignore-imports": False,
            "ignore_all_lists": False,
            "ignore-stubs": False,
            "ignore_overloads": False,
            "format": "json",
        }
    )

    assert config == Config(
        min_lines=10,
        min_tokens=80,
        min_similarity=0.75,
        include_pyi=True,
        gitignore=False,
        exclude=("generated/", "*_pb2.py"),
        max_file_size=2 * MIB,
        follow_symlinks=True,
        jobs=4,
        ignore_imports=False,
        ignore_all_lists=False,
        ignore_stubs=False,
        ignore_overloads=False,
        format="json",
    )


def test_from_mapping_converts_values() -> None:
    config = Config.from_mapping({"min-similarity": 1, "exclude": ("a/",), "max-file-size": 2048})

    assert config.min_similarity == 1.0
    assert isinstance(config.min_similarity, float)
    assert config.exclude == ("a/",)
    assert isinstance(config.exclude, tuple)
    assert config.max_file_size == 2048


@pytest.mark.parametrize("value", [0.0, 0.5, 1.0, 0, 1])
def test_similarity_bounds_are_inclusive(value: float) -> None:
    assert Config.from_mapping({"min-similarity": value}).min_similarity == float(value)


def test_jobs_zero_is_allowed() -> None:
    assert Config.from_mapping({"jobs": 0}).jobs == 0


def test_unknown_key_names_the_key_and_suggests_the_closest() -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_mapping({"min_line": 3}, source="pyproject.toml [tool.dupfind]")

    error = info.value
    assert error.key == "min_line"
    assert error.source == "pyproject.toml [tool.dupfind]"
    message = str(error)
    assert "min_line" in message
    assert "unknown key" in message
    assert "Did you mean 'min-lines'" in message
    assert "pyproject.toml [tool.dupfind]" in message
    assert error.exit_code == ExitCode.USAGE
    assert isinstance(error, UsageError)


def test_unknown_key_lists_valid_keys() -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_mapping({"colour": "red"})

    message = str(info.value)
    assert "colour" in message
    assert "Did you mean" not in message
    for key in ("min-lines", "min-similarity", "max-file-size", "follow-symlinks", "exclude"):
        assert key in message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("min-lines", True, "whole number >= 1"),
        ("min-lines", 0, "whole number >= 1"),
        ("min-lines", 2.5, "whole number >= 1"),
        ("min_tokens", "50", "whole number >= 1"),
        ("min-similarity", "0.8", "number between 0 and 1"),
        ("min-similarity", 1.5, "number between 0 and 1"),
        ("min-similarity", -0.1, "number between 0 and 1"),
        ("min-similarity", True, "number between 0 and 1"),
        ("min-similarity", float("nan"), "number between 0 and 1"),
        ("jobs", -1, "whole number >= 0"),
        ("jobs", False, "whole number >= 0"),
        ("exclude", "*_pb2.py", "list of glob patterns"),
        ("exclude", ["ok/", 3], "list of glob patterns"),
        ("exclude", {"a": 1}, "list of glob patterns"),
        ("gitignore", "yes", "true or false"),
        ("include-pyi", 1, "true or false"),
        ("max-file-size", "huge", "positive size"),
        ("format", "xml", "terminal, json"),
    ],
)
def test_wrong_values_name_the_key_and_the_expected_value(
    key: str, value: object, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_mapping({key: value})

    assert info.value.key == key
    assert str(info.value).startswith(f"configuration: {key}: expected ")
    assert expected in str(info.value)


def test_wrong_value_message_shows_the_value() -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_mapping({"min-similarity": "0.8"})

    assert "'0.8'" in str(info.value)


def test_first_bad_key_is_reported_even_among_good_ones() -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_mapping({"min-lines": 8, "jobs": -2})

    assert info.value.key == "jobs"


# --- validate_option ----------------------------------------------------------------------------


def test_validate_option_converts_like_the_config_file() -> None:
    assert validate_option("max_file_size", "512k") == 512 * 1024
    assert validate_option("min_similarity", 1) == 1.0
    assert validate_option("exclude", ["a/", "b/"]) == ("a/", "b/")


def test_validate_option_error_names_the_option() -> None:
    with pytest.raises(ConfigError) as info:
        validate_option("min_similarity", 2.0)

    assert info.value.key == "--min-similarity"
    assert info.value.source == "command line"
    assert "between 0 and 1" in str(info.value)


# --- parse_size ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2048, 2048),
        (1, 1),
        ("2048", 2048),
        ("1MiB", MIB),
        ("1mib", MIB),
        ("1 MB", MIB),
        ("2m", 2 * MIB),
        ("512k", 512 * 1024),
        ("512KiB", 512 * 1024),
        ("512kb", 512 * 1024),
        ("100b", 100),
        ("1G", 1024 * MIB),
        ("1GiB", 1024 * MIB),
        ("  3 KiB  ", 3 * 1024),
    ],
)
def test_parse_size_accepts_numbers_and_units(value: object, expected: int) -> None:
    assert parse_size(value) == expected


@pytest.mark.parametrize(
    "value",
    [0, -1, "0", "0k", "-1k", "1.5MiB", "1 TB", "MiB", "", "lots", 1.5, True, None, [1024]],
)
def test_parse_size_rejects_bad_values(value: object) -> None:
    with pytest.raises(ValueError, match="positive size"):
        parse_size(value)


def test_bad_max_file_size_in_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_mapping({"max-file-size": "1.5MiB"})

    assert info.value.key == "max-file-size"
    assert "'1.5MiB'" in str(info.value)


# --- merged -------------------------------------------------------------------------------------


def test_merged_overrides_only_the_given_values() -> None:
    base = Config(min_lines=100, exclude=("a/",), format="json")

    merged = base.merged({"min_lines": 6, "jobs": 2})

    assert merged == Config(min_lines=6, exclude=("a/",), format="json", jobs=2)
    assert base.min_lines == 100  # the original is unchanged


def test_merged_with_nothing_is_equal() -> None:
    base = Config(min_tokens=10)
    assert base.merged({}) == base


def test_analysis_key_depends_only_on_per_file_settings() -> None:
    base = Config()

    assert base.analysis_key() == Config(min_similarity=0.9, jobs=3, format="json").analysis_key()
    assert base.analysis_key() != Config(min_lines=99).analysis_key()
    assert base.analysis_key() != Config(ignore_imports=False).analysis_key()
    assert base.analysis_key() != Config(ignore_stubs=False).analysis_key()


# --- find_pyproject -----------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_find_pyproject_finds_the_nearest_with_a_dupfind_table(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    outer = _write(tmp_path / "pyproject.toml", "[tool.dupfind]\nmin-lines = 10\n")
    inner = _write(tmp_path / "pkg" / "pyproject.toml", "[tool.dupfind]\nmin-lines = 20\n")
    (tmp_path / "pkg" / "src" / "mod").mkdir(parents=True)
    (tmp_path / "other").mkdir()

    assert find_pyproject([tmp_path / "pkg" / "src" / "mod"]) == inner.resolve()
    assert find_pyproject([tmp_path / "pkg"]) == inner.resolve()
    assert find_pyproject([tmp_path / "other"]) == outer.resolve()


def test_find_pyproject_skips_a_pyproject_without_dupfind_table(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    outer = _write(tmp_path / "pyproject.toml", "[tool.dupfind]\nmin-lines = 10\n")
    _write(tmp_path / "pkg" / "pyproject.toml", "[project]\nname = 'pkg'\n[tool.ruff]\n")

    assert find_pyproject([tmp_path / "pkg"]) == outer.resolve()


def test_find_pyproject_starts_from_a_files_directory(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    found = _write(tmp_path / "pkg" / "pyproject.toml", "[tool.dupfind]\n")
    module = _write(tmp_path / "pkg" / "mod.py", "x = 1\n")

    assert find_pyproject([module]) == found.resolve()


def test_find_pyproject_uses_the_common_parent_of_several_paths(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    top = _write(tmp_path / "pyproject.toml", "[tool.dupfind]\n")
    _write(tmp_path / "a" / "pyproject.toml", "[tool.dupfind]\nmin-lines = 1\n")
    (tmp_path / "b").mkdir()

    assert find_pyproject([tmp_path / "a", tmp_path / "b"]) == top.resolve()


def test_find_pyproject_stops_at_the_repository_root(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.dupfind]\nmin-lines = 10\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()

    assert find_pyproject([repo / "src"]) is None
    assert find_pyproject([repo]) is None


def test_find_pyproject_finds_the_one_at_the_repository_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    found = _write(repo / "pyproject.toml", "[tool.dupfind]\n")
    (repo / "src" / "pkg").mkdir(parents=True)

    assert find_pyproject([repo / "src" / "pkg"]) == found.resolve()


def test_find_pyproject_returns_a_malformed_file_so_it_can_be_reported(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    broken = _write(tmp_path / "pyproject.toml", "[tool.dupfind\nmin-lines = \n")

    assert find_pyproject([tmp_path]) == broken.resolve()


def test_find_pyproject_defaults_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    found = _write(tmp_path / "pyproject.toml", "[tool.dupfind]\n")
    monkeypatch.chdir(tmp_path)

    assert find_pyproject([]) == found.resolve()
    assert find_pyproject([Path(".")]) == found.resolve()


# --- load_config_file ---------------------------------------------------------------------------


def test_load_config_file_reads_the_table(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.dupfind]\nmin-lines = 12\nexclude = ["gen/"]\n'
        'max-file-size = "512k"\nmin_similarity = 0.9\n',
    )

    assert load_config_file(path) == Config(
        min_lines=12, exclude=("gen/",), max_file_size=512 * 1024, min_similarity=0.9
    )


def test_pyproject_without_dupfind_table_gives_defaults(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.ruff]\nline-length = 9\n'
    )

    assert load_config_file(path) == Config()


def test_empty_dupfind_table_gives_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path / "pyproject.toml", "[tool.dupfind]\n")

    assert load_config_file(path) == Config()


def test_malformed_toml_is_a_config_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "pyproject.toml", "[tool.dupfind\nmin-lines = 6\n")

    with pytest.raises(ConfigError) as info:
        load_config_file(path)

    assert "invalid TOML" in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.exit_code == ExitCode.USAGE


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    with pytest.raises(ConfigError) as info:
        load_config_file(path)

    assert "cannot read" in str(info.value)
    assert str(path) in str(info.value)


def test_dupfind_not_a_table_is_a_config_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "pyproject.toml", "[tool]\ndupfind = 3\n")

    with pytest.raises(ConfigError) as info:
        load_config_file(path)

    assert info.value.key == "tool.dupfind"
    assert "expected a table" in str(info.value)


def test_unknown_key_in_file_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = _write(tmp_path / "pyproject.toml", "[tool.dupfind]\nmin_line = 3\n")

    with pytest.raises(ConfigError) as info:
        load_config_file(path)

    message = str(info.value)
    assert str(path) in message
    assert "[tool.dupfind]" in message
    assert "min_line" in message
    assert "Did you mean 'min-lines'" in message


def test_bad_value_in_file_names_the_file_the_key_and_the_expectation(tmp_path: Path) -> None:
    path = _write(tmp_path / "pyproject.toml", '[tool.dupfind]\nexclude = "gen/"\n')

    with pytest.raises(ConfigError) as info:
        load_config_file(path)

    message = str(info.value)
    assert str(path) in message
    assert "exclude" in message
    assert "list of glob patterns" in message


@pytest.mark.parametrize(
    "line", ['cache-dir = ".dupcache"', 'executor = "dask"', 'scheduler = "tcp://evil:1"']
)
def test_a_discovered_pyproject_may_not_set_where_dupfind_stores_or_runs(
    tmp_path: Path, line: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.dupfind]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="setting of this machine, not of the project"):
        load_config([str(tmp_path)])
    given = load_config([str(tmp_path)], config_path=tmp_path / "pyproject.toml")  # explicit
    assert given != Config()


def test_the_pyproject_search_stops_at_the_ceilings(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.dupfind]\nmin-lines = 9\n", encoding="utf-8")
    inner = tmp_path / "root" / "pkg"
    inner.mkdir(parents=True)
    assert load_config([str(inner)]).min_lines == 9
    assert load_config([str(inner)], ceilings=[tmp_path / "root"]).min_lines == 6
