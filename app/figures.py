"""Pure plotly builders for the topics' activation plots: a ``PlotSpec`` in, a ``go.Figure`` out.

The builder is picked by ``PlotSpec.kind`` alone, so a topic asks for a plot without the app
knowing which topic it is. No streamlit here: the tests build every figure directly.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from derivations.topic import PlotSpec

MAX_PANELS = 24  # heatmap panels drawn per figure; the title says when more were left out
COLUMNS = 4
PANEL_HEIGHT = 230
LINE_HEIGHT = 380
MARKER_STYLE = dict(symbol="x-thin", size=14, line=dict(width=3, color="#111111"), color="#111111")


def as_matrix(array: np.ndarray) -> np.ndarray:
    """Any array as a 2-D panel, so a heatmap can show it.

    - () -> (1, 1); (n,) -> (1, n); (r, c) unchanged;
    - (A, r, c) -> (r, A*c): the A slices side by side;
    - (A, B, r, c) -> (A*r, B*c): a block grid, slice [a, b] at block row a, column b;
    - more axes: the leading ones are merged first, down to four.
    """
    values = np.asarray(array, dtype=np.float64)
    if values.ndim == 0:
        return values.reshape(1, 1)
    if values.ndim == 1:
        return values.reshape(1, -1)
    if values.ndim == 2:
        return values
    if values.ndim == 3:
        slices, rows, cols = values.shape
        return values.transpose(1, 0, 2).reshape(rows, slices * cols)  # (A, r, c) -> (r, A*c)
    values = values.reshape(-1, *values.shape[-3:]) if values.ndim > 4 else values
    a, b, rows, cols = values.shape
    return values.transpose(0, 2, 1, 3).reshape(a * rows, b * cols)  # (A, B, r, c) -> (A*r, B*c)


def grid_shape(panels: int, columns: int = COLUMNS) -> tuple[int, int]:
    """(rows, columns) of a subplot grid holding ``panels`` panels."""
    cols = max(1, min(columns, panels))
    return max(1, math.ceil(panels / cols)), cols


def distributions_figure(spec: PlotSpec) -> go.Figure:
    """Overlaid histograms, one trace per entry of ``spec.data`` (values flattened)."""
    figure = go.Figure()
    for name, values in spec.data.items():
        figure.add_trace(go.Histogram(x=np.ravel(values), name=name, opacity=0.55))
    figure.update_layout(barmode="overlay")
    return _finish(figure, spec, LINE_HEIGHT, y_label=spec.y_label or "count")


def lines_figure(spec: PlotSpec) -> go.Figure:
    """One line per entry of ``spec.data`` (1-D, equal lengths) against ``spec.x`` (or 0, 1, ...)."""
    figure = go.Figure()
    for name, values in spec.data.items():
        y = np.ravel(values)
        x = np.arange(len(y)) if spec.x is None else np.ravel(spec.x)
        figure.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines+markers"))
    if spec.log_y:
        figure.update_yaxes(type="log", exponentformat="power")
    x = np.arange(1) if spec.x is None else np.ravel(spec.x)
    if spec.x is None or (np.issubdtype(x.dtype, np.integer) and x.size <= 30):
        figure.update_xaxes(dtick=1)  # time steps and indices: no ticks between whole numbers
    return _finish(figure, spec, LINE_HEIGHT)


def heatmaps_figure(spec: PlotSpec) -> go.Figure:
    """A grid of heatmap panels, one per entry of ``spec.data`` (each shown via ``as_matrix``)."""
    return _panels(spec, markers={})


def marked_heatmaps_figure(spec: PlotSpec) -> go.Figure:
    """Heatmap panels with ``spec.markers[name]`` ((k, 2) rows of (row, col)) drawn as crosses."""
    return _panels(spec, markers=spec.markers)


BUILDERS = {
    "distributions": distributions_figure,
    "lines": lines_figure,
    "heatmaps": heatmaps_figure,
    "marked_heatmaps": marked_heatmaps_figure,
}


def figure_for(spec: PlotSpec) -> go.Figure:
    """The figure for any PlotSpec; ValueError naming an unknown kind."""
    if spec.kind not in BUILDERS:
        raise ValueError(f"PlotSpec kind={spec.kind!r} is unknown; use one of {', '.join(BUILDERS)}")
    return BUILDERS[spec.kind](spec)


def _panels(spec: PlotSpec, markers) -> go.Figure:
    names = list(spec.data)[:MAX_PANELS]
    rows, cols = grid_shape(len(names))
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=names,
                           horizontal_spacing=0.04, vertical_spacing=min(0.12, 0.3 / rows))
    for k, name in enumerate(names):
        row, col = divmod(k, cols)
        matrix = as_matrix(spec.data[name])
        figure.add_trace(go.Heatmap(z=matrix, colorscale="RdBu", reversescale=True, zmid=0.0,
                                    showscale=False, name=name,
                                    hovertemplate="row %{y}, col %{x}: %{z:.4g}<extra>" + name + "</extra>"),
                         row=row + 1, col=col + 1)
        if name in markers and len(markers[name]):
            cells = np.asarray(markers[name]).reshape(-1, 2)  # (k, 2) of (row, col)
            figure.add_trace(go.Scatter(x=cells[:, 1], y=cells[:, 0], mode="markers", marker=MARKER_STYLE,
                                        name=f"{name}: marked", showlegend=False,
                                        hovertemplate="marked (%{y}, %{x})<extra></extra>"),
                             row=row + 1, col=col + 1)
    figure.update_yaxes(autorange="reversed", showgrid=False)  # row 0 on top, like an image
    figure.update_xaxes(showgrid=False)
    left_out = len(spec.data) - len(names)
    title = spec.title + (f" (first {len(names)} of {len(spec.data)} panels)" if left_out else "")
    return _finish(figure, spec, 80 + PANEL_HEIGHT * rows, title=title, axis_labels=False)


def _finish(figure: go.Figure, spec: PlotSpec, height: int, y_label: str = "", title: str = "",
            axis_labels: bool = True) -> go.Figure:
    figure.update_layout(title=dict(text=title or spec.title), height=height,
                         margin=dict(l=50, r=20, t=70, b=40), legend=dict(orientation="h", y=-0.15))
    if axis_labels:
        figure.update_xaxes(title_text=spec.x_label)
        figure.update_yaxes(title_text=y_label or spec.y_label)
    return figure
