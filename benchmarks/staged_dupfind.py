#!/usr/bin/env python3
"""``dupfind`` with each stage boundary stamped on stderr, for per-stage memory.

Usage: ``python benchmarks/staged_dupfind.py scan ... --timings`` (the same arguments as
``dupfind``). Runs the installed dupfind CLI unchanged, except that its stage stopwatch (the one
behind ``--timings``) also prints ``@stage <epoch seconds> <stage>`` when a stage starts and
ends. The benchmark that samples the process tree's memory (measure.run_dupfind) lines its
samples up with these stamps (measure.stage_table). One print per stage: no cost to measure.
"""

from __future__ import annotations

import sys
import time

from measure import STAMP

from dupfind import cli, pipeline


def _stamp(stage: str) -> None:
    print(f"{STAMP} {time.time():.3f} {stage}", file=sys.stderr, flush=True)


class _StampedStopwatch(pipeline._Stopwatch):
    def __init__(self) -> None:
        super().__init__()
        _stamp("start")

    def lap(self, stage: str) -> None:
        super().lap(stage)
        _stamp(stage)


if __name__ == "__main__":
    pipeline._Stopwatch = _StampedStopwatch  # type: ignore[misc]
    cli.main()
