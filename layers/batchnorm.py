"""Part 1 - batch normalization: forward (train and test mode) and two backward passes.

Equation numbers (``Eqn 1.n``) refer to ``derivations/batchnorm.py``:
forward 1.0-1.8 (train), 1.9-1.10 (running averages), 1.11 (test);
staged backward 1.12-1.25; simplified closed form 1.26; test-mode backward 1.27.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from layers import validation as v


class BatchnormCache(NamedTuple):
    """What the forward keeps for the backward pass (one field per graph node).

    In test mode the statistics are the running ones (constants, not functions of x),
    and ``mode`` tells the backward pass so.
    """

    mode: str  # 'train' or 'test'
    x: np.ndarray  # (N, D) input
    gamma: np.ndarray  # (D,) scale
    x_minus_mu: np.ndarray  # (N, D) centred input
    var: np.ndarray  # (D,) biased batch variance (running variance in test mode)
    eps: float  # added inside the square root
    std: np.ndarray  # (D,) sqrt(var + eps)
    inv_std: np.ndarray  # (D,) 1 / std
    x_hat: np.ndarray  # (N, D) normalized input


def _check_inputs(x, gamma, beta, bn_param):
    """Validate and convert the forward inputs; returns (x, gamma, beta, mode, eps, momentum)."""
    x = v.as_float_array("x", x, 2, "(N, D)")  # (N, D)
    n_features = x.shape[1]  # D
    gamma = v.as_float_array("gamma", gamma, 1, "(D,)")  # (D,)
    beta = v.as_float_array("beta", beta, 1, "(D,)")  # (D,)
    v.require_shape("gamma", gamma, (n_features,), "(D,)")  # (1,) would broadcast silently
    v.require_shape("beta", beta, (n_features,), "(D,)")
    v.require_mapping("bn_param", bn_param)
    mode = v.require_key("bn_param", bn_param, "mode")
    if mode not in ("train", "test"):
        raise ValueError(f"bn_param['mode']={mode!r} must be 'train' or 'test'")
    eps = v.positive_float("eps", bn_param.get("eps", 1e-5), "bn_param")
    momentum = v.unit_interval("momentum", bn_param.get("momentum", 0.9), "bn_param")
    return x, gamma, beta, mode, eps, momentum


def _running_stat(bn_param, key: str, n_features: int) -> np.ndarray:
    """Read ``bn_param[key]`` (zeros of shape (D,) when absent) as a float64 (D,) array."""
    if key not in bn_param:  # first call: no running statistic yet
        return np.zeros(n_features, dtype=np.float64)  # (D,) the course starts from zeros
    stat = v.as_float_array(f"bn_param[{key!r}]", bn_param[key], 1, "(D,)")  # (D,)
    v.require_shape(f"bn_param[{key!r}]", stat, (n_features,), "(D,)")  # (1,) would broadcast silently
    return stat


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization forward pass.

    Train mode normalizes with the minibatch statistics and updates the running
    averages stored in ``bn_param``; test mode normalizes with the running
    averages and leaves them unchanged.

    Inputs:
    - x: data of shape (N, D)
    - gamma: scale parameter of shape (D,)
    - beta: shift parameter of shape (D,)
    - bn_param: dict with
      - mode: 'train' or 'test' (required)
      - eps: constant inside the square root, default 1e-5
      - momentum: running-average decay in [0, 1], default 0.9
      - running_mean: array of shape (D,), zeros when absent; written back
      - running_var: array of shape (D,), zeros when absent; written back

    Returns a tuple of:
    - out: array of shape (N, D)
    - cache: ``BatchnormCache`` (its ``mode`` records which statistics were used)
    """
    x, gamma, beta, mode, eps, momentum = _check_inputs(x, gamma, beta, bn_param)  # x (N, D); gamma, beta (D,)
    n_features = x.shape[1]  # D
    running_mean = _running_stat(bn_param, "running_mean", n_features)  # (D,)
    running_var = _running_stat(bn_param, "running_var", n_features)  # (D,)

    if mode == "test":  # normalize with the running statistics, leave them unchanged
        x_minus_mu = x - running_mean  # (N, D) - (D,) -> (N, D)  Eqn 1.11
        std = np.sqrt(running_var + eps)  # (D,) -> (D,)  Eqn 1.11
        inv_std = 1.0 / std  # (D,) -> (D,)  Eqn 1.11
        x_hat = x_minus_mu * inv_std  # (N, D) * (D,) -> (N, D)  Eqn 1.11
        out = gamma * x_hat + beta  # (D,) * (N, D) + (D,) -> (N, D)  Eqn 1.11
        bn_param["running_mean"] = running_mean  # unchanged, stored as (D,) float64
        bn_param["running_var"] = running_var  # unchanged, stored as (D,) float64
        cache = BatchnormCache("test", x, gamma, x_minus_mu, running_var, eps, std, inv_std, x_hat)  # constants
        return out, cache

    mu = x.mean(axis=0)  # (N, D) -> (D,)  Eqn 1.0
    x_minus_mu = x - mu  # (N, D) - (D,) -> (N, D)  Eqn 1.1
    squared = x_minus_mu**2  # (N, D) -> (N, D)  Eqn 1.2
    var = squared.mean(axis=0)  # (N, D) -> (D,), biased (1/N)  Eqn 1.3
    std = np.sqrt(var + eps)  # (D,) -> (D,)  Eqn 1.4
    inv_std = 1.0 / std  # (D,) -> (D,)  Eqn 1.5
    x_hat = x_minus_mu * inv_std  # (N, D) * (D,) -> (N, D)  Eqn 1.6
    scaled = gamma * x_hat  # (D,) * (N, D) -> (N, D)  Eqn 1.7
    out = scaled + beta  # (N, D) + (D,) -> (N, D)  Eqn 1.8

    bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu  # (D,)  Eqn 1.9
    bn_param["running_var"] = momentum * running_var + (1 - momentum) * var  # (D,)  Eqn 1.10
    cache = BatchnormCache("train", x, gamma, x_minus_mu, var, eps, std, inv_std, x_hat)  # every graph node
    return out, cache


def _check_backward(dout, cache) -> np.ndarray:
    if not isinstance(cache, BatchnormCache):
        raise ValueError(
            "cache must be the BatchnormCache returned by batchnorm_forward; "
            f"got {type(cache).__name__}"
        )
    dout = v.as_float_array("dout", dout, 2, "(N, D)")  # (N, D)
    v.require_shape("dout", dout, cache.x.shape, "(N, D)")
    return dout


def batchnorm_backward(dout, cache):
    """Backward pass through the staged computational graph, node by node.

    Where a value feeds two nodes (``x``, ``x - mu``) the two incoming
    gradients are summed (Eqns 1.22 and 1.25). A test-mode cache gets Eqn 1.27.

    Inputs:
    - dout: upstream gradient of shape (N, D)
    - cache: ``BatchnormCache`` from ``batchnorm_forward``

    Returns a tuple of:
    - dx: gradient with respect to x, of shape (N, D)
    - dgamma: gradient with respect to gamma, of shape (D,)
    - dbeta: gradient with respect to beta, of shape (D,)
    """
    dout = _check_backward(dout, cache)  # (N, D), same shape as the forward's x
    n_rows = dout.shape[0]  # N
    dbeta = dout.sum(axis=0)  # (N, D) -> (D,)  Eqn 1.12
    dscaled = dout  # (N, D), the + beta node passes the gradient through  Eqn 1.13
    dgamma = (dscaled * cache.x_hat).sum(axis=0)  # (N, D) -> (D,)  Eqn 1.14
    dx_hat = dscaled * cache.gamma  # (N, D) * (D,) -> (N, D)  Eqn 1.15
    if cache.mode == "test":  # running statistics are constants: no path through mu or var
        return dx_hat * cache.inv_std, dgamma, dbeta  # (N, D) * (D,) -> (N, D)  Eqn 1.27
    dinv_std = (dx_hat * cache.x_minus_mu).sum(axis=0)  # (N, D) -> (D,)  Eqn 1.16
    dx_minus_mu_direct = dx_hat * cache.inv_std  # (N, D) * (D,) -> (N, D)  Eqn 1.17
    dstd = -dinv_std / cache.std**2  # (D,) -> (D,)  Eqn 1.18
    dvar = 0.5 * dstd / cache.std  # (D,) -> (D,), d sqrt(u)/du = 1/(2 sqrt(u))  Eqn 1.19
    dsquared = np.broadcast_to(dvar / n_rows, dout.shape)  # (D,) -> (N, D)  Eqn 1.20
    dx_minus_mu_via_var = 2 * cache.x_minus_mu * dsquared  # (N, D) -> (N, D)  Eqn 1.21
    dx_minus_mu = dx_minus_mu_direct + dx_minus_mu_via_var  # (N, D), branch sum  Eqn 1.22
    dmu = -dx_minus_mu.sum(axis=0)  # (N, D) -> (D,)  Eqn 1.23
    dx_via_mu = np.broadcast_to(dmu / n_rows, dout.shape)  # (D,) -> (N, D)  Eqn 1.24
    dx = dx_minus_mu + dx_via_mu  # (N, D), branch sum  Eqn 1.25
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Simplified closed-form backward pass; same inputs and results as ``batchnorm_backward``.

    Inputs:
    - dout: upstream gradient of shape (N, D)
    - cache: ``BatchnormCache`` from ``batchnorm_forward``

    Returns a tuple of:
    - dx: of shape (N, D)
    - dgamma: of shape (D,)
    - dbeta: of shape (D,)
    """
    dout = _check_backward(dout, cache)  # (N, D), same shape as the forward's x
    if cache.mode == "test":  # no batch statistics to differentiate: same as the staged pass
        return batchnorm_backward(dout, cache)  # Eqns 1.12, 1.14, 1.27
    n_rows = dout.shape[0]  # N
    dbeta = dout.sum(axis=0)  # (N, D) -> (D,)  Eqn 1.12
    dgamma = (dout * cache.x_hat).sum(axis=0)  # (N, D) -> (D,)  Eqn 1.14
    dx = (cache.gamma * cache.inv_std / n_rows) * (  # (D,) * ... -> (N, D)  Eqn 1.26
        n_rows * dout - dbeta - cache.x_hat * dgamma  # (N, D) - (D,) - (N, D) * (D,) -> (N, D)
    )
    return dx, dgamma, dbeta
