"""What a write-up says, independent of its format: one ``TopicWriteup`` per configuration.

Every exporter (LaTeX, Markdown, notebook, PDF) renders the same content, so the
four documents cannot drift apart: the topic heading and summary, the
configuration, the computational graph, each section with its numbered
equations, dimension lines and justifications, and the verification result.
Nothing is cached here; the app caches the finished documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from derivations import printing
from derivations.model import Derivation, Equation, Graph, Section, Verification
from derivations.topic import Config, Topic

ALL_TITLE = "Backprop Explorer - Assignment 2, Part 1 solutions"


@dataclass(frozen=True)
class TopicWriteup:
    """A topic's derivation, graph and proof for one configuration, ready to typeset."""

    topic: Topic
    config: Config
    derivation: Derivation
    graph: Graph
    verification: Verification

    @property
    def heading(self) -> str:
        return self.derivation.title  # "Part 1 - Batch normalization"

    @property
    def sections(self) -> tuple[Section, ...]:
        return self.derivation.sections

    def equation_latex(self, equation: Equation) -> str:
        return printing.equation_latex(equation, self.derivation)

    def dims_latex(self, equation: Equation) -> tuple[str, ...]:
        """One ``x: (N, D) = (4, 5)`` per variable, the defined one first (separate so lines can break)."""
        return tuple(printing.dims_latex(name, self.derivation) for name in _dims_order(equation))

    def dims_text(self, equation: Equation) -> str:
        return printing.equation_dims_text(equation, self.derivation)

    def config_lines(self) -> tuple[str, ...]:
        """``batch size N: N = 4`` per field, then the seed and the implementation."""
        lines = [f"{field.label}: {field.name} = {self.config[field.name]}" for field in self.topic.fields]
        return (*lines, f"seed = {self.config.seed}", f"implementation: {self.config.impl}")

    def verification_lines(self) -> tuple[str, ...]:
        """The proof's outcome, each closed form checked, and the numeric cross-check against layers."""
        result = self.verification
        sizes = ", ".join(f"{axis}={size}" for axis, size in result.proof_sizes.items())
        verdict = "proved" if result.proved else "NOT proved"
        lines = [f"Symbolic proof with sympy on {sizes}: {verdict} by {result.method or 'no check'} "
                 f"in {result.seconds:.2f} s."]
        for check in result.checks:
            status = "passed" if check.passed else f"FAILED ({check.detail})"
            lines.append(f"{check.gradient} (Eqn {check.equation}) equals sympy's derivative: {status}")
        if result.numeric_errors:
            errors = ", ".join(f"{name} {error:.1e}" for name, error in result.numeric_errors.items())
            lines.append(f"Equations evaluated on this configuration's arrays vs layers (relative error): "
                         f"{errors}")
        return tuple(lines)


def _dims_order(equation: Equation) -> list[str]:
    return [equation.defines, *[n for n in equation.uses if n != equation.defines]]


def writeup(topic: Topic, config: Config) -> TopicWriteup:
    """Derivation, graph and verification of ``topic`` at ``config`` (verify takes up to ~1 s)."""
    if config.layer != topic.key:
        raise ValueError(f"config.layer={config.layer!r} does not belong to topic {topic.key!r}")
    return TopicWriteup(topic, config, topic.derivation(config), topic.graph(config), topic.verify(config))


def writeups(configs: Sequence[Config]) -> tuple[TopicWriteup, ...]:
    """One write-up per configuration, in the order given (the catalog's order for ``all``)."""
    from derivations.catalog import topic

    if not configs:
        raise ValueError("configs=() is empty: give one configuration per topic to export")
    return tuple(writeup(topic(config.layer), config) for config in configs)


def document_title(items: Sequence[TopicWriteup]) -> str:
    """The whole-assignment title for several topics, else the topic's own heading."""
    return ALL_TITLE if len(items) > 1 else f"Backprop Explorer - {items[0].heading}"


def configs_for(layer: str, overrides: Mapping[str, Any], seed: Any = 0) -> tuple[Config, ...]:
    """Configurations for ``layer`` (a catalog key, or ``"all"`` for every topic in catalog order).

    ``overrides`` maps field names to raw values (``{"N": "4"}``), parsed by ``Topic.config_from``;
    with ``all`` each override applies to the topics that have that field. ValueError names an
    unknown layer, a field no chosen topic has, or a bad value.
    """
    from derivations.catalog import TOPICS, topic

    chosen = list(TOPICS.values()) if layer == "all" else [topic(layer)]
    known = {field.name for item in chosen for field in item.fields}
    for name in overrides:
        if name not in known:
            raise ValueError(f"{name}={overrides[name]!r}: no such field for layer={layer!r}; "
                             f"fields are {', '.join(sorted(known))}")
    configs = []
    for item in chosen:
        mine = {name: value for name, value in overrides.items() if name in {f.name for f in item.fields}}
        try:
            configs.append(item.config_from(mine, seed=seed))
        except ValueError as error:
            raise ValueError(f"{item.key}: {error}" if layer == "all" else str(error)) from None
    return tuple(configs)
