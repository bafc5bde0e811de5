"""Part 5 - LSTM: one timestep and a whole sequence, forward and backward.

Equation numbers (``Eqn 5.n``) refer to ``derivations/lstm.py``: step forward 5.0-5.5,
step backward 5.6-5.12, sequence forward 5.13, backpropagation through time 5.14-5.15.
The activation a = x Wx + prev_h Wh + b has four blocks of H columns: i, f, o, g.

The step functions are the spec's readable building blocks. The sequence functions evaluate
the same step equations for every t but fuse the work that does not depend on the recurrence:
the input term x_t Wx + b of all T steps is ONE (T*N, D) @ (D, 4H) matmul before the loop, and
the weight gradients of Eqns 5.10 and 5.12 summed over t (Eqn 5.15) are ONE matmul or reduction
each after the backward loop (sum_t x_t^T da_t = X^T dA over the T*N stacked rows). Each loop
step does one (N, H) @ (H, 4H) matmul for all four gates plus elementwise work.

Sequences are stored time-major, (T, N, ...): each step is a contiguous (N, ...) block and
h_0 .. h_{T-1} is one contiguous slice. Step and sequence functions both use
sigma(a) = (1 + tanh(a/2)) / 2, so they agree to rounding (~1e-15).
Non-finite values (nan, inf) are accepted and propagate as NumPy defines.
"""

from __future__ import annotations

import itertools
import math
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


def _sigmoid(a):
    """Logistic sigmoid via the exact identity 1 / (1 + exp(-a)) = (1 + tanh(a / 2)) / 2.

    tanh never overflows, so any |a| (also +-inf) is safe and warning-free; the absolute
    error is about 1e-16 (a sigmoid below ~1e-17, a < -39, rounds to 0).
    """
    return 0.5 * np.tanh(0.5 * a) + 0.5  # same shape, in [0, 1]  Eqn 5.2


def _buffers_in_one_allocation(*shapes):
    """Uninitialized float64 arrays of the given shapes, all views of ONE flat allocation.

    The forward pass keeps five time-major arrays (12 MB at N=32, T=50, D=64, H=128). In one
    buffer NumPy gets huge pages (it asks from 4 MB) and the allocator keeps the memory between
    calls: ~3000 fewer page faults, about a third of a forward + backward pass at that shape.
    """
    sizes = [math.prod(shape) for shape in shapes]  # elements of each array
    buffer = np.empty(sum(sizes))  # (sum of sizes,) float64, uninitialized
    ends = itertools.accumulate(sizes)  # end offset of each array in the buffer
    return [  # one (shape) view per array, back to back in the buffer
        buffer[end - size : end].reshape(shape) for end, size, shape in zip(ends, sizes, shapes, strict=True)
    ]


def _gate_blocks(array: np.ndarray, n_hidden: int):
    """Split the last axis (4H) into the views (i, f, o, g), each with last axis H."""
    return tuple(array[..., k * n_hidden : (k + 1) * n_hidden] for k in range(4))  # 4 x (..., H)  Eqn 5.1


def _check_inputs(x, x_ndim: int, Wx, Wh, b, **states):
    """Validate and convert x (N, D) or (N, T, D), Wx, Wh, b and each named state of shape (N, H)."""
    x, Wx, Wh, b = v.recurrent_inputs(x, x_ndim, Wx, Wh, b, gates=4)  # float64, D and 4H agree
    state_shape = (x.shape[0], Wh.shape[0])  # (N, H)
    states = [v.array_of_shape(name, value, state_shape, "(N, H)") for name, value in states.items()]
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
    x, prev_h, prev_c, Wx, Wh, b = _check_inputs(x, 2, Wx, Wh, b, prev_h=prev_h, prev_c=prev_c)  # float64
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
    x_flat, h_states, c_states, tanh_c, gates = _buffers_in_one_allocation(
        (n_steps * n_rows, n_inputs),  # x_flat (T*N, D): x_t of every step, time-major
        (n_steps + 1, n_rows, n_hidden),  # h_states (T+1, N, H): h_0 .. h_T
        (n_steps + 1, n_rows, n_hidden),  # c_states (T+1, N, H): c_0 .. c_T
        (n_steps, n_rows, n_hidden),  # tanh_c (T, N, H): tanh(c_t) of every step
        (n_steps, n_rows, 4 * n_hidden),  # gates (T, N, 4H): a_t, then [i | f | o | g] in place
    )
    x_flat.reshape(n_steps, n_rows, n_inputs)[...] = x.transpose(1, 0, 2)  # (N, T, D) -> (T, N, D) = (T*N, D)
    h_states[0] = h0  # (N, H), h_0 = h0  Eqn 5.13
    c_states[0] = 0.0  # (N, H), c_0 = 0  Eqn 5.13
    a_all = gates.reshape(n_steps * n_rows, 4 * n_hidden)  # (T*N, 4H) view of the same memory
    np.matmul(x_flat, Wx, out=a_all)  # (T*N, D) @ (D, 4H) -> (T*N, 4H), x_t Wx of every step  Eqn 5.0
    a_all += b  # (T*N, 4H) + (4H,) -> (T*N, 4H), input term x_t Wx + b of every step  Eqn 5.0
    recurrent = np.empty((n_rows, 4 * n_hidden))  # (N, 4H) scratch for h_{t-1} Wh, reused every step
    tanh_scale = np.repeat([0.5, 0.5, 0.5, 1.0], n_hidden)  # (4H,): a/2 for i, f, o (as in _sigmoid), a for g
    for t in range(n_steps):  # step t consumes x[:, t] and makes states t + 1
        np.matmul(h_states[t], Wh, out=recurrent)  # (N, H) @ (H, 4H) -> (N, 4H), all gates at once  Eqn 5.0
        a = gates[t]  # (N, 4H) view holding x_t Wx + b
        a += recurrent  # (N, 4H) + (N, 4H) -> (N, 4H), a = x_t Wx + h_{t-1} Wh + b  Eqn 5.0
        a *= tanh_scale  # (N, 4H) * (4H,) -> (N, 4H), a/2 for the sigmoids (exact scaling)  Eqn 5.2
        np.tanh(a, out=a)  # (N, 4H): tanh(a_i/2), tanh(a_f/2), tanh(a_o/2), g = tanh(a_g)  Eqns 5.2-5.3
        i, f, o, g = _gate_blocks(a, n_hidden)  # (N, 4H) -> 4 x (N, H) views  Eqn 5.1
        ifo = a[:, : 3 * n_hidden]  # (N, 3H) view of i, f, o
        ifo *= 0.5  # (N, 3H), 0.5 tanh(a/2)
        ifo += 0.5  # (N, 3H), sigma(a) = 0.5 tanh(a/2) + 0.5, as in _sigmoid  Eqn 5.2
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
    Wh_T = np.ascontiguousarray(cache.Wh.T)  # (H, 4H) -> (4H, H) transposed once, row-major for the loop
    da_all = np.empty_like(cache.gates)  # (T, N, 4H), da_t of every step
    dprev_h = np.zeros((n_rows, n_hidden))  # (N, H), nothing flows in from beyond the last step
    dprev_c = np.zeros((n_rows, n_hidden))  # (N, H), the last cell state has no upstream gradient
    for t in reversed(range(n_steps)):  # from the last step back to the first
        i, f, o, g = _gate_blocks(cache.gates[t], n_hidden)  # (N, 4H) -> 4 x (N, H) views  Eqn 5.1
        tanh_c = cache.tanh_c[t]  # (N, H), tanh(c_t)
        da_i, da_f, da_o, da_g = _gate_blocks(da_all[t], n_hidden)  # (N, 4H) -> 4 x (N, H) views
        dh_total = dh_by_step[t] + dprev_h  # (N, H) + (N, H) -> (N, H)  Eqn 5.14
        do = dh_total * tanh_c  # (N, H) * (N, H) -> (N, H)  Eqn 5.6
        dc_total = dprev_c + dh_total * o * (1.0 - tanh_c**2)  # (N, H), carried + through h  Eqns 5.7, 5.14
        np.multiply(dc_total * g * i, 1.0 - i, out=da_i)  # (N, H), di = dc g, times sigma'  Eqns 5.8-5.9
        np.multiply(dc_total * cache.c_states[t] * f, 1.0 - f, out=da_f)  # df = dc c_{t-1}  Eqns 5.8-5.9
        np.multiply(do * o, 1.0 - o, out=da_o)  # (N, H), do times sigma'  Eqn 5.9
        np.multiply(dc_total * i, 1.0 - g**2, out=da_g)  # (N, H), dg = dc i, times tanh'  Eqns 5.8-5.9
        dprev_c = dc_total * f  # (N, H) * (N, H) -> (N, H)  Eqn 5.8
        dprev_h = da_all[t] @ Wh_T  # (N, 4H) @ (4H, H) -> (N, H)  Eqn 5.11
    da_flat = da_all.reshape(n_steps * n_rows, 4 * n_hidden)  # (T, N, 4H) -> (T*N, 4H), a view
    dx = np.empty((n_rows, n_steps, cache.Wx.shape[0]))  # (N, T, D), the caller's layout
    np.matmul(da_all, cache.Wx.T, out=dx.transpose(1, 0, 2))  # (T, N, 4H) @ (4H, D) -> (T, N, D)  Eqn 5.10
    dWx = cache.x_flat.T @ da_flat  # (D, T*N) @ (T*N, 4H) -> (D, 4H)  Eqns 5.12, 5.15
    h_prev_flat = cache.h_states[:-1].reshape(n_steps * n_rows, n_hidden)  # h_0 .. h_{T-1} -> (T*N, H)
    dWh = h_prev_flat.T @ da_flat  # (H, T*N) @ (T*N, 4H) -> (H, 4H)  Eqns 5.12, 5.15
    db = da_flat.sum(axis=0)  # (T*N, 4H) -> (4H,)  Eqns 5.12, 5.15
    dh0 = dprev_h  # (N, H), dprev_h of the first step  Eqn 5.15
    return dx, dh0, dWx, dWh, db
