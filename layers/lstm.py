"""Part 5 - LSTM: one timestep and a whole sequence, forward and backward.

Equation numbers (``Eqn 5.n``) refer to ``derivations/lstm.py``: step forward 5.0-5.5,
step backward 5.6-5.12, sequence forward 5.13, backpropagation through time 5.14-5.15.

The activation a = x Wx + prev_h Wh + b has four blocks of H columns in the order
i, f, o, g (input, forget, output gates and block input).

The step functions are the spec's readable building blocks. The sequence functions compute
exactly the step equations for every t, but fuse all work that does not depend on the
recurrence:

- forward: the input term ``x_t Wx + b`` of Eqn 5.0 for all T steps is ONE
  (T*N, D) @ (D, 4H) matmul before the loop; the loop does one (N, H) @ (H, 4H) matmul for all
  four gates and elementwise work.
- backward: the factors of Eqns 5.6-5.9 that do not depend on the upstream gradient (g i(1-i),
  c_{t-1} f(1-f), tanh(c_t) o(1-o), i (1-g^2), o (1-tanh^2 c_t)) are computed for all t at once;
  the loop only combines them with the carried dh and dc and does dprev_h = da_t Wh^T. The
  per-step gradients of Eqns 5.10 and 5.12, summed over t (Eqn 5.15), are then ONE matmul or
  reduction each over the T*N stacked rows, since sum_t x_t^T da_t = X^T dA.

Internally sequences are stored time-major, (T, N, ...), so each step is a contiguous (N, ...)
block and the previous states h_0 .. h_{T-1}, c_0 .. c_{T-1} are contiguous slices.
Non-finite values (nan, inf) are accepted and propagate as NumPy defines.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from layers import validation as v


class LSTMStepCache(NamedTuple):
    """What ``lstm_step_forward`` keeps for ``lstm_step_backward``."""

    x: np.ndarray  # (N, D) input of this step
    prev_h: np.ndarray  # (N, H) previous hidden state
    prev_c: np.ndarray  # (N, H) previous cell state
    Wx: np.ndarray  # (D, 4H) input-to-hidden weights
    Wh: np.ndarray  # (H, 4H) hidden-to-hidden weights
    i: np.ndarray  # (N, H) input gate sigma(a_i)
    f: np.ndarray  # (N, H) forget gate sigma(a_f)
    o: np.ndarray  # (N, H) output gate sigma(a_o)
    g: np.ndarray  # (N, H) block input tanh(a_g)
    tanh_next_c: np.ndarray  # (N, H) tanh(next_c)


class LSTMCache(NamedTuple):
    """What ``lstm_forward`` keeps for ``lstm_backward``, stored time-major."""

    x_flat: np.ndarray  # (T*N, D) inputs, row t*N + n holds x[n, t]
    h_states: np.ndarray  # (T+1, N, H) h_states[0] = h0, h_states[t + 1] = h[:, t]
    c_states: np.ndarray  # (T+1, N, H) c_states[0] = 0, then the cell state after each step
    gates: np.ndarray  # (T, N, 4H) [i | f | o | g] of every step, after the nonlinearities
    tanh_c: np.ndarray  # (T, N, H) tanh(c_states[t + 1]) of every step
    Wx: np.ndarray  # (D, 4H) input-to-hidden weights
    Wh: np.ndarray  # (H, 4H) hidden-to-hidden weights


def _sigmoid(a, out=None):
    """Logistic sigmoid 1 / (1 + exp(-a)), elementwise; exp is only taken of -|a| <= 0, so it never overflows."""
    z = np.exp(-np.abs(a))  # same shape, exp(-|a|) in [0, 1]
    numerator = np.where(a >= 0, 1.0, z)  # sigma(a) = 1/(1+z) for a >= 0 and z/(1+z) for a < 0
    return np.divide(numerator, 1.0 + z, out=out)  # same shape, in [0, 1]


def _gate_blocks(array: np.ndarray, n_hidden: int):
    """Split the last axis (4H) into the views (i, f, o, g), each with last axis H."""
    return tuple(array[..., k * n_hidden : (k + 1) * n_hidden] for k in range(4))  # 4 x (..., H)  Eqn 5.1


def _check_inputs(x, x_ndim: int, Wx, Wh, b, **states):
    """Validate and convert x (N, D) or (N, T, D), Wx, Wh, b and each named state of shape (N, H)."""
    x, Wx, Wh, b = v.recurrent_inputs(x, x_ndim, Wx, Wh, b, gates=4)  # float64, D and 4H agree
    state_shape = (x.shape[0], Wh.shape[0])  # (N, H)
    states = [v.array_of_shape(name, s, state_shape, "(N, H)") for name, s in states.items()]  # (N, H) each
    return (x, *states, Wx, Wh, b)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """Run one timestep of an LSTM.

    Inputs:
    - x: input data for this timestep, of shape (N, D)
    - prev_h: previous hidden state, of shape (N, H)
    - prev_c: previous cell state, of shape (N, H)
    - Wx: input-to-hidden weights, of shape (D, 4H)
    - Wh: hidden-to-hidden weights, of shape (H, 4H)
    - b: biases, of shape (4H,)

    Returns a tuple of:
    - next_h: next hidden state, of shape (N, H)
    - next_c: next cell state, of shape (N, H)
    - cache: ``LSTMStepCache`` for ``lstm_step_backward``
    """
    x, prev_h, prev_c, Wx, Wh, b = _check_inputs(x, 2, Wx, Wh, b, prev_h=prev_h, prev_c=prev_c)
    a = x @ Wx + prev_h @ Wh + b  # (N, D) @ (D, 4H) + (N, H) @ (H, 4H) + (4H,) -> (N, 4H)  Eqn 5.0
    a_i, a_f, a_o, a_g = _gate_blocks(a, Wh.shape[0])  # (N, 4H) -> 4 x (N, H)  Eqn 5.1
    i = _sigmoid(a_i)  # (N, H) -> (N, H)  Eqn 5.2
    f = _sigmoid(a_f)  # (N, H) -> (N, H)  Eqn 5.2
    o = _sigmoid(a_o)  # (N, H) -> (N, H)  Eqn 5.2
    g = np.tanh(a_g)  # (N, H) -> (N, H)  Eqn 5.3
    next_c = f * prev_c + i * g  # (N, H) * (N, H) + (N, H) * (N, H) -> (N, H)  Eqn 5.4
    tanh_next_c = np.tanh(next_c)  # (N, H) -> (N, H)  Eqn 5.5
    next_h = o * tanh_next_c  # (N, H) * (N, H) -> (N, H)  Eqn 5.5
    cache = LSTMStepCache(x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_next_c)  # graph nodes
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward pass for one timestep of an LSTM.

    Inputs:
    - dnext_h: upstream gradient of the next hidden state, of shape (N, H)
    - dnext_c: upstream gradient of the next cell state, of shape (N, H)
    - cache: ``LSTMStepCache`` from ``lstm_step_forward``

    Returns a tuple of:
    - dx: gradient of the input, of shape (N, D)
    - dprev_h: gradient of the previous hidden state, of shape (N, H)
    - dprev_c: gradient of the previous cell state, of shape (N, H)
    - dWx: gradient of the input-to-hidden weights, of shape (D, 4H)
    - dWh: gradient of the hidden-to-hidden weights, of shape (H, 4H)
    - db: gradient of the biases, of shape (4H,)
    """
    v.require_cache(cache, LSTMStepCache, "lstm_step_forward")  # a wrong cache type is a ValueError
    state_shape = cache.prev_c.shape  # (N, H)
    dnext_h = v.array_of_shape("dnext_h", dnext_h, state_shape, "(N, H)")  # (N, H)
    dnext_c = v.array_of_shape("dnext_c", dnext_c, state_shape, "(N, H)")  # (N, H)
    i, f, o, g, tanh_c = cache.i, cache.f, cache.o, cache.g, cache.tanh_next_c  # (N, H) each
    do = dnext_h * tanh_c  # (N, H) * (N, H) -> (N, H)  Eqn 5.6
    dc_total = dnext_c + dnext_h * o * (1.0 - tanh_c**2)  # (N, H), both paths into next_c  Eqn 5.7
    df = dc_total * cache.prev_c  # (N, H) * (N, H) -> (N, H)  Eqn 5.8
    di = dc_total * g  # (N, H) * (N, H) -> (N, H)  Eqn 5.8
    dg = dc_total * i  # (N, H) * (N, H) -> (N, H)  Eqn 5.8
    dprev_c = dc_total * f  # (N, H) * (N, H) -> (N, H)  Eqn 5.8
    da_i = di * i * (1.0 - i)  # (N, H), sigma' = sigma (1 - sigma)  Eqn 5.9
    da_f = df * f * (1.0 - f)  # (N, H)  Eqn 5.9
    da_o = do * o * (1.0 - o)  # (N, H)  Eqn 5.9
    da_g = dg * (1.0 - g**2)  # (N, H), tanh' = 1 - g^2  Eqn 5.9
    da = np.concatenate((da_i, da_f, da_o, da_g), axis=1)  # 4 x (N, H) -> (N, 4H)  Eqn 5.9
    dx = da @ cache.Wx.T  # (N, 4H) @ (4H, D) -> (N, D)  Eqn 5.10
    dprev_h = da @ cache.Wh.T  # (N, 4H) @ (4H, H) -> (N, H)  Eqn 5.11
    dWx = cache.x.T @ da  # (D, N) @ (N, 4H) -> (D, 4H)  Eqn 5.12
    dWh = cache.prev_h.T @ da  # (H, N) @ (N, 4H) -> (H, 4H)  Eqn 5.12
    db = da.sum(axis=0)  # (N, 4H) -> (4H,)  Eqn 5.12
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    """Run an LSTM forward over a whole sequence, from h_0 = h0 and c_0 = 0 (Eqn 5.13).

    Same numbers as looping ``lstm_step_forward`` over t = 1..T (up to rounding, ~1e-15);
    the input term of all steps is one fused matmul (see the module docstring).

    Inputs:
    - x: input data for the entire timeseries, of shape (N, T, D)
    - h0: initial hidden state, of shape (N, H)
    - Wx: input-to-hidden weights, of shape (D, 4H)
    - Wh: hidden-to-hidden weights, of shape (H, 4H)
    - b: biases, of shape (4H,)

    Returns a tuple of:
    - h: hidden states for the entire timeseries, of shape (N, T, H)
    - cache: ``LSTMCache`` for ``lstm_backward``
    """
    x, h0, Wx, Wh, b = _check_inputs(x, 3, Wx, Wh, b, h0=h0)  # float64 arrays
    n_rows, n_steps, n_inputs = x.shape  # N, T, D
    n_hidden = Wh.shape[0]  # H
    x_flat = x.transpose(1, 0, 2).reshape(n_steps * n_rows, n_inputs)  # (N, T, D) -> (T, N, D) -> (T*N, D)
    input_term = (x_flat @ Wx + b).reshape(n_steps, n_rows, 4 * n_hidden)  # (T*N, D) @ (D, 4H) -> (T, N, 4H)
    h_states = np.empty((n_steps + 1, n_rows, n_hidden))  # (T+1, N, H): h_0 .. h_T
    h_states[0] = h0  # (N, H), h_0 = h0  Eqn 5.13
    c_states = np.empty((n_steps + 1, n_rows, n_hidden))  # (T+1, N, H): c_0 .. c_T
    c_states[0] = 0.0  # (N, H), c_0 = 0  Eqn 5.13
    gates = np.empty((n_steps, n_rows, 4 * n_hidden))  # (T, N, 4H): [i | f | o | g] per step
    tanh_c = np.empty((n_steps, n_rows, n_hidden))  # (T, N, H): tanh(c_t) per step
    for t in range(n_steps):  # step t consumes x[:, t] and makes states t + 1
        a = h_states[t] @ Wh  # (N, H) @ (H, 4H) -> (N, 4H), all four gates in one matmul  Eqn 5.0
        a += input_term[t]  # (N, 4H) + (N, 4H) -> (N, 4H), a = x_t Wx + h_{t-1} Wh + b  Eqn 5.0
        _sigmoid(a[:, : 3 * n_hidden], out=gates[t, :, : 3 * n_hidden])  # (N, 3H): i, f, o  Eqns 5.1-5.2
        np.tanh(a[:, 3 * n_hidden :], out=gates[t, :, 3 * n_hidden :])  # (N, H): g  Eqns 5.1, 5.3
        i, f, o, g = _gate_blocks(gates[t], n_hidden)  # (N, 4H) -> 4 x (N, H) views  Eqn 5.1
        np.multiply(f, c_states[t], out=c_states[t + 1])  # (N, H) * (N, H) -> (N, H), f c_{t-1}  Eqn 5.4
        c_states[t + 1] += i * g  # (N, H) + (N, H) * (N, H) -> (N, H)  Eqn 5.4
        np.tanh(c_states[t + 1], out=tanh_c[t])  # (N, H) -> (N, H)  Eqn 5.5
        np.multiply(o, tanh_c[t], out=h_states[t + 1])  # (N, H) * (N, H) -> (N, H)  Eqn 5.5
    h = np.ascontiguousarray(h_states[1:].transpose(1, 0, 2))  # (T, N, H) -> (N, T, H), a copy
    return h, LSTMCache(x_flat, h_states, c_states, gates, tanh_c, Wx, Wh)  # time-major cache


def lstm_backward(dh, cache):
    """Backpropagation through time for an LSTM over a whole sequence (Eqns 5.14-5.15).

    At step t the hidden state receives dh[:, t] plus the dprev_h of step t+1, and the cell
    state receives the dprev_c of step t+1 (zero after the last step). Same numbers as looping
    ``lstm_step_backward`` from t = T down to 1 and summing the weight gradients, up to
    rounding (~1e-15); see the module docstring for what is fused.

    Inputs:
    - dh: upstream gradients of all hidden states, of shape (N, T, H)
    - cache: ``LSTMCache`` from ``lstm_forward``

    Returns a tuple of:
    - dx: gradient of the inputs, of shape (N, T, D)
    - dh0: gradient of the initial hidden state, of shape (N, H)
    - dWx: gradient of the input-to-hidden weights, of shape (D, 4H)
    - dWh: gradient of the hidden-to-hidden weights, of shape (H, 4H)
    - db: gradient of the biases, of shape (4H,)
    """
    v.require_cache(cache, LSTMCache, "lstm_forward")  # a wrong cache type is a ValueError
    n_states, n_rows, n_hidden = cache.h_states.shape  # T+1, N, H
    n_steps = n_states - 1  # T
    dh = v.array_of_shape("dh", dh, (n_rows, n_steps, n_hidden), "(N, T, H)")  # (N, T, H)
    dh_by_step = dh.transpose(1, 0, 2)  # (N, T, H) -> (T, N, H), a view
    i, f, o, g = _gate_blocks(cache.gates, n_hidden)  # (T, N, 4H) -> 4 x (T, N, H) views  Eqn 5.1
    dc_per_dh = o * (1.0 - cache.tanh_c**2)  # (T, N, H), d next_c / d next_h factor  Eqn 5.7
    local = np.empty_like(cache.gates)  # (T, N, 4H), da per dc_total (i, f, g) or per dh_total (o)
    local_i, local_f, local_o, local_g = _gate_blocks(local, n_hidden)  # 4 x (T, N, H) views
    np.multiply(g, i * (1.0 - i), out=local_i)  # (T, N, H), di/dc = g times sigma'  Eqns 5.8-5.9
    np.multiply(cache.c_states[:-1], f * (1.0 - f), out=local_f)  # df/dc = c_{t-1}  Eqns 5.8-5.9
    np.multiply(cache.tanh_c, o * (1.0 - o), out=local_o)  # do/dh = tanh(c_t)  Eqns 5.6, 5.9
    np.multiply(i, 1.0 - g**2, out=local_g)  # (T, N, H), dg/dc = i times tanh'  Eqns 5.8-5.9
    da_all = np.empty_like(cache.gates)  # (T, N, 4H), da_t of every step
    dprev_h = np.zeros((n_rows, n_hidden))  # (N, H), nothing flows in from beyond the last step
    dprev_c = np.zeros((n_rows, n_hidden))  # (N, H), the last cell state has no upstream gradient
    for t in reversed(range(n_steps)):  # from the last step back to the first
        dh_total = dh_by_step[t] + dprev_h  # (N, H) + (N, H) -> (N, H)  Eqn 5.14
        dc_total = dh_total * dc_per_dh[t]  # (N, H) * (N, H) -> (N, H), path through h  Eqn 5.7
        dc_total += dprev_c  # (N, H) + (N, H) -> (N, H), carried from step t+1  Eqns 5.7, 5.14
        da_i, da_f, da_o, da_g = _gate_blocks(da_all[t], n_hidden)  # (N, 4H) -> 4 x (N, H) views
        np.multiply(dc_total, local_i[t], out=da_i)  # (N, H) * (N, H) -> (N, H)  Eqns 5.8-5.9
        np.multiply(dc_total, local_f[t], out=da_f)  # (N, H) * (N, H) -> (N, H)  Eqns 5.8-5.9
        np.multiply(dh_total, local_o[t], out=da_o)  # (N, H) * (N, H) -> (N, H)  Eqns 5.6, 5.9
        np.multiply(dc_total, local_g[t], out=da_g)  # (N, H) * (N, H) -> (N, H)  Eqns 5.8-5.9
        dprev_c = dc_total * f[t]  # (N, H) * (N, H) -> (N, H)  Eqn 5.8
        dprev_h = da_all[t] @ cache.Wh.T  # (N, 4H) @ (4H, H) -> (N, H)  Eqn 5.11
    da_flat = da_all.reshape(n_steps * n_rows, 4 * n_hidden)  # (T, N, 4H) -> (T*N, 4H), a view
    dx_flat = da_flat @ cache.Wx.T  # (T*N, 4H) @ (4H, D) -> (T*N, D)  Eqn 5.10 for every t
    dx = np.ascontiguousarray(dx_flat.reshape(n_steps, n_rows, -1).transpose(1, 0, 2))  # -> (N, T, D)
    dWx = cache.x_flat.T @ da_flat  # (D, T*N) @ (T*N, 4H) -> (D, 4H)  Eqns 5.12, 5.15
    h_prev_flat = cache.h_states[:-1].reshape(n_steps * n_rows, n_hidden)  # h_0 .. h_{T-1} -> (T*N, H)
    dWh = h_prev_flat.T @ da_flat  # (H, T*N) @ (T*N, 4H) -> (H, 4H)  Eqns 5.12, 5.15
    db = da_flat.sum(axis=0)  # (T*N, 4H) -> (4H,)  Eqns 5.12, 5.15
    dh0 = dprev_h  # (N, H), dprev_h of the first step  Eqn 5.15
    return dx, dh0, dWx, dWh, db
