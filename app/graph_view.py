"""A computational graph as Graphviz DOT text, annotated with live numbers; pure.

Each node shows its operation, its variable and shape, and (when an evaluation environment
is given) statistics of its forward value and the norm of its gradient. The step-through
passes the node being visited (``highlight``) and the ones already done (``visited``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from derivations.model import Derivation, Graph

KIND_STYLE = {
    "input": 'shape=box, style="rounded,filled", fillcolor="#dbe9f6"',
    "param": 'shape=box, style="rounded,filled", fillcolor="#e2f0d9"',
    "op": 'shape=box, style="rounded,filled", fillcolor="#ffffff"',
    "output": 'shape=box, style="rounded,filled,bold", fillcolor="#fdebd0"',
}
HIGHLIGHT = 'fillcolor="#ffb347", penwidth=3, color="#c0392b"'
VISITED = 'fillcolor="#e8e8e8", fontcolor="#555555"'
GRADIENT_EDGE = 'color="#c0392b", penwidth=2.5, fontcolor="#c0392b", label="grad"'


def value_summary(value: np.ndarray) -> str:
    """``"= 0.123"`` for one number, else ``"mean 0.01, std 0.98"``."""
    array = np.asarray(value, dtype=np.float64)
    if array.size == 1:
        return f"= {array.ravel()[0]:.4g}"
    return f"mean {array.mean():.3g}, std {array.std():.3g}"


def node_stats(graph: Graph, env: Mapping[str, np.ndarray]) -> dict[str, str]:
    """Node id -> live statistics: its value (``env[variable]``) and gradient norm (``env["d" + variable]``).

    Nodes whose arrays are missing from ``env`` get only what is there (possibly nothing).
    """
    stats: dict[str, str] = {}
    for node in graph.nodes:
        parts = []
        if node.variable in env:
            parts.append(value_summary(env[node.variable]))
        gradient = env.get("d" + node.variable)
        if gradient is not None:
            parts.append(f"|grad| {np.linalg.norm(np.ravel(np.asarray(gradient, dtype=np.float64))):.3g}")
        if parts:
            stats[node.id] = "; ".join(parts)
    return stats


def variable_shapes(graph: Graph, derivation: Derivation) -> dict[str, tuple[int, ...]]:
    """Each node's variable -> its numeric shape (variables the derivation does not know are skipped)."""
    shapes = {}
    for node in graph.nodes:
        try:
            shapes[node.variable] = derivation.shape(node.variable)
        except KeyError:
            continue
    return shapes


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape_text(shape: tuple[int, ...]) -> str:
    if not shape:
        return "scalar"
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def graph_dot(
    graph: Graph,
    shapes: Mapping[str, tuple[int, ...]] | None = None,
    stats: Mapping[str, str] | None = None,
    highlight: str | None = None,
    visited: Iterable[str] = (),
) -> str:
    """DOT for ``graph``, top (inputs) to bottom (outputs).

    - shapes: variable name -> shape, printed under the operation.
    - stats: node id -> text from ``node_stats``.
    - highlight: the node whose gradient is being computed; it is filled orange and the
      edges to the nodes its gradient comes from are drawn red.
    - visited: nodes whose gradient is already known (greyed).
    Branch nodes (their value feeds several nodes, so their gradients add) get a double border
    and a "+" after their variable.
    """
    shapes, stats, done = shapes or {}, stats or {}, set(visited)
    branches = set(graph.branches)
    lines = ["digraph G {", "  rankdir=TB; nodesep=0.2; ranksep=0.25;",
             '  node [fontname="Helvetica", fontsize=10, margin="0.08,0.03"];',
             '  edge [fontname="Helvetica", fontsize=9];']
    if graph.folded:
        lines.append(f"  label={_quote(graph.folded)}; labelloc=b; fontsize=10;")
    for node in graph.nodes:
        shape = " " + _shape_text(shapes[node.variable]) if node.variable in shapes else ""
        label = [node.op, node.variable + shape + (" +" if node.id in branches else "")]
        if node.id in stats:
            label.append(stats[node.id])
        style = [KIND_STYLE.get(node.kind, KIND_STYLE["op"])]
        if node.id in branches:
            style.append("peripheries=2")
        if node.id == highlight:
            style.append(HIGHLIGHT)
        elif node.id in done:
            style.append(VISITED)
        lines.append(f"  {_quote(node.id)} [label={_quote(chr(10).join(label))}, {', '.join(style)}];")
    for src, dst in graph.edges:
        extra = f" [{GRADIENT_EDGE}, dir=back]" if src == highlight else ""
        lines.append(f"  {_quote(src)} -> {_quote(dst)}{extra};")
    lines.append("}")
    return "\n".join(lines)
