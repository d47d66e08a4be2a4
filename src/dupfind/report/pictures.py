"""The HTML report's pictures: geometry computed here, drawn as inline SVG by the template.

Everything is deterministic (sorted inputs, coordinates rounded to 0.1 px), so the same view
always gives the same picture; the template only turns these records into SVG elements, with
Jinja's autoescaping for every text.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from dupfind.models import union_length
from dupfind.report.view import DirectoryView, GroupView, ReportView, plural

MAX_DIRECTORIES = 25
MAX_FILES = 60
LABEL_CHARS = 42
PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
VERDICT_COLOURS = {"consolidate": "#2e7d32", "extract": "#1565c0", "leave-separate": "#8d8d8d"}
OTHER_COLOUR = "#555555"
GRAPH_SIZE = 900
GRAPH_RADIUS = 260.0


@dataclass(frozen=True, slots=True)
class Bar:
    y: float
    width: float
    label: str
    title: str
    value: str


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    label_x: int  # right edge of the labels
    bar_x: int
    bar_max: int  # width of a 100% bar
    bar_height: int
    bars: tuple[Bar, ...]
    total: int  # directories with duplicated lines, before the cap


@dataclass(frozen=True, slots=True)
class Node:
    x: float
    y: float
    r: float
    colour: str
    label: str
    label_x: float
    label_y: float
    anchor: str
    title: str


@dataclass(frozen=True, slots=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class Graph:
    size: int
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    legend: tuple[tuple[str, str], ...]  # (domain, colour)
    total: int  # files in clone groups, before the cap


def _shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` cut from the left to ``limit`` characters (the end of a path says the most)."""
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def directory_chart(view: ReportView) -> BarChart:
    """Duplicated share of each directory, the ``MAX_DIRECTORIES`` with most duplicated lines."""
    duplicated = [d for d in view.directories if d.duplicated_lines > 0]
    top = sorted(duplicated, key=lambda d: (-d.duplicated_lines, d.path))[:MAX_DIRECTORIES]
    row, top_margin, bar_max = 22, 8, 300
    bars = tuple(_bar(d, top_margin + n * row, bar_max) for n, d in enumerate(top))
    return BarChart(
        width=860,
        height=top_margin * 2 + row * len(bars),
        label_x=300,
        bar_x=310,
        bar_max=bar_max,
        bar_height=16,
        bars=bars,
        total=len(duplicated),
    )


def _bar(directory: DirectoryView, y: int, bar_max: int) -> Bar:
    share = min(1.0, directory.duplicated_lines / directory.lines) if directory.lines else 0.0
    value = f"{directory.duplicated_lines} of {plural(directory.lines, 'line')} ({share:.1%})"
    return Bar(
        y=float(y),
        width=round(bar_max * share, 1),
        label=_shorten(directory.path),
        title=f"{directory.path}: {value} duplicated",
        value=value,
    )


def _file_weights(groups: Iterable[GroupView]) -> tuple[dict[str, int], dict[str, str]]:
    """Duplicated lines and the most common domain of every file in a clone group."""
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    domains: dict[str, Counter[str]] = defaultdict(Counter)
    for group in groups:
        for member in group.members:
            spans[member.path].append((member.start_line, member.end_line))
            domains[member.path][member.domain] += 1
    lines = {path: union_length(parts) for path, parts in spans.items()}
    domain = {path: min(c, key=lambda d: (-c[d], d)) for path, c in domains.items()}
    return lines, domain


def _edges(view: ReportView, kept: set[str]) -> dict[tuple[str, str], tuple[int, str]]:
    """``(file, file) -> (groups joining them, verdict of the highest-priority one)``."""
    weights: Counter[tuple[str, str]] = Counter()
    verdicts: dict[tuple[str, str], str] = {}
    for index in view.plan:
        group = view.groups[index]
        files = sorted({m.path for m in group.members} & kept)
        for pair in combinations(files, 2):
            weights[pair] += 1
            verdicts.setdefault(pair, group.verdict)
    return {pair: (weights[pair], verdicts[pair]) for pair in sorted(weights)}


def clone_graph(view: ReportView) -> Graph:
    """Files (the ``MAX_FILES`` with most duplicated lines) on a circle, joined by their groups."""
    lines, domain = _file_weights(view.groups)
    kept = sorted(sorted(lines, key=lambda p: (-lines[p], p))[:MAX_FILES])
    names = sorted({domain[p] for p in kept})
    colours = {name: PALETTE[n % len(PALETTE)] for n, name in enumerate(names)}
    biggest = max((lines[p] for p in kept), default=1)
    nodes = tuple(
        _node(path, n / len(kept), lines[path] / biggest, colours[domain[path]],
              f"{plural(lines[path], 'duplicated line')} (domain {domain[path] or '-'})")
        for n, path in enumerate(kept)
    )  # fmt: skip
    positions = {path: (node.x, node.y) for path, node in zip(kept, nodes, strict=True)}
    edges = tuple(
        _edge(positions[a], positions[b], a, b, weight, verdict)
        for (a, b), (weight, verdict) in _edges(view, set(kept)).items()
    )
    legend = tuple((name or "(no domain)", colours[name]) for name in names)
    return Graph(GRAPH_SIZE, nodes, edges, legend, len(lines))


def _node(path: str, turn: float, share: float, colour: str, detail: str) -> Node:
    """The node ``turn`` of the way round the circle (from the top, clockwise)."""
    angle = 2 * math.pi * turn - math.pi / 2
    cos, sin = math.cos(angle), math.sin(angle)
    centre = GRAPH_SIZE / 2
    r = round(4 + 12 * math.sqrt(share), 1)
    gap = GRAPH_RADIUS + r + 6
    return Node(
        x=round(centre + GRAPH_RADIUS * cos, 1), y=round(centre + GRAPH_RADIUS * sin, 1), r=r,
        colour=colour, label=_shorten(path.rsplit("/", 1)[-1], 24),
        label_x=round(centre + gap * cos, 1), label_y=round(centre + gap * sin + 3, 1),
        anchor="start" if cos >= -1e-9 else "end", title=f"{path}: {detail}",
    )  # fmt: skip


def _edge(
    start: tuple[float, float], end: tuple[float, float], a: str, b: str, weight: int, verdict: str
) -> Edge:
    return Edge(
        x1=start[0], y1=start[1], x2=end[0], y2=end[1],
        width=round(min(8.0, 1.5 + 1.5 * math.log2(weight)), 1),
        colour=VERDICT_COLOURS.get(verdict, OTHER_COLOUR),
        title=f"{a} ↔ {b}: {plural(weight, 'clone group')} (first: {verdict})",
    )  # fmt: skip
