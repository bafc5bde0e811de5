"""The Streamlit explainer through ``streamlit.testing.v1.AppTest``, plus its pure URL layer.

Per topic at its defaults: no exception, numbered equations, plotly and graphviz charts,
download buttons. URL state both ways; bad input from the URL and the widgets; a seeded
fuzz of random configurations, valid and invalid, with zero exceptions.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import controls, exports, hints, state, stepper
from app.gradient_sweep import STEPS
from app.proofs import ProofService
from derivations.catalog import TOPICS
from derivations.topic import Topic

APP = str(Path(__file__).resolve().parents[1] / "app" / "main.py")
TIMEOUT = 60
FIRST = next(iter(TOPICS))
CHECK_TITLES = ("Relative error per gradient", "Analytic against numerical", "Per-element relative error",
                "Error against the step h")


def run_app(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for name, value in (params or {}).items():
        at.query_params[name] = value
    return at.run()


def errors(at: AppTest) -> list[str]:
    return [element.value for element in at.error]


def plotly_specs(at: AppTest) -> list[dict]:
    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def dot_sources(at: AppTest) -> list[str]:
    return [element.proto.spec for element in at.get("graphviz_chart")]


def proof_shown(at: AppTest, within_s: float = 60.0) -> bool:
    """Rerun until the background proof's verdict is on the page (it may still be running at first)."""
    deadline = time.monotonic() + within_s
    while not any("Proved" in element.value for element in at.success):
        if time.monotonic() > deadline or any("failed" in e.value for e in at.error):
            return False
        time.sleep(0.2)
        at.run()
    return True


def assert_healthy(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not errors(at), errors(at)


def invalid_combination(topic: Topic):
    """A configuration whose fields are each in bounds but which the layers reject, or None."""
    base = topic.default_config()
    for field in topic.fields:
        for value in hints.candidate_values(topic, field.name):
            candidate = base.replace(**{field.name: value})
            if hints.config_error(topic, candidate) is not None:
                return candidate
    return None


# ---------------------------------------------------------------- each topic at its defaults

@pytest.fixture(scope="module", params=list(TOPICS))
def default_app(request):
    return request.param, run_app({"layer": request.param})


def test_topic_runs_without_exception_or_error(default_app):
    key, at = default_app
    assert_healthy(at)
    assert at.selectbox(key=controls.LAYER_KEY).value == key
    assert [tab.label for tab in at.tabs] == ["Shapes", "Derivation", "Computational graph", "Activations",
                                              "Gradient check", "Export"]


def test_topic_shows_every_equation_with_its_number(default_app):
    key, at = default_app
    derivation = TOPICS[key].derivation(TOPICS[key].default_config())
    tagged = [element.value for element in at.latex if r"\tag{" in element.value]
    for equation in derivation.equations:
        assert any(rf"\tag{{{equation.number}}}" in latex for latex in tagged), (key, equation.number)
    assert proof_shown(at), key
    assert any(r"\tag{" in element.value for element in at.latex), "still there after the rerun"


def test_topic_shows_activation_and_gradient_check_plots(default_app):
    key, at = default_app
    specs = plotly_specs(at)
    titles = [spec["layout"]["title"]["text"] for spec in specs]
    assert all(spec["data"] for spec in specs), key
    for title in CHECK_TITLES:
        assert any(t.startswith(title) for t in titles), (key, title, titles)
    assert len(specs) >= len(CHECK_TITLES) + 1, key  # at least one activation figure
    errors_figure = specs[[t.startswith(CHECK_TITLES[0]) for t in titles].index(True)]
    assert errors_figure["layout"]["yaxis"]["type"] == "log"
    sweep = specs[[t.startswith(CHECK_TITLES[3]) for t in titles].index(True)]
    assert len(sweep["data"][0]["x"]) == len(STEPS)


def test_topic_shows_the_graph_with_every_node(default_app):
    key, at = default_app
    dots = dot_sources(at)
    assert len(dots) == 1 and dots[0].startswith("digraph")
    graph = TOPICS[key].graph(TOPICS[key].default_config())
    for node in graph.nodes:
        assert f'"{node.id}" [label=' in dots[0], (key, node.id)
    assert at.slider(key=stepper.step_key(key)).value == 1


def test_topic_offers_every_download(default_app):
    key, at = default_app
    buttons = at.get("download_button")
    assert len(buttons) == 2 * len(exports.FORMATS), key
    assert all(button.proto.deferred_file_id for button in buttons)  # built on click


# ---------------------------------------------------------------- the exporters behind the buttons

def _valid_document(fmt: str, document: bytes) -> None:
    if fmt == "tex":
        text = document.decode()
        assert r"\documentclass" in text and r"\tag{" in text and text.rstrip().endswith(r"\end{document}")
    elif fmt == "md":
        assert "$$" in document.decode()
    elif fmt == "ipynb":
        nbformat.validate(nbformat.reads(document.decode(), as_version=4))
    else:
        assert document.startswith(b"%PDF")


@pytest.mark.parametrize("fmt", [f.key for f in exports.FORMATS])
def test_export_builders_give_valid_documents(fmt):
    topic = TOPICS[FIRST]
    _valid_document(fmt, exports.build(fmt, (topic.default_config(),)))
    assert exports.file_name(fmt, (topic.default_config(),)) == f"{FIRST}.{fmt}"


def test_whole_writeup_covers_every_topic():
    configs = tuple(topic.default_config() for topic in TOPICS.values())
    document = exports.build("md", configs).decode()
    positions = [document.find(topic.derivation(topic.default_config()).title) for topic in TOPICS.values()]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)


# ---------------------------------------------------------------- URL state

def _non_default_params(topic: Topic) -> dict[str, str]:
    """Every field moved off its default where it still runs; seed 7; the last implementation."""
    config = topic.default_config(seed=7)
    for field in topic.fields:
        for value in hints.candidate_values(topic, field.name)[::-1]:
            trial = config.replace(**{field.name: value})
            if value != field.default and hints.config_error(topic, trial) is None:
                config = trial
                break
    config = type(config)(config.layer, config.values, config.seed, topic.impls[-1])
    return state.config_params(config, topic)


@pytest.mark.parametrize("key", list(TOPICS))
def test_link_opens_the_exact_configuration(key):
    topic = TOPICS[key]
    params = _non_default_params(topic)
    at = run_app(params)
    assert_healthy(at)
    assert at.selectbox(key=controls.LAYER_KEY).value == key
    for field in topic.fields:
        widgets = at.selectbox if field.kind == "choice" else at.number_input
        widget = widgets(key=controls.field_key(key, field.name))
        assert state.format_value(widget.value) == params[field.name], field.name
    assert at.number_input(key=controls.SEED_KEY).value == 7
    assert dict(at.query_params) == params


def test_changing_widgets_updates_the_url():
    topic = TOPICS[FIRST]
    at = run_app()
    field = next(f for f in topic.fields if f.kind == "int")
    at.number_input(key=controls.field_key(FIRST, field.name)).set_value(int(field.default) + 1).run()
    assert_healthy(at)
    assert at.query_params[field.name] == str(int(field.default) + 1)
    at.number_input(key=controls.SEED_KEY).set_value(3).run()
    assert at.query_params["seed"] == "3"
    other = list(TOPICS)[-1]
    at.selectbox(key=controls.LAYER_KEY).set_value(other).run()
    assert_healthy(at)
    assert at.query_params["layer"] == other
    assert set(at.query_params) >= {f.name for f in TOPICS[other].fields}


def test_lecture_mode_from_link_and_toggle():
    at = run_app({"layer": FIRST, "present": "1"})
    assert_healthy(at)
    assert at.toggle(key=controls.PRESENT_KEY).value is True
    assert any("stSidebar" in element.value for element in at.markdown)  # the controls are hidden
    assert at.slider(key=stepper.step_key(FIRST)).value == 1  # the step-through comes first
    at.toggle(key=controls.PRESENT_KEY).set_value(False).run()
    assert "present" not in at.query_params
    at.toggle(key=controls.PRESENT_KEY).set_value(True).run()
    assert at.query_params["present"] == "1"


def test_step_through_highlights_the_node_being_visited():
    topic = TOPICS[FIRST]
    order = topic.graph(topic.default_config()).backward_order()
    at = run_app({"layer": FIRST})
    at.button(key=f"{stepper.step_key(FIRST)}.next").click().run()
    at.button(key=f"{stepper.step_key(FIRST)}.next").click().run()
    assert at.slider(key=stepper.step_key(FIRST)).value == 3
    lines = dot_sources(at)[0].splitlines()
    line = next(line for line in lines if line.strip().startswith(f'"{order[2]}" [label'))
    assert "#ffb347" in line
    at.slider(key=stepper.step_key(FIRST)).set_value(len(order)).run()
    assert_healthy(at)


# ---------------------------------------------------------------- bad input

def _first_int_field(topic: Topic):
    return next(f for f in topic.fields if f.kind == "int")


def bad_url_cases():
    topic = TOPICS[FIRST]
    field = _first_int_field(topic)
    return {
        "not a number": ({"layer": FIRST, field.name: "abc"}, "'abc'"),
        "out of bounds": ({"layer": FIRST, field.name: str(int(field.high) + 1)}, str(int(field.high) + 1)),
        "not whole": ({"layer": FIRST, field.name: "2.5"}, "2.5"),
        "unknown layer": ({"layer": "softmax"}, "softmax"),
        "bad seed": ({"layer": FIRST, "seed": "-3"}, "-3"),
        "bad impl": ({"layer": FIRST, "impl": "gpu"}, "gpu"),
        "bad present": ({"layer": FIRST, "present": "maybe"}, "maybe"),
    }


@pytest.mark.parametrize("case", list(bad_url_cases()))
def test_bad_link_values_show_an_error_and_fall_back(case):
    params, named = bad_url_cases()[case]
    at = run_app(params)
    assert not at.exception
    assert any(named in message for message in errors(at)), errors(at)
    assert at.get("graphviz_chart"), "the app keeps running with the fallback"


@pytest.mark.parametrize("key", [key for key, topic in TOPICS.items() if invalid_combination(topic)])
def test_rejected_combination_from_link_and_widget(key):
    topic = TOPICS[key]
    bad = invalid_combination(topic)
    at = run_app(state.config_params(bad, topic))
    assert not at.exception
    assert any("not valid" in message for message in errors(at)), errors(at)
    assert not at.get("graphviz_chart")  # stopped after the advice
    at = run_app({"layer": key})
    changed = next(name for name, value in bad.values if value != topic.field(name).default)
    widget = (at.selectbox if topic.field(changed).kind == "choice" else at.number_input)
    widget(key=controls.field_key(key, changed)).set_value(bad[changed]).run()
    assert not at.exception
    assert errors(at) and at.query_params[changed] == state.format_value(bad[changed])


def test_out_of_bounds_widget_value_is_held_in_bounds():
    topic = TOPICS[FIRST]
    field = _first_int_field(topic)
    at = run_app({"layer": FIRST})
    at.number_input(key=controls.field_key(FIRST, field.name)).set_value(int(field.high) + 50).run()
    assert not at.exception
    value = at.number_input(key=controls.field_key(FIRST, field.name)).value
    assert field.low <= value <= field.high


# ---------------------------------------------------------------- the pure URL layer and a fuzz

def random_params(rng: np.random.Generator) -> dict[str, str]:
    """A random link: mostly sensible values near the defaults, some out of bounds or garbage."""
    keys = list(TOPICS)
    layer = keys[rng.integers(len(keys))] if rng.random() > 0.08 else "nonsense"
    params = {"layer": layer}
    topic = TOPICS.get(layer, TOPICS[keys[0]])
    for field in topic.fields:
        roll = rng.random()
        if roll < 0.35:
            continue
        if field.kind == "choice":
            params[field.name] = rng.choice([*field.choices, "bogus"]) if roll < 0.95 else ""
        elif roll < 0.85:
            low, default = float(field.low), float(field.default)
            near = rng.uniform(low, min(float(field.high), max(default * 1.6, low + 2)))
            params[field.name] = str(int(round(near))) if field.kind == "int" else repr(near)
        elif roll < 0.93:
            params[field.name] = str(float(field.high) * 3 + 1)
        else:
            params[field.name] = rng.choice(["x", "1e999", "nan", "-", "3.5"])
    if rng.random() < 0.5:
        params["seed"] = str(rng.integers(0, 1000)) if rng.random() < 0.85 else "seven"
    if rng.random() < 0.3:
        params["impl"] = rng.choice([*topic.impls, "quantum"])
    if rng.random() < 0.15:
        params["present"] = rng.choice(["1", "0", "maybe"])
    return params


def test_url_round_trip_and_parsing_never_raises():
    rng = np.random.default_rng(2024)
    for _ in range(300):
        params = random_params(rng)
        url = state.read_url(params, TOPICS)  # never raises
        topic = TOPICS[url.layer]
        config = state.config_from_values(topic, url.values, url.seed, url.impl)  # the fallback is valid
        again = state.read_url(state.config_params(config, topic, url.present), TOPICS)
        assert not again.errors and not again.ignored
        assert state.config_from_values(topic, again.values, again.seed, again.impl) == config


def test_parse_messages_name_the_value_and_the_valid_range():
    topic = TOPICS[FIRST]
    field = _first_int_field(topic)
    with pytest.raises(ValueError, match=rf"{field.name}='abc'.*from {field.low:g} to {field.high:g}"):
        state.parse_field(field, "abc")
    with pytest.raises(ValueError, match="seed='-1'"):
        state.parse_seed("-1")
    assert "layer='x'" in state.read_url({"layer": "x"}, TOPICS).errors[0]


def test_alternatives_name_single_changes_that_run():
    for topic in TOPICS.values():
        bad = invalid_combination(topic)
        if bad is None:
            continue
        alternatives = hints.valid_alternatives(topic, bad, budget_s=10.0)
        assert alternatives, topic.key
        for name, values in alternatives.items():
            assert hints.config_error(topic, bad.replace(**{name: values[0]})) is None
        assert " could be " in hints.alternatives_text(alternatives)


def test_proof_service_proves_in_a_worker_and_times_out():
    root = str(Path(APP).parents[1])
    service = ProofService(root)
    slow = ProofService(root, timeout_s=0.05)
    try:
        status = service.wait(TOPICS[FIRST].default_config(seed=99), 60)
        assert status.state == "done" and status.verification.proved
        status = slow.wait(TOPICS[FIRST].default_config(seed=98), 10)
        assert status.state == "failed" and "did not finish" in status.message
    finally:
        service.close()
        slow.close()


FUZZ_RUNS = 60


def test_fuzz_random_links_never_raise():
    rng = np.random.default_rng(7)
    outcomes = {"valid": 0, "invalid": 0}
    for _ in range(FUZZ_RUNS):
        params = random_params(rng)
        at = run_app(params)
        assert not at.exception, (params, [e.value for e in at.exception])
        messages = errors(at)
        assert not any("Unexpected" in m for m in messages), (params, messages)
        url = state.read_url(params, TOPICS)
        config = state.config_from_values(TOPICS[url.layer], url.values, url.seed, url.impl)
        rejected = hints.config_error(TOPICS[url.layer], config) is not None
        if url.errors or rejected:
            outcomes["invalid"] += 1
            assert messages, params
        else:
            outcomes["valid"] += 1
            assert not messages, (params, messages)
    assert outcomes["valid"] >= 10 and outcomes["invalid"] >= 10, outcomes
