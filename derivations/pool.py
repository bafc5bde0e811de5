"""Part 3 - max pooling: derivation, computational graph, proof and catalog entry.

The gradient of a max goes to the entry that won, so the backward pass needs a switch: the
first maximum of each window in row-major order (Eqn 3.2), as ``np.argmax`` picks it. The
switch compares values, so sympy cannot evaluate it on symbols; the proof compares it with
sympy's derivative of ``Max`` at exact rational points instead (``derivations.verify``).
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

import layers
from derivations.functions import iverson_eq, window_max
from derivations.model import Derivation, Equation, Graph, IndexRange, Node, Section, Variable, Verification
from derivations.topic import Config, Field, PlotSpec, Topic
from derivations.verify import instance_label, verify_on_instances
from layers.validation import sliding_output_size

n, c, i, j, k, l, p, q = sp.symbols("n c i j k l p q", integer=True)
k_before, l_before = sp.symbols("u v", integer=True)  # a window position (u, v) before (k, l)
N, C, H, W, HH, WW = sp.symbols("N C H W HH WW", integer=True, positive=True)  # HH, WW: the pool size
STRIDE = sp.Symbol("S", integer=True, positive=True)  # pool_param['stride']
H_OUT, W_OUT = sp.symbols("H' W'", integer=True, positive=True)

VARIABLES = (
    Variable("x", "x", ("N", "C", "H", "W"), "input"),
    Variable("H_out", "H'", (), "output height"),
    Variable("out", "y", ("N", "C", "H'", "W'"), "output"),
    Variable("dout", r"\frac{\partial L}{\partial y}", ("N", "C", "H'", "W'"), "upstream gradient"),
    Variable("mask", "M", ("N", "C", "H'", "W'", "HH", "WW"),
             "switch: 1 at the first maximum of each window (row-major), else 0"),
    Variable("dx", r"\frac{\partial L}{\partial x}", ("N", "C", "H", "W")),
)
B = {var.name: sp.IndexedBase(var.name) for var in VARIABLES}


def _in_window(row, col):
    """Entry (row, col) of window (i, j) of the input, at offset (row, col) from its corner."""
    return B["x"][n, c, i * STRIDE + row, j * STRIDE + col]


def _is_max(row, col):
    return iverson_eq(_in_window(row, col), B["out"][n, c, i, j])


# how many entries before (k, l) in row-major order equal the maximum: the rows above, then the row's left
EARLIER_MAXIMA = (sp.Sum(_is_max(k_before, l_before), (k_before, 0, k - 1), (l_before, 0, WW - 1))
                  + sp.Sum(_is_max(k, l_before), (l_before, 0, l - 1)))
ROUTED = B["mask"][n, c, i, j, p - i * STRIDE, q - j * STRIDE] * B["dout"][n, c, i, j]  # switch at x[n,c,p,q]
COVERS = (p >= i * STRIDE) & (p < i * STRIDE + HH) & (q >= j * STRIDE) & (q < j * STRIDE + WW)

OUTPUT = tuple(IndexRange(s, axis) for s, axis in ((n, "N"), (c, "C"), (i, "H'"), (j, "W'")))
SWITCH = (*OUTPUT, IndexRange(k, "HH"), IndexRange(l, "WW"))
IMAGE = tuple(IndexRange(s, axis) for s, axis in ((n, "N"), (c, "C"), (p, "H"), (q, "W")))

FORWARD = (
    Equation("3.0", sp.Symbol("H_out"), 1 + (H - HH) / STRIDE, (),
             "Windows start every S rows and the last one must end inside the input (no padding): "
             "(H' - 1)S + HH = H. Likewise W' = 1 + (W - WW)/S; S must divide exactly."),
    Equation("3.1", B["out"][n, c, i, j], window_max(_in_window(k, l), (k, 0, HH - 1), (l, 0, WW - 1)),
             OUTPUT,
             "Each output is the largest entry of its HH x WW window (HH = pool_height, WW = pool_width) "
             "whose corner is (iS, jS), in every image and channel separately.", "out"),
)
BACKWARD = (
    Equation("3.2", B["mask"][n, c, i, j, k, l], _is_max(k, l) * iverson_eq(EARLIER_MAXIMA, 0), SWITCH,
             "The switch: 1 where the window's entry equals its maximum and no entry before it in row-major "
             "order does (the first maximum, as np.argmax picks on ties), 0 elsewhere.", "argmax"),
    Equation("3.3", B["dx"][n, c, p, q],
             sp.Sum(sp.Piecewise((ROUTED, COVERS), (0, True)), (i, 0, H_OUT - 1), (j, 0, W_OUT - 1)),
             IMAGE,
             "d y[n,c,i,j] / d x[n,c,p,q] is the switch at offset (p - iS, q - jS): a max passes its whole "
             "gradient to the entry that won. An entry inside several windows (stride < window) adds "
             "what each window sends.", "x"),
)


def output_size(config: Config) -> tuple[int, int]:
    """(H', W') for the configuration; the layers' ValueError when the stride does not divide."""
    stride = int(config["stride"])
    height = sliding_output_size("H", int(config["H"]), int(config["pool_height"]), stride, 0, "pool_height")
    width = sliding_output_size("W", int(config["W"]), int(config["pool_width"]), stride, 0, "pool_width")
    return height, width


def derivation(config: Config) -> Derivation:
    """Eqns 3.0-3.3 bound to the configuration's sizes; ValueError as the layer for inconsistent ones."""
    out_height, out_width = output_size(config)
    sizes = {name: int(config[name]) for name in ("N", "C", "H", "W")}
    sizes.update({"HH": int(config["pool_height"]), "WW": int(config["pool_width"]), "H'": out_height,
                  "W'": out_width})
    symbols = {N: sizes["N"], C: sizes["C"], H: sizes["H"], W: sizes["W"], HH: sizes["HH"], WW: sizes["WW"],
               STRIDE: int(config["stride"]), H_OUT: out_height, W_OUT: out_width}
    return Derivation(
        key="maxpool",
        part=3,
        title="Part 3 - Max pooling",
        sections=(
            Section("Part 3 - Max pool forward", "forward", FORWARD,
                    "S is the stride; HH x WW windows (pool_height x pool_width) slide over each channel."),
            Section("Part 3 - Max pool backward", "backward", BACKWARD,
                    "With L = sum(dout * y), the derivative of each max is 1 at its winning entry and 0 "
                    "elsewhere, so the backward pass routes every dout entry to one input."),
        ),
        variables=VARIABLES,
        sizes=sizes,
        symbols=symbols,
        inputs=("x",),
        outputs=("out",),
        summary="Take the maximum of each window; route each gradient to the window's first maximum.",
    )


def graph(config: Config) -> Graph:
    """x -> argmax (the switch) -> out, and x -> out: the max is the entry the switch picks."""
    output_size(config)  # the same ValueError as the layer for a stride that does not divide
    nodes = (
        Node("x", "x", "input", "input", None, "3.3"),
        Node("argmax", "mask", "first argmax of each window (the switch)", "op", "3.2", None),
        Node("out", "out", "max of each HH x WW window, stride S", "output", "3.1", None),
    )
    return Graph("Max pooling", nodes, (("x", "argmax"), ("x", "out"), ("argmax", "out")))


def _pool_param(config: Config) -> dict:
    return {key: int(config[key]) for key in ("pool_height", "pool_width", "stride")}


def make_inputs(config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Standard normal x (N, C, H, W): ties have probability 0."""
    return {"x": rng.standard_normal(tuple(int(config[name]) for name in ("N", "C", "H", "W")))}


def forward(config: Config, arrays):
    """x (N, C, H, W) -> ({"out": (N, C, H', W')}, the layer's cache)."""
    step = layers.max_pool_forward_fast if config.impl == "fast" else layers.max_pool_forward_naive
    out, cache = step(arrays["x"], _pool_param(config))
    return {"out": out}, cache


def backward(config: Config, upstream, cache):
    """{"dout": (N, C, H', W')} -> {"dx": (N, C, H, W)}, by the chosen implementation."""
    step = layers.max_pool_backward_fast if config.impl == "fast" else layers.max_pool_backward_naive
    return {"dx": step(upstream["dout"], cache)}


# the spec's tiling 2x2 windows on a 4x4 input; then overlapping 2x3 windows (stride 1)
PROOF_SIZES = (
    {"N": 1, "C": 1, "H": 4, "W": 4, "pool_height": 2, "pool_width": 2, "stride": 2},
    {"N": 1, "C": 1, "H": 3, "W": 4, "pool_height": 2, "pool_width": 3, "stride": 1},
)


@functools.lru_cache(maxsize=64)
def verify(config: Config) -> Verification:
    """Proof on the PROOF_SIZES instances; Eqns 3.0-3.3 in floats at this configuration vs ``layers``."""
    from derivations.run import run_topic

    result = run_topic(TOPIC, config, check=False)
    proofs = [(instance_label(sizes), derivation(config.replace(**sizes))) for sizes in PROOF_SIZES]
    reference = {"out": result.outputs["out"], "dx": result.gradients["dx"]}
    arrays = {**result.arrays, **result.upstream}
    return verify_on_instances("maxpool", proofs, derivation(config), arrays, reference)


def first_maxima(plane: np.ndarray, pool_height: int, pool_width: int, stride: int) -> np.ndarray:
    """(H, W) -> (H'*W', 2) rows of (row, col): each window's first maximum in row-major order."""
    cells = []
    for top in range(0, plane.shape[0] - pool_height + 1, stride):
        for left in range(0, plane.shape[1] - pool_width + 1, stride):
            window = plane[top:top + pool_height, left:left + pool_width]
            offset = int(np.argmax(window))  # the first maximum in row-major order, as the layer routes
            cells.append((top + offset // pool_width, left + offset % pool_width))
    return np.array(cells, dtype=int).reshape(-1, 2)


def activations(config: Config, result) -> tuple[PlotSpec, ...]:
    """Image 0, every channel: the input with each window's maximum marked, and where dx lands."""
    x, dx = result.arrays["x"], result.gradients["dx"]
    sizes = _pool_param(config)
    marks = [first_maxima(x[0, ch], sizes["pool_height"], sizes["pool_width"], sizes["stride"])
             for ch in range(x.shape[1])]
    return (
        PlotSpec("marked_heatmaps", "Input of image 0, each window's maximum marked",
                 {f"x[0, {ch}]": x[0, ch] for ch in range(x.shape[1])},
                 markers={f"x[0, {ch}]": marks[ch] for ch in range(x.shape[1])},
                 caption="Crosses: the first maximum of every window (Eqn 3.2)."),
        PlotSpec("marked_heatmaps", "Input gradient of image 0: routed to the maxima",
                 {f"dx[0, {ch}]": dx[0, ch] for ch in range(x.shape[1])},
                 markers={f"dx[0, {ch}]": marks[ch] for ch in range(x.shape[1])},
                 caption="Only the marked entries receive gradient; overlapping windows add (Eqn 3.3)."),
    )


SPEC_CHECK = '''\
import numpy as np
from layers import (eval_numerical_gradient_array, max_pool_backward_fast, max_pool_backward_naive,
                    max_pool_forward_fast, max_pool_forward_naive, rel_error)

# Max pooling: naive forward, against the spec's expected output (difference around 1e-8)
x_shape = (2, 3, 4, 4)
x = np.linspace(-0.3, 0.4, num=np.prod(x_shape)).reshape(x_shape)
pool_param = {'pool_width': 2, 'pool_height': 2, 'stride': 2}
out, _ = max_pool_forward_naive(x, pool_param)
correct_out = np.array([[[[-0.26315789, -0.24842105],
                          [-0.20421053, -0.18947368]],
                         [[-0.14526316, -0.13052632],
                          [-0.08631579, -0.07157895]],
                         [[-0.02736842, -0.01263158],
                          [0.03157895, 0.04631579]]],
                        [[[0.09052632, 0.10526316],
                          [0.14947368, 0.16421053]],
                         [[0.20842105, 0.22315789],
                          [0.26736842, 0.28210526]],
                         [[0.32631579, 0.34105263],
                          [0.38526316, 0.4]]]])
print('max_pool_forward_naive difference:', rel_error(out, correct_out))

# Max pooling: naive backward, against numerical gradients (error around 1e-12)
rng = np.random.default_rng(0)
x = rng.standard_normal((3, 2, 8, 8))
dout = rng.standard_normal((3, 2, 4, 4))
pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}
dx_num = eval_numerical_gradient_array(lambda xv: max_pool_forward_naive(xv, pool_param)[0], x, dout)
out, cache = max_pool_forward_naive(x, pool_param)
dx = max_pool_backward_naive(dout, cache)
print('max_pool_backward_naive dx error:', rel_error(dx, dx_num))

# The vectorized twins give the same numbers
out_fast, cache_fast = max_pool_forward_fast(x, pool_param)
dx_fast = max_pool_backward_fast(dout, cache_fast)
print('max_pool_forward_fast difference from naive:', rel_error(out_fast, out))
print('max_pool_backward_fast dx difference from naive:', rel_error(dx_fast, dx))
'''

# The equations are evaluated one entry at a time in Python; the numerical gradient check of the
# naive layer (2 forward passes per entry of x) is what grows fastest, so H and W stop at 10.
MAX_SIZES = {"N": 4, "C": 4, "H": 10, "W": 10, "pool_height": 4, "pool_width": 4, "stride": 4}

TOPIC = Topic(
    key="maxpool",
    part=3,
    title="Max pooling",
    summary="Max pooling forward and backward: the gradient is routed to each window's maximum.",
    fields=(
        Field("N", "images N", "int", 2, 1, MAX_SIZES["N"]),
        Field("C", "channels C", "int", 3, 1, MAX_SIZES["C"]),
        Field("H", "height H", "int", 4, 1, MAX_SIZES["H"]),
        Field("W", "width W", "int", 4, 1, MAX_SIZES["W"]),
        Field("pool_height", "pool height", "int", 2, 1, MAX_SIZES["pool_height"], group="hyper-parameter"),
        Field("pool_width", "pool width", "int", 2, 1, MAX_SIZES["pool_width"], group="hyper-parameter"),
        Field("stride", "stride", "int", 2, 1, MAX_SIZES["stride"], group="hyper-parameter"),
    ),
    inputs=("x",),
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
