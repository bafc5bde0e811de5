"""Numerical gradients and the spec's relative error; both return numbers and print nothing."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Centred-difference gradient of ``sum(f(x) * df)`` with respect to ``x``.

    Inputs:
    - f: function of one array returning an array of the same shape as ``df``.
    - x: array of any shape; perturbed in place one element at a time and
      restored exactly afterwards (also when ``f`` raises).
    - df: upstream gradient, same shape as ``f(x)``.
    - h: finite-difference step.

    Returns:
    - grad: array of the same shape as ``x``, ``grad[i] = sum((f(x+h e_i) - f(x-h e_i)) * df) / 2h``.
    """
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"h={h!r} must be a finite number > 0")
    grad = np.zeros(x.shape, dtype=np.float64)  # same shape as x
    for index in np.ndindex(x.shape):  # one coordinate at a time
        original = x[index]
        try:
            x[index] = original + h
            f_plus = np.array(f(x), dtype=np.float64)  # copy: f may return a view of x
            x[index] = original - h
            f_minus = np.array(f(x), dtype=np.float64)
        finally:
            x[index] = original  # restore, whatever f did
        if f_plus.shape != np.shape(df):
            raise ValueError(f"f(x) has shape {f_plus.shape} but df has shape {np.shape(df)}")
        grad[index] = np.sum((f_plus - f_minus) * df) / (2 * h)  # centred difference
    return grad


def sampled_numerical_gradient(
    f: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    df: np.ndarray,
    count: int,
    rng: np.random.Generator,
    h: float = 1e-5,
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Centred differences at ``count`` random coordinates of ``x`` (a sparse check for big arrays).

    Returns ``(indices, values)``: ``indices`` is a tuple of index arrays usable as
    ``analytic[indices]`` and ``values`` the numerical gradient there, shape (count,).
    ``count`` is capped at ``x.size``; coordinates are drawn without replacement.
    """
    if count < 1:
        raise ValueError(f"count={count} must be >= 1")
    flat_positions = rng.choice(x.size, size=min(count, x.size), replace=False)  # (count,)
    indices = np.unravel_index(np.sort(flat_positions), x.shape)  # ndim arrays of (count,)
    values = np.empty(len(flat_positions), dtype=np.float64)  # (count,)
    for k, index in enumerate(zip(*indices, strict=True)):
        original = x[index]
        try:
            x[index] = original + h
            f_plus = np.array(f(x), dtype=np.float64)
            x[index] = original - h
            f_minus = np.array(f(x), dtype=np.float64)
        finally:
            x[index] = original
        values[k] = np.sum((f_plus - f_minus) * df) / (2 * h)
    return indices, values


def rel_error(x, y) -> float:
    """The spec's relative error: ``max |x - y| / max(1e-8, |x| + |y|)`` over all elements."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error needs equal shapes; got {x.shape} and {y.shape}")
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
