"""Part 5 - LSTM: one step and a whole sequence, dh and dc carried back through time.

Derivations, graphs (``derivations.recurrent_graphs``), proofs and the two catalog entries.
The activation a has 4H columns, blocks i, f, o, g of H each; a gate's column j is a's column
j + block * H, with H bound to the user's number. Equations that the plan groups under one
number carry the plain number on the first and letters on the rest (5.8, 5.8b, 5.8c, 5.8d),
so every number ``layers/lstm.py`` cites exists exactly and no number is used twice.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

import layers
from derivations import recurrent_graphs, recurrent_loops, recurrent_spec_checks, sequence_plots
from derivations.functions import sigmoid
from derivations.model import Derivation, Section
from derivations.recurrent_common import (
    BACKWARD_IN_TIME,
    FORWARD_IN_TIME,
    H,
    T,
    bases,
    bound_sizes,
    d,
    dimension_fields,
    equation,
    index_sum,
    j,
    k,
    m,
    n,
    t,
    verify_against_layers,
)
from derivations.recurrent_variables import GATE_MEANINGS, LSTM_SEQUENCE_VARIABLES, LSTM_STEP_VARIABLES
from derivations.topic import Config, Topic

STEP_VARIABLES, SEQUENCE_VARIABLES = LSTM_STEP_VARIABLES, LSTM_SEQUENCE_VARIABLES
B = bases(STEP_VARIABLES, SEQUENCE_VARIABLES)
BLOCKS = tuple(GATE_MEANINGS)  # i, f, o, g: the order of a's column blocks
_sum = index_sum


def _eq(number, name, *rest, **options):
    return equation(number, B[name], *rest, **options)


def _concat(blocks, *lead):
    """da[..., m] from the four (.., H) blocks: block q holds columns qH .. qH + H - 1."""
    pieces = [(B[name][(*lead, m - q * H)], m < (q + 1) * H) for q, name in enumerate(blocks[:3])]
    return sp.Piecewise(*pieces, (B[blocks[3]][(*lead, m - 3 * H)], True))


x, Wx, Wh, b, a = (B[s] for s in ("x", "Wx", "Wh", "b", "a"))
i, f, o, g = (B[s] for s in BLOCKS)
STEP_FORWARD = (
    _eq("5.0", "a", (n, m), _sum(x[n, d] * Wx[d, m], d) + _sum(B["prev_h"][n, k] * Wh[k, m], k) + b[m],
        "All four gates at once: (N, D)(D, 4H) + (N, H)(H, 4H), sums over the shared axis, plus the bias "
        "broadcast over the N rows.", "a"),
    *(_eq("5.1" + suffix, "a_" + gate, (n, j), a[n, j + q * H],
          f"Block {q} of a's columns, j + {q}H, feeds the {GATE_MEANINGS[gate]}." if q else
          "a's 4H columns split into four blocks of H; the first feeds the input gate.", "a_" + gate)
      for q, (gate, suffix) in enumerate(zip(BLOCKS, ("", "b", "c", "d"), strict=True))),
    _eq("5.2", "i", (n, j), sigmoid(B["a_i"][n, j]), "Input gate: how much of g to write, in (0, 1).", "i"),
    _eq("5.2b", "f", (n, j), sigmoid(B["a_f"][n, j]), "Forget gate: how much of the old cell to keep.", "f"),
    _eq("5.2c", "o", (n, j), sigmoid(B["a_o"][n, j]), "Output gate: how much of the cell to show.", "o"),
    _eq("5.3", "g", (n, j), sp.tanh(B["a_g"][n, j]), "Block input, the candidate values, in (-1, 1).", "g"),
    _eq("5.4", "next_c", (n, j), f[n, j] * B["prev_c"][n, j] + i[n, j] * g[n, j],
        "Elementwise: keep part of the old cell, add the gated candidate.", "next_c"),
    _eq("5.5", "next_h", (n, j), o[n, j] * sp.tanh(B["next_c"][n, j]),
        "The output gate scales the squashed cell, elementwise.", "next_h"),
)
dc_total = B["dc_total"]
STEP_BACKWARD = (
    _eq("5.6", "do", (n, j), B["dnext_h"][n, j] * sp.tanh(B["next_c"][n, j]),
        "Product rule on next_h = o tanh(next_c): the factor beside o.", "o"),
    _eq("5.7", "dc_total", (n, j), B["dnext_c"][n, j]
        + B["dnext_h"][n, j] * o[n, j] * (1 - sp.tanh(B["next_c"][n, j]) ** 2),
        "next_c is an output and feeds next_h: its upstream gradient plus the one through o tanh(next_c), "
        "with tanh' = 1 - tanh^2.", "next_c"),
    _eq("5.8", "di", (n, j), dc_total[n, j] * g[n, j], "Product rule on i g in Eqn 5.4.", "i"),
    _eq("5.8b", "df", (n, j), dc_total[n, j] * B["prev_c"][n, j], "Product rule on f prev_c.", "f"),
    _eq("5.8c", "dg", (n, j), dc_total[n, j] * i[n, j], "Product rule on i g, the other factor.", "g"),
    _eq("5.8d", "dprev_c", (n, j), dc_total[n, j] * f[n, j],
        "The old cell reaches next_c scaled by f: this is what flows back to the previous step.", "prev_c"),
    _eq("5.9", "da_i", (n, j), B["di"][n, j] * i[n, j] * (1 - i[n, j]),
        "Through the sigmoid: sigma'(a) = sigma(a)(1 - sigma(a)) = i(1 - i).", "a_i"),
    _eq("5.9b", "da_f", (n, j), B["df"][n, j] * f[n, j] * (1 - f[n, j]), "The same, forget gate.", "a_f"),
    _eq("5.9c", "da_o", (n, j), B["do"][n, j] * o[n, j] * (1 - o[n, j]), "The same, output gate.", "a_o"),
    _eq("5.9d", "da_g", (n, j), B["dg"][n, j] * (1 - g[n, j] ** 2), "Through tanh: tanh' = 1 - g^2.", "a_g"),
    _eq("5.9e", "da", (n, m), _concat(("da_i", "da_f", "da_o", "da_g"), n),
        "The split of Eqn 5.1 in reverse: the four (N, H) blocks side by side make the (N, 4H) "
        "gradient.", "a"),
    _eq("5.10", "dx", (n, d), _sum(B["da"][n, m] * Wx[d, m], m),
        "As for any matmul: da Wx^T, (N, 4H)(4H, D).", "x"),
    _eq("5.11", "dprev_h", (n, k), _sum(B["da"][n, m] * Wh[k, m], m), "da Wh^T, (N, 4H)(4H, H).", "prev_h"),
    _eq("5.12", "dWx", (d, m), _sum(x[n, d] * B["da"][n, m], n),
        "x^T da, (D, N)(N, 4H): Wx is shared by the N rows, so their contributions add.", "Wx"),
    _eq("5.12b", "dWh", (k, m), _sum(B["prev_h"][n, k] * B["da"][n, m], n),
        "prev_h^T da, (H, N)(N, 4H).", "Wh"),
    _eq("5.12c", "db", (m,), _sum(B["da"][n, m], n), "b is added to every row: sum da over N.", "b"),
)

c, h, c_prev, h_prev = (B[s] for s in ("c", "h", "c_prev", "h_prev"))
SEQUENCE_FORWARD = (
    _eq("5.13", "h_prev", (n, t, k), sp.Piecewise((B["h0"][n, k], sp.Eq(t, 0)), (h[n, t - 1, k], True)),
        "The hidden state entering step t: h0 first, then the previous step's output.", "h",
        time=FORWARD_IN_TIME),
    _eq("5.13b", "c_prev", (n, t, j), sp.Piecewise((0, sp.Eq(t, 0)), (c[n, t - 1, j], True)),
        "The cell entering step t: zero first (the spec's c_0 = 0), then the previous cell.", "c",
        time=FORWARD_IN_TIME),
    _eq("5.13c", "a", (n, t, m), _sum(x[n, t, d] * Wx[d, m], d) + _sum(h_prev[n, t, k] * Wh[k, m], k) + b[m],
        "Eqn 5.0 at step t, with the same weights at every step.", "a", time=FORWARD_IN_TIME),
    *(_eq("5.13" + suffix, gate, (n, t, j), (sp.tanh if gate == "g" else sigmoid)(a[n, t, j + q * H]),
          f"Eqns 5.1-5.3 at step t: the {GATE_MEANINGS[gate]} reads block {q} of a directly.", "a",
          time=FORWARD_IN_TIME)
      for q, (gate, suffix) in enumerate(zip(BLOCKS, "defg", strict=True))),
    _eq("5.13h", "c", (n, t, j), f[n, t, j] * c_prev[n, t, j] + i[n, t, j] * g[n, t, j],
        "Eqn 5.4 at step t.", "c", time=FORWARD_IN_TIME),
    _eq("5.13i", "h", (n, t, j), o[n, t, j] * sp.tanh(c[n, t, j]), "Eqn 5.5 at step t.", "h",
        time=FORWARD_IN_TIME),
)
BPTT = (
    _eq("5.14", "dh_total", (n, t, j), B["dh"][n, t, j] + sp.Piecewise(
        (0, sp.Eq(t, T - 1)), (_sum(B["da"][n, t + 1, m] * Wh[j, m], m), True)),
        "h_t feeds the loss (dh) and step t+1, which sends back da_{t+1} Wh^T (Eqn 5.11); the branches add.",
        "h", time=BACKWARD_IN_TIME),
    _eq("5.14b", "dc_total", (n, t, j), B["dh_total"][n, t, j] * o[n, t, j] * (1 - sp.tanh(c[n, t, j]) ** 2)
        + sp.Piecewise((0, sp.Eq(t, T - 1)), (dc_total[n, t + 1, j] * f[n, t + 1, j], True)),
        "Eqn 5.7 at step t: the cell has no loss of its own; its upstream gradient is dprev_c of step t+1 "
        "(Eqn 5.8d), zero after the last step.", "c", time=BACKWARD_IN_TIME),
    _eq("5.14c", "da_i", (n, t, j), dc_total[n, t, j] * g[n, t, j] * i[n, t, j] * (1 - i[n, t, j]),
        "Eqns 5.8-5.9 at step t for the input gate.", "a", time=BACKWARD_IN_TIME),
    _eq("5.14d", "da_f", (n, t, j), dc_total[n, t, j] * c_prev[n, t, j] * f[n, t, j] * (1 - f[n, t, j]),
        "The forget gate, with the cell that entered step t.", "a", time=BACKWARD_IN_TIME),
    _eq("5.14e", "da_o", (n, t, j),
        B["dh_total"][n, t, j] * sp.tanh(c[n, t, j]) * o[n, t, j] * (1 - o[n, t, j]),
        "The output gate (Eqns 5.6, 5.9c): it sees only the hidden state's gradient.", "a",
        time=BACKWARD_IN_TIME),
    _eq("5.14f", "da_g", (n, t, j), dc_total[n, t, j] * i[n, t, j] * (1 - g[n, t, j] ** 2),
        "The block input (Eqns 5.8c, 5.9d).", "a", time=BACKWARD_IN_TIME),
    _eq("5.14g", "da", (n, t, m), _concat(("da_i", "da_f", "da_o", "da_g"), n, t),
        "Eqn 5.9e at step t: the four blocks side by side.", "a", time=BACKWARD_IN_TIME),
)
SEQUENCE_GRADIENTS = (
    _eq("5.14h", "dx", (n, t, d), _sum(B["da"][n, t, m] * Wx[d, m], m),
        "Eqn 5.10 at every step: x_t enters step t only.", "x"),
    _eq("5.15", "dWx", (d, m), _sum(x[n, t, d] * B["da"][n, t, m], n, t),
        "Eqn 5.12 summed over t: the same Wx is used at every step.", "Wx"),
    _eq("5.15b", "dWh", (k, m), _sum(h_prev[n, t, k] * B["da"][n, t, m], n, t),
        "Eqn 5.12b summed over t, with the state that entered each step.", "Wh"),
    _eq("5.15c", "db", (m,), _sum(B["da"][n, t, m], n, t), "Eqn 5.12c summed over t.", "b"),
    _eq("5.15d", "dh0", (n, k), _sum(B["da"][n, 0, m] * Wh[k, m], m),
        "h0 enters the first step only: Eqn 5.11 at t = 0. (c_0 = 0 is a constant: no gradient.)", "h0"),
)


def step_derivation(config: Config) -> Derivation:
    sizes, symbols = bound_sizes(config, ("N", "D", "H", "4H"))
    return Derivation(
        key="lstm_step", part=5, title="Part 5 - LSTM: one step",
        sections=(
            Section("Part 5 - LSTM step forward", "forward", STEP_FORWARD,
                    "One activation for four gates, split into blocks, squashed, then the cell update."),
            Section("Part 5 - LSTM step backward", "backward", STEP_BACKWARD,
                    "Back through the output product, the cell update, the gate nonlinearities and the "
                    "matmuls."),
        ),
        variables=STEP_VARIABLES, sizes=sizes, symbols=symbols,
        inputs=("x", "prev_h", "prev_c", "Wx", "Wh", "b"), outputs=("next_h", "next_c"),
        summary="Gates i, f, o = sigma, g = tanh; next_c = f prev_c + i g; next_h = o tanh(next_c).",
    )


def sequence_derivation(config: Config) -> Derivation:
    sizes, symbols = bound_sizes(config, ("N", "T", "D", "H", "4H"))
    return Derivation(
        key="lstm", part=5, title="Part 5 - LSTM: a sequence",
        sections=(
            Section("Part 5 - LSTM forward", "forward", SEQUENCE_FORWARD,
                    "The step of Eqns 5.0-5.5 for t = 0 .. T-1; h and c of each step feed the next.",
                    recurrence=FORWARD_IN_TIME),
            Section("Part 5 - LSTM backward through time", "backward", BPTT,
                    "From the last step back: both the hidden state's and the cell's gradients are carried.",
                    recurrence=BACKWARD_IN_TIME),
            Section("Part 5 - LSTM backward: inputs and shared weights", "backward", SEQUENCE_GRADIENTS),
        ),
        variables=SEQUENCE_VARIABLES, sizes=sizes, symbols=symbols,
        inputs=("x", "h0", "Wx", "Wh", "b"), outputs=("h",),
        summary="An LSTM over T steps from c_0 = 0, and backpropagation through time.",
    )


def make_step_inputs(config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Standard normal draws as in the spec's check: x (N, D), prev_h, prev_c (N, H), Wx (D, 4H), ..."""
    rows, inputs, hidden = (int(config[axis]) for axis in ("N", "D", "H"))
    shapes = {"x": (rows, inputs), "prev_h": (rows, hidden), "prev_c": (rows, hidden),
              "Wx": (inputs, 4 * hidden), "Wh": (hidden, 4 * hidden), "b": (4 * hidden,)}
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}


def make_sequence_inputs(config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Standard normal draws: x (N, T, D), h0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,)."""
    rows, steps, inputs, hidden = (int(config[axis]) for axis in ("N", "T", "D", "H"))
    shapes = {"x": (rows, steps, inputs), "h0": (rows, hidden), "Wx": (inputs, 4 * hidden),
              "Wh": (hidden, 4 * hidden), "b": (4 * hidden,)}
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}


def step_forward(config: Config, arrays):
    names = ("x", "prev_h", "prev_c", "Wx", "Wh", "b")
    next_h, next_c, cache = layers.lstm_step_forward(*(arrays[s] for s in names))
    return {"next_h": next_h, "next_c": next_c}, cache


def step_backward(config: Config, upstream, cache):
    grads = layers.lstm_step_backward(upstream["dnext_h"], upstream["dnext_c"], cache)
    return dict(zip(("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"), grads, strict=True))


def sequence_forward(config: Config, arrays):
    """"naive": a loop of ``lstm_step_forward``; "fast": the layer's fused ``lstm_forward``."""
    run = recurrent_loops.lstm_forward_by_steps if config.impl == "naive" else layers.lstm_forward
    h_all, cache = run(*(arrays[s] for s in ("x", "h0", "Wx", "Wh", "b")))
    return {"h": h_all}, cache


def sequence_backward(config: Config, upstream, cache):
    run = recurrent_loops.lstm_backward_by_steps if config.impl == "naive" else layers.lstm_backward
    return dict(zip(("dx", "dh0", "dWx", "dWh", "db"), run(upstream["dh"], cache), strict=True))


STEP_PROOF_SIZES = {"N": 1, "D": 1, "H": 2}
SEQUENCE_PROOF_SIZES = {"N": 1, "T": 2, "D": 1, "H": 1}


@functools.lru_cache(maxsize=64)
def verify_step(config: Config):
    return verify_against_layers(STEP_TOPIC, config, STEP_PROOF_SIZES)


@functools.lru_cache(maxsize=64)
def verify_sequence(config: Config):
    return verify_against_layers(SEQUENCE_TOPIC, config, SEQUENCE_PROOF_SIZES)


STEP_TOPIC = Topic(
    key="lstm_step", part=5, title="LSTM: one step",
    summary="One LSTM step through all four gates and the cell, forward and backward.",
    fields=dimension_fields(3, 4, 5),
    inputs=("x", "prev_h", "prev_c", "Wx", "Wh", "b"), outputs=("next_h", "next_c"),
    make_inputs=make_step_inputs, forward=step_forward, backward=step_backward,
    derivation=step_derivation, graph=recurrent_graphs.lstm_step_graph, verify=verify_step,
    activations=sequence_plots.lstm_step_activations,
    spec_check=recurrent_spec_checks.LSTM_STEP,
)
SEQUENCE_TOPIC = Topic(
    key="lstm", part=5, title="LSTM: a sequence",
    summary="An LSTM over T steps; backpropagation through time carries dh and dc.",
    fields=dimension_fields(2, 5, 4, steps=3),
    inputs=("x", "h0", "Wx", "Wh", "b"), outputs=("h",),
    make_inputs=make_sequence_inputs, forward=sequence_forward, backward=sequence_backward,
    derivation=sequence_derivation, graph=recurrent_graphs.lstm_sequence_graph, verify=verify_sequence,
    activations=sequence_plots.lstm_activations,
    impls=("naive", "fast"),
    reference_impl="fast",
    spec_check=recurrent_spec_checks.LSTM_SEQUENCE,
)
