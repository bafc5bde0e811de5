"""Part 3 - max pooling: naive loops for reading, and a vectorized twin for speed.

Equation numbers (``Eqn 3.n``) refer to ``derivations/pool.py``:
3.0 output size, 3.1 forward max, 3.2 first argmax in row-major order, 3.3 gradient routing.

The gradient of each window goes to the FIRST maximum of that window in row-major order
(ties are common with integer or ReLU-ed inputs), and windows that overlap (stride smaller
than the window) add up their gradients. A window holding nan has max nan and routes to its
first nan, exactly as ``np.max`` and ``np.argmax`` do; inf is an ordinary value.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from layers import validation as v


class MaxPoolCache(NamedTuple):
    """What ``max_pool_forward_naive`` keeps for ``max_pool_backward_naive``."""

    x: np.ndarray  # (N, C, H, W) input
    pool_height: int  # window rows
    pool_width: int  # window columns
    stride: int  # step between windows


class MaxPoolFastCache(NamedTuple):
    """What ``max_pool_forward_fast`` keeps for ``max_pool_backward_fast``."""

    x: np.ndarray  # (N, C, H, W) input
    pool_height: int  # window rows
    pool_width: int  # window columns
    stride: int  # step between windows
    argmax: np.ndarray  # (N, C, H', W') int, k*pool_width + l of each window's first maximum, Eqn 3.2


def _check_inputs(x, pool_param):
    """Validate and convert; returns (x, pool_height, pool_width, stride, out_height, out_width)."""
    x = v.as_float_array("x", x, 4, "(N, C, H, W)")  # (N, C, H, W)
    v.require_mapping("pool_param", pool_param)
    sizes = [
        v.positive_int(key, v.require_key("pool_param", pool_param, key), "pool_param")
        for key in ("pool_height", "pool_width", "stride")
    ]
    pool_height, pool_width, stride = sizes  # window rows, window columns, step
    out_height = v.sliding_output_size("H", x.shape[2], pool_height, stride, 0, "pool_height")  # Eqn 3.0
    out_width = v.sliding_output_size("W", x.shape[3], pool_width, stride, 0, "pool_width")  # Eqn 3.0
    return x, pool_height, pool_width, stride, out_height, out_width


def _check_backward(dout, cache, cache_type, forward_name: str) -> np.ndarray:
    """Validate the cache type and that ``dout`` has the forward output's shape (N, C, H', W')."""
    v.require_cache(cache, cache_type, forward_name)  # a wrong cache type is a ValueError
    n_images, channels, height, width = cache.x.shape  # N, C, H, W
    out_height = 1 + (height - cache.pool_height) // cache.stride  # H'  Eqn 3.0
    out_width = 1 + (width - cache.pool_width) // cache.stride  # W'  Eqn 3.0
    expected = (n_images, channels, out_height, out_width)  # (N, C, H', W')
    return v.array_of_shape("dout", dout, expected, "(N, C, H', W')")


def max_pool_forward_naive(x, pool_param):
    """Max pooling forward pass, one output position at a time (for reading, not for speed).

    Inputs:
    - x: input data of shape (N, C, H, W); nan and inf are allowed (see the module notes)
    - pool_param: dict with 'pool_height', 'pool_width' and 'stride', all whole numbers >= 1

    Returns a tuple of:
    - out: output of shape (N, C, H', W') with H' = 1 + (H - pool_height) / stride and
      W' = 1 + (W - pool_width) / stride (both must be whole numbers; there is no padding)
    - cache: ``MaxPoolCache``
    """
    x, pool_height, pool_width, stride, out_height, out_width = _check_inputs(x, pool_param)  # Eqn 3.0
    out = np.empty(x.shape[:2] + (out_height, out_width))  # (N, C, H', W')  Eqn 3.0
    for i in range(out_height):  # each output row
        for j in range(out_width):  # each output column
            rows = slice(i * stride, i * stride + pool_height)  # window rows under out[:, :, i, j]
            cols = slice(j * stride, j * stride + pool_width)  # window columns under out[:, :, i, j]
            out[:, :, i, j] = x[:, :, rows, cols].max(axis=(2, 3))  # (N, C, ph, pw) -> (N, C)  Eqn 3.1
    return out, MaxPoolCache(x, pool_height, pool_width, stride)


def max_pool_backward_naive(dout, cache):
    """Max pooling backward pass, one output position at a time (for reading, not for speed).

    Inputs:
    - dout: upstream gradient of shape (N, C, H', W')
    - cache: ``MaxPoolCache`` from ``max_pool_forward_naive``

    Returns:
    - dx: gradient with respect to x, of shape (N, C, H, W); each window's gradient lands on the
      first maximum of the window (row-major), and overlapping windows add up
    """
    dout = _check_backward(dout, cache, MaxPoolCache, "max_pool_forward_naive")  # (N, C, H', W')
    x, stride = cache.x, cache.stride  # x (N, C, H, W), step between windows
    pool_height, pool_width = cache.pool_height, cache.pool_width  # ph, pw
    n_images, channels = x.shape[:2]  # N, C
    window_size = pool_height * pool_width  # ph*pw positions in a window
    dx = np.zeros(x.shape)  # (N, C, H, W) accumulator  Eqn 3.3
    for i in range(dout.shape[2]):  # each output row
        for j in range(dout.shape[3]):  # each output column
            rows = slice(i * stride, i * stride + pool_height)  # window rows under out[:, :, i, j]
            cols = slice(j * stride, j * stride + pool_width)  # window columns under out[:, :, i, j]
            window = x[:, :, rows, cols].reshape(n_images, channels, window_size)  # (N, C, ph*pw) row-major
            first_max = window.argmax(axis=2)  # (N, C) index k*pw + l of the first maximum  Eqn 3.2
            is_first_max = np.arange(window_size) == first_max[:, :, None]  # (N, C, ph*pw) one-hot
            routed = np.where(is_first_max, dout[:, :, i, j, None], 0.0)  # (N, C, ph*pw)  Eqn 3.3
            dx[:, :, rows, cols] += routed.reshape(n_images, channels, pool_height, pool_width)  # Eqn 3.3
    return dx


def _stack_window_offsets(x: np.ndarray, pool_height: int, pool_width: int, stride: int) -> np.ndarray:
    """(N, C, H, W) -> (ph*pw, N, C, H', W'): slab k*pw + l holds x[n, c, i*stride + k, j*stride + l].

    Slab o is every window's element number o in row-major order; one strided copy per offset. Used for
    disjoint windows (stride >= window), including windows that tile x exactly: a separate reshape path
    measured no faster, since NumPy reduces the small strided window axes of a reshaped view slowly.
    Overlapping windows go through ``_separable_max`` instead, which shares the work of common rows.
    """
    out_height = 1 + (x.shape[2] - pool_height) // stride  # H'  Eqn 3.0
    out_width = 1 + (x.shape[3] - pool_width) // stride  # W'  Eqn 3.0
    slab_shape = x.shape[:2] + (out_height, out_width)  # (N, C, H', W')
    stacked = np.empty((pool_height * pool_width,) + slab_shape)  # (ph*pw, N, C, H', W')
    for k in range(pool_height):  # each window row offset
        for l in range(pool_width):  # each window column offset
            rows = slice(k, k + stride * (out_height - 1) + 1, stride)  # input rows i*stride + k, i < H'
            cols = slice(l, l + stride * (out_width - 1) + 1, stride)  # input columns j*stride + l, j < W'
            stacked[k * pool_width + l] = x[:, :, rows, cols]  # (N, C, H', W') strided view -> slab
    return stacked


def _first_max_offset(stacked: np.ndarray, out: np.ndarray) -> np.ndarray:
    """(ph*pw, N, C, H', W'), (N, C, H', W') -> (N, C, H', W') index of the first slab equal to ``out``.

    Counts the slabs passed before the first maximum (branch-free, like ``np.argmax`` on ties).
    A window whose max is nan has no slab equal to it: ``_route_nan_windows`` fixes those.
    """
    searching = np.ones(out.shape, dtype=bool)  # (N, C, H', W') True until a maximum is met
    first = np.zeros(out.shape, dtype=np.min_scalar_type(len(stacked)))  # (N, C, H', W') small uint counter
    for offset in range(len(stacked) - 1):  # the last slab needs no test: it is all that is left
        searching &= stacked[offset] != out  # (N, C, H', W') still no maximum at offsets <= offset  Eqn 3.2
        first += searching  # (N, C, H', W') one more offset passed  Eqn 3.2
    return first  # (N, C, H', W') small unsigned ints; nan windows are fixed by the caller


def _separable_max(x: np.ndarray, pool_height: int, pool_width: int, stride: int):
    """Max and first argmax of every window by a row pass then a column pass, for overlapping windows.

    (N, C, H, W) -> out (N, C, H', W'), argmax (N, C, H', W') small unsigned ints k*pw + l.

    The row pass takes, for every input row, the max over the pw columns of each window
    (``row_max``) and the first column reaching it (``row_arg``); the column pass takes the max of
    ``row_max`` over the ph rows of each window. That is (pw - 1) + (ph - 1) comparisons per window
    instead of ph*pw - 1, and windows sharing rows share the row pass. The window's first maximum in
    row-major order lies in its first row k that reaches the max, at that row's first column
    ``row_arg``; strict ``>`` keeps the earliest offset on ties. Each offset updates the argmax with
    ``maximum(arg, is_greater * candidate)``: the candidates grow with the offset, so this keeps the
    last offset that was strictly greater, branch-free. Windows whose max is nan are left to
    ``_route_nan_windows`` (every comparison with nan is False).
    """
    out_height = 1 + (x.shape[2] - pool_height) // stride  # H'  Eqn 3.0
    out_width = 1 + (x.shape[3] - pool_width) // stride  # W'  Eqn 3.0
    index_type = np.min_scalar_type(pool_height * pool_width - 1)  # uint8 up to 256 offsets
    rows = slice(0, stride * (out_height - 1) + 1, stride)  # input rows i*stride of the window tops
    cols = slice(0, stride * (out_width - 1) + 1, stride)  # input columns j*stride of the window lefts
    row_max = x[:, :, :, cols].copy()  # (N, C, H, W') offset l = 0 of every row segment  Eqn 3.1
    row_arg = np.zeros(row_max.shape, dtype=index_type)  # (N, C, H, W') first column l of the row max
    is_greater = np.empty(row_max.shape, dtype=bool)  # (N, C, H, W') scratch
    candidate = np.empty(row_max.shape, dtype=index_type)  # (N, C, H, W') scratch
    for l in range(1, pool_width):  # each later window column
        column = x[:, :, :, l + cols.start : l + cols.stop : stride]  # (N, C, H, W') view, columns j*s + l
        np.greater(column, row_max, out=is_greater)  # strictly greater: ties keep the earlier l  Eqn 3.2
        np.multiply(is_greater, index_type.type(l), out=candidate)  # l where greater, else 0
        np.maximum(row_arg, candidate, out=row_arg)  # (N, C, H, W') last l that was greater  Eqn 3.2
        np.maximum(row_max, column, out=row_max)  # (N, C, H, W') running max over columns  Eqn 3.1
    out = row_max[:, :, rows].copy()  # (N, C, H', W') window row k = 0  Eqn 3.1
    argmax = row_arg[:, :, rows].copy()  # (N, C, H', W') k*pw + l for k = 0  Eqn 3.2
    is_greater, candidate = is_greater[:, :, :out_height], candidate[:, :, :out_height]  # (N, C, H', W')
    for k in range(1, pool_height):  # each later window row
        window_row = slice(k + rows.start, k + rows.stop, stride)  # input rows i*s + k
        np.greater(row_max[:, :, window_row], out, out=is_greater)  # row k beats rows < k  Eqn 3.2
        np.add(row_arg[:, :, window_row], index_type.type(k * pool_width), out=candidate)  # k*pw + l
        np.multiply(candidate, is_greater, out=candidate)  # k*pw + l where greater, else 0
        np.maximum(argmax, candidate, out=argmax)  # (N, C, H', W') first maximum so far  Eqn 3.2
        np.maximum(out, row_max[:, :, window_row], out=out)  # (N, C, H', W') running max  Eqn 3.1
    return out, argmax


def _route_nan_windows(x: np.ndarray, out: np.ndarray, argmax: np.ndarray, pool_height: int,
                       pool_width: int, stride: int) -> np.ndarray:
    """Point the argmax of every window whose max is nan at its first nan, as ``np.argmax`` does.

    x (N, C, H, W), out and argmax (N, C, H', W'); returns argmax as a plain (N, C, H', W') index array.
    """
    nan_windows = np.isnan(out)  # (N, C, H', W') windows whose max is nan
    argmax = argmax.astype(np.intp)  # (N, C, H', W') small uints -> plain index array
    if nan_windows.any():  # rare: route to the first nan, as np.argmax does
        windows = sliding_window_view(x, (pool_height, pool_width), axis=(2, 3))  # (N, C, ., ., ph, pw)
        windows = windows[:, :, ::stride, ::stride][nan_windows]  # (n_nan, ph, pw) copies of nan windows
        argmax[nan_windows] = np.isnan(windows.reshape(len(windows), -1)).argmax(axis=1)  # Eqn 3.2
    return argmax


def max_pool_forward_fast(x, pool_param):
    """Max pooling forward pass without loops over pixels; same inputs and results as the naive one.

    Inputs:
    - x: input data of shape (N, C, H, W); nan and inf are allowed (see the module notes)
    - pool_param: dict with 'pool_height', 'pool_width' and 'stride', all whole numbers >= 1

    Returns a tuple of:
    - out: output of shape (N, C, H', W'), H' = 1 + (H - pool_height) / stride, W' likewise
    - cache: ``MaxPoolFastCache`` (it also holds the argmax of every window)
    """
    x, pool_height, pool_width, stride, _, _ = _check_inputs(x, pool_param)  # x (N, C, H, W)
    if stride < pool_height or stride < pool_width:  # overlapping windows share rows: separable passes
        out, argmax = _separable_max(x, pool_height, pool_width, stride)  # (N, C, H', W') each  Eqns 3.1, 3.2
    else:  # disjoint windows: one contiguous slab per offset, then a reduction over the slabs
        stacked = _stack_window_offsets(x, pool_height, pool_width, stride)  # -> (ph*pw, N, C, H', W')
        out = stacked.max(axis=0)  # (ph*pw, N, C, H', W') -> (N, C, H', W')  Eqn 3.1
        argmax = _first_max_offset(stacked, out)  # (N, C, H', W') k*pw + l of the first max  Eqn 3.2
    argmax = _route_nan_windows(x, out, argmax, pool_height, pool_width, stride)  # nan windows  Eqn 3.2
    return out, MaxPoolFastCache(x, pool_height, pool_width, stride, argmax)


def max_pool_backward_fast(dout, cache):
    """Max pooling backward pass as one scatter-add (``np.bincount``); same results as the naive one.

    Inputs:
    - dout: upstream gradient of shape (N, C, H', W')
    - cache: ``MaxPoolFastCache`` from ``max_pool_forward_fast``

    Returns:
    - dx: gradient with respect to x, of shape (N, C, H, W)
    """
    dout = _check_backward(dout, cache, MaxPoolFastCache, "max_pool_forward_fast")  # (N, C, H', W')
    n_images, channels, height, width = cache.x.shape  # N, C, H, W
    out_height, out_width = dout.shape[2:]  # H', W'
    pool_width, stride = cache.pool_width, cache.stride  # pw, s
    window_offsets = np.arange(cache.pool_height)[:, None] * width + np.arange(pool_width)  # (ph, pw) k*W + l
    corners = (np.arange(out_height)[:, None] * width + np.arange(out_width)) * stride  # (H', W') i*s*W + j*s
    planes = np.arange(n_images * channels).reshape(n_images, channels, 1, 1) * (height * width)  # (N,C,1,1)
    targets = window_offsets.ravel().take(cache.argmax)  # (N, C, H', W') k*W + l of each first maximum
    targets += corners  # + i*s*W + j*s, in place: (N, C, H', W') + (H', W')
    targets += planes  # + the (n, c) plane's start: (N, C, H', W') flat index in x
    dx = np.bincount(targets.ravel(), weights=dout.ravel(), minlength=cache.x.size)  # sum per target  Eqn 3.3
    return dx.reshape(cache.x.shape)  # (N*C*H*W,) -> (N, C, H, W)
