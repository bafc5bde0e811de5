"""Pure plotly builders for the gradient check: errors per gradient, analytic against
numerical values, per-element errors, and the error against the finite-difference step h.

Inputs are ``derivations.run.GradientCheck`` records (name, analytic, numerical, rel_error,
sampled); no streamlit here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures import as_matrix, grid_shape
from derivations.run import GradientCheck

PASS_BELOW = 1e-7  # the spec's checks print errors of 1e-8 and less for correct gradients
FLOOR = 1e-18  # a log axis cannot show 0: exact agreement is drawn at this floor
PASS_COLOUR, FAIL_COLOUR = "#2ca02c", "#d62728"
HEIGHT = 400


def elementwise_errors(analytic: np.ndarray, numerical: np.ndarray) -> np.ndarray:
    """The spec's relative error entry by entry: ``|a - n| / max(1e-8, |a| + |n|)``, same shape."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numerical, dtype=np.float64)
    return np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))


def _label(check: GradientCheck) -> str:
    return f"{check.name} ({check.sampled} sampled)" if check.sampled else check.name


def rel_error_figure(checks: Sequence[GradientCheck], pass_below: float = PASS_BELOW) -> go.Figure:
    """Bars of each gradient's relative error on a log axis, with the pass band shaded green."""
    errors = [max(check.rel_error, FLOOR) for check in checks]
    colours = [PASS_COLOUR if check.rel_error < pass_below else FAIL_COLOUR for check in checks]
    figure = go.Figure(go.Bar(x=[_label(c) for c in checks], y=errors, marker_color=colours,
                              text=[f"{c.rel_error:.2e}" for c in checks], textposition="outside",
                              name="relative error"))
    figure.add_hrect(y0=FLOOR, y1=pass_below, fillcolor=PASS_COLOUR, opacity=0.12, line_width=0,
                     annotation_text=f"pass band: < {pass_below:.0e}", annotation_position="top left")
    figure.update_yaxes(type="log", exponentformat="power", title_text="relative error",
                        range=[np.log10(FLOOR), 1])
    figure.update_layout(title="Relative error per gradient (analytic vs numerical)", height=HEIGHT,
                         margin=dict(l=60, r=20, t=60, b=40), showlegend=False)
    return figure


def scatter_figure(checks: Sequence[GradientCheck]) -> go.Figure:
    """Numerical against analytic value for every checked entry, one trace per gradient, with y = x."""
    figure = go.Figure()
    low, high = 0.0, 0.0
    for check in checks:
        a, n = np.ravel(check.analytic), np.ravel(check.numerical)
        if a.size:
            low, high = min(low, a.min(), n.min()), max(high, a.max(), n.max())
        figure.add_trace(go.Scatter(x=a, y=n, mode="markers", name=_label(check),
                                    marker=dict(size=7, opacity=0.7)))
    figure.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", name="y = x",
                                line=dict(dash="dash", color="#888888")))
    figure.update_layout(title="Analytic against numerical gradient", height=HEIGHT,
                         xaxis_title="analytic (backward pass)", yaxis_title="numerical (centred difference)",
                         margin=dict(l=60, r=20, t=60, b=40))
    return figure


def error_heatmap_figure(checks: Sequence[GradientCheck]) -> go.Figure:
    """One panel per gradient: log10 of the per-element relative error (sampled checks as one row)."""
    rows, cols = grid_shape(len(checks), columns=3)
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=[_label(c) for c in checks],
                           horizontal_spacing=0.08, vertical_spacing=0.15)
    for k, check in enumerate(checks):
        errors = as_matrix(elementwise_errors(check.analytic, check.numerical))
        figure.add_trace(go.Heatmap(z=np.log10(np.maximum(errors, FLOOR)), zmin=np.log10(FLOOR), zmax=0,
                                    colorscale="Viridis", showscale=k == 0,
                                    colorbar=dict(title="log10 error"), name=check.name,
                                    hovertemplate="row %{y}, col %{x}: 10^%{z:.1f}<extra></extra>"),
                         row=k // cols + 1, col=k % cols + 1)
    figure.update_yaxes(autorange="reversed", showgrid=False)
    figure.update_xaxes(showgrid=False)
    figure.update_layout(title="Per-element relative error (log10)", height=90 + 240 * rows,
                         margin=dict(l=50, r=20, t=80, b=30))
    return figure


def h_sweep_figure(steps: Sequence[float], errors: Mapping[str, Sequence[float]],
                   used_step: float = 1e-5, pass_below: float = PASS_BELOW) -> go.Figure:
    """Relative error against the finite-difference step h (log-log), one line per gradient.

    Large h: the centred difference's truncation error (about h^2) dominates; small h: the
    round-off of subtracting nearly equal numbers (about 1e-16 / h) takes over.
    """
    figure = go.Figure()
    for name, values in errors.items():
        figure.add_trace(go.Scatter(x=list(steps), y=[max(v, FLOOR) for v in values], name=name,
                                    mode="lines+markers"))
    figure.add_hrect(y0=FLOOR, y1=pass_below, fillcolor=PASS_COLOUR, opacity=0.10, line_width=0)
    figure.add_vline(x=used_step, line_dash="dot", line_color="#555555",
                     annotation_text=f"h = {used_step:g} (the check's step)", annotation_position="top")
    figure.add_annotation(x=np.log10(max(steps)), y=-1, text="truncation ~ h²", showarrow=False,
                          xanchor="right", yref="y", xref="x")
    figure.add_annotation(x=np.log10(min(steps)), y=-1, text="round-off ~ ε/h", showarrow=False,
                          xanchor="left", yref="y", xref="x")
    figure.update_xaxes(type="log", exponentformat="power", title_text="finite-difference step h")
    figure.update_yaxes(type="log", exponentformat="power", title_text="relative error",
                        range=[np.log10(FLOOR), 0.5])
    figure.update_layout(title="Error against the step h: truncation against round-off", height=HEIGHT,
                         margin=dict(l=60, r=20, t=60, b=40))
    return figure
