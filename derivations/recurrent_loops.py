"""Sequences as plain loops over the spec's step functions (the "naive" implementation of the
sequence topics, and the source of the per-step values the activation plots show).

The layer's own ``rnn_forward`` / ``lstm_forward`` fuse the work that does not depend on the
recurrence; these loops call ``*_step_forward`` once per t and ``*_step_backward`` once per t
in reverse, exactly as the spec asks a student to write them, so the two can be compared.
Arrays are batch-major like the spec's: x (N, T, D), h (N, T, H).
"""

from __future__ import annotations

import numpy as np

import layers


def rnn_forward_by_steps(x, h0, Wx, Wh, b):
    """Vanilla RNN over a sequence, one ``rnn_step_forward`` per t (Eqn 4.8).

    Inputs: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,).
    Returns (h, caches): h (N, T, H); caches, a list of T ``RNNStepCache``.
    """
    caches, states = [], []
    h_prev = h0  # (N, H), the state entering step 0
    for t in range(x.shape[1]):
        h_prev, cache = layers.rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)  # (N, H)
        states.append(h_prev)
        caches.append(cache)
    return np.stack(states, axis=1), caches  # T x (N, H) -> (N, T, H)


def rnn_backward_by_steps(dh, caches):
    """Backpropagation through time with ``rnn_step_backward`` (Eqns 4.9-4.11).

    Inputs: dh (N, T, H), the upstream gradient of every h_t; caches from ``rnn_forward_by_steps``.
    Returns dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    dx = [None] * len(caches)
    dprev_h = np.zeros_like(dh[:, 0])  # (N, H), nothing flows back from beyond the last step
    dWx = dWh = db = 0.0
    for t in reversed(range(len(caches))):
        dx[t], dprev_h, dWx_t, dWh_t, db_t = layers.rnn_step_backward(dh[:, t] + dprev_h, caches[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t  # shared weights: sum over t
    return np.stack(dx, axis=1), dprev_h, dWx, dWh, db


def lstm_forward_by_steps(x, h0, Wx, Wh, b):
    """LSTM over a sequence, one ``lstm_step_forward`` per t from c_0 = 0 (Eqn 5.13).

    Inputs: x (N, T, D), h0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,).
    Returns (h, caches): h (N, T, H); caches, a list of T ``LSTMStepCache`` (gates, cells).
    """
    caches, states = [], []
    h_prev, c_prev = h0, np.zeros_like(h0)  # (N, H) each
    for t in range(x.shape[1]):
        h_prev, c_prev, cache = layers.lstm_step_forward(x[:, t], h_prev, c_prev, Wx, Wh, b)
        states.append(h_prev)
        caches.append(cache)
    return np.stack(states, axis=1), caches  # T x (N, H) -> (N, T, H)


def lstm_backward_by_steps(dh, caches):
    """Backpropagation through time with ``lstm_step_backward``, carrying dh and dc (Eqns 5.14-5.15).

    Inputs: dh (N, T, H); caches from ``lstm_forward_by_steps``.
    Returns dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    dx = [None] * len(caches)
    dprev_h = np.zeros_like(dh[:, 0])  # (N, H)
    dprev_c = np.zeros_like(dh[:, 0])  # (N, H), the last cell state has no upstream gradient
    dWx = dWh = db = 0.0
    for t in reversed(range(len(caches))):
        dx[t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = layers.lstm_step_backward(
            dh[:, t] + dprev_h, dprev_c, caches[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t  # shared weights: sum over t
    return np.stack(dx, axis=1), dprev_h, dWx, dWh, db
