#!/usr/bin/env python3
"""How close to the parse-only time a scan can get: the per-token floor of the map stage.

Usage::

    python benchmarks/bench_floor.py [--source DIR] [--cores N]

In one process, on one core, over every ``.py`` file of DIR (default: this Python's standard
library): tree-sitter's parse alone (the figure every benchmark divides by), then over the same
trees a bare cursor walk that visits every node and does nothing else (the least any Python
pass over the tokens costs), dupfind's token emission over each whole file
(``normalise.TokenSink.emit``: one cursor walk, three codes and two offsets per token), the
whole extraction (units, statement lists, hashes) and the whole per-file stage
(``pipeline.analyse_source``: parse and extraction included). Prints each as a multiple of the
parse time, and the lowest cold-scan time that ``--cores`` cores could reach if the reduce
(candidates, scoring, grouping, classification) and the report took no time at all. Run it
alone: ``flock /tmp/dupfind-bench.lock python ...``.
"""

from __future__ import annotations

import argparse
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

import tree_sitter
from measure import time_parse

from dupfind.config import Config
from dupfind.extract import extract
from dupfind.normalise import TokenSink
from dupfind.parse import language
from dupfind.pipeline import analyse_source


def bare_walk(node: tree_sitter.Node) -> int:
    """Visit every node of ``node``'s subtree with a cursor, reading only its kind."""
    cursor, visited = node.walk(), 0
    while True:
        visited += 1
        _ = cursor.node.kind_id  # type: ignore[union-attr]
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return visited


def emit_all(tree: tree_sitter.Tree) -> int:
    sink = TokenSink()
    sink.emit(tree.root_node)
    return len(sink)


def timed(step: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    count = step()
    return time.perf_counter() - started, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    files = sorted(p for p in args.source.rglob("*.py") if "site-packages" not in p.parts)
    parse = time_parse(files)
    blobs = [(str(path), path.read_bytes()) for path in files]
    ts_parser = tree_sitter.Parser(language())
    trees = [ts_parser.parse(data) for _, data in blobs]
    config = Config()
    walk, nodes = timed(lambda: sum(bare_walk(tree.root_node) for tree in trees))
    emit, tokens = timed(lambda: sum(emit_all(tree) for tree in trees))
    extraction, _ = timed(lambda: sum(len(extract(tree, config).units) for tree in trees))
    whole, _ = timed(lambda: sum(1 for path, data in blobs if analyse_source(path, data, config)))
    print(f"files {parse.files}, lines {parse.lines}, nodes {nodes:,}, tokens {tokens:,}")
    rows = [
        ("parse-only (tree-sitter)", parse.seconds),
        ("bare cursor walk, every node", walk),
        ("token emission, whole files", emit),
        ("extraction (emission + structure)", extraction),
        ("whole per-file stage (parse included)", whole),
    ]
    for name, seconds in rows:
        print(f"{name:40s} {seconds:6.2f}s  {seconds / parse.seconds:5.2f}x parse")
    floor = whole / args.cores
    print(
        f"\nper-file stage alone on {args.cores} cores, perfectly shared: {floor:.2f}s = "
        f"{floor / parse.seconds:.2f}x parse-only, before any reduce or report"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
