"""Test cases shared by the layer tests: the spec's gradient checks, one small call of every layer,
and hypothesis strategies that draw only valid configurations."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st
from layers_support import (
    batchnorm_inputs,
    batchnorm_train,
    conv_inputs,
    conv_with,
    lstm_step,
    pool_with,
    recurrent_inputs,
    rnn_step,
    sequence_inputs,
    step_inputs,
    tie_free,
)

import layers


def spec_gradient_cases(seed: int = 0) -> list[tuple[str, Callable, Callable, dict, tuple]]:
    """Every backward at the spec's shapes with the spec's draws (randn; max pool tie-free):
    ``(label, forward, backward, inputs, upstream)``."""
    rng = np.random.default_rng(seed)
    cases = []
    bn_inputs = batchnorm_inputs(rng, 4, 5)  # x = 5 randn + 12
    bn_upstream = (rng.standard_normal((4, 5)),)
    for backward in (layers.batchnorm_backward, layers.batchnorm_backward_alt):
        cases.append((backward.__name__, batchnorm_train(), backward, bn_inputs, bn_upstream))
    conv = conv_inputs(rng, 4, 3, 5, 5, 2, 3, 3)
    conv_upstream = (rng.standard_normal((4, 2, 5, 5)),)
    for forward, backward in ((layers.conv_forward_naive, layers.conv_backward_naive),
                              (layers.conv_forward_fast, layers.conv_backward_fast)):
        cases.append((backward.__name__, conv_with(forward, 1, 1), backward, conv, conv_upstream))
    pool = {"x": tie_free(rng, (3, 2, 8, 8))}
    pool_upstream = (rng.standard_normal((3, 2, 4, 4)),)
    for forward, backward in ((layers.max_pool_forward_naive, layers.max_pool_backward_naive),
                              (layers.max_pool_forward_fast, layers.max_pool_backward_fast)):
        cases.append((backward.__name__, pool_with(forward, 2, 2, 2), backward, pool, pool_upstream))
    rnn_step_arrays = step_inputs(recurrent_inputs(rng, 4, 5, 6, 1, scaled=False))
    cases.append(("rnn_step_backward", rnn_step, layers.rnn_step_backward, rnn_step_arrays,
                  (rng.standard_normal((4, 6)),)))
    rnn_arrays = sequence_inputs(recurrent_inputs(rng, 2, 3, 5, 1, T=10, scaled=False))
    cases.append(("rnn_backward", layers.rnn_forward, layers.rnn_backward, rnn_arrays,
                  (rng.standard_normal((2, 10, 5)),)))
    lstm_step_arrays = step_inputs(recurrent_inputs(rng, 4, 5, 6, 4, scaled=False), rng, with_cell=True)
    cases.append(("lstm_step_backward", lstm_step, layers.lstm_step_backward, lstm_step_arrays,
                  (rng.standard_normal((4, 6)), rng.standard_normal((4, 6)))))
    lstm_arrays = sequence_inputs(recurrent_inputs(rng, 2, 3, 6, 4, T=10, scaled=False))
    cases.append(("lstm_backward", layers.lstm_forward, layers.lstm_backward, lstm_arrays,
                  (rng.standard_normal((2, 10, 6)),)))
    return cases


def small_layer_calls():
    """(label, forward, backward, args, param) for every forward/backward pair, small valid inputs;
    ``forward(*args, param)`` when ``param`` is not None, else ``forward(*args)``."""
    rng = np.random.default_rng(21)
    conv_args = (rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 3, 2)), rng.standard_normal(2))
    pool_args = (tie_free(rng, (2, 2, 5, 4)),)
    N, T, D, H = 2, 3, 4, 3
    step = (rng.standard_normal((N, D)), rng.standard_normal((N, H)))
    seq = (rng.standard_normal((N, T, D)), rng.standard_normal((N, H)))
    rnn_weights = (rng.standard_normal((D, H)), rng.standard_normal((H, H)), rng.standard_normal(H))
    lstm_weights = (rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)),
                    rng.standard_normal(4 * H))
    bn_args = (rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(3))
    running = {"running_mean": rng.standard_normal(3), "running_var": rng.random(3) + 0.5}
    calls = [
        ("batchnorm train", layers.batchnorm_forward, layers.batchnorm_backward, bn_args,
         {"mode": "train", **running}),
        ("batchnorm alt", layers.batchnorm_forward, layers.batchnorm_backward_alt, bn_args,
         {"mode": "train", **running}),
        ("batchnorm test", layers.batchnorm_forward, layers.batchnorm_backward, bn_args,
         {"mode": "test", **running}),
        ("conv naive", layers.conv_forward_naive, layers.conv_backward_naive, conv_args,
         {"stride": 2, "pad": 1}),
        ("conv fast", layers.conv_forward_fast, layers.conv_backward_fast, conv_args,
         {"stride": 2, "pad": 1}),
        ("conv fast no pad", layers.conv_forward_fast, layers.conv_backward_fast, conv_args,
         {"stride": 1, "pad": 0}),
        ("pool naive", layers.max_pool_forward_naive, layers.max_pool_backward_naive, pool_args,
         {"pool_height": 3, "pool_width": 2, "stride": 1}),
        ("pool fast", layers.max_pool_forward_fast, layers.max_pool_backward_fast, pool_args,
         {"pool_height": 3, "pool_width": 2, "stride": 1}),
        ("rnn step", layers.rnn_step_forward, layers.rnn_step_backward, step + rnn_weights, None),
        ("rnn", layers.rnn_forward, layers.rnn_backward, seq + rnn_weights, None),
        ("lstm step", layers.lstm_step_forward, layers.lstm_step_backward,
         step + (rng.standard_normal((N, H)),) + lstm_weights, None),
        ("lstm", layers.lstm_forward, layers.lstm_backward, seq + lstm_weights, None),
    ]
    return calls


# ---------------------------------------------------------------- hypothesis strategies (valid only)

seeds = st.integers(0, 2**32 - 1)


def _padded_side(draw, kernel: int, stride: int, pad: int, extra: int = 2) -> int:
    """An input length >= 1 for which ``stride`` divides ``side + 2*pad - kernel``."""
    lowest_out = max(1, 1 - (-(1 + 2 * pad - kernel) // stride))  # smallest H' giving side >= 1
    out = draw(st.integers(lowest_out, lowest_out + extra))
    return (out - 1) * stride + kernel - 2 * pad


@st.composite
def conv_configs(draw) -> dict:
    """Valid conv sizes: stride 1-3, pad 0-2, kernels 1-4 (often non-square), N, C, F from 1."""
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    HH, WW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return {
        "N": draw(st.integers(1, 2)),
        "C": draw(st.integers(1, 3)),
        "F": draw(st.integers(1, 3)),
        "HH": HH,
        "WW": WW,
        "H": _padded_side(draw, HH, stride, pad),
        "W": _padded_side(draw, WW, stride, pad),
        "stride": stride,
        "pad": pad,
        "seed": draw(seeds),
    }


@st.composite
def pool_configs(draw) -> dict:
    """Valid pool sizes: windows 1-3 (often non-square), stride 1-3 (overlapping when < window)."""
    stride = draw(st.integers(1, 3))
    pool_height, pool_width = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return {
        "N": draw(st.integers(1, 2)),
        "C": draw(st.integers(1, 2)),
        "H": _padded_side(draw, pool_height, stride, 0),
        "W": _padded_side(draw, pool_width, stride, 0),
        "pool_height": pool_height,
        "pool_width": pool_width,
        "stride": stride,
        "seed": draw(seeds),
    }


@st.composite
def recurrent_configs(draw, max_steps: int = 4) -> dict:
    """N, T, D, H from 1 (T = 1 and D = 1 included)."""
    return {
        "N": draw(st.integers(1, 3)),
        "T": draw(st.integers(1, max_steps)),
        "D": draw(st.integers(1, 4)),
        "H": draw(st.integers(1, 4)),
        "seed": draw(seeds),
    }
