"""Activation plots of parts 4 and 5 as ``PlotSpec`` data (pure NumPy; drawn by ``app/figures.py``).

- steps: the gates and states of the one step as heatmaps (rows n, columns j).
- sequences: the hidden states (and the LSTM's cell and gates) of sample 0 over time, and the
  norm of dL/dh_t for t = T-1 .. 0 and h0 when the loss sees only the last hidden state, for
  an RNN and an LSTM of the same sizes: vanishing or exploding gradients, side by side.
"""

from __future__ import annotations

import numpy as np

import layers
from derivations import recurrent_loops
from derivations.topic import Config, PlotSpec


def rnn_step_activations(config: Config, result) -> tuple[PlotSpec, ...]:
    """a and next_h (N, H) of the step; dnext_h, tanh's factor 1 - next_h^2 and da (N, H)."""
    arrays = result.arrays
    a = arrays["x"] @ arrays["Wx"] + arrays["prev_h"] @ arrays["Wh"] + arrays["b"]  # (N, H)  Eqn 4.0
    next_h = result.outputs["next_h"]
    da = result.upstream["dnext_h"] * (1 - next_h**2)  # (N, H)  Eqn 4.2
    return (
        PlotSpec("heatmaps", "Forward: pre-activation and next hidden state (rows n, columns j)",
                 {"a": a, "next_h = tanh(a)": next_h}),
        PlotSpec("heatmaps", "Backward: tanh passes the gradient scaled by 1 - next_h^2",
                 {"dnext_h": result.upstream["dnext_h"], "1 - next_h^2": 1 - next_h**2, "da": da},
                 caption="Where tanh saturates (|next_h| near 1) almost no gradient gets through."),
    )


def lstm_step_activations(config: Config, result) -> tuple[PlotSpec, ...]:
    """The gates i, f, o, g and the states prev_c, next_c, next_h of the step, each (N, H)."""
    arrays = result.arrays
    *_, cache = layers.lstm_step_forward(*(arrays[s] for s in ("x", "prev_h", "prev_c", "Wx", "Wh", "b")))
    return (
        PlotSpec("heatmaps", "Gates (rows n, columns j)",
                 {"input gate i": cache.i, "forget gate f": cache.f, "output gate o": cache.o,
                  "block input g": cache.g}),
        PlotSpec("heatmaps", "Cell and hidden state",
                 {"prev_c": arrays["prev_c"], **result.outputs},
                 caption="next_c = f * prev_c + i * g; next_h = o * tanh(next_c)."),
    )


def _units_over_time(title: str, states: np.ndarray, y_label: str) -> PlotSpec:
    """One line per hidden unit of sample 0; ``states`` is (N, T, H)."""
    return PlotSpec("lines", title, {f"unit {unit}": states[0, :, unit] for unit in range(states.shape[2])},
                    x=np.arange(states.shape[1]), x_label="t", y_label=y_label)


def rnn_activations(config: Config, result) -> tuple[PlotSpec, ...]:
    """h[0, t, j] over t, one line per unit j; then the gradient norms of RNN and LSTM."""
    return (_units_over_time("Hidden states of sample 0 over time", result.outputs["h"], "h[0, t, j]"),
            gradient_norm_plot(config, result.arrays, "rnn"))


def lstm_activations(config: Config, result) -> tuple[PlotSpec, ...]:
    """h and c of sample 0 over t (lines per unit), its gates as (H, T) heatmaps, the gradient norms."""
    arrays = result.arrays
    h, caches = recurrent_loops.lstm_forward_by_steps(*(arrays[s] for s in ("x", "h0", "Wx", "Wh", "b")))
    over_time = {name: np.stack([getattr(cache, name)[0] for cache in caches], axis=1)  # (H, T), sample 0
                 for name in ("i", "f", "o", "g")}
    cells = np.stack([cache.prev_c * cache.f + cache.i * cache.g for cache in caches], axis=1)  # (N, T, H)
    return (
        _units_over_time("Hidden states of sample 0 over time", h, "h[0, t, j]"),
        _units_over_time("Cell states of sample 0 over time", cells, "c[0, t, j]"),
        PlotSpec("heatmaps", "Gates of sample 0 over time (rows j, columns t)", over_time,
                 caption="f near 1 keeps the cell; i and g write to it; o decides how much of it shows."),
        gradient_norm_plot(config, arrays, "lstm"),
    )


def _rnn_back_norms(x, h0, weights, dlast) -> np.ndarray:
    _, caches = recurrent_loops.rnn_forward_by_steps(x, h0, *weights)
    norms, dh = [np.linalg.norm(dlast)], dlast
    for cache in reversed(caches):
        dh = layers.rnn_step_backward(dh, cache)[1]  # dL/dh_{t-1} = dprev_h  Eqns 4.2, 4.4
        norms.append(np.linalg.norm(dh))
    return np.array(norms[::-1])  # (T+1,): h0, h_0, ..., h_{T-1}


def _lstm_back_norms(x, h0, weights, dlast) -> np.ndarray:
    _, caches = recurrent_loops.lstm_forward_by_steps(x, h0, *weights)
    norms, dh, dc = [np.linalg.norm(dlast)], dlast, np.zeros_like(dlast)
    for cache in reversed(caches):
        _, dh, dc, *_ = layers.lstm_step_backward(dh, dc, cache)  # carries dh and dc  Eqns 5.6-5.11
        norms.append(np.linalg.norm(dh))
    return np.array(norms[::-1])  # (T+1,)


def gradient_norm_plot(config: Config, arrays, own: str) -> PlotSpec:
    """||dL/dh_t|| for L = sum(g * h_{T-1}), g standard normal, through an RNN and an LSTM.

    ``arrays`` are the topic's inputs (x (N, T, D), h0 (N, H) and ``own``'s weights); the other
    model shares x and h0 and draws standard normal weights of its own shapes from the seed.
    """
    x, h0 = arrays["x"], arrays["h0"]
    inputs, hidden = x.shape[2], h0.shape[1]
    rng = np.random.default_rng([config.seed, 3])
    dlast = rng.standard_normal(h0.shape)  # (N, H), the only upstream gradient
    weights = {}
    for model, width in (("rnn", hidden), ("lstm", 4 * hidden)):
        # drawn for both models, so the other model's weights do not depend on which page asks
        drawn = tuple(rng.standard_normal(shape) for shape in ((inputs, width), (hidden, width), (width,)))
        weights[model] = tuple(arrays[s] for s in ("Wx", "Wh", "b")) if model == own else drawn
    norms = {"RNN": _rnn_back_norms(x, h0, weights["rnn"], dlast),
             "LSTM": _lstm_back_norms(x, h0, weights["lstm"], dlast)}
    return PlotSpec(
        "lines", "Gradient reaching each hidden state from a loss on the last one", norms,
        x=np.arange(-1, x.shape[1]), x_label="t (t = -1 is h0)", y_label="||dL/dh_t||", log_y=True,
        caption=f"Same x, h0, N, D, H and T; the {own.upper()} uses this page's weights, the other model "
                "standard normal ones. A falling line is a vanishing gradient, a rising one an exploding "
                "gradient.",
    )
