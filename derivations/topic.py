"""What the catalog knows about a topic, and the configuration a user picks.

A ``Topic`` bundles everything the app and the exporters need, so that neither
names a layer: its fields (dimensions and hyper-parameters with defaults and
bounds), how to draw seeded inputs, how to run ``layers`` forward and
backward, and how to build its derivation, graph and verification.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Value = int | float | str


@dataclass(frozen=True)
class Field:
    """A dimension or hyper-parameter the user can set.

    ``kind`` is "int", "float" or "choice"; ints and floats have inclusive
    bounds ``low``..``high``; choices list their options. ``group`` is
    "dimension" or "hyper-parameter" (how the sidebar groups them).
    """

    name: str
    label: str
    kind: Literal["int", "float", "choice"]
    default: Value
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    group: Literal["dimension", "hyper-parameter"] = "dimension"
    help: str = ""

    def parse(self, raw: Any) -> Value:
        """Convert a widget or URL value; ValueError naming the field, the value and what is valid."""
        if self.kind == "choice":
            if str(raw) not in self.choices:
                raise ValueError(f"{self.name}={raw!r} is not one of {', '.join(self.choices)}")
            return str(raw)
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name}={raw!r} is not a number; {self.bounds_text()}") from None
        if not math.isfinite(number):
            raise ValueError(f"{self.name}={raw!r} is not a finite number; {self.bounds_text()}")
        if self.kind == "int":
            if not number.is_integer():
                raise ValueError(f"{self.name}={raw!r} is not a whole number; {self.bounds_text()}")
            number = int(number)
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise ValueError(f"{self.name}={raw!r} is out of bounds; {self.bounds_text()}")
        return number

    def bounds_text(self) -> str:
        kind = "a whole number" if self.kind == "int" else "a number"
        return f"{self.name} must be {kind} from {self.low:g} to {self.high:g}"


@dataclass(frozen=True)
class Config:
    """A complete, hashable choice: topic key, every field's value, seed, implementation.

    Hashable and frozen so that ``st.cache_data`` and ``functools.lru_cache`` can key on it.
    """

    layer: str
    values: tuple[tuple[str, Value], ...]
    seed: int = 0
    impl: str = "naive"

    def __getitem__(self, name: str) -> Value:
        for key, value in self.values:
            if key == name:
                return value
        raise KeyError(f"{self.layer} has no field {name!r}")

    def as_dict(self) -> dict[str, Value]:
        return dict(self.values)

    def replace(self, **changes: Value) -> Config:
        """A copy with some field values changed (the seed and impl stay)."""
        return Config(self.layer, tuple((k, changes.get(k, v)) for k, v in self.values), self.seed, self.impl)


Arrays = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class PlotSpec:
    """A topic's request for an activation plot, drawn by a generic builder in ``app/figures.py``.

    ``kind`` picks the builder, so the app never needs to know the topic:
    - "distributions": overlaid histograms, one per entry of ``data`` (1-D arrays of values).
    - "lines": one line per entry of ``data`` (1-D arrays of equal length) against ``x``
      (``np.arange`` when ``x`` is None); ``log_y`` for gradient norms.
    - "heatmaps": a grid of panels, one per entry of ``data`` (2-D arrays).
    - "marked_heatmaps": like heatmaps; ``markers[name]`` is a (k, 2) array of
      (row, col) cells to mark on panel ``name`` (max pool: each window's maximum).
    """

    kind: Literal["distributions", "lines", "heatmaps", "marked_heatmaps"]
    title: str
    data: Mapping[str, np.ndarray]
    x: np.ndarray | None = None
    x_label: str = ""
    y_label: str = ""
    log_y: bool = False
    markers: Mapping[str, np.ndarray] = field(default_factory=dict)
    caption: str = ""


@dataclass(frozen=True)
class Topic:
    """One catalog entry.

    - inputs: names of the differentiable inputs in the spec's order (gradients "d" + name).
    - outputs: names of the forward outputs ("out"; "next_h", "next_c"); upstream gradients "d" + name.
    - make_inputs(config, rng) -> every array the forward needs (differentiable or not).
    - forward(config, arrays) -> (outputs by name, cache); calls ``layers`` with ``config.impl``.
    - backward(config, upstream by name, cache) -> gradients by name ("dx", "dgamma", ...).
    - derivation(config) / graph(config) / verify(config): see ``derivations.model``.
    - proof_config: the small configuration ``verify`` proves symbolically.
    - activations(config, result) -> PlotSpecs of what fits the topic (``result`` is a
      ``derivations.run.RunResult``).
    - impls: implementations offered ("naive", and "fast" where a vectorized twin exists).
    - reference_impl: the forward implementation the numerical gradient check differentiates
      (the vectorized one where it exists: tests prove it equal to the naive one to 1e-10, and
      the check runs two forwards per input entry). ``None``: the configuration's own.
    - spec_check: Python source of the spec's own check(s) for this layer, written correctly
      (each lambda uses its argument), printing relative errors; run by the notebook export.
    """

    key: str
    part: int
    title: str
    summary: str
    fields: tuple[Field, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    make_inputs: Callable[[Config, np.random.Generator], dict[str, np.ndarray]]
    forward: Callable[[Config, Arrays], tuple[dict[str, np.ndarray], Any]]
    backward: Callable[[Config, Arrays, Any], dict[str, np.ndarray]]
    derivation: Callable[[Config], Any]
    graph: Callable[[Config], Any]
    verify: Callable[[Config], Any]
    activations: Callable[[Config, Any], tuple[PlotSpec, ...]] = lambda config, result: ()
    impls: tuple[str, ...] = ("naive",)
    spec_check: str = ""
    reference_impl: str | None = None

    def field(self, name: str) -> Field:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(f"{self.key} has no field {name!r}")

    def default_config(self, seed: int = 0) -> Config:
        return Config(self.key, tuple((f.name, f.default) for f in self.fields), seed, self.impls[0])

    def config_from(self, raw: Mapping[str, Any], seed: Any = 0, impl: Any = None) -> Config:
        """A config from raw widget/URL values; missing fields take their defaults.

        Raises ValueError naming the first bad value (out of bounds, not a number,
        unknown implementation)."""
        values = tuple((f.name, f.parse(raw[f.name]) if f.name in raw else f.default) for f in self.fields)
        try:
            seed_value = int(str(seed))
        except ValueError:
            raise ValueError(f"seed={seed!r} is not a whole number") from None
        if not 0 <= seed_value < 2**32:
            raise ValueError(f"seed={seed_value} must be from 0 to {2**32 - 1}")
        chosen = self.impls[0] if impl is None else str(impl)
        if chosen not in self.impls:
            raise ValueError(f"impl={chosen!r} is not offered for {self.key}; choose {', '.join(self.impls)}")
        return Config(self.key, values, seed_value, chosen)
