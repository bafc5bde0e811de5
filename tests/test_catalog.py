"""Every catalog entry runs, verifies and renders; batch norm's derivation gets its own checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

from derivations import batchnorm
from derivations.catalog import TOPICS, topic
from derivations.printing import equation_dims_latex, equation_latex
from derivations.run import run_topic
from derivations.verify import prove

KEYS = list(TOPICS)


@pytest.mark.parametrize("key", KEYS)
def test_entry_runs_verifies_and_renders(key):
    entry = TOPICS[key]
    config = entry.default_config()
    derivation = entry.derivation(config)
    assert derivation.part == entry.part
    numbers = [eq.number for eq in derivation.equations]
    assert len(numbers) == len(set(numbers)), "equation numbers are unique within a topic"
    assert all(n.split(".")[0] == str(entry.part) for n in numbers), "numbered within the topic's part"
    for equation in derivation.equations:
        assert "=" in equation_latex(equation, derivation)
        assert equation_dims_latex(equation, derivation)
        assert equation.why.strip()

    verification = entry.verify(config)
    assert verification.proved, [c for c in verification.checks if not c.passed]
    assert verification.numeric_errors and max(verification.numeric_errors.values()) < 1e-9

    result = run_topic(entry, config)
    assert set(result.gradients) == {"d" + name for name in entry.inputs}
    for name in entry.inputs:
        assert result.gradients["d" + name].shape == np.shape(result.arrays[name])
    assert all(check.rel_error < 1e-6 for check in result.checks), [(c.name, c.rel_error) for c in result.checks]

    graph = entry.graph(config)
    ids = {node.id for node in graph.nodes}
    assert all(src in ids and dst in ids for src, dst in graph.edges), "no dangling edge"
    for node in graph.nodes:
        for number in (node.forward_eq, node.backward_eq):
            assert number is None or number in numbers or any(
                number in [eq.number for eq in TOPICS[k].derivation(TOPICS[k].default_config()).equations]
                for k in KEYS if TOPICS[k].part == entry.part
            ), f"node {node.id} cites Eqn {number}"


def test_unknown_layer_is_a_clear_error():
    with pytest.raises(ValueError, match="layer='nope'.*batchnorm"):
        topic("nope")


def test_batchnorm_proof_rejects_a_closed_form_missing_a_term():
    config = batchnorm.TOPIC.default_config().replace(N=2, D=2)
    derivation = batchnorm.derivation(config)
    closed_form = derivation.equation("1.26")
    dout, x_hat, gamma, inv_std = (sp.IndexedBase(n) for n in ("dout", "x_hat", "gamma", "inv_std"))
    n, d = closed_form.lhs.indices
    N = next(s for s in derivation.symbols if str(s) == "N")
    wrong_rhs = gamma[d] * inv_std[d] / N * (N * dout[n, d] - sp.Sum(dout[n, d], (n, 0, N - 1)))  # no x_hat term
    wrong = dataclasses.replace(closed_form, rhs=wrong_rhs)
    sections = tuple(
        dataclasses.replace(s, equations=tuple(wrong if e is closed_form else e for e in s.equations))
        for s in derivation.sections
    )
    checks = {c.equation: c.passed for c in prove(dataclasses.replace(derivation, sections=sections))}
    assert checks["1.26"] is False
    assert checks["1.25"] is True, "the staged graph's dx is still right"


def test_batchnorm_test_mode_runs_on_warmed_up_running_statistics():
    config = batchnorm.TOPIC.default_config().replace(mode="test")
    result = run_topic(batchnorm.TOPIC, config)
    assert np.all(result.arrays["running_var"] > 0)
    assert batchnorm.verify(config).numeric_errors["out_test"] < 1e-12
    assert all(check.rel_error < 1e-6 for check in result.checks)
