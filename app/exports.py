"""The write-up exporters seen from the app: which formats exist and how to build one; pure.

Each exporter module in ``derivations/export/`` exposes one function that takes a sequence
of Configs and returns the document as text or bytes; this module finds it, calls it and
returns bytes, so the download buttons never need to know the modules' names.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass

from derivations.topic import Config


@dataclass(frozen=True)
class Format:
    key: str  # file extension: "tex"
    label: str  # button text: "LaTeX (.tex)"
    module: str  # derivations.export.<module>
    mime: str

    @property
    def functions(self) -> tuple[str, ...]:
        """Names the builder may have in its module, most likely first."""
        return (f"{self.module}_document", f"build_{self.module}", "document", "build")


FORMATS = (
    Format("tex", "LaTeX (.tex)", "latex", "application/x-tex"),
    Format("md", "Markdown (.md)", "markdown", "text/markdown"),
    Format("ipynb", "Notebook (.ipynb)", "notebook", "application/x-ipynb+json"),
    Format("pdf", "PDF (.pdf)", "pdf", "application/pdf"),
)


def format_of(key: str) -> Format:
    for fmt in FORMATS:
        if fmt.key == key:
            return fmt
    raise ValueError(f"format={key!r} is unknown; choose one of {', '.join(f.key for f in FORMATS)}")


def builder(key: str):
    """The exporter function for format ``key``; ImportError/AttributeError while it is missing."""
    fmt = format_of(key)
    module = importlib.import_module(f"derivations.export.{fmt.module}")
    for name in fmt.functions:
        if callable(getattr(module, name, None)):
            return getattr(module, name)
    raise AttributeError(f"derivations.export.{fmt.module} has none of {', '.join(fmt.functions)}")


def available(key: str) -> bool:
    try:
        builder(key)
    except (ImportError, AttributeError):
        return False
    return True


def build(key: str, configs: Sequence[Config]) -> bytes:
    """The document for ``configs`` (one topic, or every topic in catalog order) as bytes."""
    document = builder(key)(tuple(configs))
    return document.encode("utf-8") if isinstance(document, str) else bytes(document)


def file_name(key: str, configs: Sequence[Config]) -> str:
    stem = configs[0].layer if len(configs) == 1 else "backprop-writeup"
    return f"{stem}.{format_of(key).key}"
