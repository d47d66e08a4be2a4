"""The executors without a cluster: ordered, bounded submission; file batches and score chunks
that are self-contained (they survive a pickle round trip, as on a remote worker) and give
exactly the serial results."""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import dupfind.copies
from dupfind.config import Config
from dupfind.corpus import Frequency, count
from dupfind.executor import DaskMapper, ProcessPoolMapper, ordered_window, serial_map
from dupfind.models import FileAnalysis, SkippedFile
from dupfind.pipeline import (
    FileBatch,
    Packed,
    _batches,
    _map_files,
    analyse_batch,
    analyse_file,
    find_groups,
)
from dupfind.score import ScoreChunk, Tokens, score_chunk
from dupfind.sketch import sketch_of
from tests.conftest import FIXTURES, LOADER, TreeWriter


def _slow_square(value: int) -> int:
    time.sleep(0.002 * (value % 4))  # later items often finish first
    return value * value


def test_ordered_window_yields_in_input_order_with_a_bounded_window() -> None:
    read: list[int] = []
    in_flight = 0
    most = 0
    lock = threading.Lock()

    def items() -> Iterator[int]:
        for value in range(40):
            read.append(value)
            yield value

    with ThreadPoolExecutor(max_workers=4) as pool:

        def submit(value: int) -> Any:
            nonlocal in_flight, most
            with lock:
                in_flight += 1
                most = max(most, in_flight)
            return pool.submit(_slow_square, value)

        results = []
        for result in ordered_window(submit, items(), window=5):
            in_flight -= 1
            results.append(result)
            assert len(read) <= len(results) + 5  # items are read only as the window moves
    assert results == [value * value for value in range(40)]
    assert most == 5


class _ShippingClient:
    """Stands for a distributed.Client: every item and result crosses a pickle, as it would
    to a remote worker, and the shipped items are kept for inspection."""

    def __init__(self) -> None:
        self.shipped: list[object] = []

    def submit(self, function: Callable[[Any], Any], item: object, *, pure: bool) -> Any:
        assert pure is False
        self.shipped.append(item)
        done = pickle.loads(pickle.dumps(function(pickle.loads(pickle.dumps(item)))))
        return _Done(done)


class _Done:
    def __init__(self, value: object) -> None:
        self.value = value

    def result(self) -> object:
        return self.value


def test_files_are_shipped_in_batches_with_their_bytes(make_tree: TreeWriter) -> None:
    root = make_tree({f"pkg/m{i:02}.py": LOADER + f"\nX{i} = {i}\n" for i in range(40)})
    files = [*sorted(str(path) for path in root.glob("pkg/*.py")), str(root / "missing.py")]
    config = Config(jobs=1)
    client = _ShippingClient()
    remote = DaskMapper(client, workers=2)  # type: ignore[arg-type]
    shipped = list(_map_files(files, config, None, remote))
    assert shipped == [analyse_file(path, config) for path in files]
    assert isinstance(shipped[-1], SkippedFile) and "cannot read" in shipped[-1].reason
    batches = [item for item in client.shipped if isinstance(item, FileBatch)]
    assert [len(batch.files) for batch in batches] == [2] * 20 + [1]  # 41 // (2 workers * 8)
    assert [path for batch in batches for path, _ in batch.files] == files
    first_path, first_data = batches[0].files[0]
    assert first_data == Path(first_path).read_bytes()  # workers need no shared filesystem


def test_batches_hold_at_most_their_size_and_skip_unreadable_files(tmp_path: Path) -> None:
    paths = [str(tmp_path / name) for name in ("a.py", "b.py", "gone.py")]
    for path in paths[:2]:
        Path(path).write_text("x = 1\n", encoding="utf-8")
    batches = list(_batches(paths, Config(), 2, None, False))
    assert [[path for path, _ in batch.files] for batch in batches] == [paths[:2], paths[2:]]
    (_, missing), = batches[1].files  # fmt: skip
    assert isinstance(missing, SkippedFile)
    assert analyse_batch(batches[1]) == [missing]


def test_workers_pack_analyses_and_sketches_for_the_cache(tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_text("def f(x):\n    return x + 1\n", encoding="utf-8")
    paths = [str(source), str(tmp_path / "gone.py")]
    (plain,) = list(_batches(paths, Config(), 2, None, False))
    (packed,) = list(_batches(paths, Config(), 2, None, True))
    analysis, missing = analyse_batch(plain)
    assert isinstance(analysis, FileAnalysis)
    made, skipped = analyse_batch(packed)
    assert isinstance(made, Packed) and skipped == missing
    assert pickle.loads(made.blob) == analysis
    assert made.sketch == sketch_of(analysis).encode()


def test_a_local_process_pool_keeps_input_order() -> None:
    with ProcessPoolMapper(2) as run:
        assert list(run(_slow_square, range(12))) == [value * value for value in range(12)]


def _analyses(root: Path, config: Config) -> tuple[list[FileAnalysis], Frequency]:
    files = sorted(str(path) for path in root.rglob("*.py"))
    results = (analyse_file(path, config) for path in files)
    analyses = [result for result in results if isinstance(result, FileAnalysis)]
    return analyses, Frequency.of(count(analyses))


class _Recording:
    """A mapper that pickles each chunk on its way, like a remote one, and keeps them."""

    def __init__(self) -> None:
        self.chunks: list[ScoreChunk] = []

    def __call__(self, function: Callable[[Any], Any], items: Any) -> list[Any]:
        shipped = [pickle.loads(pickle.dumps(item)) for item in items]
        self.chunks.extend(shipped)
        return [function(item) for item in shipped]


@pytest.mark.parametrize("case", ["near_miss_75", "renamed_vars", "block_in_function"])
def test_score_chunks_are_self_contained_and_score_as_serial(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config(jobs=1)
    analyses, frequency = _analyses(FIXTURES / "cases" / case, config)
    expected = find_groups(analyses, config, frequency)
    monkeypatch.setattr(dupfind.copies, "SCORE_CHUNK_PAIRS", 2)
    recording = _Recording()
    found = find_groups(analyses, config, frequency, None, recording)
    assert [item.group for item in found] == [item.group for item in expected]
    assert recording.chunks, "some pair needed a similarity"
    for chunk in recording.chunks:
        assert 1 <= len(chunk.pairs) <= 2
        named = {index for pair in chunk.pairs for index in pair}
        assert named == set(range(len(chunk.tokens)))  # exactly the tokens it needs
        assert all(chunk.tokens[a].exact != chunk.tokens[b].exact for a, b in chunk.pairs)


def test_exact_copies_are_decided_without_shipping_anything(make_tree: TreeWriter) -> None:
    root = make_tree({"a.py": LOADER, "b.py": LOADER, "c.py": LOADER})
    config = Config(jobs=1)
    analyses, frequency = _analyses(root, config)
    recording = _Recording()
    (found,) = find_groups(analyses, config, frequency, None, recording)
    assert len(found.group.members) == 3 and found.group.similarity_min == 1.0
    assert recording.chunks == []


def test_score_chunk_scores_each_pair_in_order() -> None:
    config = Config(jobs=1)
    analyses, _ = _analyses(FIXTURES / "cases" / "near_miss_75", config)
    tokens = tuple(Tokens.whole(a.exact, a.shape) for a in analyses)
    pairs = ((0, 1), (1, 0), (0, 0))
    chunk = ScoreChunk(tokens, pairs, 0.0)
    first, backwards, itself = score_chunk(chunk)
    assert 0.0 < first < 1.0  # two different files of a near-miss fixture: partly alike
    assert (backwards, itself) == (first, 1.0)  # symmetric; identical code scores 1
    assert score_chunk(pickle.loads(pickle.dumps(chunk))) == [first, backwards, itself]
    assert serial_map(score_chunk, [chunk]) == [[first, backwards, itself]]
