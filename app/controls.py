"""The sidebar, built from the catalog, and its two-way sync with the URL's query parameters.

The URL is the source of truth when it changes from outside (a pasted link, a test setting
query parameters): its values are parsed (``app.state``) and written into the widgets'
session state before any widget exists. Otherwise the widgets are, and after they are read
the URL is rewritten to match. ``WRITTEN`` remembers what we wrote last, which is how the
two cases are told apart.
"""

from __future__ import annotations

import math

import streamlit as st

from app.state import SEED_LIMIT, config_params, parse_field, read_url
from derivations.catalog import TOPICS
from derivations.topic import Config, Field, Topic

LAYER_KEY, SEED_KEY, PRESENT_KEY = "w.layer", "w.seed", "w.present"
WRITTEN = "url.written"
GROUPS = (("dimension", "Dimensions"), ("hyper-parameter", "Hyper-parameters"))


def field_key(layer: str, name: str) -> str:
    """Widget key of a field; per topic, so each topic keeps its own values (and bounds)."""
    return f"field.{layer}.{name}"


def impl_key(layer: str) -> str:
    return f"impl.{layer}"


def sync_from_url() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Load the URL into the widgets when it changed from outside; returns (errors, ignored names)."""
    params = st.query_params.to_dict()
    if WRITTEN in st.session_state and params == st.session_state[WRITTEN]:
        return (), ()
    url = read_url(params, TOPICS)
    st.session_state[LAYER_KEY] = url.layer
    topic = TOPICS[url.layer]
    for field in topic.fields:
        st.session_state[field_key(url.layer, field.name)] = _widget_value(field, url.values[field.name])
    st.session_state[SEED_KEY] = url.seed
    st.session_state[impl_key(url.layer)] = url.impl
    st.session_state[PRESENT_KEY] = url.present
    return url.errors, url.ignored


def write_url(config: Config, present: bool) -> None:
    """Make the URL describe ``config`` (no message is sent when it already does)."""
    params = config_params(config, TOPICS[config.layer], present)
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)
    st.session_state[WRITTEN] = params


def _widget_value(field: Field, value):
    if field.kind == "int":
        return int(value)
    if field.kind == "float":
        return float(value)
    return str(value)


def _ensure_valid(field: Field, key: str) -> None:
    """Seed a widget's state with a value it accepts (bounded widgets raise on anything else)."""
    try:
        st.session_state[key] = _widget_value(field, parse_field(field, st.session_state[key]))
    except (KeyError, ValueError):
        st.session_state[key] = _widget_value(field, field.default)


def float_step(field: Field) -> float:
    """A step of the default's order of magnitude: 0.9 -> 0.1, 1e-5 -> 1e-5."""
    default = abs(float(field.default))
    return 10.0 ** math.floor(math.log10(default)) if default > 0 else 0.01


def field_widget(topic: Topic, field: Field):
    """The widget for one field; its value is always within the field's bounds."""
    key = field_key(topic.key, field.name)
    _ensure_valid(field, key)
    help_text = field.help or None
    if field.kind == "choice":
        return st.selectbox(field.label, field.choices, key=key, help=help_text)
    low = None if field.low is None else field.low
    high = None if field.high is None else field.high
    if field.kind == "int":
        return st.number_input(field.label, min_value=None if low is None else int(low),
                               max_value=None if high is None else int(high), step=1, key=key, help=help_text)
    return st.number_input(field.label, min_value=None if low is None else float(low),
                           max_value=None if high is None else float(high), step=float_step(field),
                           format="%g", key=key, help=help_text)


def _topic_label(key: str) -> str:
    topic = TOPICS[key]
    return f"Part {topic.part} - {topic.title}"


def sidebar() -> tuple[Topic, dict[str, object], int, str]:
    """Draw the controls; returns (topic, raw field values, seed, implementation)."""
    with st.sidebar:
        st.header("Configuration")
        if st.session_state.get(LAYER_KEY) not in TOPICS:
            st.session_state[LAYER_KEY] = next(iter(TOPICS))
        layer = st.selectbox("Topic", list(TOPICS), key=LAYER_KEY, format_func=_topic_label)
        topic = TOPICS[layer]
        st.caption(topic.summary)
        values: dict[str, object] = {}
        for group, heading in GROUPS:
            fields = [field for field in topic.fields if field.group == group]
            if fields:
                st.subheader(heading)
            for field in fields:
                values[field.name] = field_widget(topic, field)
        st.subheader("Inputs and code")
        seed_now = st.session_state.get(SEED_KEY)
        if not isinstance(seed_now, int) or not 0 <= seed_now < SEED_LIMIT:
            st.session_state[SEED_KEY] = 0
        seed = st.number_input("random seed", min_value=0, max_value=SEED_LIMIT - 1, step=1, key=SEED_KEY,
                               help="Seeds the random inputs and upstream gradients.")
        impl = topic.impls[0]
        if len(topic.impls) > 1:
            if st.session_state.get(impl_key(layer)) not in topic.impls:
                st.session_state[impl_key(layer)] = topic.impls[0]
            impl = st.radio("implementation", topic.impls, key=impl_key(layer), horizontal=True)
        st.caption("Every control is in the page's URL: copy it to share this exact view.")
    return topic, values, seed, impl
