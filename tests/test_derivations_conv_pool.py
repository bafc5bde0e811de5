"""Parts 2 and 3: the conv and max-pool derivations build, render, prove and agree with ``layers``.

A deliberately wrong closed form must fail the proof; the graphs have no dangling edges; the
activation plots are of the promised kinds; the spec's checks run and print small errors.
Proofs run on tiny instances, so the whole file takes a few seconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re

import numpy as np
import pytest
import sympy as sp

import layers
from derivations import conv, pool
from derivations.evaluate import evaluate
from derivations.functions import iverson_eq
from derivations.model import Derivation
from derivations.printing import equation_dims_latex, equation_latex
from derivations.run import run_topic
from derivations.topic import Config
from derivations.verify import instance_label, prove

TOPICS = {"conv": conv.TOPIC, "maxpool": pool.TOPIC}
OTHER_CONFIGS = {
    "conv": [
        {"stride": 1, "pad": 0, "HH": 3, "WW": 2},  # non-square kernel, no padding
        {"N": 1, "C": 2, "H": 5, "W": 5, "F": 2, "HH": 3, "WW": 3, "stride": 2, "pad": 2},
        {"H": 1, "W": 1, "HH": 1, "WW": 1, "stride": 1, "pad": 0},  # a 1x1 convolution
    ],
    "maxpool": [
        {"H": 5, "W": 4, "pool_height": 3, "pool_width": 2, "stride": 1},  # overlapping, non-square
        {"N": 1, "C": 1, "H": 6, "W": 6, "pool_height": 2, "pool_width": 2, "stride": 2},
        {"pool_height": 1, "pool_width": 1, "stride": 1},
    ],
}
PROOF_SIZES = {"conv": conv.PROOF_SIZES, "maxpool": pool.PROOF_SIZES}
NUMBERS = {"conv": [f"2.{k}" for k in range(11)], "maxpool": [f"3.{k}" for k in range(4)]}


def config(key: str, impl: str = "naive", **changes) -> Config:
    base = TOPICS[key].default_config()
    return Config(key, base.replace(**changes).values, 0, impl)


def all_configs():
    return [(key, {}) for key in TOPICS] + [(key, c) for key, items in OTHER_CONFIGS.items() for c in items]


def with_rhs(derivation: Derivation, number: str, rhs: sp.Expr) -> Derivation:
    """A copy of ``derivation`` whose equation ``number`` has a different right-hand side."""
    sections = tuple(
        dataclasses.replace(section, equations=tuple(
            dataclasses.replace(eq, rhs=rhs) if eq.number == number else eq for eq in section.equations))
        for section in derivation.sections)
    return dataclasses.replace(derivation, sections=sections)


# ---------------------------------------------------------------- structure and rendering
@pytest.mark.parametrize(("key", "changes"), all_configs())
def test_derivation_builds_renders_and_binds_every_axis(key, changes):
    derivation = TOPICS[key].derivation(config(key, **changes))
    assert [eq.number for eq in derivation.equations] == NUMBERS[key]
    for var in derivation.variables:
        assert set(var.axes) <= set(derivation.sizes), var.name
    for eq in derivation.equations:
        assert eq.why.strip() and eq.why.count(".") <= 4, eq.number
        assert equation_latex(eq, derivation).count("=") >= 1
        assert equation_dims_latex(eq, derivation)


def test_output_sizes_follow_the_formula():
    derivation = conv.derivation(config("conv"))  # H=4, pad=1, HH=4, stride=2
    assert (derivation.sizes["H'"], derivation.sizes["W'"], derivation.sizes["H_p"]) == (2, 2, 6)
    arrays = run_topic(conv.TOPIC, config("conv"), check=False).arrays
    env, _ = evaluate(derivation, arrays, stages=("forward",))
    assert env["H_out"][()] == 2  # Eqn 2.1 evaluated
    assert pool.derivation(config("maxpool", H=5, pool_height=3, stride=1)).sizes["H'"] == 3


@pytest.mark.parametrize(("key", "changes"), [
    ("conv", {"H": 5, "stride": 2}),  # (5 + 2 - 4) = 3 is not divisible by 2
    ("conv", {"H": 1, "HH": 5, "pad": 0}),  # kernel larger than the padded input
    ("maxpool", {"H": 5, "stride": 2}),
])
def test_inconsistent_configs_raise_the_layers_value_error(key, changes):
    topic = TOPICS[key]
    chosen = config(key, **changes)
    arrays = topic.make_inputs(chosen, np.random.default_rng(0))
    with pytest.raises(ValueError) as from_layer:
        topic.forward(chosen, arrays)
    for build in (topic.derivation, topic.graph):
        with pytest.raises(ValueError) as from_derivation:
            build(chosen)
        assert str(from_derivation.value) == str(from_layer.value)


@pytest.mark.parametrize("key", TOPICS)
def test_graph_has_no_dangling_edges_and_cites_real_equations(key):
    chosen = config(key)
    graph, derivation = TOPICS[key].graph(chosen), TOPICS[key].derivation(chosen)
    ids = {node.id for node in graph.nodes}
    assert len(ids) == len(graph.nodes)
    for source, target in graph.edges:
        assert source in ids and target in ids
    touched = {end for edge in graph.edges for end in edge}
    assert touched == ids  # no isolated node
    numbers = {eq.number for eq in derivation.equations}
    for node in graph.nodes:
        derivation.variable(node.variable)
        assert {node.forward_eq, node.backward_eq} - {None} <= numbers
    assert graph.backward_order()[0] == "out"
    assert graph.backward_order()[-1] in ("x", "w", "b")


# ---------------------------------------------------------------- proof and numeric agreement
@pytest.mark.parametrize(("key", "impl", "changes"), [
    ("conv", "naive", {}), ("conv", "fast", {}), ("conv", "fast", OTHER_CONFIGS["conv"][0]),
    ("maxpool", "naive", {}), ("maxpool", "fast", {}), ("maxpool", "naive", OTHER_CONFIGS["maxpool"][0]),
])
def test_verify_proves_and_matches_layers(key, impl, changes):
    verification = TOPICS[key].verify(config(key, impl, **changes))
    assert verification.proved, [c for c in verification.checks if not c.passed]
    expected = {"conv": "exact simplification", "maxpool": "rational points, 60 digits"}[key]
    assert verification.method == expected
    assert {check.detail for check in verification.checks} == {instance_label(sizes)
                                                               for sizes in PROOF_SIZES[key]}
    names = {"conv": {"out", "db", "dw", "dx", "dw (Eqn 2.4)", "dx (Eqn 2.6)"}, "maxpool": {"out", "dx"}}[key]
    assert set(verification.numeric_errors) == names
    assert max(verification.numeric_errors.values()) < 1e-10


def test_conv_proof_checks_both_routes():
    checks = conv.verify(config("conv")).checks
    assert sorted({(c.equation, c.gradient) for c in checks}) == [
        ("2.10", "dx"), ("2.3", "db"), ("2.4", "dw"), ("2.6", "dx"), ("2.8", "dw")]


def _wrong_conv():
    base = conv.derivation(config("conv").replace(**conv.PROOF_SIZES[1]))
    b, n, c, f, i, j, k, l, s = conv.B, conv.n, conv.c, conv.f, conv.i, conv.j, conv.k, conv.l, conv.STRIDE
    # the kernel offsets k and l swapped: a transposed filter gradient
    swapped = sp.Sum(b["dout"][n, f, i, j] * b["x_pad"][n, c, i * s + l, j * s + k], *conv.SUM_NIJ)
    return with_rhs(base, "2.4", swapped), "2.4"


def _wrong_conv_crop():
    base = conv.derivation(config("conv").replace(**conv.PROOF_SIZES[1]))
    uncropped = conv.B["dx_pad"][conv.n, conv.c, conv.p, conv.q]  # forgot the shift by the padding
    return with_rhs(base, "2.6", uncropped), "2.6"


def _wrong_pool():
    base = pool.derivation(config("maxpool").replace(**pool.PROOF_SIZES[1]))
    b, n, c, i, j, k, l, s = pool.B, pool.n, pool.c, pool.i, pool.j, pool.k, pool.l, pool.STRIDE
    corner = iverson_eq(b["x"][n, c, i * s + k, j * s + l], b["x"][n, c, i * s, j * s])  # to the corner
    return with_rhs(base, "3.2", corner), "3.3"


@pytest.mark.parametrize("build", [_wrong_conv, _wrong_conv_crop, _wrong_pool])
def test_a_wrong_closed_form_fails_the_proof(build):
    wrong, failing = build()
    checks = prove(wrong)
    assert not all(check.passed for check in checks)
    assert [c.equation for c in checks if not c.passed] == [failing]


def test_pool_equations_route_ties_to_the_first_maximum_like_the_layers():
    chosen = config("maxpool", H=5, W=5, pool_height=3, pool_width=3, stride=1)
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, size=(2, 3, 5, 5)).astype(float)  # many ties
    dout = rng.standard_normal((2, 3, 3, 3))
    env, _ = evaluate(pool.derivation(chosen), {"x": x, "dout": dout})
    param = {"pool_height": 3, "pool_width": 3, "stride": 1}
    for forward, backward in ((layers.max_pool_forward_naive, layers.max_pool_backward_naive),
                              (layers.max_pool_forward_fast, layers.max_pool_backward_fast)):
        out, cache = forward(x, param)
        np.testing.assert_array_equal(env["out"], out)
        np.testing.assert_array_equal(env["dx"], backward(dout, cache))
    assert np.all(env["mask"].sum(axis=(4, 5)) == 1)  # exactly one switch per window


# ---------------------------------------------------------------- activations and spec checks
def test_conv_activations_are_heatmaps_of_the_right_shapes():
    chosen = config("conv")
    plots = conv.activations(chosen, run_topic(conv.TOPIC, chosen, check=False))
    assert [plot.kind for plot in plots] == ["heatmaps"] * 5
    assert [len(plot.data) for plot in plots] == [3, 3, 3, 3, 3]  # C channels, F filters
    shapes = [{panel.shape for panel in plot.data.values()} for plot in plots]
    assert shapes == [{(4, 4)}, {(4, 4)}, {(2, 2)}, {(4, 4)}, {(4, 4)}]


def test_pool_activations_mark_each_window_maximum():
    chosen = config("maxpool")
    result = run_topic(pool.TOPIC, chosen, check=False)
    plots = pool.activations(chosen, result)
    assert [plot.kind for plot in plots] == ["marked_heatmaps"] * 2
    for plot in plots:
        assert set(plot.markers) == set(plot.data)
        for marks in plot.markers.values():
            assert marks.shape == (4, 2)  # one (row, col) per window of the 2x2 output
    x, dx = result.arrays["x"][0, 0], result.gradients["dx"][0, 0]
    marks = plots[0].markers["x[0, 0]"]
    assert np.array_equal(np.flatnonzero(dx), np.sort(marks[:, 0] * x.shape[1] + marks[:, 1]))
    assert all(x[r, col] == x[2 * (r // 2):2 * (r // 2) + 2, 2 * (col // 2):2 * (col // 2) + 2].max()
               for r, col in marks)


@pytest.mark.parametrize("key", TOPICS)
def test_spec_check_runs_and_prints_small_errors(key):
    source = TOPICS[key].spec_check
    assert "from layers import" in source and "default_rng" in source
    lambdas = re.findall(r"lambda (\w+): \w+\(([^)]*)\)", source)
    assert lambdas
    for argument, call in lambdas:
        assert argument in re.findall(r"\w+", call), (argument, call)  # each lambda uses its argument
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, f"<{key} spec_check>", "exec"), {})  # noqa: S102 - our own source
    lines = printed.getvalue().splitlines()
    assert any("difference" in line for line in lines) and any("error" in line for line in lines)
    values = [float(v) for v in re.findall(r"\d\.\d+e-\d+|\b0\.0\b", printed.getvalue())]
    assert len(values) >= (8 if key == "conv" else 4)
    assert max(values) < 1e-7
