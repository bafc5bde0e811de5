"""The app's pure builders, without streamlit: PlotSpec figures, gradient-check figures,
the h sweep, equation views and the graph's DOT text."""

from __future__ import annotations

import re

import numpy as np
import pytest

from app import check_figures, figures, graph_view
from app.derivation_view import backward_equations_of, forward_then_backward, section_views
from app.gradient_sweep import STEPS, h_sweep
from derivations.model import Graph, Node
from derivations.run import GradientCheck, run_topic
from derivations.topic import PlotSpec

RNG = np.random.default_rng(0)


def _traces(figure, kind):
    return [trace for trace in figure.data if trace.type == kind]


@pytest.mark.parametrize("shape, expected", [
    ((), (1, 1)), ((5,), (1, 5)), ((3, 4), (3, 4)), ((2, 3, 4), (3, 8)), ((2, 3, 4, 5), (8, 15)),
    ((2, 2, 3, 4, 5), (16, 15)),
])
def test_as_matrix_shapes(shape, expected):
    assert figures.as_matrix(np.zeros(shape)).shape == expected


def test_as_matrix_keeps_each_slice_as_a_block():
    values = np.arange(2 * 3 * 2 * 2).reshape(2, 3, 2, 2)  # (A, B, r, c)
    matrix = figures.as_matrix(values)
    assert np.array_equal(matrix[2:4, 4:6], values[1, 2])  # block row a=1, block column b=2


def test_distributions_one_histogram_per_entry():
    data = {"x": RNG.standard_normal((4, 5)), "out": RNG.random(20)}
    spec = PlotSpec("distributions", "before and after", data)
    figure = figures.figure_for(spec)
    histograms = _traces(figure, "histogram")
    assert [h.name for h in histograms] == ["x", "out"]
    assert len(histograms[0].x) == 20 and figure.layout.barmode == "overlay"
    assert figure.layout.title.text == "before and after"


@pytest.mark.parametrize("log_y", [False, True])
def test_lines_one_trace_per_entry_against_x(log_y):
    x = np.arange(1, 6)
    spec = PlotSpec("lines", "norms", {"rnn": RNG.random(5), "lstm": RNG.random(5)}, x=x, log_y=log_y,
                    x_label="t", y_label="norm")
    figure = figures.figure_for(spec)
    lines = _traces(figure, "scatter")
    assert [line.name for line in lines] == ["rnn", "lstm"]
    assert list(lines[0].x) == list(x)
    assert (figure.layout.yaxis.type == "log") is log_y
    assert figure.layout.xaxis.title.text == "t"


def test_lines_default_x_is_the_index():
    figure = figures.figure_for(PlotSpec("lines", "h", {"h": np.array([3.0, 1.0, 2.0])}))
    assert list(_traces(figure, "scatter")[0].x) == [0, 1, 2]


def test_heatmaps_one_panel_per_entry():
    data = {"x": RNG.standard_normal((2, 3, 4, 4)), "w": RNG.standard_normal((3, 3)), "b": RNG.random(3)}
    figure = figures.figure_for(PlotSpec("heatmaps", "maps", data))
    heatmaps = _traces(figure, "heatmap")
    assert [h.name for h in heatmaps] == ["x", "w", "b"]
    assert np.asarray(heatmaps[0].z).shape == (8, 12)
    assert [a.text for a in figure.layout.annotations] == ["x", "w", "b"]  # panel titles


def test_heatmaps_cap_the_panel_count_and_say_so():
    data = {f"p{k}": RNG.random((2, 2)) for k in range(figures.MAX_PANELS + 3)}
    figure = figures.figure_for(PlotSpec("heatmaps", "many", data))
    assert len(_traces(figure, "heatmap")) == figures.MAX_PANELS
    assert f"of {figures.MAX_PANELS + 3}" in figure.layout.title.text


def test_marked_heatmaps_put_markers_on_their_panel():
    cells = np.array([[0, 1], [2, 3]])  # (row, col)
    spec = PlotSpec("marked_heatmaps", "pool", {"x": RNG.random((4, 4)), "dx": RNG.random((4, 4))},
                    markers={"x": cells})
    figure = figures.figure_for(spec)
    assert len(_traces(figure, "heatmap")) == 2
    markers = _traces(figure, "scatter")
    assert len(markers) == 1
    assert list(markers[0].x) == [1, 3] and list(markers[0].y) == [0, 2]  # x = column, y = row
    assert markers[0].xaxis == "x" and markers[0].yaxis == "y"  # on the first panel


def test_unknown_kind_is_a_value_error():
    with pytest.raises(ValueError, match="kind='pie'"):
        figures.figure_for(PlotSpec("pie", "no", {}))  # type: ignore[arg-type]


def _checks():
    good = RNG.standard_normal((3, 4))
    return (GradientCheck("dx", good, good + 1e-12, 1e-11, 0),
            GradientCheck("dw", good[0], good[0] * 1.01, 5e-3, 0),
            GradientCheck("db", np.zeros(6), np.zeros(6), 0.0, 6))


def test_rel_error_figure_colours_pass_and_fail_on_a_log_axis():
    figure = check_figures.rel_error_figure(_checks())
    bars = _traces(figure, "bar")[0]
    assert list(bars.x) == ["dx", "dw", "db (6 sampled)"]
    good, bad = check_figures.PASS_COLOUR, check_figures.FAIL_COLOUR
    assert list(bars.marker.color) == [good, bad, good]
    assert bars.y[2] == check_figures.FLOOR  # exact agreement drawn at the floor
    assert figure.layout.yaxis.type == "log"
    assert figure.layout.shapes[0].y1 == check_figures.PASS_BELOW  # the pass band


def test_scatter_figure_has_a_trace_per_gradient_and_the_diagonal():
    figure = check_figures.scatter_figure(_checks())
    names = [trace.name for trace in figure.data]
    assert names == ["dx", "dw", "db (6 sampled)", "y = x"]
    assert len(figure.data[0].x) == 12


def test_error_heatmap_figure_shows_log_errors_per_element():
    figure = check_figures.error_heatmap_figure(_checks())
    heatmaps = _traces(figure, "heatmap")
    assert len(heatmaps) == 3 and np.asarray(heatmaps[0].z).shape == (3, 4)
    assert np.allclose(np.asarray(heatmaps[2].z), np.log10(check_figures.FLOOR))


def test_elementwise_errors_match_the_spec_formula():
    a, n = np.array([1.0, 0.0, 2.0]), np.array([1.0, 0.0, 1.0])
    assert np.allclose(check_figures.elementwise_errors(a, n), [0.0, 0.0, 1 / 3])


def test_h_sweep_figure_is_log_log_with_one_line_per_gradient():
    errors = {"dx": [1e-3 / 10**k for k in range(len(STEPS))], "dw": [1e-8] * len(STEPS)}
    figure = check_figures.h_sweep_figure(STEPS, errors)
    lines = _traces(figure, "scatter")
    assert [line.name for line in lines] == ["dx", "dw"]
    assert figure.layout.xaxis.type == "log" and figure.layout.yaxis.type == "log"
    assert list(lines[0].x) == list(STEPS)


def test_h_sweep_shows_truncation_and_round_off():
    from derivations.catalog import TOPICS

    topic = next(iter(TOPICS.values()))
    result = run_topic(topic, topic.default_config(), check=False)
    errors = h_sweep(topic, result)
    assert set(errors) == {"d" + name for name in topic.inputs}
    for values in errors.values():
        assert len(values) == len(STEPS)
        assert min(values) < 1e-6  # a good step exists
    worst_small_h = max(values[-1] for values in errors.values())
    best = min(min(values) for values in errors.values())
    assert worst_small_h > best  # round-off: h = 1e-10 is worse than the best step


GRAPH = Graph("toy", (Node("a", "x", "input", "input", None, "9.2"), Node("b", "w", "weights", "param"),
                      Node("m", "m", "a * b", "op", "9.0", "9.1"), Node("s", "s", 'sum "all"', "op"),
                      Node("y", "y", "m + s", "output", "9.3")),
              (("a", "m"), ("b", "m"), ("m", "s"), ("m", "y"), ("s", "y")))


def _node_ids(dot: str) -> set[str]:
    return set(re.findall(r'^\s*"([^"]+)" \[label=', dot, flags=re.MULTILINE))


def _edges(dot: str) -> set[tuple[str, str]]:
    return set(re.findall(r'^\s*"([^"]+)" -> "([^"]+)"', dot, flags=re.MULTILINE))


def test_dot_has_every_node_and_edge():
    dot = graph_view.graph_dot(GRAPH)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert _node_ids(dot) == {node.id for node in GRAPH.nodes}
    assert _edges(dot) == set(GRAPH.edges)
    assert 'sum \\"all\\"' in dot  # quotes in labels are escaped


def test_dot_labels_shapes_stats_branches_and_highlight():
    env = {"x": np.ones((2, 3)), "dx": np.full((2, 3), 2.0), "m": np.array([1.0, 3.0]), "y": np.array(4.0)}
    stats = graph_view.node_stats(GRAPH, env)
    assert stats["a"] == "mean 1, std 0; |grad| 4.9"
    assert stats["y"] == "= 4" and "b" not in stats
    shapes = {"x": (2, 3), "w": (3,), "m": (2,)}
    dot = graph_view.graph_dot(GRAPH, shapes, stats, highlight="m", visited=("y", "s"))
    lines = {node_id: line for line in dot.splitlines() for node_id in _node_ids(line)}
    assert "x (2, 3)" in lines["a"] and "w (3,)" in lines["b"]
    assert "|grad| 4.9" in lines["a"]
    assert graph_view.HIGHLIGHT in lines["m"] and graph_view.HIGHLIGHT not in lines["a"]
    assert graph_view.VISITED in lines["y"] and graph_view.VISITED in lines["s"]
    assert "peripheries=2" in lines["m"] and "m (2,) +" in lines["m"]  # m feeds s and y
    red = [line for line in dot.splitlines() if "->" in line and graph_view.GRADIENT_EDGE in line]
    assert sorted(red) == sorted(line for line in dot.splitlines() if line.strip().startswith('"m" ->'))


def test_catalog_graphs_render_every_node_and_edge():
    from derivations.catalog import TOPICS

    for topic in TOPICS.values():
        config = topic.default_config()
        graph, derivation = topic.graph(config), topic.derivation(config)
        order = graph.backward_order()
        dot = graph_view.graph_dot(graph, graph_view.variable_shapes(graph, derivation), highlight=order[1])
        assert _node_ids(dot) == {node.id for node in graph.nodes}, topic.key
        assert _edges(dot) == set(graph.edges), topic.key
        assert dot.count(graph_view.HIGHLIGHT) == 1, topic.key


def test_equation_views_are_numbered_and_ordered():
    from derivations.catalog import TOPICS

    for topic in TOPICS.values():
        derivation = topic.derivation(topic.default_config())
        views = forward_then_backward(section_views(derivation))
        stages = [view.stage for view in views]
        assert stages.index("backward") > stages.index("forward"), topic.key
        equations = [eq for view in views for eq in view.equations]
        assert len(equations) == len(derivation.equations)
        assert all(eq.latex.endswith(rf"\tag{{{eq.number}}}") for eq in equations)
        graph = topic.graph(topic.default_config())
        assert any(backward_equations_of(views, node.id) for node in graph.nodes), topic.key


def test_error_text_is_shown_verbatim_not_as_markdown():
    from app.text import escape_markdown

    shown = escape_markdown("pad=1, stride=3: (H + 2*pad - HH) = 2 for pool_height, cost $5")
    assert "2\\*pad" in shown and "pool\\_height" in shown and "\\$5" in shown
    assert shown.replace("\\", "") == "pad=1, stride=3: (H + 2*pad - HH) = 2 for pool_height, cost $5"
