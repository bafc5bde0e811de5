"""The write-up as a Jupyter notebook (nbformat v4): the derivation in markdown cells, the spec's
checks in code cells that run against ``layers`` and print their relative errors.

The first code cell puts the project root (found from this file at export time)
on ``sys.path`` when ``layers`` is not importable, so the notebook runs from any
directory on the machine that exported it. The graph travels inside the notebook
as a markdown-cell attachment, which Jupyter, VS Code and GitHub all display.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

import derivations
from derivations.export.content import TopicWriteup, document_title, writeups
from derivations.export.markdown import (
    configuration_markdown,
    graph_caption,
    markdown_text,
    section_markdown,
    verification_markdown,
)
from derivations.layout import graph_svg
from derivations.topic import Config

KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def project_root() -> Path:
    """The repository holding ``layers/`` and ``derivations/``."""
    return Path(derivations.__file__).resolve().parent.parent


def setup_source(root: Path) -> str:
    """The notebook's first code cell: make ``import layers`` work, then import the spec's API."""
    return "\n".join([
        "# Make `import layers` work wherever this notebook is opened: add the project root if needed.",
        "import importlib.util",
        "import sys",
        "",
        f"PROJECT_ROOT = {str(root)!r}",
        'if importlib.util.find_spec("layers") is None and PROJECT_ROOT not in sys.path:',
        "    sys.path.insert(0, PROJECT_ROOT)",
        "",
        "import numpy as np",
        "from layers import *  # the spec's API: batchnorm_forward, ..., rel_error",
    ])


def graph_cell(item: TopicWriteup) -> NotebookNode:
    name = f"graph-{item.topic.key}.svg"
    svg = base64.b64encode(graph_svg(item.graph, item.derivation).encode()).decode()
    source = (f"#### Computational graph\n\n![{markdown_text(item.graph.title)}](attachment:{name})\n\n"
              f"*{markdown_text(graph_caption(item))}*")
    return nbformat.v4.new_markdown_cell(source, attachments={name: {"image/svg+xml": svg}})


def topic_cells(item: TopicWriteup) -> list[NotebookNode]:
    """Heading, configuration, graph, one cell per section, the spec's checks, the verification."""
    summary = item.derivation.summary or item.topic.summary
    md = nbformat.v4.new_markdown_cell
    heading = f"## {markdown_text(item.heading)}\n\n{markdown_text(summary)}\n\n"
    heading += configuration_markdown(item)
    cells = [md(heading), graph_cell(item)]
    cells += [md(section_markdown(item, section)) for section in item.sections]
    if item.topic.spec_check.strip():
        cells.append(md(f"### {markdown_text(item.heading)}: the spec's checks\n\nRun against `layers`; "
                        "each prints its relative errors."))
        cells.append(nbformat.v4.new_code_cell(item.topic.spec_check.strip()))
    else:
        cells.append(md(f"*No spec check is registered for {markdown_text(item.topic.key)}.*"))
    cells.append(md(verification_markdown(item)))
    return cells


def notebook_node(configs: Sequence[Config]) -> NotebookNode:
    """The notebook as an nbformat node (validates against nbformat v4)."""
    items = writeups(configs)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = dict(KERNEL)
    notebook.metadata["language_info"] = {"name": "python"}
    title = nbformat.v4.new_markdown_cell(
        f"# {markdown_text(document_title(items))}\n\nDerivations with numbered equations, dimensions and "
        "justifications; run the code cells to check `layers` against numerical gradients.")
    notebook.cells = [title, nbformat.v4.new_code_cell(setup_source(project_root()))]
    for item in items:
        notebook.cells += topic_cells(item)
    nbformat.validate(notebook)
    return notebook


def notebook_document(configs: Sequence[Config]) -> str:
    """The .ipynb file's text (JSON)."""
    return nbformat.writes(notebook_node(configs))
