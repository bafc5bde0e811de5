"""Write-up exporters: one module per format, each with one pure builder taking a sequence of
Configs (one topic, or every topic in catalog order) and returning the document.

- ``latex.latex_document`` -> str (.tex, compiles with pdflatex)
- ``markdown.markdown_document`` -> str (.md, $$ math)
- ``notebook.notebook_document`` -> str (.ipynb JSON); ``notebook.notebook_node`` -> nbformat node
- ``pdf.pdf_document`` -> bytes (.pdf via typst); ``pdf.typst_source`` -> its typst markup

``document(fmt, configs)`` picks the builder by file extension; the CLI is ``python -m derivations.export``.
Nothing is cached here: the app caches finished documents.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from derivations.topic import Config

# file extension -> (module, builder function)
BUILDERS = {
    "tex": ("latex", "latex_document"),
    "md": ("markdown", "markdown_document"),
    "ipynb": ("notebook", "notebook_document"),
    "pdf": ("pdf", "pdf_document"),
}
FORMATS = tuple(BUILDERS)


def document(fmt: str, configs: Sequence[Config]) -> str | bytes:
    """The write-up in format ``fmt`` (a key of BUILDERS); ValueError for an unknown format."""
    if fmt not in BUILDERS:
        raise ValueError(f"format={fmt!r} is unknown; choose one of {', '.join(FORMATS)}")
    module, function = BUILDERS[fmt]
    return getattr(importlib.import_module(f"derivations.export.{module}"), function)(tuple(configs))
