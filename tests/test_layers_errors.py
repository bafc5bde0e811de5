"""Every bad input of the issue raises ValueError with a message that names the offending value,
for the naive and the fast functions alike."""

from __future__ import annotations

import re

import numpy as np
import pytest
from layers_cases import small_layer_calls

import layers

CONV_FORWARDS = [layers.conv_forward_naive, layers.conv_forward_fast]
POOL_FORWARDS = [layers.max_pool_forward_naive, layers.max_pool_forward_fast]


def raises_naming(call, *patterns):
    """``call()`` raises ValueError whose message matches every regex in ``patterns``."""
    with pytest.raises(ValueError, match=patterns[0]) as info:
        call()
    message = str(info.value)
    for pattern in patterns[1:]:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    return message


def _conv(forward, x_shape, w_shape, stride=1, pad=0, b_shape=None):
    x, w = np.ones(x_shape), np.ones(w_shape)
    b = np.ones(b_shape if b_shape is not None else w_shape[:1])
    return lambda: forward(x, w, b, {"stride": stride, "pad": pad})


def _pool(forward, x_shape, pool_height=2, pool_width=2, stride=2):
    x = np.ones(x_shape)
    return lambda: forward(x, {"pool_height": pool_height, "pool_width": pool_width, "stride": stride})


# ---------------------------------------------------------------- convolution


@pytest.mark.parametrize("forward", CONV_FORWARDS, ids=lambda f: f.__name__)
class TestConvBadInput:
    def test_stride_not_dividing_height(self, forward):
        # (H + 2*pad - HH) = 5 + 2 - 2 = 5 is not divisible by stride 2
        raises_naming(_conv(forward, (1, 1, 5, 6), (1, 1, 2, 2), stride=2, pad=1),
                      r"stride\s*=\s*2", r"\bH\b", r"\b5\b")

    def test_stride_not_dividing_width(self, forward):
        # height fits: 6 + 0 - 2 = 4; width does not: 7 + 0 - 2 = 5
        message = raises_naming(_conv(forward, (1, 1, 6, 7), (1, 1, 2, 2), stride=2),
                                r"stride\s*=\s*2", r"\bW\b", r"\b5\b")
        assert not re.search(r"\bH\b", message)

    def test_channel_mismatch(self, forward):
        raises_naming(_conv(forward, (2, 3, 4, 4), (2, 4, 3, 3)), r"\bC\b|[Cc]hannel", r"\b3\b", r"\b4\b")

    @pytest.mark.parametrize("x_shape", [(0, 3, 4, 4), (2, 0, 4, 4), (2, 3, 0, 4), (2, 3, 4, 0)])
    def test_empty_input_dimension(self, forward, x_shape):
        raises_naming(_conv(forward, x_shape, (2, x_shape[1], 1, 1)), r"\bx\b", re.escape(str(x_shape)))

    @pytest.mark.parametrize("w_shape", [(0, 3, 2, 2), (2, 3, 0, 2), (2, 3, 2, 0)])
    def test_empty_kernel_or_filter_count(self, forward, w_shape):
        raises_naming(_conv(forward, (1, 3, 4, 4), w_shape), r"\bw\b", re.escape(str(w_shape)))

    @pytest.mark.parametrize("stride", [0, -1, 1.5])
    def test_stride_not_a_positive_whole_number(self, forward, stride):
        raises_naming(_conv(forward, (1, 1, 4, 4), (1, 1, 2, 2), stride=stride), rf"stride\s*=\s*{stride}")

    @pytest.mark.parametrize("pad", [-1, -2, 0.5])
    def test_pad_negative_or_fractional(self, forward, pad):
        raises_naming(_conv(forward, (1, 1, 4, 4), (1, 1, 2, 2), pad=pad), rf"pad\s*=\s*{pad}")

    def test_kernel_taller_than_padded_input(self, forward):
        # HH = 6 > H + 2*pad = 3 + 2 = 5
        raises_naming(_conv(forward, (1, 1, 3, 8), (1, 1, 6, 2), pad=1), r"HH\s*=\s*6", r"\b5\b")

    def test_kernel_wider_than_padded_input(self, forward):
        raises_naming(_conv(forward, (1, 1, 4, 2), (1, 1, 1, 3)), r"WW\s*=\s*3", r"\b2\b")

    @pytest.mark.parametrize("b_shape", [(1,), (3,), (2, 1)])
    def test_bias_of_wrong_shape(self, forward, b_shape):
        raises_naming(_conv(forward, (1, 1, 4, 4), (2, 1, 2, 2), b_shape=b_shape), r"\bb\b",
                      re.escape(str(b_shape)))

    def test_x_of_wrong_rank(self, forward):
        raises_naming(lambda: forward(np.ones((3, 4, 4)), np.ones((1, 3, 2, 2)), np.ones(1),
                                      {"stride": 1, "pad": 0}), r"\bx\b", re.escape("(3, 4, 4)"))

    def test_missing_conv_param_key(self, forward):
        x, w, b = np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), np.ones(1)
        raises_naming(lambda: forward(x, w, b, {"stride": 1}), r"pad")


# ---------------------------------------------------------------- max pooling


@pytest.mark.parametrize("forward", POOL_FORWARDS, ids=lambda f: f.__name__)
class TestPoolBadInput:
    def test_stride_not_dividing_height(self, forward):
        raises_naming(_pool(forward, (1, 1, 5, 4)), r"stride\s*=\s*2", r"\bH\b", r"\b3\b")

    def test_stride_not_dividing_width(self, forward):
        message = raises_naming(_pool(forward, (1, 1, 4, 5)), r"stride\s*=\s*2", r"\bW\b", r"\b3\b")
        assert not re.search(r"\bH\b", message)

    def test_window_taller_than_input(self, forward):
        raises_naming(_pool(forward, (1, 1, 3, 8), pool_height=4, stride=1), r"pool_height\s*=\s*4", r"\b3\b")

    def test_window_wider_than_input(self, forward):
        raises_naming(_pool(forward, (1, 1, 8, 2), pool_width=3, stride=1), r"pool_width\s*=\s*3", r"\b2\b")

    @pytest.mark.parametrize("key, value", [("pool_height", 0), ("pool_width", -1), ("stride", 0),
                                            ("stride", -2), ("pool_height", 1.5)])
    def test_window_or_stride_not_a_positive_whole_number(self, forward, key, value):
        param = {"pool_height": 2, "pool_width": 2, "stride": 2, key: value}
        raises_naming(lambda: forward(np.ones((1, 1, 4, 4)), param), rf"{key}\s*=\s*{value}")

    @pytest.mark.parametrize("x_shape", [(0, 1, 4, 4), (1, 0, 4, 4), (1, 1, 0, 4), (1, 1, 4, 0)])
    def test_empty_input_dimension(self, forward, x_shape):
        raises_naming(_pool(forward, x_shape), r"\bx\b", re.escape(str(x_shape)))

    def test_missing_pool_param_key(self, forward):
        raises_naming(lambda: forward(np.ones((1, 1, 4, 4)), {"pool_height": 2, "stride": 2}), r"pool_width")


# ---------------------------------------------------------------- batch normalization


def _bn(x_shape=(4, 3), gamma_shape=(3,), beta_shape=(3,), **bn_param):
    x, gamma, beta = np.ones(x_shape), np.ones(gamma_shape), np.zeros(beta_shape)
    return lambda: layers.batchnorm_forward(x, gamma, beta, {"mode": "train", **bn_param})


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("name, shape", [("gamma", (1,)), ("gamma", (4,)), ("gamma", (1, 3)), ("beta", (1,)),
                                         ("beta", (2,)), ("beta", (3, 1))])
def test_batchnorm_gamma_beta_of_wrong_shape(mode, name, shape):
    shapes = {"gamma_shape": (3,), "beta_shape": (3,), f"{name}_shape": shape}
    raises_naming(_bn(**shapes, mode=mode), rf"\b{name}\b", re.escape(str(shape)))


@pytest.mark.parametrize("x_shape", [(0, 3), (4, 0), (12,), (2, 2, 3)])
def test_batchnorm_x_empty_or_wrong_rank(x_shape):
    D = x_shape[-1] if len(x_shape) == 2 else 3
    raises_naming(_bn(x_shape, (D,), (D,)), r"\bx\b", re.escape(str(x_shape)))


@pytest.mark.parametrize("key, value", [("eps", 0.0), ("eps", -1e-5), ("momentum", 1.5), ("momentum", -0.1)])
def test_batchnorm_eps_and_momentum_out_of_range(key, value):
    raises_naming(_bn(**{key: value}), rf"{key}\s*=\s*{re.escape(repr(value))}")


@pytest.mark.parametrize("key", ["running_mean", "running_var"])
def test_batchnorm_running_statistic_of_wrong_shape(key):
    raises_naming(_bn(**{key: np.zeros(4)}), key, re.escape("(4,)"))


# ---------------------------------------------------------------- recurrent layers


def _rnn_arrays(N=2, D=4, H=3, T=None, gates=1):
    x = np.ones((N, D) if T is None else (N, T, D))
    return x, np.ones((N, H)), np.ones((D, gates * H)), np.ones((H, gates * H)), np.ones(gates * H)


@pytest.mark.parametrize("forward, T", [(layers.rnn_step_forward, None), (layers.rnn_forward, 5)],
                         ids=["rnn_step_forward", "rnn_forward"])
class TestRnnBadInput:
    def test_x_and_wx_disagree_on_d(self, forward, T):
        x, h, _, Wh, b = _rnn_arrays(T=T)
        raises_naming(lambda: forward(x, h, np.ones((5, 3)), Wh, b), r"Wx", r"\b4\b", r"\b5\b")

    @pytest.mark.parametrize("h_shape", [(2, 4), (1, 3), (3,), (3, 3)])
    def test_hidden_state_of_wrong_shape(self, forward, T, h_shape):
        x, _, Wx, Wh, b = _rnn_arrays(T=T)
        name = "prev_h" if T is None else "h0"
        raises_naming(lambda: forward(x, np.ones(h_shape), Wx, Wh, b), rf"\b{name}\b",
                      re.escape(str(h_shape)))

    @pytest.mark.parametrize("Wh_shape", [(3, 4), (4, 3), (3,)])
    def test_wh_of_wrong_shape(self, forward, T, Wh_shape):
        x, h, Wx, _, b = _rnn_arrays(T=T)
        raises_naming(lambda: forward(x, h, Wx, np.ones(Wh_shape), b), r"\bWh\b", re.escape(str(Wh_shape)))

    @pytest.mark.parametrize("b_shape", [(1,), (4,), (1, 3)])
    def test_bias_of_wrong_shape(self, forward, T, b_shape):
        x, h, Wx, Wh, _ = _rnn_arrays(T=T)
        raises_naming(lambda: forward(x, h, Wx, Wh, np.ones(b_shape)), r"\bb\b", re.escape(str(b_shape)))

    def test_x_of_wrong_rank(self, forward, T):
        x, h, Wx, Wh, b = _rnn_arrays(T=None if T else 5)
        raises_naming(lambda: forward(x, h, Wx, Wh, b), r"\bx\b", re.escape(str(x.shape)))


@pytest.mark.parametrize("forward, T", [(layers.lstm_step_forward, None), (layers.lstm_forward, 5)],
                         ids=["lstm_step_forward", "lstm_forward"])
class TestLstmBadInput:
    @staticmethod
    def _call(forward, T, x, h, Wx, Wh, b, c=None):
        if T is None:
            return lambda: forward(x, h, np.ones(h.shape) if c is None else c, Wx, Wh, b)
        return lambda: forward(x, h, Wx, Wh, b)

    def test_x_and_wx_disagree_on_d(self, forward, T):
        x, h, _, Wh, b = _rnn_arrays(T=T, gates=4)
        raises_naming(self._call(forward, T, x, h, np.ones((5, 12)), Wh, b), r"Wx", r"\b4\b", r"\b5\b")

    def test_wx_columns_not_four_blocks(self, forward, T):
        x, h, _, _, _ = _rnn_arrays(T=T, gates=4)
        raises_naming(self._call(forward, T, x, h, np.ones((4, 10)), np.ones((3, 10)), np.ones(10)),
                      r"Wx", r"\b10\b")

    @pytest.mark.parametrize("h_shape", [(2, 4), (1, 3), (2, 12)])
    def test_hidden_state_of_wrong_shape(self, forward, T, h_shape):
        x, _, Wx, Wh, b = _rnn_arrays(T=T, gates=4)
        name = "prev_h" if T is None else "h0"
        raises_naming(self._call(forward, T, x, np.ones(h_shape), Wx, Wh, b, c=np.ones((2, 3))),
                      rf"\b{name}\b", re.escape(str(h_shape)))

    @pytest.mark.parametrize("b_shape", [(1,), (3,), (12, 1)])
    def test_bias_of_wrong_shape(self, forward, T, b_shape):
        x, h, Wx, Wh, _ = _rnn_arrays(T=T, gates=4)
        raises_naming(self._call(forward, T, x, h, Wx, Wh, np.ones(b_shape)), r"\bb\b",
                      re.escape(str(b_shape)))


@pytest.mark.parametrize("c_shape", [(2, 4), (1, 3), (2, 12)])
def test_lstm_step_prev_c_of_wrong_shape(c_shape):
    x, h, Wx, Wh, b = _rnn_arrays(gates=4)
    raises_naming(lambda: layers.lstm_step_forward(x, h, np.ones(c_shape), Wx, Wh, b), r"\bprev_c\b",
                  re.escape(str(c_shape)))


# ---------------------------------------------------------------- every backward: upstream and cache

CALLS = small_layer_calls()
IDS = [call[0] for call in CALLS]


def _forward_and_upstream(forward, args, param):
    result = forward(*args, dict(param)) if param is not None else forward(*args)
    return result[:-1], result[-1]


@pytest.mark.parametrize("label, forward, backward, args, param", CALLS, ids=IDS)
@pytest.mark.parametrize("change", ["longer last axis", "extra leading axis", "broadcastable"])
def test_every_backward_rejects_upstream_of_wrong_shape(label, forward, backward, args, param, change):
    outputs, cache = _forward_and_upstream(forward, args, param)
    for k in range(len(outputs)):  # each upstream gradient in turn (dnext_h, then dnext_c)
        upstream = [np.ones(out.shape) for out in outputs]
        shape = outputs[k].shape
        bad_shape = {"longer last axis": shape[:-1] + (shape[-1] + 1,),
                     "extra leading axis": (1,) + shape,
                     "broadcastable": (1,) + shape[1:]}[change]  # would broadcast silently in NumPy
        if bad_shape == shape:  # N = 1 has no broadcastable variant
            continue
        upstream[k] = np.ones(bad_shape)
        raises_naming(lambda upstream=upstream: backward(*upstream, cache), r"\bd\w+",
                      re.escape(str(bad_shape)))


@pytest.mark.parametrize("label, forward, backward, args, param", CALLS, ids=IDS)
def test_every_backward_rejects_a_foreign_cache(label, forward, backward, args, param):
    outputs, cache = _forward_and_upstream(forward, args, param)
    upstream = [np.ones(out.shape) for out in outputs]
    raises_naming(lambda: backward(*upstream, tuple(cache)), r"cache")
