"""Part 4 - vanilla RNN: one step and a whole sequence with backpropagation through time.

Derivations, graphs (``derivations.recurrent_graphs``), proofs and the two catalog entries.
Equations that the plan groups under one number (4.10: dWx, dWh, db) carry the plain number
on the first and letters on the rest (4.10b, 4.10c), so every number ``layers/rnn.py`` cites
exists exactly and no number is used twice.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

import layers
from derivations import recurrent_graphs, recurrent_loops, recurrent_spec_checks, sequence_plots
from derivations.model import Derivation, Section
from derivations.recurrent_common import (
    BACKWARD_IN_TIME,
    FORWARD_IN_TIME,
    T,
    bases,
    bound_sizes,
    d,
    dimension_fields,
    equation,
    index_sum,
    j,
    k,
    n,
    t,
    verify_against_layers,
)
from derivations.recurrent_variables import RNN_SEQUENCE_VARIABLES, RNN_STEP_VARIABLES
from derivations.topic import Config, Topic

STEP_VARIABLES, SEQUENCE_VARIABLES = RNN_STEP_VARIABLES, RNN_SEQUENCE_VARIABLES
B = bases(STEP_VARIABLES, SEQUENCE_VARIABLES)
_sum = index_sum


def _eq(number, name, *rest, **options):
    return equation(number, B[name], *rest, **options)


x, prev_h, Wx, Wh, b, a = (B[s] for s in ("x", "prev_h", "Wx", "Wh", "b", "a"))
STEP_FORWARD = (
    _eq("4.0", "a", (n, j), _sum(x[n, d] * Wx[d, j], d) + _sum(prev_h[n, k] * Wh[k, j], k) + b[j],
        "Two matrix products, (N, D)(D, H) and (N, H)(H, H), each a sum over the shared axis, plus the "
        "bias, which broadcasts over the N rows.", "a"),
    _eq("4.1", "next_h", (n, j), sp.tanh(a[n, j]), "tanh squashes each pre-activation into (-1, 1).",
        "next_h"),
)
STEP_BACKWARD = (
    _eq("4.2", "da", (n, j), B["dnext_h"][n, j] * (1 - B["next_h"][n, j] ** 2),
        "Chain rule through tanh: tanh'(a) = 1 - tanh(a)^2 = 1 - next_h^2, so the forward output is "
        "all the backward pass needs.", "a"),
    _eq("4.3", "dx", (n, d), _sum(B["da"][n, j] * Wx[d, j], j),
        "x[n, d] reaches every a[n, j] through Wx[d, j]: sum over the H columns, i.e. da Wx^T, "
        "(N, H)(H, D).", "x"),
    _eq("4.4", "dprev_h", (n, k), _sum(B["da"][n, j] * Wh[k, j], j),
        "The same for the previous state: da Wh^T, (N, H)(H, H).", "prev_h"),
    _eq("4.5", "dWx", (d, j), _sum(x[n, d] * B["da"][n, j], n),
        "Wx is shared by the N rows, so their contributions add: x^T da, (D, N)(N, H).", "Wx"),
    _eq("4.6", "dWh", (k, j), _sum(prev_h[n, k] * B["da"][n, j], n),
        "Likewise prev_h^T da, (H, N)(N, H).", "Wh"),
    _eq("4.7", "db", (j,), _sum(B["da"][n, j], n), "b is added to every row: sum da over N.", "b"),
)

h, h_prev, da_seq = B["h"], B["h_prev"], B["da"]
SEQUENCE_FORWARD = (
    _eq("4.8", "h_prev", (n, t, k), sp.Piecewise((B["h0"][n, k], sp.Eq(t, 0)), (h[n, t - 1, k], True)),
        "The state entering step t: h0 at the first step, the previous step's output after that.", "h",
        FORWARD_IN_TIME),
    _eq("4.8b", "h", (n, t, j),
        sp.tanh(_sum(x[n, t, d] * Wx[d, j], d) + _sum(h_prev[n, t, k] * Wh[k, j], k) + b[j]),
        "Eqns 4.0-4.1 at step t, with the same Wx, Wh and b at every step.", "h", FORWARD_IN_TIME),
)
BPTT = (
    _eq("4.9", "dh_total", (n, t, j), B["dh"][n, t, j] + sp.Piecewise(
        (0, sp.Eq(t, T - 1)), (_sum(da_seq[n, t + 1, k] * Wh[j, k], k), True)),
        "h_t feeds the loss (dh) and step t+1, which sends back its dprev_h = da_{t+1} Wh^T (Eqn 4.4): "
        "the two branches add. Nothing comes back from beyond the last step.", "h", BACKWARD_IN_TIME),
    _eq("4.9b", "da", (n, t, j), B["dh_total"][n, t, j] * (1 - h[n, t, j] ** 2),
        "Eqn 4.2 at step t, with the total gradient in place of dnext_h.", "h", BACKWARD_IN_TIME),
)
SEQUENCE_GRADIENTS = (
    _eq("4.9c", "dx", (n, t, d), _sum(da_seq[n, t, j] * Wx[d, j], j),
        "Eqn 4.3 at every step: x_t enters step t only.", "x"),
    _eq("4.10", "dWx", (d, j), _sum(x[n, t, d] * da_seq[n, t, j], n, t),
        "Eqn 4.5 summed over t: the same Wx is used at every step, so the steps' gradients add.", "Wx"),
    _eq("4.10b", "dWh", (k, j), _sum(h_prev[n, t, k] * da_seq[n, t, j], n, t),
        "Eqn 4.6 summed over t, with the state that entered each step.", "Wh"),
    _eq("4.10c", "db", (j,), _sum(da_seq[n, t, j], n, t), "Eqn 4.7 summed over t.", "b"),
    _eq("4.11", "dh0", (n, k), _sum(da_seq[n, 0, j] * Wh[k, j], j),
        "h0 enters the first step only: its dprev_h, Eqn 4.4 at t = 0.", "h0"),
)


def step_derivation(config: Config) -> Derivation:
    sizes, symbols = bound_sizes(config, ("N", "D", "H"))
    return Derivation(
        key="rnn_step", part=4, title="Part 4 - Vanilla RNN: one step",
        sections=(
            Section("Part 4 - Vanilla RNN step forward", "forward", STEP_FORWARD,
                    "One timestep: mix the input and the previous state linearly, then squash with tanh."),
            Section("Part 4 - Vanilla RNN step backward", "backward", STEP_BACKWARD,
                    "Back through tanh, then through the two matrix products and the bias."),
        ),
        variables=STEP_VARIABLES, sizes=sizes, symbols=symbols,
        inputs=("x", "prev_h", "Wx", "Wh", "b"), outputs=("next_h",),
        summary="next_h = tanh(x Wx + prev_h Wh + b) and its gradients.",
    )


def sequence_derivation(config: Config) -> Derivation:
    sizes, symbols = bound_sizes(config, ("N", "T", "D", "H"))
    return Derivation(
        key="rnn", part=4, title="Part 4 - Vanilla RNN: a sequence",
        sections=(
            Section("Part 4 - Vanilla RNN forward", "forward", SEQUENCE_FORWARD,
                    "The step of Eqns 4.0-4.1 repeated for t = 0 .. T-1, each step reading the state the "
                    "one before produced.", recurrence=FORWARD_IN_TIME),
            Section("Part 4 - Vanilla RNN backward through time", "backward", BPTT,
                    "From the last step back to the first: each state's gradient collects what the next "
                    "step sends back.", recurrence=BACKWARD_IN_TIME),
            Section("Part 4 - Vanilla RNN backward: inputs and shared weights", "backward",
                    SEQUENCE_GRADIENTS),
        ),
        variables=SEQUENCE_VARIABLES, sizes=sizes, symbols=symbols,
        inputs=("x", "h0", "Wx", "Wh", "b"), outputs=("h",),
        summary="h_t = tanh(x_t Wx + h_{t-1} Wh + b) over t, and backpropagation through time.",
    )


def make_step_inputs(config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Standard normal draws, as in the spec's gradient check: x (N, D), prev_h (N, H), Wx, Wh, b."""
    rows, inputs, hidden = (int(config[axis]) for axis in ("N", "D", "H"))
    shapes = {"x": (rows, inputs), "prev_h": (rows, hidden), "Wx": (inputs, hidden), "Wh": (hidden, hidden),
              "b": (hidden,)}
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}


def make_sequence_inputs(config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Standard normal draws: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,)."""
    rows, steps, inputs, hidden = (int(config[axis]) for axis in ("N", "T", "D", "H"))
    shapes = {"x": (rows, steps, inputs), "h0": (rows, hidden), "Wx": (inputs, hidden),
              "Wh": (hidden, hidden), "b": (hidden,)}
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}


def step_forward(config: Config, arrays):
    next_h, cache = layers.rnn_step_forward(*(arrays[s] for s in ("x", "prev_h", "Wx", "Wh", "b")))
    return {"next_h": next_h}, cache


def step_backward(config: Config, upstream, cache):
    grads = layers.rnn_step_backward(upstream["dnext_h"], cache)
    return dict(zip(("dx", "dprev_h", "dWx", "dWh", "db"), grads, strict=True))


def sequence_forward(config: Config, arrays):
    """"naive": a loop of ``rnn_step_forward``; "fast": the layer's fused ``rnn_forward``."""
    run = recurrent_loops.rnn_forward_by_steps if config.impl == "naive" else layers.rnn_forward
    h_all, cache = run(*(arrays[s] for s in ("x", "h0", "Wx", "Wh", "b")))
    return {"h": h_all}, cache


def sequence_backward(config: Config, upstream, cache):
    run = recurrent_loops.rnn_backward_by_steps if config.impl == "naive" else layers.rnn_backward
    grads = run(upstream["dh"], cache)
    return dict(zip(("dx", "dh0", "dWx", "dWh", "db"), grads, strict=True))


STEP_PROOF_SIZES = {"N": 2, "D": 2, "H": 2}
SEQUENCE_PROOF_SIZES = {"N": 2, "T": 2, "D": 2, "H": 2}


@functools.lru_cache(maxsize=64)
def verify_step(config: Config):
    return verify_against_layers(STEP_TOPIC, config, STEP_PROOF_SIZES)


@functools.lru_cache(maxsize=64)
def verify_sequence(config: Config):
    return verify_against_layers(SEQUENCE_TOPIC, config, SEQUENCE_PROOF_SIZES)


STEP_TOPIC = Topic(
    key="rnn_step", part=4, title="Vanilla RNN: one step",
    summary="One tanh RNN step, forward and backward (tanh' = 1 - h^2).",
    fields=dimension_fields(3, 10, 4),
    inputs=("x", "prev_h", "Wx", "Wh", "b"), outputs=("next_h",),
    make_inputs=make_step_inputs, forward=step_forward, backward=step_backward,
    derivation=step_derivation, graph=recurrent_graphs.rnn_step_graph, verify=verify_step,
    activations=sequence_plots.rnn_step_activations,
    spec_check=recurrent_spec_checks.RNN_STEP,
)
SEQUENCE_TOPIC = Topic(
    key="rnn", part=4, title="Vanilla RNN: a sequence",
    summary="A tanh RNN over T steps and backpropagation through time.",
    fields=dimension_fields(2, 4, 5, steps=3),
    inputs=("x", "h0", "Wx", "Wh", "b"), outputs=("h",),
    make_inputs=make_sequence_inputs, forward=sequence_forward, backward=sequence_backward,
    derivation=sequence_derivation, graph=recurrent_graphs.rnn_sequence_graph, verify=verify_sequence,
    activations=sequence_plots.rnn_activations,
    impls=("naive", "fast"),
    reference_impl="fast",
    spec_check=recurrent_spec_checks.RNN_SEQUENCE,
)
