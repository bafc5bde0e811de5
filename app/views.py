"""The tabs' contents: shapes, derivation, activations, gradient check and export.

Each function draws one tab for a configuration whose forward and backward already ran;
the data comes from ``app.compute`` (cached) and the figures from the pure builders.
"""

from __future__ import annotations

import functools

import streamlit as st

from app import check_figures, compute, exports
from app.derivation_view import forward_then_backward
from app.text import escape_markdown
from derivations.catalog import TOPICS
from derivations.model import Verification
from derivations.printing import dims_latex
from derivations.topic import Config

PROOF_WAIT_S = 1.0  # the page waits this long for a proof before showing it as running
PROOF_POLL_S = 2.0  # how often a running proof is polled
STAGE_NAMES = {"forward": "Forward", "aside": "Forward, aside", "backward": "Backward"}


def _shape_text(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def shapes_tab(config: Config) -> None:
    topic, result = TOPICS[config.layer], compute.run_result(config)
    derivation = compute.derivation_of(config)
    differentiable = {k: v for k, v in result.arrays.items() if k in topic.inputs}
    fixed = {k: v for k, v in result.arrays.items() if k not in topic.inputs}
    groups = (("input", differentiable), ("fixed input (not differentiated)", fixed),
              ("output", result.outputs), ("upstream gradient", result.upstream),
              ("gradient", result.gradients))
    rows = []
    for role, arrays in groups:
        for name, array in arrays.items():
            try:
                variable = derivation.variable(name)
                axes, meaning = _shape_text(variable.axes), variable.meaning
            except KeyError:
                axes, meaning = "", ""
            rows.append({"name": name, "role": role, "shape": _shape_text(array.shape), "axes": axes,
                         "meaning": meaning})
    signature = _signature_latex(topic, derivation)
    if signature:
        st.latex(signature)
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption("Every gradient has the shape of the input it belongs to; each upstream gradient has the "
               "shape of its output.")


def _signature_latex(topic, derivation) -> str:
    """``x: (N, D) = (4, 5), ... -> y: (N, D) = (4, 5)``: the forward pass at a glance."""
    def typeset(names):
        shown = []
        for name in names:
            try:
                shown.append(dims_latex(name, derivation))
            except KeyError:
                continue
        return r",\quad ".join(shown)

    inputs, outputs = typeset(topic.inputs), typeset(topic.outputs)
    return rf"{inputs} \quad\longrightarrow\quad {outputs}" if inputs and outputs else ""


def derivation_tab(config: Config) -> None:
    status = compute.proof_status(config, PROOF_WAIT_S)
    if status.state == "done":
        verification_summary(status.verification)
    elif status.state == "failed":
        st.warning(escape_markdown(f"The sympy proof could not be completed: {status.message}"))
    else:
        pending_proof(config)
    for section in forward_then_backward(compute.sections_of(config)):
        st.subheader(section.title)
        st.caption(STAGE_NAMES.get(section.stage, section.stage))
        if section.intro:
            st.markdown(section.intro)
        for equation in section.equations:
            st.latex(equation.latex)
            st.latex(r"\small " + equation.dims)
            st.caption(f"({equation.number}) {equation.why}")
    if status.state == "done":
        verification_details(status.verification)


@st.fragment(run_every=PROOF_POLL_S)
def pending_proof(config: Config) -> None:
    """Shown while the proof runs in the background; reruns the page once it has finished."""
    status = compute.proof_status(config)
    if status.state in ("done", "failed"):
        st.rerun()
    st.info(f"Proving the gradients with sympy in the background ({status.state}, {status.seconds:.0f} s so "
            "far). The result appears here when it is done.")


def verification_summary(verification: Verification) -> None:
    sizes = ", ".join(f"{axis}={size}" for axis, size in verification.proof_sizes.items())
    if verification.proved:
        st.success(f"Proved by sympy: every closed-form gradient equals sympy's derivative of "
                   f"L = sum(dout * out) ({verification.method}; symbolic sizes {sizes}; "
                   f"{verification.seconds:.2f} s).")
    else:
        failed = [f"{c.gradient} (Eqn {c.equation}): {c.detail}" for c in verification.checks if not c.passed]
        st.error(escape_markdown("Verification failed: " + ("; ".join(failed) or "no gradient was checked")))


def verification_details(verification: Verification) -> None:
    st.subheader("Verification")
    st.dataframe([{"equation": c.equation, "gradient": c.gradient, "proved": "yes" if c.passed else "NO",
                   "method": c.method, "detail": c.detail} for c in verification.checks],
                 hide_index=True, width="stretch")
    if verification.numeric_errors:
        st.markdown("The equations evaluated in floating point on your arrays, against `layers`:")
        rows = [{"value": name, "relative error vs layers": f"{error:.2e}"}
                for name, error in verification.numeric_errors.items()]
        st.dataframe(rows, hide_index=True, width="stretch")
    st.caption(f"Proof and numeric cross-check took {verification.seconds:.2f} s.")


def activations_tab(config: Config) -> None:
    for k, (figure, caption) in enumerate(compute.activation_figures(config)):
        st.plotly_chart(figure, key=f"activation.{k}", width="stretch")
        if caption:
            st.caption(caption)


def gradient_check_tab(config: Config) -> None:
    checks = compute.run_result(config).checks
    passing = check_figures.PASS_BELOW
    st.dataframe([{"gradient": c.name, "relative error": f"{c.rel_error:.2e}",
                   "entries checked": c.sampled or int(c.analytic.size),
                   f"pass (< {passing:.0e})": "yes" if c.rel_error < passing else "NO"} for c in checks],
                 hide_index=True, width="stretch")
    st.caption("Numerical gradients by centred differences with h = 1e-5 on L = sum(dout * out); "
               "large arrays are checked at a random sample of entries.")
    figures = compute.gradient_check_figures(config)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(figures["errors"], key="check.errors", width="stretch")
    with right:
        st.plotly_chart(figures["scatter"], key="check.scatter", width="stretch")
    st.plotly_chart(figures["heatmap"], key="check.heatmap", width="stretch")
    st.plotly_chart(figures["sweep"], key="check.sweep", width="stretch")
    st.caption("Too large an h: the centred difference's truncation error (about h squared) dominates. "
               "Too small: round-off in f(x + h) - f(x - h) grows like machine epsilon / h.")


def all_topic_configs(config: Config) -> tuple[Config, ...]:
    """The whole write-up: this configuration for its topic, defaults (same seed) for the others."""
    return tuple(config if key == config.layer else topic.default_config(config.seed)
                 for key, topic in TOPICS.items())


def export_tab(config: Config) -> None:
    everything = all_topic_configs(config)
    scopes = (("This topic", (config,), "topic"), ("The whole write-up", everything, "all"))
    for heading, configs, scope in scopes:
        st.subheader(heading)
        columns = st.columns(len(exports.FORMATS))
        for column, fmt in zip(columns, exports.FORMATS, strict=True):
            with column:
                if not exports.available(fmt.key):
                    st.button(fmt.label, key=f"export.{scope}.{fmt.key}", disabled=True,
                              help="This exporter is not installed.")
                    continue
                st.download_button(fmt.label, data=functools.partial(compute.export_of, fmt.key, configs),
                                   file_name=exports.file_name(fmt.key, configs), mime=fmt.mime,
                                   key=f"export.{scope}.{fmt.key}", on_click="ignore")
    st.caption("Files are built when you click (cached afterwards). The whole write-up uses your settings "
               "for this topic and the defaults for the others.")
