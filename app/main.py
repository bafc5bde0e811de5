"""Backprop Explorer: pick a layer and its shapes; see the shapes, the derivation, the graph
with a step-through of backprop, the activations, the gradient check, and export a write-up.

Run from the repository root: ``streamlit run app/main.py``. Everything shown comes from
``derivations.catalog.TOPICS``; nothing here names a layer.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:  # so that `streamlit run app/main.py` works without PYTHONPATH
    sys.path.insert(0, ROOT)

import streamlit as st  # noqa: E402

from app import compute, controls, stepper, views  # noqa: E402
from app.state import config_from_values  # noqa: E402
from app.text import escape_markdown  # noqa: E402

LOG = logging.getLogger("backprop_explorer")
TABS = ("Shapes", "Derivation", "Computational graph", "Activations", "Gradient check", "Export")
# st.latex sits in a flex row that shrinks it to its content, which lets KaTeX's right-aligned
# \tag{n} overlap the equation; stretching the container gives the number its own place
BASE_CSS = """<style>
[data-testid="stMarkdown"]:has(.katex-display) > div,
[data-testid="stMarkdown"]:has(.katex-display) [data-testid="stMarkdownContainer"] {
  width: 100%; flex: 1 1 auto; }
</style>"""
LECTURE_CSS = """<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapseButton"] { display: none !important; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li,
[data-testid="stCaptionContainer"] { font-size: 1.3rem !important; }
.katex { font-size: 1.45em !important; }
.block-container { max-width: 96rem; }
</style>"""


def guarded(title: str, draw, *args) -> None:
    """Draw one part of the page; an unexpected failure becomes an error box there, not a traceback."""
    try:
        draw(*args)
    except ValueError as error:
        st.error(escape_markdown(f"{title}: {error}"))
    except Exception as error:  # noqa: BLE001 - the page must survive any one part failing
        LOG.exception("%s failed", title)
        st.error(escape_markdown(f"Unexpected error in {title}: {type(error).__name__}: {error}"))


def configuration():
    """Sidebar and URL -> a valid Config, or an error on the page and a stop."""
    url_errors, ignored = controls.sync_from_url()
    present = bool(st.session_state.get(controls.PRESENT_KEY, False))
    st.set_page_config(page_title="Backprop Explorer", layout="wide",
                       initial_sidebar_state="collapsed" if present else "auto")
    heading, toggle = st.columns([5, 1], vertical_alignment="center")
    present = toggle.toggle("Lecture mode", key=controls.PRESENT_KEY,
                            help="Hides the controls, enlarges the type and puts the step-through first.")
    st.markdown(BASE_CSS + (LECTURE_CSS if present else ""), unsafe_allow_html=True)
    for message in url_errors:
        st.error(escape_markdown(f"From the link: {message}"))
    if ignored:
        st.warning(escape_markdown(f"Ignored link parameters that this topic does not have: {', '.join(ignored)}"))
    topic, values, seed, impl = controls.sidebar()
    heading.title(f"Backprop Explorer: {topic.title}")
    try:
        config = config_from_values(topic, values, seed, impl)
    except ValueError as error:
        st.error(escape_markdown(f"Invalid setting: {error}"))
        st.stop()
    controls.write_url(config, present)
    guarded("starting the proof", compute.proof_status, config)  # it runs while the page is drawn
    return config, present


def run_or_stop(config) -> None:
    """Run forward, backward and the gradient check; a rejected combination stops the page with advice."""
    try:
        compute.run_result(config)
    except ValueError as error:
        advice = compute.alternatives_for(config)
        hint = f" With the other values unchanged, {advice}." if advice else ""
        st.error(escape_markdown(f"This configuration is not valid: {str(error).rstrip('.')}.{hint}"))
        st.stop()
    except Exception as error:  # noqa: BLE001 - a bug in one topic must not show a traceback
        LOG.exception("running %s failed", config)
        st.error(escape_markdown(f"Unexpected error while running this configuration: {type(error).__name__}: {error}"))
        st.stop()


def main() -> None:
    config, present = configuration()
    run_or_stop(config)
    if present:
        guarded("the step-through", stepper.step_through, config, True)
    tabs = st.tabs(list(TABS))
    drawers = (views.shapes_tab, views.derivation_tab, None, views.activations_tab, views.gradient_check_tab,
               views.export_tab)
    for tab, title, draw in zip(tabs, TABS, drawers, strict=True):
        with tab:
            if draw is not None:
                guarded(title, draw, config)
            elif present:
                st.info("The step-through is at the top of the page in lecture mode.")
            else:
                guarded(title, stepper.step_through, config, False)


main()
