"""When a configuration is rejected by the layers, find what would be valid instead; pure.

The layers raise ``ValueError`` for combinations no single field can check (a stride that
does not divide, a channel mismatch). Knowing only the catalog, the app can still say what
would work: change one field at a time, keep the others, and try the cheap forward and
backward pass (no numerical gradient check) for each candidate value.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from derivations.run import run_topic
from derivations.topic import Config, Topic, Value

MAX_CANDIDATES = 64  # values tried per field: int ranges are capped by the catalog's bounds anyway
TIME_BUDGET_S = 1.0


def config_error(topic: Topic, config: Config) -> str | None:
    """The layers' message for ``config`` when its forward or backward rejects it, else None."""
    try:
        run_topic(topic, config, check=False)
    except ValueError as error:
        return str(error)
    return None


def candidate_values(topic: Topic, name: str) -> tuple[Value, ...]:
    field = topic.field(name)
    if field.kind == "choice":
        return tuple(field.choices)
    if field.kind == "int" and field.low is not None and field.high is not None:
        return tuple(range(int(field.low), int(min(field.high, field.low + MAX_CANDIDATES - 1)) + 1))
    return ()  # floats: no finite list to try


def valid_alternatives(
    topic: Topic,
    config: Config,
    is_valid: Callable[[Config], bool] | None = None,
    budget_s: float = TIME_BUDGET_S,
) -> dict[str, tuple[Value, ...]]:
    """For each field, the values that make ``config`` valid when only that field changes.

    Returns field name -> valid values (only fields with at least one); fields are tried in
    catalog order until ``budget_s`` seconds have passed.
    """
    check = is_valid or (lambda candidate: _runs(topic, candidate))
    deadline = time.perf_counter() + budget_s
    found: dict[str, tuple[Value, ...]] = {}
    for field in topic.fields:
        good = []
        for value in candidate_values(topic, field.name):
            if time.perf_counter() > deadline:
                return found
            if value == config[field.name]:
                continue
            if check(config.replace(**{field.name: value})):
                good.append(value)
        if good:
            found[field.name] = tuple(good)
    return found


def _runs(topic: Topic, config: Config) -> bool:
    try:
        return config_error(topic, config) is None
    except Exception:  # noqa: BLE001 - any failure makes a candidate invalid, never the app
        return False


def alternatives_text(alternatives: dict[str, tuple[Value, ...]]) -> str:
    """``"stride could be 1 or 3; pad could be 0, 2 or 4"`` (empty when nothing was found)."""
    parts = []
    for name, values in alternatives.items():
        shown = [str(v) for v in values[:8]] + (["..."] if len(values) > 8 else [])
        listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
        parts.append(f"{name} could be {listed}")
    return "; ".join(parts)
