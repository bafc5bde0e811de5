"""A layered (Sugiyama-style) drawing of a computational graph, in pure Python.

No graphviz: ``layout_graph`` ranks the nodes top to bottom (sources sit just
above their first consumer), threads long edges through invisible waypoints so
they bend around boxes, orders each layer by the barycentre of its neighbours
(keeping the order with the fewest crossings) and places boxes without overlap.
``graph_svg`` and ``graph_tikz`` draw the result as an SVG or a TikZ string.
Coordinates are in points, y growing downwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from derivations.model import Graph

FONT_SIZE = 9.0  # points; the renderers use the same size
CHAR_WIDTH = 0.6 * FONT_SIZE  # a generous average glyph width, so text never spills out of its box
LINE_HEIGHT = 1.2 * FONT_SIZE
PADDING = 4.0
NODE_GAP = 14.0  # horizontal space between neighbouring boxes
LAYER_GAP = 22.0  # vertical space between layers
WAYPOINT_WIDTH = 4.0
MARGIN = 8.0
SWEEPS = 8


@dataclass(frozen=True)
class Box:
    """A node drawn as a box: centre (x, y), size, its text lines and how it is styled."""

    id: str
    x: float
    y: float
    width: float
    height: float
    lines: tuple[str, ...]
    kind: str  # Node.kind: input, param, op, output
    branch: bool  # its value feeds several nodes, so gradients add here


@dataclass(frozen=True)
class Route:
    """An edge as a polyline from the bottom of ``source`` to the top of ``target``."""

    source: str
    target: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Layout:
    boxes: tuple[Box, ...]
    routes: tuple[Route, ...]
    width: float
    height: float


def box_size(lines: tuple[str, ...]) -> tuple[float, float]:
    """Width and height (points) of a box holding ``lines`` of text."""
    longest = max((len(line) for line in lines), default=1)
    return longest * CHAR_WIDTH + 2 * PADDING, len(lines) * LINE_HEIGHT + 2 * PADDING


def node_ranks(graph: Graph) -> dict[str, int]:
    """Layer of each node: one below its deepest parent; a source one above its first consumer."""
    parents: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    children: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    for src, dst in graph.edges:
        parents[dst].append(src)
        children[src].append(dst)
    rank: dict[str, int] = {}
    for node_id in reversed(graph.backward_order()):  # forward topological order
        rank[node_id] = 1 + max((rank[p] for p in parents[node_id]), default=-1)
    for node_id in rank:  # pull inputs and parameters down next to where they are used
        if not parents[node_id] and children[node_id]:
            rank[node_id] = max(0, min(rank[c] for c in children[node_id]) - 1)
    return rank


def _split_long_edges(graph: Graph, rank: dict[str, int]):
    """Replace each edge spanning k > 1 layers by a chain through k - 1 waypoints."""
    chains: list[tuple[str, str, list[str]]] = []
    for src, dst in graph.edges:
        waypoints = [f"{src}->{dst}#{r}" for r in range(rank[src] + 1, rank[dst])]
        for r, waypoint in zip(range(rank[src] + 1, rank[dst]), waypoints, strict=True):
            rank[waypoint] = r
        chains.append((src, dst, waypoints))
    return chains


def _crossings(upper: list[str], lower: list[str], links: list[tuple[str, str]]) -> int:
    up = {v: i for i, v in enumerate(upper)}
    low = {v: i for i, v in enumerate(lower)}
    pairs = [(up[a], low[b]) for a, b in links if a in up and b in low]
    return sum(1 for i, (a1, b1) in enumerate(pairs) for a2, b2 in pairs[i + 1:] if (a1 - a2) * (b1 - b2) < 0)


def _order_layers(layers: list[list[str]], links: list[tuple[str, str]]) -> list[list[str]]:
    """Barycentre sweeps down and up; keep the ordering with the fewest crossings."""
    above = {v: [a for a, b in links if b == v] for layer in layers for v in layer}
    below = {v: [b for a, b in links if a == v] for layer in layers for v in layer}

    def total(order):
        return sum(_crossings(order[i], order[i + 1], links) for i in range(len(order) - 1))

    best, best_score = [list(layer) for layer in layers], total(layers)
    current = [list(layer) for layer in layers]
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        indices = range(1, len(current)) if downward else range(len(current) - 2, -1, -1)
        for i in indices:
            ref = current[i - 1] if downward else current[i + 1]
            position = {v: k for k, v in enumerate(ref)}
            neighbours = above if downward else below

            def barycentre(v, layer=current[i], position=position, neighbours=neighbours):
                linked = [position[u] for u in neighbours[v] if u in position]
                return sum(linked) / len(linked) if linked else layer.index(v)

            current[i] = sorted(current[i], key=barycentre)
        score = total(current)
        if score < best_score:
            best, best_score = [list(layer) for layer in current], score
    return best


def _place_row(order: list[str], desired: dict[str, float], width: Mapping[str, float]) -> dict[str, float]:
    """Centres as close to ``desired`` as the order and NODE_GAP allow (mean shift kept at zero)."""
    x: dict[str, float] = {}
    previous = None
    for v in order:
        if previous is None:
            x[v] = desired[v]
        else:
            x[v] = max(desired[v], x[previous] + (width[previous] + width[v]) / 2 + NODE_GAP)
        previous = v
    shift = sum(x[v] - desired[v] for v in order) / len(order)
    return {v: x[v] - shift for v in order}


def layout_graph(graph: Graph, lines: Mapping[str, tuple[str, ...]]) -> Layout:
    """Place every node of ``graph``; ``lines[node.id]`` is the text of its box."""
    rank = node_ranks(graph)
    chains = _split_long_edges(graph, rank)
    size = {node.id: box_size(lines[node.id]) for node in graph.nodes}
    width = {v: size[v][0] if v in size else WAYPOINT_WIDTH for v in rank}
    links = [pair for src, dst, way in chains for pair in zip([src, *way], [*way, dst], strict=True)]
    layers: list[list[str]] = [[] for _ in range(max(rank.values(), default=-1) + 1)]
    for v in [*[n.id for n in graph.nodes], *[w for _, _, way in chains for w in way]]:
        layers[rank[v]].append(v)
    layers = _order_layers(layers, links)

    x: dict[str, float] = {}
    for layer in layers:  # first pass: pack each layer from 0
        x.update(_place_row(layer, {v: 0.0 for v in layer}, width))
    for sweep in range(SWEEPS):  # then pull every box towards the mean of its neighbours
        downward = sweep % 2 == 0
        for layer in layers[1:] if downward else layers[-2::-1]:
            desired = {}
            for v in layer:
                if downward:
                    linked = [x[a] for a, b in links if b == v]
                else:
                    linked = [x[b] for a, b in links if a == v]
                desired[v] = sum(linked) / len(linked) if linked else x[v]
            x.update(_place_row(layer, desired, width))

    heights = [max((size[v][1] for v in layer if v in size), default=LINE_HEIGHT) for layer in layers]
    tops = [MARGIN + sum(heights[:i]) + LAYER_GAP * i for i in range(len(layers))]
    y = {v: tops[rank[v]] + heights[rank[v]] / 2 for v in rank}
    left = min((x[v] - width[v] / 2 for v in rank), default=0.0) - MARGIN
    x = {v: x[v] - left for v in x}

    branches = set(graph.branches)
    boxes = tuple(Box(n.id, x[n.id], y[n.id], *size[n.id], tuple(lines[n.id]), n.kind, n.id in branches)
                  for n in graph.nodes)
    routes = []
    for src, dst, way in chains:
        start = (x[src], y[src] + size[src][1] / 2)
        end = (x[dst], y[dst] - size[dst][1] / 2)
        routes.append(Route(src, dst, (start, *[(x[w], y[w]) for w in way], end)))
    total_width = max((x[v] + width[v] / 2 for v in rank), default=0.0) + MARGIN
    total_height = (tops[-1] + heights[-1] + MARGIN) if layers else 2 * MARGIN
    return Layout(boxes, tuple(routes), total_width, total_height)


# ---------------------------------------------------------------- rendering

FILL = {"input": "#e3f2e1", "param": "#fdf1cf", "op": "#ffffff", "output": "#f9dede"}
TIKZ_FILL = {"input": "green!10", "param": "yellow!15", "op": "white", "output": "red!10"}


def _shape_text(derivation, name: str) -> str:
    try:
        shape = derivation.shape(name)
    except KeyError:  # a node whose value is not a variable of the derivation
        return ""
    if not shape:
        return "scalar"
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _equations_text(node) -> str:
    parts = [f"fwd {node.forward_eq}" if node.forward_eq else "",
             f"bwd {node.backward_eq}" if node.backward_eq else ""]
    return "  ".join(p for p in parts if p)


def node_lines(graph: Graph, derivation=None) -> dict[str, tuple[str, ...]]:
    """Plain-text lines of each box: the operation, the value with its shape, the equation numbers."""
    lines = {}
    for node in graph.nodes:
        value = node.variable + (" " + _shape_text(derivation, node.variable) if derivation else "")
        rows = (node.op, value.strip(), _equations_text(node))
        lines[node.id] = tuple(row for row in rows if row)
    return lines


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def graph_svg(graph: Graph, derivation=None) -> str:
    """A standalone SVG document of the graph (text in DejaVu Sans or any sans-serif)."""
    placed = layout_graph(graph, node_lines(graph, derivation))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{placed.width:.0f}" height="{placed.height:.0f}" '
           f'viewBox="0 0 {placed.width:.1f} {placed.height:.1f}" '
           f'font-family="DejaVu Sans, Arial, sans-serif" font-size="{FONT_SIZE:g}">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
           f'<title>{_xml(graph.title)}</title>']
    for route in placed.routes:
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py in route.points)
        out.append(f'<polyline points="{points}" fill="none" stroke="#555" stroke-width="1" '
                   'marker-end="url(#arrow)"/>')
    for box in placed.boxes:
        left, top = box.x - box.width / 2, box.y - box.height / 2
        stroke = 'stroke="#b03a2e" stroke-width="2.2"' if box.branch else 'stroke="#333" stroke-width="0.8"'
        out.append(f'<rect x="{left:.1f}" y="{top:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" '
                   f'rx="4" fill="{FILL.get(box.kind, "#fff")}" {stroke}/>')
        for i, line in enumerate(box.lines):
            baseline = top + PADDING + (i + 0.8) * LINE_HEIGHT
            weight = ' font-weight="bold"' if i == 0 else ""
            out.append(f'<text x="{box.x:.1f}" y="{baseline:.1f}" text-anchor="middle"{weight}>'
                       f'{_xml(line)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def latex_text(text: str) -> str:
    """Plain text made safe for LaTeX text mode."""
    special = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
               "%": r"\%", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}
    return "".join(special.get(ch, ch) for ch in text)


def graph_tikz(graph: Graph, derivation=None) -> str:
    """A ``tikzpicture`` of the graph (needs only the tikz package); values typeset with Variable.latex."""
    placed = layout_graph(graph, node_lines(graph, derivation))
    by_id = {node.id: node for node in graph.nodes}
    out = [r"\begin{tikzpicture}[x=1pt, y=-1pt, font=\sffamily\fontsize{9}{10.8}\selectfont, >=stealth]"]
    for box in placed.boxes:
        node = by_id[box.id]
        try:
            value = f"${derivation.variable(node.variable).latex}$ {_shape_text(derivation, node.variable)}"
        except (AttributeError, KeyError):  # no derivation, or a value it does not name
            value = latex_text(node.variable)
        rows = [r"\textbf{" + latex_text(node.op) + "}", value.strip(), latex_text(_equations_text(node))]
        text = r"\\".join(row for row in rows if row)
        border = "draw=red!60!black, very thick" if box.branch else "draw=black!80"
        out.append(f"\\node[{border}, fill={TIKZ_FILL.get(box.kind, 'white')}, rounded corners=2pt, "
                   f"align=center, inner sep=1pt, minimum width={box.width:.1f}pt, "
                   f"minimum height={box.height:.1f}pt] at ({box.x:.1f},{box.y:.1f}) {{{text}}};")
    for route in placed.routes:
        path = " -- ".join(f"({px:.1f},{py:.1f})" for px, py in route.points)
        out.append(f"\\draw[->, black!70] {path};")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)
