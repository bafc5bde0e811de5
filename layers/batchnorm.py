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


# NumPy broadcasts a (D,) row over an (N, D) array one row per inner loop. Measured here (NumPy 2.4),
# while a loop spans fewer than 8192 elements (NumPy's default buffer size) the operation costs about
# 1.5x a same-shape one, for N=256, D=512 and other shapes alike. ``_rowwise`` repeats the row k times
# so that one loop spans k rows.
_LOOP_ELEMENTS = 8192  # elements per inner loop from which the broadcast runs at same-shape speed
_MAX_TILE_ELEMENTS = 65536  # largest repeated row worth building (512 KiB); beyond it broadcast plainly


def _rowwise(ufunc: np.ufunc, matrix: np.ndarray, row: np.ndarray, out: np.ndarray | None = None):
    """``ufunc(matrix, row)`` for an (N, D) C-ordered matrix and a (D,) row, written to ``out`` (N, D).

    Same values, bit for bit, as the plain broadcast: only the loop structure changes. With k the
    smallest divisor of N such that k*D >= 8192, the matrix is viewed as (N/k, k*D) and the row
    repeated k times, so NumPy's inner loop covers k rows at once.
    """
    n_rows, n_features = matrix.shape  # N, D
    out = np.empty(matrix.shape) if out is None else out  # (N, D) fresh unless updating in place
    shortest = -(-_LOOP_ELEMENTS // n_features)  # fewest rows per loop: ceil(8192 / D)
    repeats = next((k for k in range(shortest, n_rows + 1) if n_rows % k == 0), n_rows)  # smallest k | N
    fits = repeats > 1 and repeats * n_features <= _MAX_TILE_ELEMENTS  # a short repeated row divides N
    if not fits or not matrix.flags.c_contiguous:  # else broadcast plainly (a reshape would copy a view)
        return ufunc(matrix, row, out=out)  # (N, D) op (D,) -> (N, D), plain broadcast
    wide = (n_rows // repeats, repeats * n_features)  # (N/k, k*D) view of the same memory
    row_repeated = row[None, :].repeat(repeats, axis=0).reshape(-1)  # (D,) -> (k, D) -> (k*D,) copy
    ufunc(matrix.reshape(wide), row_repeated, out=out.reshape(wide))  # (N/k, k*D) op (k*D,)
    return out


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
    n_rows, n_features = x.shape  # N, D
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

    mu = np.ones(n_rows) @ x / n_rows  # (N,) @ (N, D) -> (D,), column means as one BLAS call  Eqn 1.0
    x_minus_mu = _rowwise(np.subtract, x, mu)  # (N, D) - (D,) -> (N, D)  Eqn 1.1
    # Eqns 1.2-1.3 fused: einsum sums the squares column by column without storing the (N, D) squares
    var = np.einsum("nd,nd->d", x_minus_mu, x_minus_mu) / n_rows  # (N, D) -> (D,), biased  Eqns 1.2, 1.3
    std = np.sqrt(var + eps)  # (D,) -> (D,)  Eqn 1.4
    inv_std = 1.0 / std  # (D,) -> (D,)  Eqn 1.5
    x_hat = _rowwise(np.multiply, x_minus_mu, inv_std)  # (N, D) * (D,) -> (N, D)  Eqn 1.6
    out = _rowwise(np.multiply, x_hat, gamma)  # (N, D) * (D,) -> (N, D), gamma * x_hat  Eqn 1.7
    _rowwise(np.add, out, beta, out=out)  # (N, D) + (D,), in place on the fresh product  Eqn 1.8

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
    dbeta = np.ones(n_rows) @ dout  # (N,) @ (N, D) -> (D,), column sums as one BLAS call  Eqn 1.12
    dgamma = np.einsum("nd,nd->d", dout, cache.x_hat)  # (N, D) -> (D,), no (N, D) product stored  Eqn 1.14
    # Eqn 1.26 as gamma*inv_std * (dout - dbeta/N - x_hat*dgamma/N): one fresh (N, D) array, updated in place
    dx = _rowwise(np.multiply, cache.x_hat, -dgamma / n_rows)  # (N, D) * (D,) -> (N, D)  Eqn 1.26
    _rowwise(np.subtract, dx, dbeta / n_rows, out=dx)  # (N, D) - (D,), minus the mean of dout  Eqn 1.26
    dx += dout  # (N, D) + (N, D), the dout term  Eqn 1.26
    _rowwise(np.multiply, dx, cache.gamma * cache.inv_std, out=dx)  # (N, D) * (D,), common factor  Eqn 1.26
    return dx, dgamma, dbeta
