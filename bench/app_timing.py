"""Time the explainer with Streamlit's AppTest: for every topic, a first run of a configuration
the app has not seen (default sizes, a fresh seed) and a rerun of the same configuration.

``make bench`` prints the table; ``measure()`` returns the rows for other scripts.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

APP = str(ROOT / "app" / "main.py")
FIRST_RUN_GOAL_S = 1.5
RERUN_GOAL_S = 0.3


@dataclass(frozen=True)
class Row:
    layer: str
    first_run_s: float  # a configuration never seen before (default sizes, fresh seed)
    rerun_s: float  # the same configuration again: everything comes from the caches
    proof_in_first_run: bool  # the sympy proof finished in time to be shown by the first run
    exception: str  # "" when the runs were clean


def _timed_run(at) -> float:
    start = time.perf_counter()
    at.run()
    return time.perf_counter() - start


def measure(layers: list[str] | None = None, repeats: int = 3) -> list[Row]:
    """One row per topic: median first-run and rerun times (seconds) over ``repeats`` runs.

    Each repeat uses the topic's default sizes with a seed not used before, so every cache
    (Streamlit's, the topics' own, the proof results) misses, while the process stays warm
    as a running server is: modules imported, the proof worker started.
    """
    from streamlit.testing.v1 import AppTest

    from derivations.catalog import TOPICS

    warm = AppTest.from_file(APP, default_timeout=300)
    warm.run()  # imports, script compilation and the proof worker's start-up: paid once per server
    rows = []
    for index, key in enumerate(layers or list(TOPICS)):
        firsts, reruns, proved, problem = [], [], [], ""
        for repeat in range(repeats):
            at = AppTest.from_file(APP, default_timeout=300)
            at.query_params["layer"] = key
            at.query_params["seed"] = str(10_000 + 100 * index + repeat)  # never seen: a new configuration
            firsts.append(_timed_run(at))
            proved.append(any("Proved" in element.value for element in at.success))
            reruns.append(_timed_run(at))
            if at.exception:
                problem = at.exception[0].value[:80]
        rows.append(Row(key, statistics.median(firsts), statistics.median(reruns), all(proved), problem))
    return rows


def table(rows: list[Row]) -> str:
    lines = [f"{'topic':<12} {'first run (s)':>14} {'rerun (s)':>10} {'proof shown':>12}  goal: first < "
             f"{FIRST_RUN_GOAL_S} s, rerun < {RERUN_GOAL_S} s"]
    for row in rows:
        verdict = "ok" if row.first_run_s < FIRST_RUN_GOAL_S and row.rerun_s < RERUN_GOAL_S else "SLOW"
        shown = "yes" if row.proof_in_first_run else "no"
        lines.append(f"{row.layer:<12} {row.first_run_s:>14.3f} {row.rerun_s:>10.3f} {shown:>12}  {verdict}"
                     + (f"  exception: {row.exception}" if row.exception else ""))
    return "\n".join(lines)


def print_table(rows: list[Row]) -> None:
    print(table(rows))


if __name__ == "__main__":
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)  # AppTest's bare-mode warnings
    print_table(measure(sys.argv[1:] or None))
