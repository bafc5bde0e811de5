"""Part 4 - vanilla RNN: one timestep and a whole sequence, forward and backward.

Equation numbers (``Eqn 4.n``) refer to ``derivations/rnn.py``: step forward 4.0-4.1,
step backward 4.2-4.7, sequence forward 4.8, backpropagation through time 4.9-4.11.

The step functions are the spec's readable building blocks. The sequence functions compute
exactly the step equations for every t, but fuse all work that does not depend on the
recurrence:

- forward: the input term ``x_t Wx + b`` of Eqn 4.0 for all T steps is ONE
  (T*N, D) @ (D, H) matmul before the loop; the loop only adds ``h_{t-1} Wh`` and applies tanh.
- backward: the loop only carries ``dprev_h`` back (Eqns 4.9, 4.2, 4.4) and stores every
  ``da_t``; the per-step gradients of Eqns 4.3, 4.5-4.7, summed over t (Eqn 4.10), are then
  ONE matmul or reduction each over the T*N stacked rows, since sum_t x_t^T da_t = X^T dA.

Internally sequences are stored time-major, (T, N, ...), so each step is a contiguous (N, ...)
block and the previous states h_0 .. h_{T-1} are one contiguous slice of the stored states.
Non-finite values (nan, inf) are accepted and propagate as NumPy defines.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from layers import validation as v


class RNNStepCache(NamedTuple):
    """What ``rnn_step_forward`` keeps for ``rnn_step_backward``."""

    x: np.ndarray  # (N, D) input of this step
    prev_h: np.ndarray  # (N, H) previous hidden state
    Wx: np.ndarray  # (D, H) input-to-hidden weights
    Wh: np.ndarray  # (H, H) hidden-to-hidden weights
    next_h: np.ndarray  # (N, H) tanh(a); gives tanh'(a) = 1 - next_h**2


class RNNCache(NamedTuple):
    """What ``rnn_forward`` keeps for ``rnn_backward``, stored time-major."""

    x_flat: np.ndarray  # (T*N, D) inputs, row t*N + n holds x[n, t]
    h_states: np.ndarray  # (T+1, N, H) h_states[0] = h0, h_states[t + 1] = h[:, t]
    Wx: np.ndarray  # (D, H) input-to-hidden weights
    Wh: np.ndarray  # (H, H) hidden-to-hidden weights


def _check_inputs(x, x_ndim: int, h_name: str, h, Wx, Wh, b):
    """Validate and convert (x, h, Wx, Wh, b); x is (N, D) or (N, T, D), h is (N, H)."""
    x, Wx, Wh, b = v.recurrent_inputs(x, x_ndim, Wx, Wh, b, gates=1)  # float64, D and H agree
    h_shape = (x.shape[0], Wh.shape[0])  # (N, H)
    h = v.array_of_shape(h_name, h, h_shape, "(N, H)")  # (N, H), (1, H) would broadcast silently
    return x, h, Wx, Wh, b


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """Run one timestep of a vanilla RNN with tanh activation.

    Inputs:
    - x: input data for this timestep, of shape (N, D)
    - prev_h: hidden state from the previous timestep, of shape (N, H)
    - Wx: input-to-hidden weights, of shape (D, H)
    - Wh: hidden-to-hidden weights, of shape (H, H)
    - b: biases, of shape (H,)

    Returns a tuple of:
    - next_h: next hidden state, of shape (N, H)
    - cache: ``RNNStepCache`` for ``rnn_step_backward``
    """
    x, prev_h, Wx, Wh, b = _check_inputs(x, 2, "prev_h", prev_h, Wx, Wh, b)  # float64 arrays
    a = x @ Wx + prev_h @ Wh + b  # (N, D) @ (D, H) + (N, H) @ (H, H) + (H,) -> (N, H)  Eqn 4.0
    next_h = np.tanh(a)  # (N, H) -> (N, H)  Eqn 4.1
    return next_h, RNNStepCache(x, prev_h, Wx, Wh, next_h)  # cache: the graph's inputs and output


def rnn_step_backward(dnext_h, cache):
    """Backward pass for one timestep of a vanilla RNN.

    Inputs:
    - dnext_h: upstream gradient of the next hidden state, of shape (N, H)
    - cache: ``RNNStepCache`` from ``rnn_step_forward``

    Returns a tuple of:
    - dx: gradient of the input, of shape (N, D)
    - dprev_h: gradient of the previous hidden state, of shape (N, H)
    - dWx: gradient of the input-to-hidden weights, of shape (D, H)
    - dWh: gradient of the hidden-to-hidden weights, of shape (H, H)
    - db: gradient of the biases, of shape (H,)
    """
    v.require_cache(cache, RNNStepCache, "rnn_step_forward")  # a wrong cache type is a ValueError
    dnext_h = v.array_of_shape("dnext_h", dnext_h, cache.next_h.shape, "(N, H)")  # (N, H)
    da = dnext_h * (1.0 - cache.next_h**2)  # (N, H) * (N, H) -> (N, H), tanh' = 1 - h^2  Eqn 4.2
    dx = da @ cache.Wx.T  # (N, H) @ (H, D) -> (N, D)  Eqn 4.3
    dprev_h = da @ cache.Wh.T  # (N, H) @ (H, H) -> (N, H)  Eqn 4.4
    dWx = cache.x.T @ da  # (D, N) @ (N, H) -> (D, H)  Eqn 4.5
    dWh = cache.prev_h.T @ da  # (H, N) @ (N, H) -> (H, H)  Eqn 4.6
    db = da.sum(axis=0)  # (N, H) -> (H,)  Eqn 4.7
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """Run a vanilla RNN forward over a whole sequence: Eqn 4.8, h_t = tanh(x_t Wx + h_{t-1} Wh + b).

    Same numbers as looping ``rnn_step_forward`` over t = 1..T from h_0 = h0 (up to rounding,
    ~1e-15); the input term of all steps is one fused matmul (see the module docstring).

    Inputs:
    - x: input data for the entire timeseries, of shape (N, T, D)
    - h0: initial hidden state, of shape (N, H)
    - Wx: input-to-hidden weights, of shape (D, H)
    - Wh: hidden-to-hidden weights, of shape (H, H)
    - b: biases, of shape (H,)

    Returns a tuple of:
    - h: hidden states for the entire timeseries, of shape (N, T, H)
    - cache: ``RNNCache`` for ``rnn_backward``
    """
    x, h0, Wx, Wh, b = _check_inputs(x, 3, "h0", h0, Wx, Wh, b)  # float64 arrays
    n_rows, n_steps, n_inputs = x.shape  # N, T, D
    n_hidden = Wh.shape[0]  # H
    x_flat = x.transpose(1, 0, 2).reshape(n_steps * n_rows, n_inputs)  # (N, T, D) -> (T, N, D) -> (T*N, D)
    h_states = np.empty((n_steps + 1, n_rows, n_hidden))  # (T+1, N, H): h_0 .. h_T
    h_states[0] = h0  # (N, H), the sequence starts from h_0 = h0  Eqn 4.8
    a_all = h_states[1:].reshape(n_steps * n_rows, n_hidden)  # (T*N, H) view: a_t is built where h_t goes
    np.matmul(x_flat, Wx, out=a_all)  # (T*N, D) @ (D, H) -> (T*N, H), x_t Wx of every step  Eqn 4.0
    a_all += b  # (T*N, H) + (H,) -> (T*N, H), input term x_t Wx + b of every step  Eqn 4.0
    recurrent = np.empty((n_rows, n_hidden))  # (N, H) scratch for h_{t-1} Wh, reused every step
    for t in range(n_steps):  # step t consumes x[:, t] and makes h_states[t + 1]
        np.matmul(h_states[t], Wh, out=recurrent)  # (N, H) @ (H, H) -> (N, H), recurrent term  Eqn 4.0
        a_t = h_states[t + 1]  # (N, H) view holding x_t Wx + b
        a_t += recurrent  # (N, H) + (N, H) -> (N, H), a = x_t Wx + h_{t-1} Wh + b  Eqn 4.0
        np.tanh(a_t, out=a_t)  # (N, H) -> (N, H), h_t replaces a_t in its slot  Eqns 4.1, 4.8
    h = np.ascontiguousarray(h_states[1:].transpose(1, 0, 2))  # (T, N, H) -> (N, T, H), a copy
    return h, RNNCache(x_flat, h_states, Wx, Wh)  # cache: time-major inputs and states


def rnn_backward(dh, cache):
    """Backpropagation through time for a vanilla RNN over a whole sequence.

    At step t the hidden state receives its own upstream gradient dh[:, t] plus the dprev_h
    of step t+1 (Eqn 4.9); the step equations 4.2 and 4.4 carry it one step back. Same numbers
    as looping ``rnn_step_backward`` from t = T down to 1 and summing the weight gradients
    (Eqn 4.10), up to rounding (~1e-15); those sums are fused into single matmuls.

    Inputs:
    - dh: upstream gradients of all hidden states, of shape (N, T, H)
    - cache: ``RNNCache`` from ``rnn_forward``

    Returns a tuple of:
    - dx: gradient of the inputs, of shape (N, T, D)
    - dh0: gradient of the initial hidden state, of shape (N, H)
    - dWx: gradient of the input-to-hidden weights, of shape (D, H)
    - dWh: gradient of the hidden-to-hidden weights, of shape (H, H)
    - db: gradient of the biases, of shape (H,)
    """
    v.require_cache(cache, RNNCache, "rnn_forward")  # a wrong cache type is a ValueError
    n_states, n_rows, n_hidden = cache.h_states.shape  # T+1, N, H
    n_steps = n_states - 1  # T
    dh = v.array_of_shape("dh", dh, (n_rows, n_steps, n_hidden), "(N, T, H)")  # (N, T, H)
    dh_by_step = dh.transpose(1, 0, 2)  # (N, T, H) -> (T, N, H), a view
    Wh_T = np.ascontiguousarray(cache.Wh.T)  # (H, H) -> (H, H) transposed once, row-major for the loop
    da_all = np.empty((n_steps, n_rows, n_hidden))  # (T, N, H), da_t of every step
    dprev_h = np.zeros((n_rows, n_hidden))  # (N, H), nothing flows in from beyond the last step
    for t in reversed(range(n_steps)):  # from the last step back to the first
        h_t = cache.h_states[t + 1]  # (N, H), output of step t
        dh_total = dh_by_step[t] + dprev_h  # (N, H) + (N, H) -> (N, H)  Eqn 4.9
        np.multiply(dh_total, 1.0 - h_t**2, out=da_all[t])  # (N, H) * (N, H) -> (N, H)  Eqn 4.2
        dprev_h = da_all[t] @ Wh_T  # (N, H) @ (H, H) -> (N, H)  Eqn 4.4
    da_flat = da_all.reshape(n_steps * n_rows, n_hidden)  # (T, N, H) -> (T*N, H), a view
    dx = np.empty((n_rows, n_steps, cache.Wx.shape[0]))  # (N, T, D), the caller's layout
    np.matmul(da_all, cache.Wx.T, out=dx.transpose(1, 0, 2))  # (T, N, H) @ (H, D) -> (T, N, D)  Eqn 4.3
    dWx = cache.x_flat.T @ da_flat  # (D, T*N) @ (T*N, H) -> (D, H)  Eqns 4.5, 4.10
    h_prev_flat = cache.h_states[:-1].reshape(n_steps * n_rows, n_hidden)  # h_0 .. h_{T-1} -> (T*N, H)
    dWh = h_prev_flat.T @ da_flat  # (H, T*N) @ (T*N, H) -> (H, H)  Eqns 4.6, 4.10
    db = da_flat.sum(axis=0)  # (T*N, H) -> (H,)  Eqns 4.7, 4.10
    dh0 = dprev_h  # (N, H), dprev_h of the first step  Eqn 4.11
    return dx, dh0, dWx, dWh, db
