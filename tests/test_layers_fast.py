"""Twins agree: the closed-form batch norm backward equals the staged one, every fast function equals its
naive twin (forward and backward, any stride, pad, non-square kernel or window, overlapping pools, ties),
and the fused sequence functions equal looping the step functions."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from layers_cases import conv_configs, pool_configs, recurrent_configs, seeds
from layers_support import (
    LAYER_SETTINGS,
    TWIN_BOUND,
    conv_inputs,
    recurrent_inputs,
    well_conditioned_batchnorm,
)

import layers


def assert_twins(first, second):
    """Same shapes, float64, and the spec's relative error below ``TWIN_BOUND`` for every array."""
    first = first if isinstance(first, tuple) else (first,)
    second = second if isinstance(second, tuple) else (second,)
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype == np.float64
        assert layers.rel_error(a, b) < TWIN_BOUND


# ---------------------------------------------------------------- batch norm: closed form = staged graph


@LAYER_SETTINGS
@given(N=st.integers(1, 8), D=st.integers(1, 5), seed=seeds, mode=st.sampled_from(["train", "test"]))
def test_batchnorm_backward_alt_equals_staged(N, D, seed, mode):
    rng = np.random.default_rng(seed)
    inputs, eps = well_conditioned_batchnorm(rng, N, D)
    running = {"running_mean": rng.standard_normal(D) + 12, "running_var": 25 * rng.random(D) + 1}
    bn_param = {"mode": mode, "eps": eps, **running}
    _, cache = layers.batchnorm_forward(inputs["x"], inputs["gamma"], inputs["beta"], bn_param)
    dout = rng.standard_normal((N, D))
    assert_twins(layers.batchnorm_backward_alt(dout, cache), layers.batchnorm_backward(dout, cache))


# ---------------------------------------------------------------- convolution


def _conv_arrays(config, integer_valued: bool):
    rng = np.random.default_rng(config["seed"])
    c = config
    arrays = conv_inputs(rng, c["N"], c["C"], c["H"], c["W"], c["F"], c["HH"], c["WW"])
    if integer_valued:  # small integers: every product and sum is exact, in any order
        arrays = {name: np.round(3 * value) for name, value in arrays.items()}
    return arrays, rng


@LAYER_SETTINGS
@given(config=conv_configs(), integer_valued=st.booleans())
def test_conv_fast_equals_naive(config, integer_valued):
    arrays, rng = _conv_arrays(config, integer_valued)
    conv_param = {"stride": config["stride"], "pad": config["pad"]}
    out_naive, cache_naive = layers.conv_forward_naive(arrays["x"], arrays["w"], arrays["b"], conv_param)
    out_fast, cache_fast = layers.conv_forward_fast(arrays["x"], arrays["w"], arrays["b"], conv_param)
    dout = rng.standard_normal(out_naive.shape)
    if integer_valued:
        dout = np.round(3 * dout)
        np.testing.assert_array_equal(out_fast, out_naive)
        for fast, naive in zip(layers.conv_backward_fast(dout, cache_fast),
                               layers.conv_backward_naive(dout, cache_naive), strict=True):
            np.testing.assert_array_equal(fast, naive)
    assert_twins(out_fast, out_naive)
    assert_twins(layers.conv_backward_fast(dout, cache_fast), layers.conv_backward_naive(dout, cache_naive))


# ---------------------------------------------------------------- max pooling, ties included


def first_max_routing(x, dout, pool_height, pool_width, stride):
    """Reference written for this test: each window's gradient goes to the first maximum in row-major
    order (``np.argmax`` of the flattened window returns the first of equal values); overlaps add."""
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(dout.shape):
        window = x[n, c, i * stride:i * stride + pool_height, j * stride:j * stride + pool_width]
        k, l = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, i * stride + k, j * stride + l] += dout[n, c, i, j]
    return dx


@LAYER_SETTINGS
@given(config=pool_configs(), ties=st.booleans())
def test_max_pool_fast_equals_naive(config, ties):
    rng = np.random.default_rng(config["seed"])
    shape = (config["N"], config["C"], config["H"], config["W"])
    # ties: integers from -2 to 2, so most windows hold their maximum more than once
    x = rng.integers(-2, 3, size=shape).astype(np.float64) if ties else rng.standard_normal(shape)
    pool_param = {key: config[key] for key in ("pool_height", "pool_width", "stride")}
    out_naive, cache_naive = layers.max_pool_forward_naive(x, dict(pool_param))
    out_fast, cache_fast = layers.max_pool_forward_fast(x, dict(pool_param))
    np.testing.assert_array_equal(out_fast, out_naive)  # a max is exact

    dout_integer = rng.integers(-9, 10, size=out_naive.shape).astype(np.float64)  # exact sums in any order
    reference = first_max_routing(x, dout_integer, *pool_param.values())
    np.testing.assert_array_equal(layers.max_pool_backward_naive(dout_integer, cache_naive), reference)
    np.testing.assert_array_equal(layers.max_pool_backward_fast(dout_integer, cache_fast), reference)

    dout = rng.standard_normal(out_naive.shape)
    assert_twins(layers.max_pool_backward_fast(dout, cache_fast),
                 layers.max_pool_backward_naive(dout, cache_naive))


def test_max_pool_tie_goes_to_first_in_row_major_order():
    x = np.array([[[[1.0, 5.0, 5.0], [5.0, 0.0, 5.0]]]])  # (1, 1, 2, 3): four maxima in one window
    for forward, backward in ((layers.max_pool_forward_naive, layers.max_pool_backward_naive),
                              (layers.max_pool_forward_fast, layers.max_pool_backward_fast)):
        out, cache = forward(x, {"pool_height": 2, "pool_width": 3, "stride": 1})
        dx = backward(np.full(out.shape, 7.0), cache)
        np.testing.assert_array_equal(dx, [[[[0.0, 7.0, 0.0], [0.0, 0.0, 0.0]]]])


def test_overlapping_pool_windows_add_their_gradients():
    x = np.array([[[[0.0, 9.0, 1.0, 2.0]]]])  # (1, 1, 1, 4): 9 is the max of both windows that see it
    for forward, backward in ((layers.max_pool_forward_naive, layers.max_pool_backward_naive),
                              (layers.max_pool_forward_fast, layers.max_pool_backward_fast)):
        out, cache = forward(x, {"pool_height": 1, "pool_width": 2, "stride": 1})
        np.testing.assert_array_equal(out, [[[[9.0, 9.0, 2.0]]]])
        dx = backward(np.array([[[[1.0, 10.0, 100.0]]]]), cache)
        np.testing.assert_array_equal(dx, [[[[0.0, 11.0, 0.0, 100.0]]]])


# ---------------------------------------------------------------- fused sequences = looped steps


def looped_rnn(x, h0, Wx, Wh, b, dh):
    """rnn_forward and rnn_backward spelled out with the step functions (Eqns 4.8-4.11)."""
    h, caches, prev_h = [], [], h0
    for t in range(x.shape[1]):
        prev_h, cache = layers.rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        h.append(prev_h)
        caches.append(cache)
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev_h = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = layers.rnn_step_backward(dh[:, t] + dprev_h, caches[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return np.stack(h, axis=1), (dx, dprev_h, dWx, dWh, db)


def looped_lstm(x, h0, Wx, Wh, b, dh):
    """lstm_forward and lstm_backward spelled out with the step functions, from c0 = 0."""
    h, caches, prev_h, prev_c = [], [], h0, np.zeros_like(h0)
    for t in range(x.shape[1]):
        prev_h, prev_c, cache = layers.lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        h.append(prev_h)
        caches.append(cache)
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev_h, dprev_c = np.zeros_like(h0), np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = layers.lstm_step_backward(
            dh[:, t] + dprev_h, dprev_c, caches[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return np.stack(h, axis=1), (dx, dprev_h, dWx, dWh, db)


@LAYER_SETTINGS
@given(config=recurrent_configs(max_steps=6))
def test_rnn_forward_and_backward_equal_looped_steps(config):
    rng = np.random.default_rng(config["seed"])
    c = config
    arrays = recurrent_inputs(rng, c["N"], c["D"], c["H"], gates=1, T=c["T"], scaled=False)
    x, h0, Wx, Wh, b = arrays["x"], arrays["h"], arrays["Wx"], arrays["Wh"], arrays["b"]
    h, cache = layers.rnn_forward(x, h0, Wx, Wh, b)
    dh = rng.standard_normal(h.shape)
    h_looped, grads_looped = looped_rnn(x, h0, Wx, Wh, b, dh)
    assert_twins(h, h_looped)
    assert_twins(layers.rnn_backward(dh, cache), grads_looped)


@LAYER_SETTINGS
@given(config=recurrent_configs(max_steps=6))
def test_lstm_forward_and_backward_equal_looped_steps(config):
    rng = np.random.default_rng(config["seed"])
    c = config
    arrays = recurrent_inputs(rng, c["N"], c["D"], c["H"], gates=4, T=c["T"], scaled=False)
    x, h0, Wx, Wh, b = arrays["x"], arrays["h"], arrays["Wx"], arrays["Wh"], arrays["b"]
    h, cache = layers.lstm_forward(x, h0, Wx, Wh, b)
    dh = rng.standard_normal(h.shape)
    h_looped, grads_looped = looped_lstm(x, h0, Wx, Wh, b, dh)
    assert_twins(h, h_looped)
    assert_twins(layers.lstm_backward(dh, cache), grads_looped)
