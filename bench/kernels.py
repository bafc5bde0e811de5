"""Layer workloads of issue 5: vectorized NumPy against naive loops and PyTorch (when importable)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import layers
from bench.timing import median_seconds

try:  # PyTorch is optional: only the comparison column needs it
    import torch
    import torch.nn.functional as torch_functional
except ImportError:  # pragma: no cover - depends on the machine
    torch = None


@dataclass(frozen=True)
class Row:
    workload: str
    shape: str
    goal: str
    naive: float | None  # seconds, None when not run
    fast: float
    torch: float | None
    gflops: float | None = None  # conv rows: achieved GFLOP/s of the fast path
    matmul_fraction: float | None = None  # gflops / numpy.matmul GFLOP/s measured in the same run

    @property
    def ratio(self) -> float | None:
        """fast / torch (<= 1 means at least as fast as PyTorch)."""
        return None if self.torch is None else self.fast / self.torch


def matmul_gflops(size: int = 1024) -> float:
    """numpy.matmul float64 rate on large square matrices: the ceiling for a lowered conv."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((size, size)), rng.standard_normal((size, size))
    seconds = median_seconds(lambda: a @ b, repeats=5)
    return 2 * size**3 / seconds / 1e9


def _conv_inputs(n, c, h, w, f, k_h, k_w, rng):
    x = rng.standard_normal((n, c, h, w))
    weights = rng.standard_normal((f, c, k_h, k_w))
    bias = rng.standard_normal(f)
    return x, weights, bias


def _conv_flops(out_shape, c, k_h, k_w) -> float:
    """Forward + backward: the forward product and the two backward products (dx, dw), 2 flops per MAC."""
    n, f, h_out, w_out = out_shape
    macs = n * f * h_out * w_out * c * k_h * k_w
    return 3 * 2 * macs


def conv_row(name, goal, n, c, h, w, f, k, stride, pad, matmul_rate, with_naive=False) -> Row:
    rng = np.random.default_rng(1)
    x, weights, bias = _conv_inputs(n, c, h, w, f, k, k, rng)
    param = {"stride": stride, "pad": pad}
    out, _ = layers.conv_forward_fast(x, weights, bias, param)
    dout = rng.standard_normal(out.shape)

    def fast():
        _, cache = layers.conv_forward_fast(x, weights, bias, param)
        layers.conv_backward_fast(dout, cache)

    def naive():
        _, cache = layers.conv_forward_naive(x, weights, bias, param)
        layers.conv_backward_naive(dout, cache)

    fast_time = median_seconds(fast)
    naive_time = median_seconds(naive, repeats=3, warmup=1) if with_naive else None
    torch_time = None
    if torch is not None:
        tx = torch.tensor(x, requires_grad=True)
        tw = torch.tensor(weights, requires_grad=True)
        tb = torch.tensor(bias, requires_grad=True)
        tdout = torch.tensor(dout)

        def reference():
            tx.grad = tw.grad = tb.grad = None
            torch_functional.conv2d(tx, tw, tb, stride=stride, padding=pad).backward(tdout)

        torch_time = median_seconds(reference)
    gflops = _conv_flops(out.shape, c, k, k) / fast_time / 1e9
    shape = f"N={n}, C={c}, {h}x{w}, F={f}, {k}x{k}, stride {stride}, pad {pad}"
    return Row(name, shape, goal, naive_time, fast_time, torch_time, gflops, gflops / matmul_rate)


def pool_row(n, c, h, w, size, stride) -> Row:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((n, c, h, w))
    param = {"pool_height": size, "pool_width": size, "stride": stride}
    out, _ = layers.max_pool_forward_fast(x, param)
    dout = rng.standard_normal(out.shape)

    def fast():
        _, cache = layers.max_pool_forward_fast(x, param)
        layers.max_pool_backward_fast(dout, cache)

    torch_time = None
    if torch is not None:
        tx = torch.tensor(x, requires_grad=True)
        tdout = torch.tensor(dout)

        def reference():
            tx.grad = None
            torch_functional.max_pool2d(tx, size, stride).backward(tdout)

        torch_time = median_seconds(reference)
    shape = f"N={n}, C={c}, {h}x{w}, {size}x{size} stride {stride}"
    return Row("max pool fwd+bwd, fast", shape, "<= PyTorch", None, median_seconds(fast), torch_time)


def batchnorm_row(n=256, d=512) -> Row:
    rng = np.random.default_rng(3)
    x, gamma, beta = rng.standard_normal((n, d)), rng.standard_normal(d), rng.standard_normal(d)
    dout = rng.standard_normal((n, d))

    def ours():
        _, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
        layers.batchnorm_backward_alt(dout, cache)

    torch_time = None
    if torch is not None:
        tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
        tdout = torch.tensor(dout)
        running_mean, running_var = torch.zeros(d, dtype=torch.float64), torch.ones(d, dtype=torch.float64)

        def reference():
            tx.grad = tg.grad = tb.grad = None
            torch_functional.batch_norm(tx, running_mean, running_var, tg, tb, training=True).backward(tdout)

        torch_time = median_seconds(reference)
    return Row("batchnorm fwd+bwd (closed form)", f"N={n}, D={d}", "<= 1.5x PyTorch", None,
               median_seconds(ours), torch_time)


def recurrent_row(kind: str, n=32, t=50, d=64, h=128) -> Row:
    rng = np.random.default_rng(4)
    gates = 4 if kind == "LSTM" else 1
    x, h0 = rng.standard_normal((n, t, d)), rng.standard_normal((n, h))
    wx = rng.standard_normal((d, gates * h)) * 0.1
    wh = rng.standard_normal((h, gates * h)) * 0.1
    b = rng.standard_normal(gates * h) * 0.1
    dout = rng.standard_normal((n, t, h))
    forward = layers.lstm_forward if kind == "LSTM" else layers.rnn_forward
    backward = layers.lstm_backward if kind == "LSTM" else layers.rnn_backward

    def ours():
        _, cache = forward(x, h0, wx, wh, b)
        backward(dout, cache)

    torch_time = None
    if torch is not None:
        tensors = [torch.tensor(a, requires_grad=True) for a in (x, h0, wx, wh, b)]
        tdout = torch.tensor(dout)

        def reference():
            tx, th, twx, twh, tb = tensors
            for tensor in tensors:
                tensor.grad = None
            cell = torch.zeros_like(th)
            hidden, states = th, []
            for step in range(t):
                a = tx[:, step] @ twx + hidden @ twh + tb
                if kind == "LSTM":
                    i, f, o, g = a.chunk(4, dim=1)
                    cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
                    hidden = torch.sigmoid(o) * torch.tanh(cell)
                else:
                    hidden = torch.tanh(a)
                states.append(hidden)
            torch.stack(states, dim=1).backward(tdout)

        torch_time = median_seconds(reference)
    return Row(f"{kind} sequence fwd+bwd", f"N={n}, T={t}, D={d}, H={h}", "<= PyTorch explicit loop", None,
               median_seconds(ours), torch_time)


def torch_version() -> str:
    if torch is None:
        return "not installed"
    return f"{torch.__version__} ({torch.get_num_threads()} threads)"
