"""Plain text for Streamlit's markdown-rendering elements (pure)."""

from __future__ import annotations

# Characters st.error / st.warning / st.info would read as markdown or as $math$:
# "(H + 2*pad - HH)" must not turn into italics, "pool_height" must keep its underscore.
_MARKDOWN_SPECIAL = "\\`*_{}[]<>$~|#"


def escape_markdown(message: object) -> str:
    """``message`` as text that markdown shows verbatim."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in str(message))
