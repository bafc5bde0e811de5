"""Part 2 - convolution: naive loops for reading, and an im2col + BLAS twin for speed.

Equation numbers (``Eqn 2.n``) refer to ``derivations/conv.py``:
2.0 zero padding, 2.1 output size, 2.2 forward, 2.3 db, 2.4 dw, 2.5 dx_pad, 2.6 crop;
2.7-2.10 the same in im2col matrix form (2.7 X_col, 2.8 dW_row, 2.9 dX_col, 2.10 col2im).

Both versions accept any stride, pad and (non-square) kernel and agree to rounding.
Non-finite values (nan, inf) in the inputs are allowed and propagate as NumPy defines.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from layers import validation as v


class ConvCache(NamedTuple):
    """What ``conv_forward_naive`` keeps for ``conv_backward_naive``."""

    x: np.ndarray  # (N, C, H, W) input
    w: np.ndarray  # (F, C, HH, WW) filters
    b: np.ndarray  # (F,) biases
    stride: int  # step between windows
    pad: int  # zeros added on each side of H and W
    x_pad: np.ndarray  # (N, C, H + 2*pad, W + 2*pad) padded input, Eqn 2.0


class ConvFastCache(NamedTuple):
    """What ``conv_forward_fast`` keeps for ``conv_backward_fast``."""

    x: np.ndarray  # (N, C, H, W) input
    w: np.ndarray  # (F, C, HH, WW) filters
    b: np.ndarray  # (F,) biases
    stride: int  # step between windows
    pad: int  # zeros added on each side of H and W
    x_cols: np.ndarray  # (N, C*HH*WW, H'*W') one receptive field per column, image by image, Eqn 2.7


def _check_inputs(x, w, b, conv_param):
    """Validate and convert the forward inputs; returns (x, w, b, stride, pad, out_height, out_width)."""
    x = v.as_float_array("x", x, 4, "(N, C, H, W)")  # (N, C, H, W)
    w = v.as_float_array("w", w, 4, "(F, C, HH, WW)")  # (F, C, HH, WW)
    b = v.as_float_array("b", b, 1, "(F,)")  # (F,)
    n_filters, w_channels, kernel_height, kernel_width = w.shape  # F, C, HH, WW
    if w_channels != x.shape[1]:
        raise ValueError(
            f"w has C={w_channels} channels but x has C={x.shape[1]}: w of shape {w.shape} "
            f"must be (F, C, HH, WW) = ({n_filters}, {x.shape[1]}, {kernel_height}, {kernel_width})"
        )
    v.require_shape("b", b, (n_filters,), "(F,)")  # (1,) would broadcast silently
    v.require_mapping("conv_param", conv_param)
    stride = v.positive_int("stride", v.require_key("conv_param", conv_param, "stride"), "conv_param")
    pad = v.nonnegative_int("pad", v.require_key("conv_param", conv_param, "pad"), "conv_param")
    out_height = v.sliding_output_size("H", x.shape[2], kernel_height, stride, pad, "HH")  # H'  Eqn 2.1
    out_width = v.sliding_output_size("W", x.shape[3], kernel_width, stride, pad, "WW")  # W'  Eqn 2.1
    return x, w, b, stride, pad, out_height, out_width


def _check_backward(dout, cache, cache_type, forward_name: str) -> np.ndarray:
    """Validate the cache type and that ``dout`` has the forward output's shape (N, F, H', W')."""
    v.require_cache(cache, cache_type, forward_name)  # a wrong cache type is a ValueError
    n_images, _, height, width = cache.x.shape  # N, C, H, W
    n_filters, _, kernel_height, kernel_width = cache.w.shape  # F, C, HH, WW
    out_height = 1 + (height + 2 * cache.pad - kernel_height) // cache.stride  # H'  Eqn 2.1
    out_width = 1 + (width + 2 * cache.pad - kernel_width) // cache.stride  # W'  Eqn 2.1
    expected = (n_images, n_filters, out_height, out_width)  # (N, F, H', W')
    return v.array_of_shape("dout", dout, expected, "(N, F, H', W')")


def _zero_pad(x: np.ndarray, pad: int) -> np.ndarray:
    """(N, C, H, W) -> (N, C, H + 2*pad, W + 2*pad) with a zero border (Eqn 2.0); ``x`` itself if pad=0."""
    if pad == 0:  # no border to add
        return x  # x is only ever read, so no copy
    n_images, channels, height, width = x.shape  # N, C, H, W
    x_pad = np.zeros((n_images, channels, height + 2 * pad, width + 2 * pad))  # (N, C, H+2p, W+2p)  Eqn 2.0
    x_pad[:, :, pad : pad + height, pad : pad + width] = x  # interior <- x, border stays 0  Eqn 2.0
    return x_pad


def conv_forward_naive(x, w, b, conv_param):
    """Convolution forward pass, one output element at a time: Eqn 2.2 literally (for reading, not speed).

    Inputs:
    - x: input data of shape (N, C, H, W); nan and inf are allowed and propagate
    - w: filter weights of shape (F, C, HH, WW)
    - b: biases of shape (F,)
    - conv_param: dict with
      - stride: whole number >= 1, step between neighbouring windows (required)
      - pad: whole number >= 0, zeros added on every side of H and W (required)

    Returns a tuple of:
    - out: output of shape (N, F, H', W') with H' = 1 + (H + 2*pad - HH) / stride and
      W' = 1 + (W + 2*pad - WW) / stride (both must be whole numbers)
    - cache: ``ConvCache``
    """
    x, w, b, stride, pad, out_height, out_width = _check_inputs(x, w, b, conv_param)  # H', W'  Eqn 2.1
    n_filters, _, kernel_height, kernel_width = w.shape  # F, C, HH, WW
    x_pad = _zero_pad(x, pad)  # (N, C, H, W) -> (N, C, H+2p, W+2p)  Eqn 2.0
    out = np.empty((x.shape[0], n_filters, out_height, out_width))  # (N, F, H', W')  Eqn 2.1
    for n in range(x.shape[0]):  # each image
        for f in range(n_filters):  # each filter
            for i in range(out_height):  # each output row
                for j in range(out_width):  # each output column
                    rows = slice(i * stride, i * stride + kernel_height)  # HH padded rows i*s .. i*s+HH-1
                    cols = slice(j * stride, j * stride + kernel_width)  # WW padded columns j*s .. j*s+WW-1
                    window = x_pad[n, :, rows, cols]  # (C, HH, WW) receptive field of out[n, f, i, j]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]  # sum over c, k, l -> scalar  Eqn 2.2
    return out, ConvCache(x, w, b, stride, pad, x_pad)


def conv_backward_naive(dout, cache):
    """Convolution backward pass, one output element at a time (for reading, not for speed).

    Each output position sends its upstream gradient back to the window it read:
    windows that overlap (stride < kernel) add their contributions (Eqn 2.5).

    Inputs:
    - dout: upstream gradient of shape (N, F, H', W')
    - cache: ``ConvCache`` from ``conv_forward_naive``

    Returns a tuple of:
    - dx: gradient with respect to x, of shape (N, C, H, W)
    - dw: gradient with respect to w, of shape (F, C, HH, WW)
    - db: gradient with respect to b, of shape (F,)
    """
    dout = _check_backward(dout, cache, ConvCache, "conv_forward_naive")  # (N, F, H', W')
    stride, pad, x_pad, w = cache.stride, cache.pad, cache.x_pad, cache.w  # x_pad (N, C, H+2p, W+2p)
    _, _, kernel_height, kernel_width = w.shape  # F, C, HH, WW
    height, width = cache.x.shape[2:]  # H, W
    db = dout.sum(axis=(0, 2, 3))  # (N, F, H', W') -> (F,)  Eqn 2.3
    dw = np.zeros(w.shape)  # (F, C, HH, WW) accumulator  Eqn 2.4
    dx_pad = np.zeros(x_pad.shape)  # (N, C, H+2p, W+2p) accumulator  Eqn 2.5
    for n in range(dout.shape[0]):  # each image
        for f in range(dout.shape[1]):  # each filter
            for i in range(dout.shape[2]):  # each output row
                for j in range(dout.shape[3]):  # each output column
                    rows = slice(i * stride, i * stride + kernel_height)  # HH padded rows read by out[n, f, i, j]
                    cols = slice(j * stride, j * stride + kernel_width)  # WW padded columns read by it
                    grad = dout[n, f, i, j]  # scalar upstream gradient of this output
                    dw[f] += grad * x_pad[n, :, rows, cols]  # (C, HH, WW), summed over n, i, j  Eqn 2.4
                    dx_pad[n, :, rows, cols] += grad * w[f]  # (C, HH, WW); overlaps add up  Eqn 2.5
    dx = dx_pad[:, :, pad : pad + height, pad : pad + width].copy()  # crop -> (N, C, H, W)  Eqn 2.6
    return dx, dw, db


def _im2col(x_pad: np.ndarray, kernel_height: int, kernel_width: int, stride: int) -> np.ndarray:
    """Copy every receptive field into one column: (N, C, H+2p, W+2p) -> (N, C*HH*WW, H'*W').

    Image n's block of X_col (Eqn 2.7's columns (n, i, j) for that n) has row (c, k, l) and column (i, j)
    holding ``x_pad[n, c, i*stride + k, j*stride + l]``. Keeping the images apart lets the forward product
    land directly in (N, F, H'*W'), the output's own layout, and lets dW take dout as it comes: neither
    needs an (F, N*H'*W') transposed copy.
    """
    n_images, channels = x_pad.shape[:2]  # N, C
    windows = sliding_window_view(x_pad, (kernel_height, kernel_width), axis=(2, 3))  # (N, C, ., ., HH, WW)
    windows = windows[:, :, ::stride, ::stride]  # every stride-th window -> (N, C, H', W', HH, WW) view
    windows = windows.transpose(0, 1, 4, 5, 2, 3)  # (N, C, HH, WW, H', W') view, still no copy
    return windows.reshape(n_images, channels * kernel_height * kernel_width, -1)  # one copy  Eqn 2.7


def _phase_window(size: int, pad: int, stride: int, phase: int):
    """Input positions of one stride phase and where they sit on that phase's grid.

    Padded position ``stride*u + phase`` holds input position ``stride*u + phase - pad``. Returns
    (input slice, grid slice) covering every input position of that phase, or None when there is none.
    """
    first_cell = max(0, -((phase - pad) // stride))  # first u with stride*u + phase >= pad
    first_input = stride * first_cell + phase - pad  # its input position
    if first_input >= size:  # the phase lies wholly in the padding
        return None  # no input position
    count = len(range(first_input, size, stride))  # input positions of this phase
    return slice(first_input, size, stride), slice(first_cell, first_cell + count)  # input, grid cells


def _col2im_on_phase_grids(dout, w, x_shape, stride: int, pad: int) -> np.ndarray:
    """dX_col = W_row^T @ dout_row (Eqn 2.9) and col2im (Eqn 2.10) as long contiguous adds.

    Write every padded position as (stride*u + r, stride*v + t): phase (r, t) is a grid of
    Hq x Wq cells, Hq = ceil((H + 2p) / stride), Wq likewise. Kernel tap (k, l) = (stride*a + r,
    stride*b + t) sends output (n, i, j) to cell (i + a, j + b) of phase (r, t). With dout laid on an
    (N, Hq, Wq) grid, zero beyond (H', W'), that shift is the same flat offset a*Wq + b for every output,
    so each tap's col2im is one add of a (C, N*Hq*Wq) block, not N*C*H' short rows (measured ~3x
    faster). The grid costs ~(Hq*Wq) / (H'*W') more columns in the products (~13% for 32x32, 3x3, pad 1).
    Each tap's product goes into one reused buffer.

    Inputs:
    - dout: upstream gradient of shape (N, F, H', W')
    - w: filters of shape (F, C, HH, WW)
    - x_shape: (N, C, H, W)
    - stride, pad: as in the forward pass

    Returns:
    - dx: gradient with respect to x, of shape (N, C, H, W), Eqn 2.6's crop included
    """
    n_images, channels, height, width = x_shape  # N, C, H, W
    n_filters, _, kernel_height, kernel_width = w.shape  # F, C, HH, WW
    out_height, out_width = dout.shape[2:]  # H', W'
    grid_height = -(-(height + 2 * pad) // stride)  # Hq = ceil((H + 2p) / stride)
    grid_width = -(-(width + 2 * pad) // stride)  # Wq = ceil((W + 2p) / stride)
    cells = n_images * grid_height * grid_width  # N*Hq*Wq grid cells per phase and channel
    reach = (kernel_height - 1) // stride * grid_width + (kernel_width - 1) // stride  # largest tap offset
    dout_grid = np.zeros((n_filters, n_images, grid_height, grid_width))  # (F, N, Hq, Wq)
    dout_grid[:, :, :out_height, :out_width] = dout.transpose(1, 0, 2, 3)  # (N, F, H', W') -> grid corner
    dout_grid = dout_grid.reshape(n_filters, cells)  # (F, N*Hq*Wq) view: dout_row with zero cells
    w_taps = np.ascontiguousarray(w.transpose(2, 3, 1, 0))  # (F, C, HH, WW) -> (HH, WW, C, F): W_row^T by tap
    dx_phases = np.zeros((stride, stride, channels, cells + reach))  # (s, s, C, N*Hq*Wq + reach)
    dx_tap = np.empty((channels, cells))  # (C, N*Hq*Wq) one tap's rows of dX_col, reused
    finite_w = np.isfinite(w).all()  # else 0 * inf on the zero cells would spread nan  (tiny check)
    for k in range(kernel_height):  # each kernel row offset
        for l in range(kernel_width):  # each kernel column offset: tap (k, l)
            np.matmul(w_taps[k, l], dout_grid, out=dx_tap)  # (C, F) @ (F, N*Hq*Wq), rows of  Eqn 2.9
            if not finite_w:  # zero cells are no outputs: clear what nan/inf filters put there
                tap_cells = dx_tap.reshape(channels, n_images, grid_height, grid_width)  # (C, N, Hq, Wq) view
                tap_cells[:, :, out_height:] = 0.0  # grid rows i >= H' hold no output
                tap_cells[:, :, :, out_width:] = 0.0  # grid columns j >= W' hold no output
            offset = k // stride * grid_width + l // stride  # cell shift a*Wq + b
            target = dx_phases[k % stride, l % stride, :, offset : offset + cells]  # (C, N*Hq*Wq) view
            target += dx_tap  # (C, N*Hq*Wq) one contiguous add; overlaps add up  Eqn 2.10
    dx = np.empty(x_shape)  # (N, C, H, W)
    for r in range(stride):  # each row phase
        rows = _phase_window(height, pad, stride, r)  # (input rows, grid rows) or None
        for t in range(stride):  # each column phase
            cols = _phase_window(width, pad, stride, t)  # (input columns, grid columns) or None
            if rows is None or cols is None:  # this phase holds padding only: nothing to crop
                continue
            grid = dx_phases[r, t, :, :cells].reshape(channels, n_images, grid_height, grid_width)  # view
            dx[:, :, rows[0], cols[0]] = grid[:, :, rows[1], cols[1]].transpose(1, 0, 2, 3)  # crop  Eqn 2.6
    return dx


def conv_forward_fast(x, w, b, conv_param):
    """Convolution forward pass as one matrix product (im2col), same inputs and results as the naive one.

    Inputs:
    - x: input data of shape (N, C, H, W); nan and inf are allowed and propagate
    - w: filter weights of shape (F, C, HH, WW)
    - b: biases of shape (F,)
    - conv_param: dict with 'stride' (whole number >= 1) and 'pad' (whole number >= 0), both required

    Returns a tuple of:
    - out: output of shape (N, F, H', W'), H' = 1 + (H + 2*pad - HH) / stride, W' likewise
    - cache: ``ConvFastCache``
    """
    x, w, b, stride, pad, out_height, out_width = _check_inputs(x, w, b, conv_param)  # H', W'  Eqn 2.1
    n_filters, _, kernel_height, kernel_width = w.shape  # F, C, HH, WW
    x_pad = _zero_pad(x, pad)  # (N, C, H, W) -> (N, C, H+2p, W+2p)  Eqn 2.0
    x_cols = _im2col(x_pad, kernel_height, kernel_width, stride)  # -> (N, C*HH*WW, H'*W')  Eqn 2.7
    w_rows = w.reshape(n_filters, -1)  # (F, C, HH, WW) -> (F, C*HH*WW) view
    out = np.matmul(w_rows, x_cols)  # (F, K) @ (N, K, H'*W') -> (N, F, H'*W'), a product per image  Eqn 2.7
    out += b[:, None]  # (N, F, H'*W') + (F, 1)  Eqn 2.7
    out = out.reshape(x.shape[0], n_filters, out_height, out_width)  # -> (N, F, H', W') view, no transpose
    return out, ConvFastCache(x, w, b, stride, pad, x_cols)


def conv_backward_fast(dout, cache):
    """Convolution backward pass as matrix products (Eqns 2.8, 2.9) and col2im (Eqn 2.10); same results.

    Inputs:
    - dout: upstream gradient of shape (N, F, H', W')
    - cache: ``ConvFastCache`` from ``conv_forward_fast``

    Returns a tuple of:
    - dx: gradient with respect to x, of shape (N, C, H, W)
    - dw: gradient with respect to w, of shape (F, C, HH, WW)
    - db: gradient with respect to b, of shape (F,)
    """
    dout = _check_backward(dout, cache, ConvFastCache, "conv_forward_fast")  # (N, F, H', W')
    w = cache.w  # (F, C, HH, WW)
    dout_images = dout.reshape(dout.shape[0], dout.shape[1], -1)  # (N, F, H', W') -> (N, F, H'*W') view
    db = dout.sum(axis=(0, 2, 3))  # (N, F, H', W') -> (F,)  Eqn 2.3
    dw_images = np.matmul(dout_images, cache.x_cols.transpose(0, 2, 1))  # (N, F, P) @ (N, P, K), P = H'*W'
    dw = dw_images.sum(axis=0).reshape(w.shape)  # (N, F, K) -> sum over images -> (F, C, HH, WW)  Eqn 2.8
    x_shape, stride, pad = cache.x.shape, cache.stride, cache.pad  # (N, C, H, W) and the forward's settings
    dx = _col2im_on_phase_grids(dout, w, x_shape, stride, pad)  # -> (N, C, H, W)  Eqns 2.9, 2.10
    return dx, dw, db
