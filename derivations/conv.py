"""Part 2 - convolution: derivation, computational graph, proof and catalog entry.

Equations 2.0-2.6 are the naive loops of ``layers/conv.py`` in index notation; 2.7-2.10
restate them in im2col matrix form (what ``conv_forward_fast`` / ``conv_backward_fast``
compute). Both backward routes define ``dw`` and ``dx``, so the proof checks both.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

import layers
from derivations.model import Derivation, Equation, Graph, IndexRange, Node, Section, Variable, Verification
from derivations.topic import Config, Field, PlotSpec, Topic
from derivations.verify import instance_label, verify_on_instances
from layers.validation import sliding_output_size

n, c, f, i, j, k, l, p, q = sp.symbols("n c f i j k l p q", integer=True)
N, C, H, W, F, HH, WW = sp.symbols("N C H W F HH WW", integer=True, positive=True)
STRIDE, PAD = sp.symbols("S P", integer=True)  # conv_param['stride'], conv_param['pad']
H_OUT, W_OUT = sp.symbols("H' W'", integer=True, positive=True)  # output height and width
H_PAD, W_PAD = sp.symbols("H_p W_p", integer=True, positive=True)  # padded height and width

VARIABLES = (
    Variable("x", "x", ("N", "C", "H", "W"), "input images"),
    Variable("w", "w", ("F", "C", "HH", "WW"), "filters"),
    Variable("b", "b", ("F",), "biases"),
    Variable("x_pad", r"x_{\mathrm{pad}}", ("N", "C", "H_p", "W_p"), "zero-padded input"),
    Variable("H_out", "H'", (), "output height"),
    Variable("out", "y", ("N", "F", "H'", "W'"), "output maps"),
    Variable("dout", r"\frac{\partial L}{\partial y}", ("N", "F", "H'", "W'"), "upstream gradient"),
    Variable("db", r"\frac{\partial L}{\partial b}", ("F",)),
    Variable("dw", r"\frac{\partial L}{\partial w}", ("F", "C", "HH", "WW")),
    Variable("dx_pad", r"\frac{\partial L}{\partial x_{\mathrm{pad}}}", ("N", "C", "H_p", "W_p")),
    Variable("dx", r"\frac{\partial L}{\partial x}", ("N", "C", "H", "W")),
    Variable("x_col", r"X_{\mathrm{col}}", ("C", "HH", "WW", "N", "H'", "W'"),
             "im2col: one receptive field per column of a (C*HH*WW, N*H'*W') matrix"),
    Variable("dx_col", r"\frac{\partial L}{\partial X_{\mathrm{col}}}", ("C", "HH", "WW", "N", "H'", "W'")),
)
B = {var.name: sp.IndexedBase(var.name) for var in VARIABLES}


def _ranges(*pairs) -> tuple[IndexRange, ...]:
    return tuple(IndexRange(symbol, axis) for symbol, axis in pairs)


IMAGE = _ranges((n, "N"), (c, "C"), (p, "H"), (q, "W"))
PADDED = _ranges((n, "N"), (c, "C"), (p, "H_p"), (q, "W_p"))
OUTPUT = _ranges((n, "N"), (f, "F"), (i, "H'"), (j, "W'"))
FILTER = _ranges((f, "F"), (c, "C"), (k, "HH"), (l, "WW"))
COLUMNS = _ranges((c, "C"), (k, "HH"), (l, "WW"), (n, "N"), (i, "H'"), (j, "W'"))
SUM_NIJ = ((n, 0, N - 1), (i, 0, H_OUT - 1), (j, 0, W_OUT - 1))


def _eq(number, name, indices, rhs, why, node=None):
    return Equation(number, B[name][tuple(r.symbol for r in indices)], rhs, indices, why, node)


def _covers(row, col):
    """(row, col) of the padded plane lies inside window (i, j): the kernel offset is in range."""
    return (row >= i * STRIDE) & (row < i * STRIDE + HH) & (col >= j * STRIDE) & (col < j * STRIDE + WW)


INSIDE = (p >= PAD) & (p < H + PAD) & (q >= PAD) & (q < W + PAD)
WINDOW = B["x_pad"][n, c, i * STRIDE + k, j * STRIDE + l]  # entry (k, l) of window (i, j)

FORWARD = (
    _eq("2.0", "x_pad", PADDED, sp.Piecewise((B["x"][n, c, p - PAD, q - PAD], INSIDE), (0, True)),
        "Zero padding: x sits in the middle of an (H + 2P, W + 2P) plane whose border of width P is 0, "
        "so windows at the edge read zeros.", "pad"),
    Equation("2.1", sp.Symbol("H_out"), 1 + (H + 2 * PAD - HH) / STRIDE, (),
             "Window (i, j) starts at row iS of the padded plane and the last one must end inside it: "
             "(H' - 1)S + HH = H + 2P. Likewise W' = 1 + (W + 2P - WW)/S; S must divide exactly."),
    _eq("2.2", "out", OUTPUT,
        sp.Sum(WINDOW * B["w"][f, c, k, l], (c, 0, C - 1), (k, 0, HH - 1), (l, 0, WW - 1)) + B["b"][f],
        "Output (i, j) of map f is the dot product of filter f with the (C, HH, WW) window whose "
        "top-left corner is (iS, jS) in the padded input, plus the filter's bias.", "out"),
)
BACKWARD = (
    _eq("2.3", "db", _ranges((f, "F")), sp.Sum(B["dout"][n, f, i, j], *SUM_NIJ),
        "b[f] is added to every position of map f in every image: its gradient sums dout over n, i, j.", "b"),
    _eq("2.4", "dw", FILTER, sp.Sum(B["dout"][n, f, i, j] * WINDOW, *SUM_NIJ),
        "d out[n,f,i,j] / d w[f,c,k,l] = x_pad[n,c,iS+k,jS+l]; the filter is shared by every position "
        "and image, so the chain rule sums over n, i, j.", "w"),
    _eq("2.5", "dx_pad", PADDED,
        sp.Sum(sp.Piecewise((B["dout"][n, f, i, j] * B["w"][f, c, p - i * STRIDE, q - j * STRIDE],
                             _covers(p, q)), (0, True)),
               (f, 0, F - 1), (i, 0, H_OUT - 1), (j, 0, W_OUT - 1)),
        "x_pad[n,c,p,q] is read by every window (i, j) that covers it, at kernel offset (p - iS, q - jS), "
        "for every filter: the chain rule adds dout * w over those windows and filters.", "pad"),
    _eq("2.6", "dx", IMAGE, B["dx_pad"][n, c, p + PAD, q + PAD],
        "The border is not part of x: crop it. The gradient that reached the padding zeros is dropped.", "x"),
)
IM2COL_FORWARD = (
    _eq("2.7", "x_col", COLUMNS, WINDOW,
        "im2col: row (c, k, l), column (n, i, j) of X_col holds what window (i, j) reads at offset (k, l). "
        "With W_row = w reshaped to (F, C*HH*WW), Eqn 2.2 is one matrix product: Y_row = W_row X_col + b.",
        "windows"),
)
IM2COL_BACKWARD = (
    _eq("2.8", "dw", FILTER, sp.Sum(B["dout"][n, f, i, j] * B["x_col"][c, k, l, n, i, j], *SUM_NIJ),
        "Eqn 2.4 as a matrix product, dW_row = dY_row X_col^T, with dY_row = dout arranged as "
        "(F, N*H'*W'): the sum over n, i, j runs over the columns.", "w"),
    _eq("2.9", "dx_col", COLUMNS, sp.Sum(B["w"][f, c, k, l] * B["dout"][n, f, i, j], (f, 0, F - 1)),
        "dX_col = W_row^T dY_row: every copied entry of X_col gets its own gradient, "
        "summed over the F filters that read it.", "windows"),
    _eq("2.10", "dx", IMAGE,
        sp.Sum(sp.Piecewise((B["dx_col"][c, p + PAD - i * STRIDE, q + PAD - j * STRIDE, n, i, j],
                             _covers(p + PAD, q + PAD)), (0, True)),
               (i, 0, H_OUT - 1), (j, 0, W_OUT - 1)),
        "col2im: each column is added back where im2col copied it from, so overlapping windows add up "
        "(Eqn 2.5); copies of the padding are dropped (Eqn 2.6).", "x"),
)


def output_size(config: Config) -> tuple[int, int]:
    """(H', W') for the configuration; the layers' ValueError when the stride does not divide."""
    stride, pad = int(config["stride"]), int(config["pad"])
    height = sliding_output_size("H", int(config["H"]), int(config["HH"]), stride, pad, "HH")
    width = sliding_output_size("W", int(config["W"]), int(config["WW"]), stride, pad, "WW")
    return height, width


def derivation(config: Config) -> Derivation:
    """Eqns 2.0-2.10 bound to the configuration's sizes; ValueError as the layer for inconsistent ones."""
    out_height, out_width = output_size(config)
    sizes = {name: int(config[name]) for name in ("N", "C", "H", "W", "F", "HH", "WW")}
    pad = int(config["pad"])
    sizes.update({"H'": out_height, "W'": out_width, "H_p": sizes["H"] + 2 * pad,
                  "W_p": sizes["W"] + 2 * pad})
    symbols = {N: sizes["N"], C: sizes["C"], H: sizes["H"], W: sizes["W"], F: sizes["F"], HH: sizes["HH"],
               WW: sizes["WW"], STRIDE: int(config["stride"]), PAD: pad, H_OUT: out_height, W_OUT: out_width,
               H_PAD: sizes["H_p"], W_PAD: sizes["W_p"]}
    return Derivation(
        key="conv",
        part=2,
        title="Part 2 - Convolution",
        sections=(
            Section("Part 2 - Conv forward", "forward", FORWARD,
                    "S is the stride and P the padding; every filter slides over the zero-padded input."),
            Section("Part 2 - Conv backward", "backward", BACKWARD,
                    "With L = sum(dout * y), each gradient sums dout times the derivative of every "
                    "output entry that the variable touches."),
            Section("Part 2 - Conv forward, im2col matrix form", "forward", IM2COL_FORWARD,
                    "The vectorized layer copies the windows into one matrix so that the sums become "
                    "matrix products (one BLAS call each)."),
            Section("Part 2 - Conv backward, im2col matrix form", "backward", IM2COL_BACKWARD),
        ),
        variables=VARIABLES,
        sizes=sizes,
        symbols=symbols,
        inputs=("x", "w", "b"),
        outputs=("out",),
        summary="Slide F filters over the zero-padded input with stride S; gradients sum over positions.",
    )


def graph(config: Config) -> Graph:
    """x -> pad -> windows -> (with w and b) out; im2col's windows stand for what every output reads."""
    output_size(config)  # the same ValueError as the layer for a stride that does not divide
    nodes = (
        Node("x", "x", "input", "input", None, "2.6"),
        Node("pad", "x_pad", "zero-pad P on each side", "op", "2.0", "2.5"),
        Node("windows", "x_col", "HH x WW windows every S (im2col)", "op", "2.7", "2.9"),
        Node("w", "w", "filters", "param", None, "2.4"),
        Node("b", "b", "biases", "param", None, "2.3"),
        Node("out", "out", "sum over c,k,l of w * window, + b", "output", "2.2", None),
    )
    edges = (("x", "pad"), ("pad", "windows"), ("windows", "out"), ("w", "out"), ("b", "out"))
    return Graph("Convolution", nodes, edges)


def make_inputs(config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Standard normal x (N, C, H, W), w (F, C, HH, WW) and b (F,)."""
    images, channels, filters = int(config["N"]), int(config["C"]), int(config["F"])
    x = rng.standard_normal((images, channels, int(config["H"]), int(config["W"])))
    w = rng.standard_normal((filters, channels, int(config["HH"]), int(config["WW"])))
    return {"x": x, "w": w, "b": rng.standard_normal(filters)}


def forward(config: Config, arrays):
    """x (N, C, H, W), w (F, C, HH, WW), b (F,) -> ({"out": (N, F, H', W')}, the layer's cache)."""
    step = layers.conv_forward_fast if config.impl == "fast" else layers.conv_forward_naive
    conv_param = {"stride": int(config["stride"]), "pad": int(config["pad"])}
    out, cache = step(arrays["x"], arrays["w"], arrays["b"], conv_param)
    return {"out": out}, cache


def backward(config: Config, upstream, cache):
    """{"dout": (N, F, H', W')} -> dx (N, C, H, W), dw (F, C, HH, WW), db (F,), by the chosen impl."""
    step = layers.conv_backward_fast if config.impl == "fast" else layers.conv_backward_naive
    dx, dw, db = step(upstream["dout"], cache)
    return {"dx": dx, "dw": dw, "db": db}


# a 3x3 input with a 2x2 kernel; then overlapping windows (stride 2 < kernel 3) with padding 1
PROOF_SIZES = (
    {"N": 1, "C": 1, "H": 3, "W": 3, "F": 1, "HH": 2, "WW": 2, "stride": 1, "pad": 0},
    {"N": 1, "C": 2, "H": 3, "W": 3, "F": 2, "HH": 3, "WW": 3, "stride": 2, "pad": 1},
)


@functools.lru_cache(maxsize=64)
def verify(config: Config) -> Verification:
    """Proof on the PROOF_SIZES instances; Eqns 2.0-2.10 in floats at this configuration vs ``layers``."""
    from derivations.run import run_topic

    result = run_topic(TOPIC, config, check=False)
    proofs = [(instance_label(sizes), derivation(config.replace(**sizes))) for sizes in PROOF_SIZES]
    reference = {"out": result.outputs["out"], **result.gradients}
    arrays = {**result.arrays, **result.upstream}
    return verify_on_instances("conv", proofs, derivation(config), arrays, reference)


def activations(config: Config, result) -> tuple[PlotSpec, ...]:
    """Heatmaps of image 0: input channels, the filters' channel 0, output maps, dx and dw."""
    x, w, out = result.arrays["x"], result.arrays["w"], result.outputs["out"]
    dx, dw = result.gradients["dx"], result.gradients["dw"]
    channels, filters = range(x.shape[1]), range(w.shape[0])
    return (
        PlotSpec("heatmaps", "Input channels of image 0", {f"x[0, {ch}]": x[0, ch] for ch in channels},
                 caption="Each channel of the first image, (H, W)."),
        PlotSpec("heatmaps", "Filters, channel 0", {f"w[{fi}, 0]": w[fi, 0] for fi in filters},
                 caption="The (HH, WW) kernel each filter applies to channel 0."),
        PlotSpec("heatmaps", "Output maps of image 0", {f"y[0, {fi}]": out[0, fi] for fi in filters},
                 caption="One (H', W') map per filter (Eqn 2.2)."),
        PlotSpec("heatmaps", "Input gradient of image 0", {f"dx[0, {ch}]": dx[0, ch] for ch in channels},
                 caption="Where overlapping windows cover a pixel, their contributions add (Eqn 2.5)."),
        PlotSpec("heatmaps", "Filter gradients, channel 0", {f"dw[{fi}, 0]": dw[fi, 0] for fi in filters},
                 caption="Summed over every image and window position (Eqn 2.4)."),
    )


SPEC_CHECK = '''\
import numpy as np
from layers import (conv_backward_fast, conv_backward_naive, conv_forward_fast, conv_forward_naive,
                    eval_numerical_gradient_array, rel_error)

# Convolution: naive forward pass, against the spec's expected output (difference around 1e-8)
x_shape = (2, 3, 4, 4)
w_shape = (3, 3, 4, 4)
x = np.linspace(-0.1, 0.5, num=np.prod(x_shape)).reshape(x_shape)
w = np.linspace(-0.2, 0.3, num=np.prod(w_shape)).reshape(w_shape)
b = np.linspace(-0.1, 0.2, num=3)
conv_param = {'stride': 2, 'pad': 1}
out, _ = conv_forward_naive(x, w, b, conv_param)
correct_out = np.array([[[[-0.08759809, -0.10987781],
                          [-0.18387192, -0.2109216]],
                         [[0.21027089, 0.21661097],
                          [0.22847626, 0.23004637]],
                         [[0.50813986, 0.54309974],
                          [0.64082444, 0.67101435]]],
                        [[[-0.98053589, -1.03143541],
                          [-1.19128892, -1.24695841]],
                         [[0.69108355, 0.66880383],
                          [0.59480972, 0.56776003]],
                         [[2.36270298, 2.36904306],
                          [2.38090835, 2.38247847]]]])
print('conv_forward_naive difference:', rel_error(out, correct_out))

# Convolution: naive backward pass, against numerical gradients (errors around 1e-9)
rng = np.random.default_rng(0)
x = rng.standard_normal((4, 3, 5, 5))
w = rng.standard_normal((2, 3, 3, 3))
b = rng.standard_normal(2)
dout = rng.standard_normal((4, 2, 5, 5))
conv_param = {'stride': 1, 'pad': 1}
dx_num = eval_numerical_gradient_array(lambda xv: conv_forward_naive(xv, w, b, conv_param)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda wv: conv_forward_naive(x, wv, b, conv_param)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda bv: conv_forward_naive(x, w, bv, conv_param)[0], b, dout)
out, cache = conv_forward_naive(x, w, b, conv_param)
dx, dw, db = conv_backward_naive(dout, cache)
print('conv_backward_naive dx error:', rel_error(dx, dx_num))
print('conv_backward_naive dw error:', rel_error(dw, dw_num))
print('conv_backward_naive db error:', rel_error(db, db_num))

# The vectorized (im2col) twins give the same numbers
out_fast, cache_fast = conv_forward_fast(x, w, b, conv_param)
dx_fast, dw_fast, db_fast = conv_backward_fast(dout, cache_fast)
print('conv_forward_fast difference from naive:', rel_error(out_fast, out))
print('conv_backward_fast dx, dw, db differences from naive:',
      rel_error(dx_fast, dx), rel_error(dw_fast, dw), rel_error(db_fast, db))
'''

# The equations are evaluated one entry at a time in Python (verify's numeric check costs about
# N*F*H'*W'*C*HH*WW steps per sum): these caps keep the worst case near 1 s of CPU.
MAX_SIZES = {"N": 4, "C": 4, "H": 8, "W": 8, "F": 6, "HH": 5, "WW": 5, "stride": 3, "pad": 2}

TOPIC = Topic(
    key="conv",
    part=2,
    title="Convolution",
    summary="Convolution forward and backward with stride and zero padding, naive and im2col.",
    fields=(
        Field("N", "images N", "int", 2, 1, MAX_SIZES["N"]),
        Field("C", "channels C", "int", 3, 1, MAX_SIZES["C"]),
        Field("H", "height H", "int", 4, 1, MAX_SIZES["H"]),
        Field("W", "width W", "int", 4, 1, MAX_SIZES["W"]),
        Field("F", "filters F", "int", 3, 1, MAX_SIZES["F"]),
        Field("HH", "kernel height HH", "int", 4, 1, MAX_SIZES["HH"]),
        Field("WW", "kernel width WW", "int", 4, 1, MAX_SIZES["WW"]),
        Field("stride", "stride", "int", 2, 1, MAX_SIZES["stride"], group="hyper-parameter"),
        Field("pad", "pad", "int", 1, 0, MAX_SIZES["pad"], group="hyper-parameter"),
    ),
    inputs=("x", "w", "b"),
    outputs=("out",),
    make_inputs=make_inputs,
    forward=forward,
    backward=backward,
    derivation=derivation,
    graph=graph,
    verify=verify,
    activations=activations,
    impls=("naive", "fast"),
    reference_impl="fast",
    spec_check=SPEC_CHECK,
)
