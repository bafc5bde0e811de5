"""The spec's own checks with the spec's fixed inputs and expected arrays, plus the batch norm
semantics the issue pins down (modes, running averages, defaults) and the gradient-check helpers."""

from __future__ import annotations

import re

import numpy as np
import pytest
from layers_support import batchnorm_train

import layers

SPEC_FORWARD_BOUND = 1e-7  # the spec expects ~1e-8 (arrays printed to 8 decimals) and "less than 1e-7"


def _linspace(low, high, shape):
    """The spec's ``np.linspace(low, high, num=prod(shape)).reshape(shape)``."""
    return np.linspace(low, high, num=int(np.prod(shape))).reshape(shape)


# ---------------------------------------------------------------- fixed-input forward checks


@pytest.mark.parametrize("forward", [layers.conv_forward_naive, layers.conv_forward_fast])
def test_conv_forward_matches_spec(forward):
    x = _linspace(-0.1, 0.5, (2, 3, 4, 4))
    w = _linspace(-0.2, 0.3, (3, 3, 4, 4))
    b = np.linspace(-0.1, 0.2, num=3)
    out, _ = forward(x, w, b, {"stride": 2, "pad": 1})
    # the spec prints correct_out with one extra leading axis of length 1: shape (1, 2, 3, 2, 2)
    correct_out = np.array([[[[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                              [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                              [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
                             [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                              [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                              [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]]])
    assert out.shape == (2, 3, 2, 2)
    assert layers.rel_error(out, correct_out[0]) < SPEC_FORWARD_BOUND


@pytest.mark.parametrize("forward", [layers.max_pool_forward_naive, layers.max_pool_forward_fast])
def test_max_pool_forward_matches_spec(forward):
    x = _linspace(-0.3, 0.4, (2, 3, 4, 4))
    out, _ = forward(x, {"pool_width": 2, "pool_height": 2, "stride": 2})
    correct_out = np.array([[[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
                             [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
                             [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
                            [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
                             [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
                             [[0.32631579, 0.34105263], [0.38526316, 0.4]]]])
    assert layers.rel_error(out, correct_out) < SPEC_FORWARD_BOUND


def test_rnn_step_forward_matches_spec():
    N, D, H = 3, 10, 4
    x = _linspace(-0.4, 0.7, (N, D))
    prev_h = _linspace(-0.2, 0.5, (N, H))
    Wx = _linspace(-0.1, 0.9, (D, H))
    Wh = _linspace(-0.3, 0.7, (H, H))
    b = np.linspace(-0.2, 0.4, num=H)
    next_h, _ = layers.rnn_step_forward(x, prev_h, Wx, Wh, b)
    expected_next_h = np.asarray([[-0.58172089, -0.50182032, -0.41232771, -0.31410098],
                                  [0.66854692, 0.79562378, 0.87755553, 0.92795967],
                                  [0.97934501, 0.99144213, 0.99646691, 0.99854353]])
    assert layers.rel_error(expected_next_h, next_h) < SPEC_FORWARD_BOUND


def test_rnn_forward_matches_spec():
    N, T, D, H = 2, 3, 4, 5
    x = _linspace(-0.1, 0.3, (N, T, D))
    h0 = _linspace(-0.3, 0.1, (N, H))
    Wx = _linspace(-0.2, 0.4, (D, H))
    Wh = _linspace(-0.4, 0.1, (H, H))
    b = np.linspace(-0.7, 0.1, num=H)
    h, _ = layers.rnn_forward(x, h0, Wx, Wh, b)
    expected_h = np.asarray([
        [[-0.42070749, -0.27279261, -0.11074945, 0.05740409, 0.22236251],
         [-0.39525808, -0.22554661, -0.0409454, 0.14649412, 0.32397316],
         [-0.42305111, -0.24223728, -0.04287027, 0.15997045, 0.35014525]],
        [[-0.55857474, -0.39065825, -0.19198182, 0.02378408, 0.23735671],
         [-0.27150199, -0.07088804, 0.13562939, 0.33099728, 0.50158768],
         [-0.51014825, -0.30524429, -0.06755202, 0.17806392, 0.40333043]]])
    assert layers.rel_error(expected_h, h) < SPEC_FORWARD_BOUND


def test_lstm_step_forward_matches_spec():
    N, D, H = 3, 4, 5
    x = _linspace(-0.4, 1.2, (N, D))
    prev_h = _linspace(-0.3, 0.7, (N, H))
    prev_c = _linspace(-0.4, 0.9, (N, H))
    Wx = _linspace(-2.1, 1.3, (D, 4 * H))
    Wh = _linspace(-0.7, 2.2, (H, 4 * H))
    b = np.linspace(0.3, 0.7, num=4 * H)
    next_h, next_c, _ = layers.lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    expected_next_h = np.asarray([[0.24635157, 0.28610883, 0.32240467, 0.35525807, 0.38474904],
                                  [0.49223563, 0.55611431, 0.61507696, 0.66844003, 0.7159181],
                                  [0.56735664, 0.66310127, 0.74419266, 0.80889665, 0.858299]])
    expected_next_c = np.asarray([[0.32986176, 0.39145139, 0.451556, 0.51014116, 0.56717407],
                                  [0.66382255, 0.76674007, 0.87195994, 0.97902709, 1.08751345],
                                  [0.74192008, 0.90592151, 1.07717006, 1.25120233, 1.42395676]])
    assert layers.rel_error(expected_next_h, next_h) < SPEC_FORWARD_BOUND
    assert layers.rel_error(expected_next_c, next_c) < SPEC_FORWARD_BOUND


def test_lstm_forward_matches_spec():
    N, D, H, T = 2, 5, 4, 3
    x = _linspace(-0.4, 0.6, (N, T, D))
    h0 = _linspace(-0.4, 0.8, (N, H))
    Wx = _linspace(-0.2, 0.9, (D, 4 * H))
    Wh = _linspace(-0.3, 0.6, (H, 4 * H))
    b = np.linspace(0.2, 0.7, num=4 * H)
    h, _ = layers.lstm_forward(x, h0, Wx, Wh, b)
    expected_h = np.asarray([
        [[0.01764008, 0.01823233, 0.01882671, 0.0194232],
         [0.11287491, 0.12146228, 0.13018446, 0.13902939],
         [0.31358768, 0.33338627, 0.35304453, 0.37250975]],
        [[0.45767879, 0.4761092, 0.4936887, 0.51041945],
         [0.6704845, 0.69350089, 0.71486014, 0.7346449],
         [0.81733511, 0.83677871, 0.85403753, 0.86935314]]])
    assert layers.rel_error(expected_h, h) < SPEC_FORWARD_BOUND


# ---------------------------------------------------------------- batch norm: the spec's mean/std checks


def _two_layer_activations(rng, W1, W2, N=200):
    """The spec's simulated activations: relu(X W1) W2 with X randn (N, D1)."""
    X = rng.standard_normal((N, W1.shape[0]))
    return np.maximum(0, X @ W1) @ W2


def test_batchnorm_train_mode_normalizes_each_feature():
    rng = np.random.default_rng(552)
    D1, D2, D3 = 50, 60, 3
    a = _two_layer_activations(rng, rng.standard_normal((D1, D2)), rng.standard_normal((D2, D3)))
    # eps = 1e-5 shrinks the std by about eps / (2 var); var of these activations is in the hundreds
    shrink_bound = 1e-5 / (2 * a.var(axis=0).min()) + 1e-12

    a_norm, _ = layers.batchnorm_forward(a, np.ones(D3), np.zeros(D3), {"mode": "train"})
    np.testing.assert_allclose(a_norm.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(a_norm.std(axis=0), 1.0, atol=shrink_bound)

    gamma, beta = np.asarray([1.0, 2.0, 3.0]), np.asarray([11.0, 12.0, 13.0])
    a_norm, _ = layers.batchnorm_forward(a, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(a_norm.mean(axis=0), beta, atol=1e-11)
    np.testing.assert_allclose(a_norm.std(axis=0), gamma, atol=3 * shrink_bound)


def test_batchnorm_test_mode_after_warm_up():
    """The spec's test-time check: 50 train steps warm up the running averages, then one test batch.

    Tolerances are about four standard errors for N = 200: the test batch mean of a feature with
    population std s has standard error s / sqrt(200) ~ 0.07 s, the running mean adds ~0.02 s,
    and a sample std of 200 draws varies by ~0.05 (more for these skewed ReLU activations).
    """
    rng = np.random.default_rng(2024)
    N, D1, D2, D3 = 200, 50, 60, 3
    W1, W2 = rng.standard_normal((D1, D2)), rng.standard_normal((D2, D3))
    bn_param = {"mode": "train"}
    gamma, beta = np.ones(D3), np.zeros(D3)
    for _ in range(50):
        layers.batchnorm_forward(_two_layer_activations(rng, W1, W2, N), gamma, beta, bn_param)
    bn_param["mode"] = "test"
    a_norm, _ = layers.batchnorm_forward(_two_layer_activations(rng, W1, W2, N), gamma, beta, bn_param)
    np.testing.assert_allclose(a_norm.mean(axis=0), 0.0, atol=0.3)
    np.testing.assert_allclose(a_norm.std(axis=0), 1.0, atol=0.25)


# ---------------------------------------------------------------- batch norm: running averages and defaults


def test_running_statistics_start_at_zero_with_default_momentum():
    rng = np.random.default_rng(1)
    x = 3 * rng.standard_normal((6, 4)) + 2
    bn_param = {"mode": "train"}
    layers.batchnorm_forward(x, np.ones(4), np.zeros(4), bn_param)
    # from zeros, one step with the default momentum 0.9 keeps 0.1 of the batch statistics
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * x.var(axis=0), rtol=1e-14)  # biased var
    assert bn_param["running_mean"].shape == (4,) and bn_param["running_var"].shape == (4,)


def test_running_statistics_update_with_given_momentum():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3))
    running_mean, running_var = rng.standard_normal(3), rng.random(3) + 0.5
    saved_mean, saved_var = running_mean.copy(), running_var.copy()
    bn_param = {"mode": "train", "momentum": 0.7, "running_mean": running_mean, "running_var": running_var}
    layers.batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.7 * saved_mean + 0.3 * x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(bn_param["running_var"], 0.7 * saved_var + 0.3 * x.var(axis=0), rtol=1e-14)
    # the new averages are new arrays: the caller's arrays are not overwritten in place
    np.testing.assert_array_equal(running_mean, saved_mean)
    np.testing.assert_array_equal(running_var, saved_var)


def test_test_mode_uses_and_keeps_running_statistics():
    rng = np.random.default_rng(3)
    x, gamma, beta = rng.standard_normal((7, 4)), rng.standard_normal(4), rng.standard_normal(4)
    running_mean, running_var = rng.standard_normal(4), rng.random(4) + 0.5
    bn_param = {"mode": "test", "running_mean": running_mean.copy(), "running_var": running_var.copy()}
    out, _ = layers.batchnorm_forward(x, gamma, beta, bn_param)
    expected = gamma * (x - running_mean) / np.sqrt(running_var + 1e-5) + beta
    np.testing.assert_allclose(out, expected, rtol=1e-13)
    np.testing.assert_array_equal(bn_param["running_mean"], running_mean)
    np.testing.assert_array_equal(bn_param["running_var"], running_var)


def test_eps_defaults_to_1e_5_inside_the_square_root():
    x = np.array([[0.0], [2e-3]])  # variance 1e-6, so eps matters
    out_default, _ = layers.batchnorm_forward(x, np.ones(1), np.zeros(1), {"mode": "train"})
    out_explicit, _ = layers.batchnorm_forward(x, np.ones(1), np.zeros(1), {"mode": "train", "eps": 1e-5})
    np.testing.assert_array_equal(out_default, out_explicit)
    np.testing.assert_allclose(out_default, (x - 1e-3) / np.sqrt(1e-6 + 1e-5), rtol=1e-13)


def test_train_output_is_the_normalized_formula():
    rng = np.random.default_rng(4)
    x, gamma, beta = rng.standard_normal((9, 5)), rng.standard_normal(5), rng.standard_normal(5)
    out, _ = batchnorm_train(eps=1e-3)(x, gamma, beta)
    expected = gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-3) + beta
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", ["eval", "Train", "", None, 1])
def test_mode_other_than_train_or_test_is_rejected(mode):
    with pytest.raises(ValueError, match=rf"mode.*{re.escape(repr(mode))}"):
        layers.batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), {"mode": mode})


def test_missing_mode_is_rejected():
    with pytest.raises(ValueError, match="mode"):
        layers.batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), {})


# ---------------------------------------------------------------- the gradient-check helpers


def test_numerical_gradient_restores_x_bitwise_and_prints_nothing(capsys):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4)) * 1e3 + 0.1  # large values: x + h - h need not round back to x
    saved = x.copy()
    df = rng.standard_normal((3, 4))
    grad = layers.eval_numerical_gradient_array(np.sin, x, df)
    assert x.tobytes() == saved.tobytes()
    assert capsys.readouterr() == ("", "")
    np.testing.assert_allclose(grad, np.cos(saved) * df, rtol=1e-5, atol=1e-7)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.arange(4.0)
    saved = x.copy()

    def failing(value):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        layers.eval_numerical_gradient_array(failing, x, np.ones(4))
    assert x.tobytes() == saved.tobytes()


def test_numerical_gradient_of_a_linear_map_is_its_transpose():
    rng = np.random.default_rng(6)
    A, x, df = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(3)
    grad = layers.eval_numerical_gradient_array(lambda v: A @ v, x, df)
    np.testing.assert_allclose(grad, A.T @ df, rtol=1e-8)


def test_rel_error_is_the_spec_formula(capsys):
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    y[0, 0] = x[0, 0] = 1e-10  # below the 1e-8 floor of the denominator
    expected = np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))
    assert layers.rel_error(x, y) == expected
    assert isinstance(layers.rel_error(x, y), float)
    assert layers.rel_error(x, x) == 0.0
    assert layers.rel_error(np.zeros(3), np.full(3, 1e-9)) == pytest.approx(0.1)  # 1e-9 / 1e-8
    assert capsys.readouterr() == ("", "")
