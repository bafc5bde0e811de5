"""Everything expensive the app shows, cached on the frozen ``Config``.

``st.cache_data`` hashes a Config by its fields (a frozen dataclass of tuples), so each
function below runs once per configuration and later reruns only unpickle the result.
Derivations, graphs and plotly figures use ``st.cache_resource`` instead, which hands back
the same object: they are never mutated, and copying them is the expensive part (unpickling
a plotly figure re-validates every property; ``st.plotly_chart`` only reads it). The sympy
proof runs in a worker process (``app.proofs``), so a slow proof never holds up the page.
Every function looks its topic up in the catalog by ``config.layer``: a Topic holds
functions, which are not hashed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import check_figures, exports, hints
from app.derivation_view import SectionView, section_views
from app.figures import figure_for
from app.gradient_sweep import STEPS, h_sweep
from app.proofs import ProofService, ProofStatus
from derivations.catalog import TOPICS
from derivations.evaluate import evaluate
from derivations.model import Derivation, Graph
from derivations.run import RunResult, run_topic
from derivations.topic import Config, PlotSpec

ENTRIES = 128  # configurations kept per function
ROOT = str(Path(__file__).resolve().parents[1])


@st.cache_data(max_entries=ENTRIES, show_spinner="Running forward, backward and the gradient check...")
def run_result(config: Config) -> RunResult:
    """Seeded inputs, forward, backward and the numerical gradient check (ValueError for bad combinations)."""
    return run_topic(TOPICS[config.layer], config)


@st.cache_resource(max_entries=ENTRIES, show_spinner=False)
def derivation_of(config: Config) -> Derivation:
    return TOPICS[config.layer].derivation(config)


@st.cache_resource(max_entries=ENTRIES, show_spinner=False)
def graph_of(config: Config) -> Graph:
    return TOPICS[config.layer].graph(config)


@st.cache_data(max_entries=ENTRIES, show_spinner="Typesetting the derivation...")
def sections_of(config: Config) -> tuple[SectionView, ...]:
    return section_views(derivation_of(config))


@st.cache_resource(show_spinner=False, on_release=lambda service: service.close())
def proof_service() -> ProofService:
    """One background prover per server process, shared by every session."""
    return ProofService(ROOT)


def proof_status(config: Config, wait_s: float = 0.0) -> ProofStatus:
    """Start the sympy proof of ``config`` if needed; wait up to ``wait_s`` seconds for its result."""
    service = proof_service()
    if wait_s > 0:
        return service.wait(config, wait_s)
    service.submit(config)
    return service.status(config)


@st.cache_data(max_entries=ENTRIES, show_spinner="Evaluating the equations on your arrays...")
def live_values(config: Config) -> dict[str, np.ndarray]:
    """Every variable of the derivation evaluated numerically on this configuration's arrays."""
    result = run_result(config)
    env, _ = evaluate(derivation_of(config), {**result.arrays, **result.upstream}, mode="numeric",
                      stages=("forward", "backward", "aside"))
    return env


@st.cache_data(max_entries=ENTRIES, show_spinner="Sweeping the finite-difference step...")
def step_sweep(config: Config) -> dict[str, list[float]]:
    return h_sweep(TOPICS[config.layer], run_result(config))


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def activation_specs(config: Config) -> tuple[PlotSpec, ...]:
    """The topic's own plot requests, or generic value distributions when it has none."""
    topic, result = TOPICS[config.layer], run_result(config)
    specs = tuple(topic.activations(config, result))
    if specs:
        return specs
    values = {**{name: result.arrays[name] for name in topic.inputs}, **result.outputs}
    gradients = {**result.upstream, **result.gradients}
    return (PlotSpec("distributions", "Forward values: inputs and outputs", values, x_label="value"),
            PlotSpec("distributions", "Backward values: upstream and input gradients", gradients,
                     x_label="value"))


@st.cache_resource(max_entries=ENTRIES, show_spinner="Drawing the activations...")
def activation_figures(config: Config) -> tuple[tuple[go.Figure, str], ...]:
    """(figure, caption) per activation PlotSpec."""
    return tuple((figure_for(spec), spec.caption) for spec in activation_specs(config))


@st.cache_resource(max_entries=ENTRIES, show_spinner="Drawing the gradient check...")
def gradient_check_figures(config: Config) -> dict[str, go.Figure]:
    """The four gradient-check figures by role: errors, scatter, heatmap, sweep."""
    checks = run_result(config).checks
    return {"errors": check_figures.rel_error_figure(checks), "scatter": check_figures.scatter_figure(checks),
            "heatmap": check_figures.error_heatmap_figure(checks),
            "sweep": check_figures.h_sweep_figure(STEPS, step_sweep(config))}


@st.cache_data(max_entries=ENTRIES, show_spinner="Looking for valid values...")
def alternatives_for(config: Config) -> str:
    """What single-field changes would make a rejected configuration run (text, maybe empty)."""
    return hints.alternatives_text(hints.valid_alternatives(TOPICS[config.layer], config))


@st.cache_data(max_entries=ENTRIES, show_spinner=False)  # called on click, outside the script run
def export_of(fmt: str, configs: tuple[Config, ...]) -> bytes:
    """One write-up file (``fmt`` from ``exports.FORMATS``) for these configurations, as bytes."""
    return exports.build(fmt, configs)
