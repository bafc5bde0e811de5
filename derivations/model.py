"""The derivation as data: variables, numbered equations, sections, graphs, verification results.

Everything here is a small frozen dataclass so that a whole derivation can be
cached, compared and handed to any exporter or to the app unchanged.
Equations are sympy objects written in index notation (``IndexedBase`` for
arrays, ``Sum`` for reductions): the same objects are typeset, evaluated on the
user's arrays and differentiated by sympy in the proof (``derivations/verify.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import sympy as sp

Stage = Literal["forward", "backward", "aside"]


@dataclass(frozen=True)
class Variable:
    """An array (or scalar) of the derivation.

    ``name`` is its identifier in equations, in the evaluation environment and,
    where possible, in ``layers/`` (``x_hat``); ``latex`` its typeset form;
    ``axes`` the dimension names of its shape (``("N", "D")``; ``()`` for a scalar).
    """

    name: str
    latex: str
    axes: tuple[str, ...]
    meaning: str = ""


@dataclass(frozen=True)
class IndexRange:
    """A free index of an equation: the symbol, the axis it runs over, the direction.

    Equations are evaluated with their indices nested in the order given, so a
    recursion over time (``h[t]`` from ``h[t-1]``) puts ``t`` first, and the
    backward pass through time runs it ``descending``.
    """

    symbol: sp.Symbol
    axis: str
    descending: bool = False


@dataclass(frozen=True)
class Equation:
    """One numbered equation ``lhs = rhs`` with its justification.

    - number: "1.3", stable; ``layers/`` comments cite it as ``Eqn 1.3``.
    - lhs: ``IndexedBase[...]`` (or a plain ``Symbol`` for a scalar) being defined.
    - rhs: sympy expression over other variables, dimension symbols and scalars.
    - indices: the free indices of ``lhs`` with the axes they run over.
    - why: one or two sentences: which rule, which branch, why a sum.
    - node: id of the graph node this equation computes (forward) or passes the
      gradient through (backward); ``None`` when it belongs to no node.
    """

    number: str
    lhs: sp.Expr
    rhs: sp.Expr
    indices: tuple[IndexRange, ...]
    why: str
    node: str | None = None

    @property
    def defines(self) -> str:
        """Name of the variable this equation assigns."""
        target = self.lhs.base.label if isinstance(self.lhs, sp.Indexed) else self.lhs
        return str(target)

    @property
    def uses(self) -> tuple[str, ...]:
        """Names of the arrays read on the right-hand side, sorted."""
        return tuple(sorted({str(base.label) for base in self.rhs.atoms(sp.IndexedBase)}))


@dataclass(frozen=True)
class Section:
    """A titled run of equations. ``stage`` says how the proof treats it:
    forward equations build the outputs, backward ones are checked against
    sympy's derivative, asides (test mode, running averages) are typeset only.

    ``recurrence``: when set, the section is one step of a recurrence over that
    index (time): its equations are evaluated together, one value of the index at
    a time in its direction, so each may read the others' earlier steps (the LSTM's
    h and c feed each other). Every equation of such a section has that index."""

    title: str
    stage: Stage
    equations: tuple[Equation, ...]
    intro: str = ""
    recurrence: IndexRange | None = None


@dataclass(frozen=True)
class Derivation:
    """A topic's complete derivation bound to the user's dimensions.

    - key / part / title: ``"batchnorm"``, ``1``, ``"Part 1 - Batch normalization"``.
    - variables: every array and scalar that an equation mentions.
    - sizes: each axis name bound to its value (``{"N": 4, "D": 5}``).
    - symbols: sympy symbols standing for dimensions and hyper-parameters
      (``N``, ``eps``, ``stride``) mapped to their values for this configuration.
    - inputs / outputs: the names of the differentiable inputs and the outputs,
      in the spec's order; gradients are named ``"d" + name``; the upstream
      gradient of output ``out`` is ``"d" + out``.
    """

    key: str
    part: int
    title: str
    sections: tuple[Section, ...]
    variables: tuple[Variable, ...]
    sizes: Mapping[str, int]
    symbols: Mapping[sp.Symbol, object]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    constants: tuple[str, ...] = ()
    summary: str = ""

    @property
    def equations(self) -> tuple[Equation, ...]:
        return tuple(eq for section in self.sections for eq in section.equations)

    def variable(self, name: str) -> Variable:
        for var in self.variables:
            if var.name == name:
                return var
        raise KeyError(f"{self.key}: no variable named {name!r}")

    def shape(self, name: str) -> tuple[int, ...]:
        """The numeric shape of a variable for this configuration."""
        return tuple(self.sizes[axis] for axis in self.variable(name).axes)

    def equation(self, number: str) -> Equation:
        for eq in self.equations:
            if eq.number == number:
                return eq
        raise KeyError(f"{self.key}: no equation {number!r}")


@dataclass(frozen=True)
class Node:
    """A node of the computational graph.

    - id: unique within the graph; ``variable``: the value it produces (a
      ``Variable.name`` of the derivation, so live statistics can be looked up).
    - op: the operation in words or symbols (``"mean over N"``, ``"x - mu"``).
    - kind: "input", "param", "op" or "output".
    - forward_eq / backward_eq: equation numbers computing the value and its gradient.
    """

    id: str
    variable: str
    op: str
    kind: Literal["input", "param", "op", "output"] = "op"
    forward_eq: str | None = None
    backward_eq: str | None = None


@dataclass(frozen=True)
class Graph:
    """The computational graph as data; drawing it is someone else's job."""

    title: str
    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]
    folded: str = ""  # non-empty when a long sequence was folded, saying what was left out

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(f"no node {node_id!r} in graph {self.title!r}")

    @property
    def branches(self) -> tuple[str, ...]:
        """Nodes whose value feeds more than one node: their gradients add up."""
        fanout: dict[str, int] = {}
        for src, _ in self.edges:
            fanout[src] = fanout.get(src, 0) + 1
        return tuple(node.id for node in self.nodes if fanout.get(node.id, 0) > 1)

    def backward_order(self) -> tuple[str, ...]:
        """Node ids in the order backprop visits them: reverse topological order."""
        parents: dict[str, list[str]] = {node.id: [] for node in self.nodes}
        for src, dst in self.edges:
            parents[dst].append(src)
        order: list[str] = []
        seen: set[str] = set()

        def visit(node_id: str) -> None:
            if node_id in seen:
                return
            seen.add(node_id)
            for parent in parents[node_id]:
                visit(parent)
            order.append(node_id)

        for node in self.nodes:
            visit(node.id)
        return tuple(reversed(order))


@dataclass(frozen=True)
class Check:
    """One gradient entry set compared: sympy's derivative against the closed form."""

    equation: str  # the number of the closed-form equation checked
    gradient: str  # "dx"
    passed: bool
    method: str  # "exact simplification" or "rational points, 60 digits"
    detail: str = ""


@dataclass(frozen=True)
class Verification:
    """The outcome of ``verify(config)``: the symbolic proof and the numeric cross-check."""

    key: str
    proof_sizes: Mapping[str, int]
    checks: tuple[Check, ...]
    seconds: float
    numeric_errors: Mapping[str, float] = field(default_factory=dict)  # name -> rel_error vs layers

    @property
    def proved(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)

    @property
    def method(self) -> str:
        methods = sorted({check.method for check in self.checks})
        return " + ".join(methods)
