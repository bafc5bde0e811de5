"""Helpers shared by the layer tests: seeded inputs, hypothesis strategies, numerical gradients.

Every input builder takes a ``np.random.Generator`` and the sizes, and returns the differentiable
inputs by name in the spec's order, so one helper can check the gradient of any layer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import HealthCheck, settings

import layers

GRADIENT_BOUND = 1e-7  # the bound on the spec's relative error, never loosened
TWIN_BOUND = 1e-10  # fast against naive, fused sequence against looped steps
WRONG_BACKWARD_FLOOR = 1e-4  # a wrong backward must be at least this far off

# derandomize: the same examples every run, so CI never flakes; modest counts keep the suite fast
LAYER_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---------------------------------------------------------------- numerical gradients


def numerical_gradients(forward: Callable, inputs: dict, upstream: tuple) -> dict[str, np.ndarray]:
    """Centred-difference gradient of ``sum_k sum(out_k * upstream[k])`` for every input.

    ``forward(**inputs)`` returns ``(out_1, ..., out_K, cache)`` like the layers do; each output
    contributes through its own upstream gradient, as in the spec's LSTM step check.
    Returns ``{"d" + name: array shaped like inputs[name]}``.
    """
    grads = {}
    for name, value in inputs.items():
        total = np.zeros(np.shape(value))
        for k, df in enumerate(upstream):

            def output_k(perturbed, name=name, k=k):
                return forward(**{**inputs, name: perturbed})[k]

            total += layers.eval_numerical_gradient_array(output_k, np.array(value, dtype=np.float64), df)
        grads["d" + name] = total
    return grads


def analytic_gradients(forward: Callable, backward: Callable, inputs: dict, upstream: tuple):
    """Run ``forward(**inputs)`` then ``backward(*upstream, cache)``; gradients by ``"d" + name``."""
    cache = forward(**inputs)[-1]
    grads = backward(*upstream, cache)
    if isinstance(grads, np.ndarray):  # max pool returns dx alone
        grads = (grads,)
    return dict(zip(["d" + name for name in inputs], grads, strict=False))


def gradient_errors(forward: Callable, backward: Callable, inputs: dict, upstream: tuple) -> dict[str, float]:
    """The spec's relative error between numerical and analytic gradient of every input."""
    analytic = analytic_gradients(forward, backward, inputs, upstream)
    numeric = numerical_gradients(forward, inputs, upstream)
    assert set(analytic) >= set(numeric), f"backward returned {sorted(analytic)}, inputs {sorted(numeric)}"
    return {name: layers.rel_error(numeric[name], analytic[name]) for name in numeric}


def upstream_for(forward: Callable, inputs: dict, rng: np.random.Generator) -> tuple:
    """Random upstream gradients shaped like the forward outputs (all but the cache)."""
    outputs = forward(**inputs)[:-1]
    return tuple(rng.standard_normal(np.shape(out)) for out in outputs)


# ---------------------------------------------------------------- forwards with fixed hyper-parameters


def batchnorm_train(eps: float = 1e-5):
    """``(x, gamma, beta) -> (out, cache)`` in train mode with a fresh ``bn_param`` every call."""
    return lambda x, gamma, beta: layers.batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": eps})


def conv_with(forward: Callable, stride: int, pad: int):
    """``(x, w, b) -> (out, cache)`` for ``conv_forward_naive`` or ``conv_forward_fast``."""
    return lambda x, w, b: forward(x, w, b, {"stride": stride, "pad": pad})


def pool_with(forward: Callable, pool_height: int, pool_width: int, stride: int):
    """``x -> (out, cache)`` for ``max_pool_forward_naive`` or ``max_pool_forward_fast``."""
    param = {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}
    return lambda x: forward(x, dict(param))


def rnn_step(x, prev_h, Wx, Wh, b):
    return layers.rnn_step_forward(x, prev_h, Wx, Wh, b)


def lstm_step(x, prev_h, prev_c, Wx, Wh, b):
    return layers.lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)


# ---------------------------------------------------------------- seeded inputs


def batchnorm_inputs(rng: np.random.Generator, N: int, D: int, spread: float = 5.0, centre: float = 12.0):
    """The spec's draw: x = spread * randn + centre (N, D); gamma, beta randn (D,)."""
    return {
        "x": spread * rng.standard_normal((N, D)) + centre,
        "gamma": rng.standard_normal(D),
        "beta": rng.standard_normal(D),
    }


def well_conditioned_batchnorm(rng: np.random.Generator, N: int, D: int) -> tuple[dict, float]:
    """Batch norm inputs and eps whose gradient finite differences (and round-off) can resolve.

    From three rows on: the spec's draw (x = 5 randn + 12) and the default eps = 1e-5. With one or
    two rows x_hat = +-u / sqrt(u^2 + eps) is flat once |u| >> sqrt(eps), so dx is ~eps/|u|^3, a
    difference of O(1) terms that round-off swamps; a spread of 1 with eps = 1e-2 keeps it O(0.1).
    """
    if N <= 2:
        return batchnorm_inputs(rng, N, D, spread=1.0, centre=0.0), 1e-2
    return batchnorm_inputs(rng, N, D), 1e-5


def conv_inputs(rng: np.random.Generator, N, C, H, W, F, HH, WW):
    """x (N, C, H, W), w (F, C, HH, WW), b (F,), all randn."""
    return {
        "x": rng.standard_normal((N, C, H, W)),
        "w": rng.standard_normal((F, C, HH, WW)),
        "b": rng.standard_normal(F),
    }


def tie_free(rng: np.random.Generator, shape) -> np.ndarray:
    """Distinct values 0.1 apart (a scaled permutation): every window has one clear maximum,
    far beyond the finite-difference step, so the numerical gradient of max pool is defined."""
    size = int(np.prod(shape))
    return 0.1 * (rng.permutation(size) - size / 2).reshape(shape)


def recurrent_inputs(rng: np.random.Generator, N, D, H, gates: int, T: int | None = None, scaled=True):
    """x (N, D) or (N, T, D), h (N, H), Wx (D, gates*H), Wh (H, gates*H), b (gates*H,).

    ``scaled`` divides the weights by sqrt(fan-in) so tanh and sigma stay away from saturation
    (the spec's own draws are plain randn: ``scaled=False``). The state is returned as ``h``.
    """
    x_shape = (N, D) if T is None else (N, T, D)
    weight_scale = (1 / np.sqrt(D), 1 / np.sqrt(H)) if scaled else (1.0, 1.0)
    return {
        "x": rng.standard_normal(x_shape),
        "h": rng.standard_normal((N, H)),
        "Wx": weight_scale[0] * rng.standard_normal((D, gates * H)),
        "Wh": weight_scale[1] * rng.standard_normal((H, gates * H)),
        "b": rng.standard_normal(gates * H),
    }


def step_inputs(arrays: dict, rng: np.random.Generator | None = None, with_cell: bool = False) -> dict:
    """Rename ``h`` to ``prev_h`` (and add ``prev_c`` randn) for the step functions."""
    named = {"x": arrays["x"], "prev_h": arrays["h"]}
    if with_cell:
        named["prev_c"] = rng.standard_normal(arrays["h"].shape)
    return {**named, "Wx": arrays["Wx"], "Wh": arrays["Wh"], "b": arrays["b"]}


def sequence_inputs(arrays: dict) -> dict:
    """Rename ``h`` to ``h0`` for the sequence functions."""
    return {"x": arrays["x"], "h0": arrays["h"], "Wx": arrays["Wx"], "Wh": arrays["Wh"], "b": arrays["b"]}


# ------------------------------------------------ when the spec's relative error is meaningful

# an entry this small is treated as an exact zero (structurally unreachable inputs give 0.0 on both sides)
ZERO_ENTRY = 1e-15
# Centred differences with h = 1e-5 on these O(1) inputs carry absolute noise of about 1e-11 to 1e-10
# (round-off of f(x +- h) divided by 2h). The spec's relative error of an entry g is then about
# noise / |g|: below 1e-8 once |g| >= 1e-3, but an entry near zero would measure noise, not the code.
RESOLVABLE_ENTRY = 1e-3  # absolute: the noise floor above
RESOLVABLE_RATIO = 1e-3  # relative to the largest entry: the noise grows with the scale of the arrays


def resolvable(gradients: dict) -> bool:
    """True when every entry of every gradient is 0 or at least ``RESOLVABLE_ENTRY`` and at least
    ``RESOLVABLE_RATIO`` times the largest entry of its array: then the spec's elementwise relative
    error measures the backward pass, not finite-difference noise. Random draws that violate it (an
    entry of the true gradient happens to fall near zero, or a saturated unit makes a whole gradient
    tiny) are discarded with ``hypothesis.assume``; the bound itself is never loosened."""
    for grad in gradients.values():
        magnitude = np.abs(grad)
        floor = max(RESOLVABLE_ENTRY, RESOLVABLE_RATIO * magnitude.max(initial=0.0))
        if np.any((magnitude > ZERO_ENTRY) & (magnitude < floor)):
            return False
    return True
