"""The computational graph with a step-through of the backward pass (the lecture view).

A slider and previous/next buttons walk ``Graph.backward_order()`` node by node; the graph
is redrawn with that node highlighted, the nodes already done greyed, and the equation the
node applies shown beside it. It runs as a fragment: stepping reruns only this part.
"""

from __future__ import annotations

import logging

import streamlit as st

from app import compute
from app.derivation_view import backward_equations_of, equation_by_number, forward_then_backward
from app.graph_view import graph_dot, node_stats, variable_shapes
from app.text import escape_markdown
from derivations.topic import Config

LOG = logging.getLogger("backprop_explorer")
GRAPH_HEIGHT = 640  # pixels
GRAPH_HEIGHT_LARGE = 760


def step_key(layer: str) -> str:
    return f"step.{layer}"


def _move(key: str, delta: int, count: int) -> None:
    st.session_state[key] = min(max(int(st.session_state.get(key, 1)) + delta, 1), count)


@st.fragment
def step_through(config: Config, large: bool = False) -> None:
    """Draw the graph and the step controls for ``config`` (whose run already succeeded).

    A fragment reruns on its own when a step control changes, outside the page's error
    handling, so it catches its own failures."""
    try:
        _draw(config, large)
    except Exception as error:  # noqa: BLE001 - an error box, never a traceback
        LOG.exception("step-through failed for %s", config)
        st.error(escape_markdown(f"Unexpected error in the step-through: {type(error).__name__}: {error}"))


def _draw(config: Config, large: bool) -> None:
    graph = compute.graph_of(config)
    order = graph.backward_order()
    count = len(order)
    key = step_key(config.layer)
    if not isinstance(st.session_state.get(key), int) or not 1 <= st.session_state[key] <= count:
        st.session_state[key] = 1
    previous, slider, following = st.columns([1, 6, 1], vertical_alignment="bottom")
    previous.button("Previous", key=f"{key}.prev", on_click=_move, args=(key, -1, count),
                    disabled=st.session_state[key] <= 1, width="stretch")
    following.button("Next", key=f"{key}.next", on_click=_move, args=(key, 1, count),
                     disabled=st.session_state[key] >= count, width="stretch")
    if count > 1:
        step = slider.slider("Backward step", 1, count, key=key,
                             help="Walks the backward pass node by node, from the output to the inputs.")
    else:
        step = 1
    node = graph.node(order[step - 1])
    env = compute.live_values(config)
    dot = graph_dot(graph, variable_shapes(graph, compute.derivation_of(config)), node_stats(graph, env),
                    highlight=node.id, visited=order[: step - 1])
    sections = forward_then_backward(compute.sections_of(config))
    drawing, explanation = st.columns([3, 2])
    with drawing:  # a fixed height keeps the whole graph, and so the highlighted node, in view
        st.graphviz_chart(dot, width="stretch", height=GRAPH_HEIGHT_LARGE if large else GRAPH_HEIGHT)
    with explanation:
        _equation_panel(node, sections, step, count)
    if graph.branches:
        st.caption("Double border and +: the value feeds several nodes, so the gradients arriving from each "
                   f"branch add up ({', '.join(graph.branches)}).")
    if graph.folded:
        st.caption(graph.folded)


def _equation_panel(node, sections, step: int, count: int) -> None:
    st.markdown(f"**Step {step} of {count}: node `{node.id}`** ({node.op}; computes `{node.variable}`)")
    main = equation_by_number(sections, node.backward_eq) if node.backward_eq else None
    if main is None:
        if node.kind == "output":
            st.markdown("The backward pass starts here: the upstream gradient "
                        f"`d{node.variable}` arrives from the loss.")
        else:
            st.markdown("No equation of its own: its gradient is read off the nodes it feeds.")
    else:
        st.latex(main.latex)
        st.caption(main.why)
    related = [eq for eq in backward_equations_of(sections, node.id)
               if main is None or eq.number != main.number]
    if related:
        st.markdown("Also at this node:")
        for equation in related:
            st.latex(equation.latex)
            st.caption(equation.why)
