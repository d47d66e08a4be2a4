"""Discovery: which files a scan reads, which it passes over and why."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from dupfind.config import Config
from dupfind.discover import DEFAULT_EXCLUDES, Discovery, discover_files
from dupfind.errors import ExitCode, UsageError
from dupfind.models import SkippedFile


def _touch(root: Path, *names: str, text: str = "x = 1\n") -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _rel(paths: Sequence[str], root: Path) -> list[str]:
    return [Path(p).relative_to(root).as_posix() for p in paths]


def _found(root: Path, config: Config | None = None, target: Path | None = None) -> list[str]:
    """The files found when scanning ``target`` (default ``root``), relative to ``root``."""
    discovery = discover_files([str(target or root)], config or Config())
    return _rel(discovery.files, root)


def _skipped(discovery: Discovery, root: Path) -> dict[str, SkippedFile]:
    return {Path(item.path).relative_to(root).as_posix(): item for item in discovery.skipped}


# --- basic walking -------------------------------------------------------------------------------


def test_python_files_are_found_and_sorted(tmp_path: Path) -> None:
    _touch(tmp_path, "zeta.py", "alpha.py", "pkg/mid.py", "pkg/sub/deep.py", "Beta.py")
    _touch(tmp_path, "notes.txt", "data.json", "script.pyc", "README.md", "pkg/setup.cfg")

    discovery = discover_files([str(tmp_path)], Config())

    assert _rel(discovery.files, tmp_path) == [
        "Beta.py",
        "alpha.py",
        "pkg/mid.py",
        "pkg/sub/deep.py",
        "zeta.py",
    ]
    assert list(discovery.files) == sorted(discovery.files)
    assert discovery.skipped == ()


def test_relative_paths_stay_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _touch(tmp_path, "pkg/a.py", "pkg/sub/b.py")
    monkeypatch.chdir(tmp_path)

    assert discover_files(["pkg"], Config()).files == ("pkg/a.py", "pkg/sub/b.py")
    assert discover_files(["."], Config()).files == ("pkg/a.py", "pkg/sub/b.py")


def test_empty_directory_gives_nothing(tmp_path: Path) -> None:
    assert discover_files([str(tmp_path)], Config()) == Discovery(files=(), skipped=())


def test_stubs_are_skipped_unless_include_pyi(tmp_path: Path) -> None:
    _touch(tmp_path, "mod.py", "mod.pyi", "pkg/types.pyi")

    assert _found(tmp_path) == ["mod.py"]
    assert _found(tmp_path, Config(include_pyi=True)) == ["mod.py", "mod.pyi", "pkg/types.pyi"]


# --- default excludes -------------------------------------------------------------------------

PRUNED_DIRS = [
    ".git",
    ".venv",
    "venv",
    "build",
    "dist",
    "node_modules",
    "__pycache__",
    ".tox",
    ".mypy_cache",
    "site-packages",
    "mypkg.egg-info",
]


@pytest.mark.parametrize("dirname", PRUNED_DIRS)
def test_default_excludes_are_pruned_at_any_depth(tmp_path: Path, dirname: str) -> None:
    _touch(tmp_path, "keep.py", f"{dirname}/top.py", f"src/pkg/{dirname}/nested/deep.py")

    assert _found(tmp_path) == ["keep.py"]


def test_default_excludes_cover_the_documented_names() -> None:
    documented = set(PRUNED_DIRS) - {"mypkg.egg-info"}
    assert documented <= set(DEFAULT_EXCLUDES)


def test_default_excludes_match_whole_directory_names_only(tmp_path: Path) -> None:
    _touch(tmp_path, "build.py", "dist.py", "building/a.py", "my_venv/b.py", "egg-info.py")

    assert _found(tmp_path) == [
        "build.py",
        "building/a.py",
        "dist.py",
        "egg-info.py",
        "my_venv/b.py",
    ]


def test_a_default_excluded_directory_named_explicitly_is_scanned(tmp_path: Path) -> None:
    _touch(tmp_path, "build/gen.py", "build/lib/more.py")

    assert _found(tmp_path, target=tmp_path / "build") == ["build/gen.py", "build/lib/more.py"]


# --- exclude globs ------------------------------------------------------------------------------


def test_exclude_directory_glob_prunes_it_at_any_depth(tmp_path: Path) -> None:
    _touch(tmp_path, "app.py", "generated/a.py", "pkg/generated/b.py", "pkg/generated_not.py")

    config = Config(exclude=("generated/",))

    assert _found(tmp_path, config) == ["app.py", "pkg/generated_not.py"]


def test_exclude_file_glob(tmp_path: Path) -> None:
    _touch(tmp_path, "app.py", "api_pb2.py", "proto/user_pb2.py", "proto/user.py")

    assert _found(tmp_path, Config(exclude=("*_pb2.py",))) == ["app.py", "proto/user.py"]


def test_exclude_anchored_glob_is_relative_to_the_scanned_root(tmp_path: Path) -> None:
    _touch(tmp_path, "top.py", "pkg/top.py")

    assert _found(tmp_path, Config(exclude=("/top.py",))) == ["pkg/top.py"]


def test_several_exclude_globs_combine(tmp_path: Path) -> None:
    _touch(tmp_path, "app.py", "migrations/0001.py", "x_pb2.py", "tests/test_app.py")

    config = Config(exclude=("migrations/", "*_pb2.py", "tests/"))

    assert _found(tmp_path, config) == ["app.py"]


# --- .gitignore ------------------------------------------------------------------------------


def test_root_gitignore_is_honoured(tmp_path: Path) -> None:
    _touch(tmp_path, "app.py", "secret.py", "scratch/a.py", "pkg/secret.py", "pkg/b.py")
    (tmp_path / ".gitignore").write_text("# comment\nsecret.py\nscratch/\n", encoding="utf-8")

    assert _found(tmp_path) == ["app.py", "pkg/b.py"]


def test_nested_gitignore_applies_only_below_its_directory(tmp_path: Path) -> None:
    _touch(
        tmp_path, "local.py", "pkg/local.py", "pkg/deep/local.py", "pkg/kept.py", "other/local.py"
    )
    (tmp_path / "pkg" / ".gitignore").write_text("local.py\n", encoding="utf-8")

    assert _found(tmp_path) == ["local.py", "other/local.py", "pkg/kept.py"]


def test_nested_gitignore_anchored_pattern_is_relative_to_its_directory(tmp_path: Path) -> None:
    _touch(tmp_path, "gen.py", "pkg/gen.py", "pkg/deeper/gen.py")
    (tmp_path / "pkg" / ".gitignore").write_text("/gen.py\n", encoding="utf-8")

    assert _found(tmp_path) == ["gen.py", "pkg/deeper/gen.py"]


def test_gitignore_negation_keeps_the_file(tmp_path: Path) -> None:
    _touch(tmp_path, "gen_a.py", "gen_b.py", "keep.py", "pkg/gen_c.py", "pkg/keep.py", "app.py")
    (tmp_path / ".gitignore").write_text("gen_*.py\nkeep.py\n!keep.py\n", encoding="utf-8")

    assert _found(tmp_path) == ["app.py", "keep.py", "pkg/keep.py"]


def test_nested_gitignore_negation_overrides_a_parent_pattern(tmp_path: Path) -> None:
    # git: patterns in a deeper .gitignore take precedence, so `!gen_keep.py` re-includes the file
    # the root .gitignore ignored (verified with `git status --untracked-files=all`).
    _touch(tmp_path, "gen_root.py", "sub/gen_keep.py", "sub/gen_other.py", "sub/app.py")
    (tmp_path / ".gitignore").write_text("gen_*.py\n", encoding="utf-8")
    (tmp_path / "sub" / ".gitignore").write_text("!gen_keep.py\n", encoding="utf-8")

    assert _found(tmp_path) == ["sub/app.py", "sub/gen_keep.py"]


def test_gitignore_false_disables_gitignore(tmp_path: Path) -> None:
    _touch(tmp_path, "app.py", "secret.py", "scratch/a.py", "pkg/local.py")
    (tmp_path / ".gitignore").write_text("secret.py\nscratch/\n", encoding="utf-8")
    (tmp_path / "pkg" / ".gitignore").write_text("*.py\n", encoding="utf-8")

    assert _found(tmp_path) == ["app.py"]
    assert _found(tmp_path, Config(gitignore=False)) == [
        "app.py",
        "pkg/local.py",
        "scratch/a.py",
        "secret.py",
    ]


def test_gitignore_false_still_applies_default_excludes_and_globs(tmp_path: Path) -> None:
    _touch(tmp_path, "app.py", ".venv/lib.py", "x_pb2.py")

    assert _found(tmp_path, Config(gitignore=False, exclude=("*_pb2.py",))) == ["app.py"]


def test_parent_gitignore_up_to_repo_root_applies_to_a_subdirectory(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*_gen.py\n/pkg/anchored.py\n", encoding="utf-8")
    _touch(tmp_path, "pkg/a.py", "pkg/x_gen.py", "pkg/anchored.py", "pkg/sub/y_gen.py")

    assert _found(tmp_path, target=tmp_path / "pkg") == ["pkg/a.py"]


def test_parent_gitignores_between_repo_root_and_target_all_apply(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*_gen.py\n", encoding="utf-8")
    _touch(tmp_path, "src/pkg/a.py", "src/pkg/x_gen.py", "src/pkg/local.py")
    (tmp_path / "src" / ".gitignore").write_text("local.py\n", encoding="utf-8")

    assert _found(tmp_path, target=tmp_path / "src" / "pkg") == ["src/pkg/a.py"]


def test_parent_gitignore_applies_with_a_relative_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*_gen.py\n", encoding="utf-8")
    _touch(tmp_path, "pkg/a.py", "pkg/x_gen.py")
    monkeypatch.chdir(tmp_path / "pkg")

    assert discover_files(["."], Config()).files == ("a.py",)


def test_parent_gitignore_outside_a_repository_is_not_used(tmp_path: Path) -> None:
    assert not any((d / ".git").exists() for d in tmp_path.parents), "test needs no repo above"
    (tmp_path / ".gitignore").write_text("*_gen.py\n", encoding="utf-8")
    _touch(tmp_path, "pkg/a.py", "pkg/x_gen.py")

    assert _found(tmp_path, target=tmp_path / "pkg") == ["pkg/a.py", "pkg/x_gen.py"]


def test_parent_gitignore_is_not_used_with_gitignore_false(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*_gen.py\n", encoding="utf-8")
    _touch(tmp_path, "pkg/a.py", "pkg/x_gen.py")

    found = _found(tmp_path, Config(gitignore=False), target=tmp_path / "pkg")

    assert found == ["pkg/a.py", "pkg/x_gen.py"]


def test_gitignore_of_an_enclosing_repository_stops_at_a_nested_repository(
    tmp_path: Path,
) -> None:
    # `inner` is its own repository: the outer repository's .gitignore does not apply inside it
    # (verified with `git status` in the inner repository).
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*_gen.py\n", encoding="utf-8")
    (tmp_path / "inner" / ".git").mkdir(parents=True)
    _touch(tmp_path, "inner/a.py", "inner/x_gen.py")

    assert _found(tmp_path, target=tmp_path / "inner") == ["inner/a.py", "inner/x_gen.py"]


def test_directory_named_explicitly_is_scanned_even_if_a_parent_gitignore_ignores_it(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("vendor/\n", encoding="utf-8")
    _touch(tmp_path, "app.py", "vendor/lib.py", "vendor/sub/more.py")

    assert _found(tmp_path) == ["app.py"]
    assert _found(tmp_path, target=tmp_path / "vendor") == ["vendor/lib.py", "vendor/sub/more.py"]
    assert _found(tmp_path, target=tmp_path / "vendor" / "sub") == ["vendor/sub/more.py"]


# --- explicitly named files ----------------------------------------------------------------------


def test_explicitly_named_files_are_included_whatever_the_filters(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("ignored.py\n", encoding="utf-8")
    _touch(tmp_path, "ignored.py", "build/gen.py", "api.pyi", "x_pb2.py", "tool")
    names = ["ignored.py", "build/gen.py", "api.pyi", "x_pb2.py", "tool"]

    discovery = discover_files(
        [str(tmp_path / name) for name in names], Config(exclude=("*_pb2.py",))
    )

    assert _rel(discovery.files, tmp_path) == sorted(names)
    assert discovery.skipped == ()


def test_files_and_directories_can_be_mixed(tmp_path: Path) -> None:
    _touch(tmp_path, "one/a.py", "one/b.py", "two/c.py", "three/d.py")

    discovery = discover_files([str(tmp_path / "two" / "c.py"), str(tmp_path / "one")], Config())

    assert _rel(discovery.files, tmp_path) == ["one/a.py", "one/b.py", "two/c.py"]


# --- missing paths and duplicates ---------------------------------------------------------------


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    _touch(tmp_path, "a.py")
    missing = tmp_path / "nope"

    with pytest.raises(UsageError) as info:
        discover_files([str(tmp_path), str(missing)], Config())

    assert info.value.exit_code == ExitCode.USAGE
    assert int(info.value.exit_code) == 2
    assert str(missing) in str(info.value)
    assert "no such file or directory" in str(info.value)


def test_same_file_given_twice_appears_once(tmp_path: Path) -> None:
    _touch(tmp_path, "a.py")
    path = str(tmp_path / "a.py")

    assert discover_files([path, path], Config()).files == (path,)


def test_file_given_directly_and_via_its_directory_appears_once(tmp_path: Path) -> None:
    _touch(tmp_path, "pkg/a.py", "pkg/b.py")

    for order in (
        [tmp_path / "pkg", tmp_path / "pkg" / "a.py"],
        [tmp_path / "pkg" / "a.py", tmp_path / "pkg"],
    ):
        discovery = discover_files([str(p) for p in order], Config())
        assert _rel(discovery.files, tmp_path) == ["pkg/a.py", "pkg/b.py"]


def test_same_directory_spelled_differently_appears_once(tmp_path: Path) -> None:
    _touch(tmp_path, "pkg/a.py", "other/b.py")
    spellings = [
        str(tmp_path / "pkg"),
        str(tmp_path / "other" / ".." / "pkg"),
        str(tmp_path / "pkg"),
    ]

    discovery = discover_files(spellings, Config())

    assert len(discovery.files) == 1
    assert os.path.realpath(discovery.files[0]) == os.path.realpath(tmp_path / "pkg" / "a.py")


def test_overlapping_directories_give_each_file_once(tmp_path: Path) -> None:
    _touch(tmp_path, "a.py", "pkg/b.py", "pkg/sub/c.py")

    discovery = discover_files([str(tmp_path / "pkg"), str(tmp_path)], Config())

    assert sorted(_rel(discovery.files, tmp_path)) == ["a.py", "pkg/b.py", "pkg/sub/c.py"]
    assert len(set(discovery.files)) == len(discovery.files) == 3


# --- symbolic links ------------------------------------------------------------------------------


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    try:
        link.symlink_to(target, target_is_directory=target.is_dir())
    except OSError as exc:  # pragma: no cover - platforms without symlinks
        pytest.skip(f"cannot create symbolic links: {exc}")


def test_symlinked_file_is_skipped_with_a_reason_by_default(tmp_path: Path) -> None:
    _touch(tmp_path, "outside/real.py", "pkg/a.py")
    _link(tmp_path / "pkg" / "link.py", tmp_path / "outside" / "real.py")

    discovery = discover_files([str(tmp_path / "pkg")], Config())

    assert _rel(discovery.files, tmp_path) == ["pkg/a.py"]
    skipped = _skipped(discovery, tmp_path)
    assert list(skipped) == ["pkg/link.py"]
    assert "symbolic link" in skipped["pkg/link.py"].reason
    assert "--follow-symlinks" in skipped["pkg/link.py"].reason


def test_symlinked_file_is_followed_with_follow_symlinks(tmp_path: Path) -> None:
    _touch(tmp_path, "outside/real.py", "pkg/a.py")
    _link(tmp_path / "pkg" / "link.py", tmp_path / "outside" / "real.py")

    discovery = discover_files([str(tmp_path / "pkg")], Config(follow_symlinks=True))

    assert _rel(discovery.files, tmp_path) == ["pkg/a.py", "pkg/link.py"]
    assert discovery.skipped == ()


def test_symlinked_directory_is_not_entered_by_default(tmp_path: Path) -> None:
    _touch(tmp_path, "outside/lib/real.py", "pkg/a.py")
    _link(tmp_path / "pkg" / "linked", tmp_path / "outside" / "lib")

    assert _found(tmp_path, target=tmp_path / "pkg") == ["pkg/a.py"]
    assert _found(tmp_path, Config(follow_symlinks=True), target=tmp_path / "pkg") == [
        "pkg/a.py",
        "pkg/linked/real.py",
    ]


def test_symlink_to_a_file_in_the_tree_is_found_once_when_followed(tmp_path: Path) -> None:
    _touch(tmp_path, "pkg/real.py")
    _link(tmp_path / "pkg" / "alias.py", tmp_path / "pkg" / "real.py")

    discovery = discover_files([str(tmp_path / "pkg")], Config(follow_symlinks=True))

    assert len(discovery.files) == 1
    assert os.path.realpath(discovery.files[0]) == os.path.realpath(tmp_path / "pkg" / "real.py")


def test_symlink_loop_terminates_and_finds_each_file_once(tmp_path: Path) -> None:
    _touch(tmp_path, "pkg/a.py", "pkg/sub/b.py")
    _link(tmp_path / "pkg" / "sub" / "loop", tmp_path / "pkg")  # pkg/sub/loop -> pkg
    _link(tmp_path / "pkg" / "self", tmp_path / "pkg")  # pkg/self -> pkg

    discovery = discover_files([str(tmp_path / "pkg")], Config(follow_symlinks=True))

    assert _rel(discovery.files, tmp_path) == ["pkg/a.py", "pkg/sub/b.py"]
    assert discovery.skipped == ()


def test_symlink_loop_is_ignored_without_follow_symlinks(tmp_path: Path) -> None:
    _touch(tmp_path, "pkg/a.py")
    _link(tmp_path / "pkg" / "loop", tmp_path / "pkg")

    assert _found(tmp_path, target=tmp_path / "pkg") == ["pkg/a.py"]


def test_broken_symlink_named_explicitly_is_skipped_not_an_error(tmp_path: Path) -> None:
    _link(tmp_path / "dangling.py", tmp_path / "gone.py")

    discovery = discover_files([str(tmp_path / "dangling.py")], Config())

    assert discovery.files == ()
    assert [item.path for item in discovery.skipped] == [str(tmp_path / "dangling.py")]
    assert "cannot read" in discovery.skipped[0].reason


# --- size limit --------------------------------------------------------------------------------


def test_oversized_file_is_skipped_with_a_reason_naming_the_limit(tmp_path: Path) -> None:
    _touch(tmp_path, "small.py", text="x = 1\n")
    _touch(tmp_path, "big.py", text="x = 1\n" * 100)  # 600 bytes

    discovery = discover_files([str(tmp_path)], Config(max_file_size=100))

    assert _rel(discovery.files, tmp_path) == ["small.py"]
    skipped = _skipped(discovery, tmp_path)
    assert list(skipped) == ["big.py"]
    assert "max-file-size" in skipped["big.py"].reason
    assert skipped["big.py"].partial is False


def test_file_at_exactly_the_size_limit_is_scanned(tmp_path: Path) -> None:
    _touch(tmp_path, "exact.py", text="#" * 99 + "\n")  # 100 bytes

    assert _found(tmp_path, Config(max_file_size=100)) == ["exact.py"]
    assert _found(tmp_path, Config(max_file_size=99)) == []


def test_size_limit_applies_to_explicitly_named_files(tmp_path: Path) -> None:
    _touch(tmp_path, "big.py", text="x = 1\n" * 100)
    path = str(tmp_path / "big.py")

    discovery = discover_files([path], Config(max_file_size=100))

    assert discovery.files == ()
    assert [item.path for item in discovery.skipped] == [path]


def test_skipped_files_are_reported_once_and_sorted(tmp_path: Path) -> None:
    _touch(tmp_path, "z_big.py", "a_big.py", text="x = 1\n" * 100)

    discovery = discover_files(
        [str(tmp_path), str(tmp_path / "z_big.py"), str(tmp_path)], Config(max_file_size=100)
    )

    assert _rel([item.path for item in discovery.skipped], tmp_path) == ["a_big.py", "z_big.py"]
