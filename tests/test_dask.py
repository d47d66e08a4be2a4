"""``--executor dask`` on a real ``distributed.LocalCluster`` (two worker processes): the CLI's
JSON output must be byte for byte the serial run's, the work must really run on the workers,
the cache must work in front of the cluster, and every way of failing to reach a cluster must
exit 2 with a message that says what to do."""

from __future__ import annotations

import itertools
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import distributed  # in the dev extra: these tests must run, never skip
import pytest
from typer.testing import CliRunner, Result

import dupfind.executor
from dupfind import Config, scan
from dupfind.cache import FILENAME, AnalysisCache
from dupfind.cli import app
from dupfind.discover import discover_files
from dupfind.keys import code_identity
from dupfind.pipeline import BATCH_FILES
from tests.conftest import FIXTURES


class Cluster:
    """A running LocalCluster and a client to ask its scheduler what ran."""

    def __init__(self, cluster: distributed.LocalCluster, client: distributed.Client) -> None:
        self.cluster = cluster
        self.client = client
        self.address = str(cluster.scheduler_address)

    def completed(self) -> dict[str, int]:
        """Tasks that finished on the workers so far, by function name."""
        counts: dict[str, int] = self.client.run_on_scheduler(_completed)
        return counts


def _completed(dask_scheduler: distributed.Scheduler) -> dict[str, int]:
    return {
        name: prefix.state_counts["memory"] for name, prefix in dask_scheduler.task_prefixes.items()
    }


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as local,
        distributed.Client(local, set_as_default=False) as client,
    ):
        yield Cluster(local, client)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every fixture case and plan tree: exact, renamed and near-miss copies, statement runs,
    classes, unreadable and broken files (130 Python files)."""
    root = tmp_path_factory.mktemp("tree")
    shutil.copytree(FIXTURES, root / "fixtures")
    return root


def _dupfind(tree: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "dupfind", *args, "--format", "json", "fixtures"],
        cwd=tree, capture_output=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def serial(tree: Path) -> dict[str, bytes]:
    """The serial run's output per command."""
    outputs = {}
    for command in ("scan", "plan"):
        done = _dupfind(tree, command, "--jobs", "1", "--no-cache")
        assert done.returncode == 0, done.stderr.decode()
        outputs[command] = done.stdout
    return outputs


@pytest.mark.parametrize("command", ["scan", "plan"])
def test_the_cluster_gives_the_serial_output_byte_for_byte(
    command: str, cluster: Cluster, tree: Path, serial: dict[str, bytes]
) -> None:
    before = cluster.completed()
    done = _dupfind(tree, command, "--executor", "dask", "--scheduler", cluster.address,
                    "--no-cache")  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    assert b'"groups": [' in done.stdout and b'"kind": "near-miss"' in done.stdout
    assert done.stdout == serial[command]
    after = cluster.completed()
    assert after["analyse_batch"] - before.get("analyse_batch", 0) == _batches(tree)
    assert after["score_chunk"] - before.get("score_chunk", 0) >= 1


def _batches(tree: Path) -> int:
    """How many batches the files make: 8 per worker and batch, at most BATCH_FILES."""
    files = len(discover_files([str(tree / "fixtures")], Config()).files)
    size = max(1, min(BATCH_FILES, files // (2 * 8)))
    assert 1 < size < BATCH_FILES
    return -(-files // size)


def test_the_cache_works_in_front_of_the_cluster(
    cluster: Cluster, tree: Path, serial: dict[str, bytes], tmp_path: Path
) -> None:
    where = tmp_path / "cache"
    args = ("scan", "--executor", "dask", "--scheduler", cluster.address, "--cache-dir", str(where))
    counts = [cluster.completed()]
    outputs = []
    for _ in range(2):
        outputs.append(_dupfind(tree, *args))
        counts.append(cluster.completed())
    with sqlite3.connect(where / FILENAME) as connection:  # keep the per-file entries only
        connection.execute("DELETE FROM results")
        connection.execute("DELETE FROM memos")
    connection.close()
    outputs.append(_dupfind(tree, *args))
    counts.append(cluster.completed())
    for done in outputs:
        assert done.returncode == 0, done.stderr.decode()
        assert done.stdout == serial["scan"]
    names = ("analyse_batch", "score_chunk")
    sent = [
        {name: after.get(name, 0) - before.get(name, 0) for name in names}
        for before, after in itertools.pairwise(counts)
    ]
    assert sent[0]["analyse_batch"] > 2 and sent[0]["score_chunk"] >= 1  # cold: everything
    assert sent[1] == {"analyse_batch": 0, "score_chunk": 0}  # the stored result, no cluster
    # per-file entries only: just the two files that cannot be decoded (never cached) are sent
    # again, one per batch, and the candidates are scored on the cluster again
    assert sent[2]["analyse_batch"] == 2 and sent[2]["score_chunk"] == sent[0]["score_chunk"]
    cache = AnalysisCache(where)
    info = cache.info()
    cache.close()
    assert info.last_hits > 100 and info.last_misses == 2


def test_the_library_scan_on_the_cluster_equals_the_serial_scan(
    cluster: Cluster, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    local = Config(jobs=1, history=False, cache=False)
    remote = local.merged({"executor": "dask", "scheduler": cluster.address})
    expected = scan(["fixtures"], local)
    before = cluster.completed()
    found = scan(["fixtures"], remote)
    after = cluster.completed()
    assert after["analyse_batch"] > before.get("analyse_batch", 0)  # it did run on the cluster
    assert found.groups == expected.groups
    assert found.recommendations == expected.recommendations
    assert found.skipped == expected.skipped


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["scan", "--no-cache", *args])


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dupfind.executor, "CONNECT_TIMEOUT", 1.0)


def test_dask_without_a_scheduler_address_exits_2(tree: Path) -> None:
    result = invoke("--executor", "dask", str(tree / "fixtures" / "cases" / "exact_layout"))
    assert result.exit_code == 2
    assert "--executor dask needs --scheduler ADDRESS" in result.output


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--executor", "spark", "expected one of local, dask, got 'spark'"),
        ("--scheduler", "tcp://a b:1", "expected a scheduler address HOST:PORT"),
        ("--scheduler", "notaurl", "such as tcp://10.0.0.5:8786, got 'notaurl'"),
        ("--scheduler", "tcp://host", "expected a scheduler address HOST:PORT"),
    ],
)
def test_bad_executor_options_exit_2(option: str, value: str, message: str) -> None:
    result = invoke(option, value, ".")
    assert result.exit_code == 2
    assert message in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.usefixtures("quick")
def test_an_unreachable_scheduler_exits_2_naming_it(tree: Path) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = invoke("--executor", "dask", "--scheduler", address, str(tree / "fixtures"))
    assert result.exit_code == 2
    assert f"cannot reach the Dask scheduler at {address}" in result.output
    assert "`dask scheduler` runs there" in result.output


@pytest.mark.usefixtures("quick")
def test_a_scheduler_without_workers_exits_2(tree: Path) -> None:
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as empty:
        address = empty.scheduler_address
        result = invoke("--executor", "dask", "--scheduler", address, str(tree / "fixtures"))
    assert result.exit_code == 2
    assert f"has no workers: start some with `dask worker {address}`" in result.output


def test_workers_with_another_dupfind_exit_2(
    cluster: Cluster, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dupfind.executor, "code_identity", lambda: "dupfind 0.0.0-here")
    result = invoke("--executor", "dask", "--scheduler", cluster.address, str(tree / "fixtures"))
    assert result.exit_code == 2
    assert "the Dask workers must run dupfind 0.0.0-here on Python" in result.output
    assert result.output.count(f"has {code_identity()} on Python") == 2  # both workers


def test_dask_without_the_extra_says_how_to_install_it(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed → ImportError
    result = invoke("--executor", "dask", "--scheduler", "tcp://127.0.0.1:8786", str(tree))
    assert result.exit_code == 2
    assert "an optional extra: pip install 'dupfind[dask]'" in result.output
