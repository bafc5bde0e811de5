"""Parts 4 and 5: the vanilla RNN and LSTM derivations (one step and a sequence) build, render,
prove and agree with ``layers``.

A deliberately wrong closed form must fail the proof; the graphs have no dangling edges and fold
long sequences; the activation plots are of the promised kinds; the spec's checks run and print
small errors. Proofs run on tiny instances, so the whole file takes some seconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re

import numpy as np
import pytest
import sympy as sp

from derivations import lstm, recurrent_graphs, rnn
from derivations.evaluate import evaluate
from derivations.model import Derivation
from derivations.printing import equation_dims_latex, equation_latex
from derivations.run import run_topic
from derivations.topic import Config
from derivations.verify import numeric_errors, prove

TOPICS = {"rnn_step": rnn.STEP_TOPIC, "rnn": rnn.SEQUENCE_TOPIC,
          "lstm_step": lstm.STEP_TOPIC, "lstm": lstm.SEQUENCE_TOPIC}
SEQUENCES = ("rnn", "lstm")
OTHER_CONFIGS = {
    "rnn_step": [{"N": 1, "D": 1, "H": 1}, {"N": 5, "D": 2, "H": 7}],
    "rnn": [{"T": 1}, {"N": 1, "T": 6, "D": 1, "H": 3}],
    "lstm_step": [{"N": 1, "D": 1, "H": 1}, {"N": 4, "D": 6, "H": 2}],
    "lstm": [{"T": 1}, {"N": 3, "T": 5, "D": 2, "H": 3}],
}
# what the plan numbers and layers/ cite, per part
PLAN_NUMBERS = {4: [f"4.{k}" for k in range(12)], 5: [f"5.{k}" for k in range(16)]}


def config(key: str, impl: str | None = None, **changes) -> Config:
    topic = TOPICS[key]
    base = topic.default_config()
    return Config(key, base.replace(**changes).values, 0, impl or topic.impls[0])


def all_configs():
    return [(key, {}) for key in TOPICS] + [(key, c) for key, items in OTHER_CONFIGS.items() for c in items]


def with_rhs(derivation: Derivation, number: str, rhs: sp.Expr) -> Derivation:
    """A copy of ``derivation`` whose equation ``number`` has a different right-hand side."""
    sections = tuple(
        dataclasses.replace(section, equations=tuple(
            dataclasses.replace(eq, rhs=rhs) if eq.number == number else eq for eq in section.equations))
        for section in derivation.sections)
    return dataclasses.replace(derivation, sections=sections)


@pytest.mark.parametrize(("key", "changes"), all_configs())
def test_derivation_builds_and_every_equation_renders(key, changes):
    derivation = TOPICS[key].derivation(config(key, **changes))
    numbers = [eq.number for eq in derivation.equations]
    assert len(numbers) == len(set(numbers)), "equation numbers repeat"
    names = {var.name for var in derivation.variables}
    for eq in derivation.equations:
        assert eq.number.startswith(f"{derivation.part}.")
        assert {eq.defines, *eq.uses} <= names, f"Eqn {eq.number} names an undeclared variable"
        assert eq.why.strip(), f"Eqn {eq.number} has no justification"
        assert "=" in equation_latex(eq, derivation)
        dims = equation_dims_latex(eq, derivation)
        for name in (eq.defines, *eq.uses):  # the user's sizes are on the dimensions line
            sizes = ", ".join(str(n) for n in derivation.shape(name))
            assert f"({sizes}" in dims


@pytest.mark.parametrize("part", [4, 5])
def test_every_planned_number_exists_in_the_part(part):
    topics = [topic for topic in TOPICS.values() if topic.part == part]
    sequence = next(t for t in topics if t.key in SEQUENCES)
    step_numbers = {eq.number for eq in topics[0].derivation(topics[0].default_config()).equations}
    sequence_numbers = {eq.number for eq in sequence.derivation(sequence.default_config()).equations}
    assert set(PLAN_NUMBERS[part]) <= step_numbers | sequence_numbers
    assert not step_numbers & sequence_numbers, "the step and sequence topics of a part share numbers"


@pytest.mark.parametrize(("key", "changes"), all_configs())
def test_equations_reproduce_the_layers(key, changes):
    """The typeset equations, run as code on the user's arrays, give the layer's numbers."""
    topic = TOPICS[key]
    for impl in topic.impls:
        result = run_topic(topic, config(key, impl, **changes), check=False)
        derivation = topic.derivation(result.config)
        errors = numeric_errors(derivation, {**result.arrays, **result.upstream},
                                {**result.outputs, **result.gradients})
        assert set(errors) == {*topic.outputs, *("d" + name for name in topic.inputs)}
        assert max(errors.values()) < 1e-10, errors


@pytest.mark.parametrize("key", TOPICS)
def test_verify_proves_and_matches_layers_at_defaults(key):
    verification = TOPICS[key].verify(config(key))
    assert verification.proved, [c for c in verification.checks if not c.passed]
    checked = {check.gradient for check in verification.checks}
    assert checked == {"d" + name for name in TOPICS[key].inputs}
    assert max(verification.numeric_errors.values()) < 1e-10
    assert verification.seconds < 10  # ~0.3-1 s on an idle machine; generous for a loaded CI


def test_proof_methods():
    """tanh alone simplifies exactly; the sigmoid's exp goes to exact rational points."""
    assert rnn.STEP_TOPIC.verify(config("rnn_step")).method == "exact simplification"
    assert "exact rational points" in lstm.STEP_TOPIC.verify(config("lstm_step")).method


# (key, proof sizes, equation, wrong right-hand side); sizes small because a failed proof ends in the
# slow 60-digit points
WRONG = {
    "rnn_step: db keeps only the first row": (
        "rnn_step", rnn.STEP_PROOF_SIZES, "4.7", rnn.B["da"][0, rnn.j]),
    "rnn_step: tanh' taken as 1 - a^2": (
        "rnn_step", rnn.STEP_PROOF_SIZES, "4.2",
        rnn.B["dnext_h"][rnn.n, rnn.j] * (1 - rnn.B["a"][rnn.n, rnn.j] ** 2)),
    "rnn: BPTT drops the gradient from step t+1": (
        "rnn", {"N": 1, "T": 2, "D": 1, "H": 2}, "4.9", rnn.B["dh"][rnn.n, rnn.t, rnn.j]),
    "lstm_step: sigmoid' taken as sigma": (
        "lstm_step", {"N": 1, "D": 1, "H": 1}, "5.9",
        lstm.B["di"][lstm.n, lstm.j] * lstm.B["i"][lstm.n, lstm.j]),
}


@pytest.mark.parametrize("case", WRONG)
def test_a_wrong_closed_form_fails_the_proof(case):
    key, sizes, number, rhs = WRONG[case]
    derivation = TOPICS[key].derivation(config(key, **sizes))
    checks = prove(with_rhs(derivation, number, rhs))
    assert not all(check.passed for check in checks)


def test_lstm_without_the_cell_carry_disagrees_with_the_layer():
    """Forgetting dc's carry from step t+1 (Eqn 5.14b) changes every earlier gradient."""
    result = run_topic(lstm.SEQUENCE_TOPIC, config("lstm"), check=False)
    derivation = lstm.SEQUENCE_TOPIC.derivation(result.config)
    rhs = derivation.equation("5.14b").rhs
    carry = next(term for term in rhs.args if term.has(sp.Piecewise))
    wrong = with_rhs(derivation, "5.14b", rhs - carry)
    errors = numeric_errors(wrong, {**result.arrays, **result.upstream}, result.gradients)
    assert errors["dh0"] > 1e-3 and errors["dWx"] > 1e-3


GRAPH_CASES = [("rnn_step", None), ("lstm_step", None),
               *((key, steps) for key in SEQUENCES for steps in (1, 3, 5, 12))]


@pytest.mark.parametrize(("key", "steps"), GRAPH_CASES)
def test_graph_is_well_formed(key, steps):
    topic = TOPICS[key]
    cfg = config(key, **({"T": steps} if steps else {}))
    graph, derivation = topic.graph(cfg), topic.derivation(cfg)
    ids = [node.id for node in graph.nodes]
    assert len(ids) == len(set(ids))
    dangling = [edge for edge in graph.edges if not set(edge) <= set(ids)]
    assert not dangling
    assert len(graph.backward_order()) == len(ids)
    names = {var.name for var in derivation.variables}
    numbers = {eq.number for eq in derivation.equations}
    for node in graph.nodes:
        assert node.variable in names, node
        assert {node.forward_eq, node.backward_eq} - {None} <= numbers, node
    if steps and steps > 1:
        assert {"Wx", "Wh", "b"} <= set(graph.branches)  # shared by the steps: their gradients add up
    if key == "lstm_step":
        assert "next_c" in graph.branches  # Eqn 5.7: upstream plus the path through next_h


@pytest.mark.parametrize("key", SEQUENCES)
def test_long_sequences_fold(key):
    shown = {steps: TOPICS[key].graph(config(key, T=steps)) for steps in (2, 4, 5, 12)}
    assert not shown[2].folded and not shown[4].folded
    assert shown[5].folded and "2..3" in shown[5].folded and "2..10" in shown[12].folded
    assert len(shown[5].nodes) == len(shown[12].nodes)  # a longer sequence draws no more
    assert "h_t11" in {node.id for node in shown[12].nodes}  # the last step is drawn
    for steps in (2, 4):
        hidden_states = [node.id for node in shown[steps].nodes if node.id.startswith("h_t")]
        assert len(hidden_states) == steps
        assert set(hidden_states[:-1]) <= set(shown[steps].branches)  # to the loss and the next step


def test_folding_threshold():
    assert recurrent_graphs.shown_steps(recurrent_graphs.MAX_SHOWN_STEPS) == (tuple(range(4)), "")


EXPECTED_PLOTS = {"rnn_step": ["heatmaps", "heatmaps"], "rnn": ["lines", "lines"],
                  "lstm_step": ["heatmaps", "heatmaps"], "lstm": ["lines", "lines", "heatmaps", "lines"]}


@pytest.mark.parametrize("key", TOPICS)
def test_activations(key):
    cfg = config(key)
    result = run_topic(TOPICS[key], cfg, check=False)
    plots = TOPICS[key].activations(cfg, result)
    assert [plot.kind for plot in plots] == EXPECTED_PLOTS[key]
    for plot in plots:
        assert plot.data and all(np.all(np.isfinite(values)) for values in plot.data.values())
        if plot.kind == "lines":
            assert all(len(values) == len(plot.x) for values in plot.data.values())
        else:
            assert all(np.ndim(values) == 2 for values in plot.data.values())
    if key in SEQUENCES:
        norms = plots[-1]
        assert norms.log_y and set(norms.data) == {"RNN", "LSTM"}
        assert len(norms.x) == int(cfg["T"]) + 1  # h0 and every h_t
        assert all(np.all(values > 0) for values in norms.data.values())


@pytest.mark.parametrize("key", SEQUENCES)
def test_gradient_norms_follow_the_layer(key):
    """The plot's own model back-steps to the layer's dh0 when the loss sees only the last state."""
    cfg = config(key)
    topic = TOPICS[key]
    result = run_topic(topic, cfg, check=False)
    plot = topic.activations(cfg, result)[-1]
    dlast = np.random.default_rng([cfg.seed, 3]).standard_normal(result.arrays["h0"].shape)
    upstream = np.zeros_like(result.outputs["h"])
    upstream[:, -1] = dlast
    _, cache = topic.forward(Config(key, cfg.values, cfg.seed, "fast"), result.arrays)
    dh0 = topic.backward(Config(key, cfg.values, cfg.seed, "fast"), {"dh": upstream}, cache)["dh0"]
    assert np.isclose(plot.data[key.upper()][0], np.linalg.norm(dh0))


@pytest.mark.parametrize("key", SEQUENCES)
def test_naive_and_fast_agree(key):
    naive = run_topic(TOPICS[key], config(key, "naive", T=7), check=False)
    fast = run_topic(TOPICS[key], config(key, "fast", T=7), check=False)
    for name, value in {**naive.outputs, **naive.gradients}.items():
        other = {**fast.outputs, **fast.gradients}[name]
        assert np.allclose(value, other, rtol=1e-12, atol=1e-12), name


@pytest.mark.parametrize("key", TOPICS)
def test_numerical_gradient_checks_pass(key):
    result = run_topic(TOPICS[key], config(key))
    errors = {check.name: check.rel_error for check in result.checks}
    assert max(errors.values()) < 1e-6, errors


def test_piecewise_guards_out_of_range_reads():
    """At t = T-1 the BPTT recursion must not read da[:, T]; at t = 0 the forward reads h0."""
    result = run_topic(rnn.SEQUENCE_TOPIC, config("rnn", T=1), check=False)
    derivation = rnn.SEQUENCE_TOPIC.derivation(result.config)
    env, _ = evaluate(derivation, {**result.arrays, **result.upstream})
    assert np.array_equal(env["h_prev"][:, 0], result.arrays["h0"])
    assert np.array_equal(env["dh_total"], result.upstream["dh"])


@pytest.mark.parametrize("key", TOPICS)
def test_spec_check_runs_and_prints_small_errors(key):
    source = TOPICS[key].spec_check
    assert "np.random.default_rng" in source and "from layers import" in source
    for name, argument in re.findall(r"(\w+) = lambda (\w+)", source):  # each lambda uses its argument
        body = source.split(f"{name} = lambda {argument}", 1)[1].split("\n", 1)[0]
        assert re.search(rf"\b{argument}\b", body.split(":", 1)[1]), name
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, f"<spec check {key}>", "exec"), {})
    errors = dict(re.findall(r"^(\w+) error: (\S+)$", printed.getvalue(), re.M))
    expected = {"rnn_step": {"next_h", "dx", "dprev_h", "dWx", "dWh", "db"},
                "rnn": {"h", "dx", "dh0", "dWx", "dWh", "db"},
                "lstm_step": {"next_h", "next_c", "dx", "dh", "dc", "dWx", "dWh", "db"},
                "lstm": {"h", "dx", "dh0", "dWx", "dWh", "db"}}[key]
    assert set(errors) == expected
    assert all(float(value) < 1e-6 for value in errors.values()), errors
    assert len(set(errors.values())) == len(errors)  # each gradient prints its own error
