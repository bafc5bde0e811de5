"""Contracts every layer function keeps: inputs are never changed in place, results are float64 whatever
the input dtype, and non-finite values propagate instead of raising."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from layers_cases import small_layer_calls

import layers

CALLS = small_layer_calls()
IDS = [call[0] for call in CALLS]


def _run(forward, backward, args, param, upstream_dtype=np.float64):
    """Forward then backward with random upstream gradients; returns (outputs, upstream, gradients)."""
    result = forward(*args, param) if param is not None else forward(*args)
    outputs, cache = result[:-1], result[-1]
    rng = np.random.default_rng(22)
    upstream = tuple((3 * rng.standard_normal(out.shape)).astype(upstream_dtype) for out in outputs)
    grads = backward(*upstream, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    return outputs, upstream, grads


@pytest.mark.parametrize("label, forward, backward, args, param", CALLS, ids=IDS)
def test_inputs_are_not_changed_in_place(label, forward, backward, args, param):
    saved_args = [a.copy() for a in args]
    saved_param = copy.deepcopy(param)
    running = {k: v for k, v in (param or {}).items() if isinstance(v, np.ndarray)}
    saved_running = {k: v.copy() for k, v in running.items()}
    outputs, upstream, grads = _run(forward, backward, args, param)
    saved_upstream = [u.copy() for u in upstream]
    cache = (forward(*args, param) if param is not None else forward(*args))[-1]
    backward(*upstream, cache)  # a second backward on the same cache: dout must survive too
    for before, after in zip(saved_args, args, strict=True):
        assert after.tobytes() == before.tobytes()
    for before, after in zip(saved_upstream, upstream, strict=True):
        assert after.tobytes() == before.tobytes()
    for key, array in running.items():  # arrays handed in through bn_param are replaced, not overwritten
        assert array.tobytes() == saved_running[key].tobytes()
    if param is not None:
        assert set(param) == set(saved_param)
        for key, value in saved_param.items():
            if not isinstance(value, np.ndarray):
                assert param[key] == value, f"{label} changed param[{key!r}]"


@pytest.mark.parametrize("label, forward, backward, args, param", CALLS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.float64])
def test_results_are_float64_for_any_input_dtype(label, forward, backward, args, param, dtype):
    cast = tuple(np.round(3 * a).astype(dtype) if dtype == np.int64 else a.astype(dtype) for a in args)
    param = copy.deepcopy(param)
    outputs, _, grads = _run(forward, backward, cast, param, upstream_dtype=dtype)
    for array in outputs + grads:
        assert isinstance(array, np.ndarray) and array.dtype == np.float64
    if param is not None and "running_mean" in param:
        assert param["running_mean"].dtype == param["running_var"].dtype == np.float64


@pytest.mark.parametrize("label, forward, backward, args, param", CALLS, ids=IDS)
def test_gradients_have_the_shapes_of_the_inputs(label, forward, backward, args, param):
    _, _, grads = _run(forward, backward, args, copy.deepcopy(param))
    assert [g.shape for g in grads] == [a.shape for a in args]  # every array argument has a gradient


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf is nan, as NumPy defines and warns
@pytest.mark.parametrize("label, forward, backward, args, param", CALLS, ids=IDS)
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_input_propagates_without_raising(label, forward, backward, args, param, value):
    x = args[0].copy()
    x.flat[0] = value
    result = forward(x, *args[1:], copy.deepcopy(param)) if param is not None else forward(x, *args[1:])
    out = result[0]
    assert out.dtype == np.float64
    if np.isnan(value):
        assert np.isnan(out).any(), f"{label}: nan in x vanished from the output"
        # everything the nan cannot reach stays finite: the second example of the batch
        assert np.isfinite(out[1]).all() or label.startswith("batchnorm")
    else:
        assert not np.isfinite(out).all() or label.startswith(("rnn", "lstm")), f"{label}: inf vanished"


def test_nan_in_batchnorm_stays_in_its_feature():
    x = np.arange(12.0).reshape(4, 3)
    x[2, 1] = np.nan
    out, _ = layers.batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    assert np.isnan(out[:, 1]).all()
    assert np.isfinite(out[:, [0, 2]]).all()
