"""Median wall-clock timing after a warm-up, the only timing rule the benchmarks use."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(work: Callable[[], object], repeats: int = 15, warmup: int = 3, budget: float = 20.0) -> float:
    """Median of ``repeats`` timed calls after ``warmup`` untimed ones; stops early past ``budget`` seconds."""
    for _ in range(warmup):
        work()
    samples = []
    started = time.perf_counter()
    for _ in range(repeats):
        begin = time.perf_counter()
        work()
        samples.append(time.perf_counter() - begin)
        if time.perf_counter() - started > budget and len(samples) >= 3:
            break
    return statistics.median(samples)
