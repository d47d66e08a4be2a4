#!/usr/bin/env python3
"""Benchmark ``dupfind scan`` for speed, memory, recall and precision on a planted corpus.

Usage::

    python benchmarks/bench_scan.py [--corpus DIR] [--jobs N] [--seed S] [--plants N]

Steps (one process, run them one at a time on a quiet machine):

1. build the corpus with make_corpus.py (reused when DIR/truth.json matches seed/plants);
2. time tree-sitter alone parsing every .py file of DIR/src (the speed floor);
3. run ``dupfind scan . --format json --output DIR/report.json --min-similarity 0.5``
   with cwd DIR/src, measuring wall time and peak RSS;
4. score the report against DIR/truth.json (recall per clone type and similarity band,
   precision on groups touching planted/, samples of unplanted groups and false positives).

``--score-only REPORT`` skips step 3 and scores an existing report.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from make_corpus import CLONE_TYPES, DEFAULT_PLANTS, DEFAULT_SEED, DEFAULT_SOURCE, build_corpus
from measure import ParseStats, RunStats, run_dupfind, time_parse

MIN_SIMILARITY = 0.5
OVERLAP = 0.5  # a member must cover this fraction of a truth span
SAMPLE_SIZE = 10
SIMILARITY_BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class Member:
    path: str
    start: int
    end: int
    qualname: str


@dataclass(frozen=True)
class Group:
    index: int
    kind: str
    similarity_min: float
    similarity_mean: float
    members: tuple[Member, ...]

    @property
    def planted(self) -> bool:
        return any(m.path.startswith("planted/") for m in self.members)


@dataclass(frozen=True)
class Plant:
    id: str
    type: str
    similarity: float
    original: Member
    copy: Member


@dataclass
class Score:
    found: dict[str, Plant] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # plant id -> kind of matching group
    matched_groups: set[int] = field(default_factory=set)


# ---------------------------------------------------------------------------- corpus


def default_corpus(seed: int, plants: int) -> Path:
    return Path(tempfile.gettempdir()) / f"dupfind-bench-seed{seed}-n{plants}"


def ensure_corpus(corpus: Path, seed: int, plants: int, source: Path) -> dict[str, Any]:
    truth_path = corpus / "truth.json"
    if truth_path.exists():
        truth: dict[str, Any] = json.loads(truth_path.read_text(encoding="utf-8"))
        same = (truth["seed"], len(truth["plants"]), truth["source"]) == (seed, plants, str(source))
        if same:
            print(f"reusing corpus {corpus}")
            return truth
        print(f"rebuilding {corpus}: truth.json was made with other parameters")
    started = time.perf_counter()
    built = build_corpus(corpus, seed, source, plants, force=True)
    print(f"built corpus {corpus} in {time.perf_counter() - started:.1f}s")
    return built


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if p.is_file() and not p.is_symlink())


# ------------------------------------------------------------------------- measurement


def dupfind_command(exe: Path, output: Path, jobs: int | None, min_sim: float) -> list[str]:
    cmd = [str(exe), "scan", ".", "--format", "json", "--output", str(output), "--no-cache"]
    cmd += ["--min-similarity", str(min_sim)]
    return cmd + (["--jobs", str(jobs)] if jobs else [])


def print_performance(parse: ParseStats, run: RunStats | None, report: dict[str, Any]) -> None:
    print("\n== performance")
    print(f"files                 {parse.files} ({parse.megabytes:.1f} MiB)")
    print(f"lines                 {parse.lines}")
    print(f"dupfind files/lines   {report.get('files_scanned')} / {report.get('lines_scanned')}")
    print(f"duplicated lines      {report.get('duplicated_lines')}")
    print(f"skipped by dupfind    {len(report.get('skipped', []))}")
    print(f"tree-sitter errors    {parse.with_errors} files with ERROR nodes")
    print(f"parse-only time       {parse.seconds:.2f}s")
    if run is None:
        return
    print(f"dupfind time          {run.seconds:.2f}s")
    print(f"ratio dupfind/parse   {run.seconds / parse.seconds:.2f}x")
    print(f"peak RSS              {run.maxrss_mb:.1f} MB (largest process, ru_maxrss)")
    print(f"peak RSS, all procs   {run.tree_rss_mb:.1f} MB (sampled sum over process tree)")


# ----------------------------------------------------------------------------- scoring


def normalize_path(path: str, src: Path) -> str:
    if os.path.isabs(path):
        path = os.path.relpath(path, src)
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def load_groups(report: dict[str, Any], src: Path) -> list[Group]:
    groups = []
    for index, raw in enumerate(report["groups"]):
        members = tuple(
            Member(normalize_path(m["path"], src), m["start_line"], m["end_line"], m["qualname"])
            for m in raw["members"]
        )
        kind = raw.get("kind", "?")
        sims = (raw.get("similarity_min", 0.0), raw.get("similarity_mean", 0.0))
        groups.append(Group(index, kind, sims[0], sims[1], members))
    return groups


def load_plants(truth: dict[str, Any]) -> list[Plant]:
    def member(span: dict[str, Any]) -> Member:
        return Member(span["path"], span["start_line"], span["end_line"], span["qualname"])

    return [
        Plant(p["id"], p["type"], p["similarity"], member(p["original"]), member(p["copy"]))
        for p in truth["plants"]
    ]


def covers(member: Member, span: Member) -> bool:
    """Same file and the member overlaps at least OVERLAP of the span's lines."""
    if member.path != span.path:
        return False
    overlap = min(member.end, span.end) - max(member.start, span.start) + 1
    return overlap >= OVERLAP * (span.end - span.start + 1)


def groups_covering(index: dict[str, list[tuple[int, Member]]], span: Member) -> set[int]:
    return {g for g, m in index.get(span.path, []) if covers(m, span)}


def score(groups: list[Group], plants: list[Plant]) -> Score:
    index: dict[str, list[tuple[int, Member]]] = {}
    for group in groups:
        for m in group.members:
            index.setdefault(m.path, []).append((group.index, m))
    result = Score()
    for plant in plants:
        both = groups_covering(index, plant.copy) & groups_covering(index, plant.original)
        if both:
            result.found[plant.id] = plant
            result.kinds[plant.id] = groups[min(both)].kind
            result.matched_groups |= both
    return result


def print_table(title: str, header: list[str], rows: Iterable[list[str]]) -> None:
    rows = list(rows)
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    print(f"\n== {title}")
    for row in [header, *rows]:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))


def recall_row(label: str, plants: list[Plant], found: dict[str, Plant]) -> list[str]:
    hits = sum(p.id in found for p in plants)
    recall = f"{hits / len(plants):.3f}" if plants else "-"
    return [label, str(len(plants)), str(hits), recall]


def print_recall(plants: list[Plant], result: Score) -> None:
    header = ["type", "planted", "found", "recall"]
    rows = [recall_row(t, [p for p in plants if p.type == t], result.found) for t in CLONE_TYPES]
    rows.append(recall_row("all", plants, result.found))
    print_table("recall per clone type", header, rows)
    bins = list(itertools.pairwise(SIMILARITY_BINS))
    rows = [
        recall_row(
            f"[{lo:.1f},{hi:.1f})", [p for p in plants if lo <= p.similarity < hi], result.found
        )
        for lo, hi in bins
    ]
    rows.append(recall_row("1.0", [p for p in plants if p.similarity >= 1.0], result.found))
    print_table("recall per measured token similarity", ["similarity", *header[1:]], rows)


def print_kinds(result: Score) -> None:
    counts = Counter((p.type, result.kinds[pid]) for pid, p in result.found.items())
    kinds = sorted({k for _, k in counts})
    rows = [[t, *(str(counts[t, k]) for k in kinds)] for t in CLONE_TYPES]
    print_table("reported kind of the matching group (found plants only)", ["type", *kinds], rows)


def print_precision(groups: list[Group], result: Score) -> None:
    planted = [g for g in groups if g.planted]
    matched = sum(g.index in result.matched_groups for g in planted)
    precision = f"{matched / len(planted):.3f}" if planted else "-"
    print("\n== precision")
    print(f"groups reported                 {len(groups)}")
    print(f"groups with no planted member   {len(groups) - len(planted)} (real duplication)")
    print(f"groups touching planted/        {len(planted)}")
    print(f"  of which match a plant        {matched}")
    print(f"precision                       {precision}")


def describe_group(group: Group, limit: int = 6) -> str:
    head = f"#{group.index} {group.kind} sim min/mean {group.similarity_min:.3f}/"
    lines = [head + f"{group.similarity_mean:.3f}, {len(group.members)} members"]
    lines += [f"    {m.path}:{m.start}-{m.end} {m.qualname}" for m in group.members[:limit]]
    if len(group.members) > limit:
        lines.append(f"    ... (+{len(group.members) - limit} more)")
    return "\n".join(lines)


def print_sample(title: str, items: list[str], rng: random.Random) -> None:
    print(f"\n== {title}: {min(SAMPLE_SIZE, len(items))} of {len(items)}")
    for item in rng.sample(items, min(SAMPLE_SIZE, len(items))):
        print(item)


def describe_plant(plant: Plant) -> str:
    o, c = plant.original, plant.copy
    return (
        f"{plant.id} {plant.type} sim {plant.similarity:.3f}\n"
        f"    original {o.path}:{o.start}-{o.end} {o.qualname}\n"
        f"    copy     {c.path}:{c.start}-{c.end} {c.qualname}"
    )


def print_samples(groups: list[Group], plants: list[Plant], result: Score, seed: int) -> None:
    rng = random.Random(seed)
    real = [describe_group(g) for g in groups if not g.planted]
    print_sample("sample of groups with no planted member (judge by hand)", real, rng)
    false = [
        describe_group(g) for g in groups if g.planted and g.index not in result.matched_groups
    ]
    print_sample("sample of planted-area groups matching no plant (false positives)", false, rng)
    missed = [describe_plant(p) for p in plants if p.id not in result.found]
    print_sample("sample of missed plants", missed, rng)


def summary(plants: list[Plant], groups: list[Group], result: Score) -> dict[str, Any]:
    planted = [g for g in groups if g.planted]
    matched = sum(g.index in result.matched_groups for g in planted)
    recall = {
        t: sum(p.id in result.found for p in plants if p.type == t)
        / max(1, sum(p.type == t for p in plants))
        for t in CLONE_TYPES
    }
    return {
        "recall": recall,
        "recall_all": len(result.found) / max(1, len(plants)),
        "precision": matched / len(planted) if planted else None,
        "groups": len(groups),
        "groups_unplanted": len(groups) - len(planted),
    }


# -------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark dupfind scan on a planted corpus.")
    parser.add_argument("--corpus", type=Path, help="corpus directory (built if missing)")
    parser.add_argument("--jobs", type=int, help="passed to dupfind as --jobs N")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--plants", type=int, default=DEFAULT_PLANTS)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--min-similarity", type=float, default=MIN_SIMILARITY)
    parser.add_argument("--dupfind", type=Path, default=Path(sys.executable).parent / "dupfind")
    parser.add_argument("--score-only", type=Path, metavar="REPORT", help="score this report")
    parser.add_argument("--summary", type=Path, help="also write metrics as JSON here")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace, corpus: Path) -> tuple[RunStats | None, dict[str, Any]]:
    if args.score_only:
        return None, json.loads(args.score_only.read_text(encoding="utf-8"))
    if not args.dupfind.exists():
        raise SystemExit(f"{args.dupfind} not found (install dupfind or use --dupfind)")
    output = corpus / "report.json"
    cmd = dupfind_command(args.dupfind.resolve(), output, args.jobs, args.min_similarity)
    print(f"running: {' '.join(cmd)}  (cwd {corpus / 'src'})")
    run = run_dupfind(cmd, corpus / "src", corpus / "dupfind.log")
    return run, json.loads(output.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    corpus = (args.corpus or default_corpus(args.seed, args.plants)).resolve()
    truth = ensure_corpus(corpus, args.seed, args.plants, args.source.resolve())
    parse = time_parse(python_files(corpus / "src"))
    run, report = measure(args, corpus)
    print_performance(parse, run, report)
    plants, groups = load_plants(truth), load_groups(report, corpus / "src")
    result = score(groups, plants)
    print_recall(plants, result)
    print_kinds(result)
    print_precision(groups, result)
    print_samples(groups, plants, result, args.seed)
    if args.summary:
        metrics = summary(plants, groups, result)
        if run is not None:
            dupfind = {key: value for key, value in asdict(run).items() if key != "samples"}
            metrics["performance"] = {"parse": asdict(parse), "dupfind": dupfind}
        args.summary.write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
