"""The write-up as Markdown with ``$$`` math, for GitHub, Jupyter, VS Code and KaTeX viewers.

Equations are display blocks ``$$ ... \\tag{1.3} $$`` (MathJax and KaTeX both honour
``\\tag``) preceded by "(Eqn 1.3)" for viewers that do not. The graph is the SVG of
``derivations.layout`` as a data-URI image (Jupyter, VS Code, pandoc), followed by
the same graph as a collapsed Mermaid block, which GitHub and GitLab draw although
they strip data URIs.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

from derivations.export.content import TopicWriteup, document_title, writeups
from derivations.layout import graph_svg, node_lines
from derivations.model import Graph
from derivations.topic import Config

MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>#|$~])")


def markdown_text(text: str) -> str:
    """Plain text with Markdown's (and the math renderers') special characters escaped."""
    return MARKDOWN_SPECIALS.sub(r"\\\1", text)


def svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _mermaid_id(node_id: str) -> str:
    return "n_" + re.sub(r"\W", "_", node_id)  # "end" and friends are reserved words in Mermaid


def graph_mermaid(graph: Graph, derivation=None) -> str:
    """A Mermaid flowchart of the graph (top to bottom), branch nodes with a thick red border."""
    rows = ["flowchart TD"]
    for node_id, lines in node_lines(graph, derivation).items():
        label = "<br/>".join(line.replace('"', "#quot;") for line in lines)
        rows.append(f'  {_mermaid_id(node_id)}["{label}"]')
    rows += [f"  {_mermaid_id(src)} --> {_mermaid_id(dst)}" for src, dst in graph.edges]
    if graph.branches:
        rows.append("  classDef branch stroke:#b03a2e,stroke-width:3px;")
        rows.append("  class " + ",".join(_mermaid_id(b) for b in graph.branches) + " branch;")
    return "\n".join(rows)


def graph_caption(item: TopicWriteup) -> str:
    caption = (f"Computational graph: {item.graph.title}. Each box: the operation, the value with its shape, "
               "the equations of its forward value and of its gradient.")
    if item.graph.branches:
        caption += " Red-bordered boxes feed several nodes: their gradients add up."
    return caption + (f" {item.graph.folded}" if item.graph.folded else "")


def graph_markdown(item: TopicWriteup, heading: str = "####") -> str:
    """The figure block: SVG image, caption, and the collapsed Mermaid twin."""
    svg = graph_svg(item.graph, item.derivation)
    return "\n".join([
        f"{heading} Computational graph", "",
        f"![{markdown_text(item.graph.title)}]({svg_data_uri(svg)})", "",
        f"*{markdown_text(graph_caption(item))}*", "",
        "<details><summary>The same graph as a Mermaid diagram (drawn by GitHub and GitLab)</summary>", "",
        "```mermaid", graph_mermaid(item.graph, item.derivation), "```", "", "</details>", ""])


def equation_markdown(item: TopicWriteup, equation) -> str:
    """(Eqn n), the $$ block with \\tag, the dimensions line and the justification."""
    dims = "; ".join(f"${d}$" for d in item.dims_latex(equation))
    return "\n".join([
        f"**(Eqn {equation.number})**", "",
        "$$", f"{item.equation_latex(equation)} \\tag{{{equation.number}}}", "$$", "",
        f"*Dimensions:* {dims}.  ",
        f"*Why:* {markdown_text(equation.why)}", ""])


def section_markdown(item: TopicWriteup, section) -> str:
    parts = [f"### {markdown_text(section.title)}", ""]
    if section.intro:
        parts += [markdown_text(section.intro), ""]
    parts += [equation_markdown(item, equation) for equation in section.equations]
    return "\n".join(parts)


def configuration_markdown(item: TopicWriteup) -> str:
    return "**Configuration:** " + "; ".join(markdown_text(line) for line in item.config_lines()) + ".\n"


def verification_markdown(item: TopicWriteup) -> str:
    bullets = [f"- {markdown_text(line)}" for line in item.verification_lines()]
    return "\n".join(["### Verification", "", *bullets, ""])


def topic_markdown(item: TopicWriteup) -> str:
    summary = item.derivation.summary or item.topic.summary
    parts = [f"## {markdown_text(item.heading)}", "", markdown_text(summary), "",
             configuration_markdown(item), graph_markdown(item)]
    parts += [section_markdown(item, section) for section in item.sections]
    parts.append(verification_markdown(item))
    return "\n".join(parts)


def markdown_document(configs: Sequence[Config]) -> str:
    """The .md text for one configuration (one topic) or several (``all``), in the order given."""
    items = writeups(configs)
    body = "\n---\n\n".join(topic_markdown(item) for item in items)
    return f"# {markdown_text(document_title(items))}\n\n{body}"
