"""Part 1 - batch normalization: derivation, computational graph, proof and catalog entry."""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

import layers
from derivations.model import Derivation, Equation, Graph, IndexRange, Node, Section, Variable
from derivations.topic import Config, Field, Topic
from derivations.verify import timed_verification

n, d = sp.symbols("n d", integer=True)
N, D = sp.symbols("N D", integer=True, positive=True)
eps, rho = sp.symbols("epsilon rho", positive=True)  # rho is bn_param['momentum']

VARIABLES = (
    Variable("x", "x", ("N", "D"), "input minibatch"),
    Variable("gamma", r"\gamma", ("D",), "scale"),
    Variable("beta", r"\beta", ("D",), "shift"),
    Variable("mu", r"\mu", ("D",), "batch mean"),
    Variable("x_minus_mu", r"x_{c}", ("N", "D"), "centred input"),
    Variable("squared", r"s", ("N", "D"), "squared deviations"),
    Variable("var", r"\sigma^{2}", ("D",), "biased batch variance"),
    Variable("std", r"\sigma", ("D",), "standard deviation"),
    Variable("inv_std", r"\nu", ("D",), "inverse standard deviation"),
    Variable("x_hat", r"\hat{x}", ("N", "D"), "normalized input"),
    Variable("scaled", r"y_{\gamma}", ("N", "D"), "scaled input"),
    Variable("out", "y", ("N", "D"), "output"),
    Variable("running_mean", r"\mu_{run}", ("D",), "running mean before the step"),
    Variable("running_var", r"\sigma^{2}_{run}", ("D",), "running variance before the step"),
    Variable("running_mean_new", r"\mu_{run}'", ("D",), "running mean after the step"),
    Variable("running_var_new", r"\sigma^{2\,\prime}_{run}", ("D",), "running variance after the step"),
    Variable("out_test", r"y_{test}", ("N", "D"), "test-mode output"),
    Variable("dout", r"\frac{\partial L}{\partial y}", ("N", "D"), "upstream gradient"),
    Variable("dbeta", r"\frac{\partial L}{\partial \beta}", ("D",)),
    Variable("dscaled", r"\frac{\partial L}{\partial y_{\gamma}}", ("N", "D")),
    Variable("dgamma", r"\frac{\partial L}{\partial \gamma}", ("D",)),
    Variable("dx_hat", r"\frac{\partial L}{\partial \hat{x}}", ("N", "D")),
    Variable("dinv_std", r"\frac{\partial L}{\partial \nu}", ("D",)),
    Variable("dx_minus_mu_direct", r"\frac{\partial L}{\partial x_{c}}^{(1)}", ("N", "D"), "via x_hat"),
    Variable("dstd", r"\frac{\partial L}{\partial \sigma}", ("D",)),
    Variable("dvar", r"\frac{\partial L}{\partial \sigma^{2}}", ("D",)),
    Variable("dsquared", r"\frac{\partial L}{\partial s}", ("N", "D")),
    Variable("dx_minus_mu_via_var", r"\frac{\partial L}{\partial x_{c}}^{(2)}", ("N", "D"), "via the variance"),
    Variable("dx_minus_mu", r"\frac{\partial L}{\partial x_{c}}", ("N", "D")),
    Variable("dmu", r"\frac{\partial L}{\partial \mu}", ("D",)),
    Variable("dx_via_mu", r"\frac{\partial L}{\partial x}^{(2)}", ("N", "D"), "via the mean"),
    Variable("dx", r"\frac{\partial L}{\partial x}", ("N", "D")),
    Variable("dx_test", r"\frac{\partial L}{\partial x}_{test}", ("N", "D"), "test-mode input gradient"),
)
B = {var.name: sp.IndexedBase(var.name) for var in VARIABLES}
ND = (IndexRange(n, "N"), IndexRange(d, "D"))
ONLY_D = (IndexRange(d, "D"),)


def _sum_n(expr):
    return sp.Sum(expr, (n, 0, N - 1))


def _eq(number, name, rhs, why, node=None, per_row=True):
    lhs = B[name][n, d] if per_row else B[name][d]
    return Equation(number, lhs, rhs, ND if per_row else ONLY_D, why, node)


FORWARD = (
    _eq("1.0", "mu", _sum_n(B["x"][n, d]) / N, "Mean of each feature over the N rows of the batch.", "mu", False),
    _eq("1.1", "x_minus_mu", B["x"][n, d] - B["mu"][d], "Centre every row; mu (D,) broadcasts over N.", "xmu"),
    _eq("1.2", "squared", B["x_minus_mu"][n, d] ** 2, "Square the deviations, elementwise.", "sq"),
    _eq("1.3", "var", _sum_n(B["squared"][n, d]) / N,
        "Biased variance: divide by N, not N - 1, as the course does.", "var", False),
    _eq("1.4", "std", sp.sqrt(B["var"][d] + eps), "eps sits inside the square root so std > 0.", "std", False),
    _eq("1.5", "inv_std", 1 / B["std"][d], "Inverse, a node of its own so its gradient is simple.", "inv", False),
    _eq("1.6", "x_hat", B["x_minus_mu"][n, d] * B["inv_std"][d], "Normalize: zero mean, unit variance.", "xhat"),
    _eq("1.7", "scaled", B["gamma"][d] * B["x_hat"][n, d], "Learnable scale, shared by all rows.", "scaled"),
    _eq("1.8", "out", B["scaled"][n, d] + B["beta"][d], "Learnable shift gives the output.", "out"),
)
RUNNING = (
    _eq("1.9", "running_mean_new", rho * B["running_mean"][d] + (1 - rho) * B["mu"][d],
        "Exponential moving average of the batch means (rho = momentum, default 0.9).", None, False),
    _eq("1.10", "running_var_new", rho * B["running_var"][d] + (1 - rho) * B["var"][d],
        "The same average for the biased batch variance.", None, False),
)
TEST = (
    _eq("1.11", "out_test", B["gamma"][d] * (B["x"][n, d] - B["running_mean"][d])
        / sp.sqrt(B["running_var"][d] + eps) + B["beta"][d],
        "Test mode normalizes with the running statistics, which it leaves unchanged."),
)
BACKWARD = (
    _eq("1.12", "dbeta", _sum_n(B["dout"][n, d]),
        "beta[d] is added to every row: its gradient sums dout over the N rows.", "beta", False),
    _eq("1.13", "dscaled", B["dout"][n, d], "An addition passes the gradient through unchanged.", "scaled"),
    _eq("1.14", "dgamma", _sum_n(B["dscaled"][n, d] * B["x_hat"][n, d]),
        "Product rule; gamma is shared by the N rows, so their contributions add.", "gamma", False),
    _eq("1.15", "dx_hat", B["dscaled"][n, d] * B["gamma"][d], "Product rule on gamma * x_hat.", "xhat"),
    _eq("1.16", "dinv_std", _sum_n(B["dx_hat"][n, d] * B["x_minus_mu"][n, d]),
        "inv_std[d] multiplies every row of column d: sum over N.", "inv", False),
    _eq("1.17", "dx_minus_mu_direct", B["dx_hat"][n, d] * B["inv_std"][d],
        "First branch into x_c: through x_hat = x_c * inv_std.", "xmu"),
    _eq("1.18", "dstd", -B["dinv_std"][d] / B["std"][d] ** 2, "d(1/u)/du = -1/u^2.", "std", False),
    _eq("1.19", "dvar", B["dstd"][d] / (2 * B["std"][d]),
        "d sqrt(u)/du = 1/(2 sqrt(u)), with u = var + eps.", "var", False),
    _eq("1.20", "dsquared", B["dvar"][d] / N, "The mean spreads its gradient evenly: 1/N to each row.", "sq"),
    _eq("1.21", "dx_minus_mu_via_var", 2 * B["x_minus_mu"][n, d] * B["dsquared"][n, d],
        "Second branch into x_c: through the square, d(u^2)/du = 2u.", "xmu"),
    _eq("1.22", "dx_minus_mu", B["dx_minus_mu_direct"][n, d] + B["dx_minus_mu_via_var"][n, d],
        "x_c feeds two nodes, so the gradients of both branches add.", "xmu"),
    _eq("1.23", "dmu", -_sum_n(B["dx_minus_mu"][n, d]),
        "mu[d] is subtracted from every row: minus the sum over N.", "mu", False),
    _eq("1.24", "dx_via_mu", B["dmu"][d] / N, "Back through the mean: 1/N to each row.", "x"),
    _eq("1.25", "dx", B["dx_minus_mu"][n, d] + B["dx_via_mu"][n, d],
        "x feeds x_c directly and the mean: the two gradients add.", "x"),
)
CLOSED_FORM = (
    _eq("1.26", "dx", B["gamma"][d] * B["inv_std"][d] / N * (
        N * B["dout"][n, d] - _sum_n(B["dout"][n, d])
        - B["x_hat"][n, d] * _sum_n(B["dout"][n, d] * B["x_hat"][n, d])),
        "Substituting 1.13-1.24 into 1.25 and collecting terms: one line, no intermediates.", "x"),
)
TEST_BACKWARD = (
    _eq("1.27", "dx_test", B["dout"][n, d] * B["gamma"][d] / sp.sqrt(B["running_var"][d] + eps),
        "In test mode the statistics are constants: only the scale by gamma / std remains."),
)


def derivation(config: Config) -> Derivation:
    sizes = {"N": int(config["N"]), "D": int(config["D"])}
    return Derivation(
        key="batchnorm",
        part=1,
        title="Part 1 - Batch normalization",
        sections=(
            Section("Part 1 - Batch norm forward (train mode)", "forward", FORWARD,
                    "Each feature d is normalized with the statistics of its column of the batch."),
            Section("Part 1 - Batch norm running averages", "aside", RUNNING),
            Section("Part 1 - Batch norm forward (test mode)", "aside", TEST),
            Section("Part 1 - Batch norm backward", "backward", BACKWARD,
                    "Back through the staged graph, node by node, from the output to x."),
            Section("Part 1 - Batch norm backward, simplified", "backward", CLOSED_FORM),
            Section("Part 1 - Batch norm backward (test mode)", "aside", TEST_BACKWARD),
        ),
        variables=VARIABLES,
        sizes=sizes,
        symbols={N: sizes["N"], D: sizes["D"], eps: float(config["eps"]), rho: float(config["momentum"])},
        inputs=("x", "gamma", "beta"),
        outputs=("out",),
        constants=("running_mean", "running_var"),
        summary="Normalize each feature over the batch, then scale and shift.",
    )


def graph(config: Config) -> Graph:
    node = Node
    nodes = (
        node("x", "x", "input", "input", None, "1.25"),
        node("mu", "mu", "mean over N", "op", "1.0", "1.23"),
        node("xmu", "x_minus_mu", "x - mu", "op", "1.1", "1.22"),
        node("sq", "squared", "square", "op", "1.2", "1.20"),
        node("var", "var", "mean over N", "op", "1.3", "1.19"),
        node("std", "std", "sqrt(var + eps)", "op", "1.4", "1.18"),
        node("inv", "inv_std", "1 / std", "op", "1.5", "1.16"),
        node("xhat", "x_hat", "x_c * inv_std", "op", "1.6", "1.15"),
        node("gamma", "gamma", "scale", "param", None, "1.14"),
        node("scaled", "scaled", "gamma * x_hat", "op", "1.7", "1.13"),
        node("beta", "beta", "shift", "param", None, "1.12"),
        node("out", "out", "scaled + beta", "output", "1.8", None),
    )
    edges = (("x", "mu"), ("x", "xmu"), ("mu", "xmu"), ("xmu", "sq"), ("sq", "var"), ("var", "std"),
             ("std", "inv"), ("xmu", "xhat"), ("inv", "xhat"), ("xhat", "scaled"), ("gamma", "scaled"),
             ("scaled", "out"), ("beta", "out"))
    return Graph("Batch normalization (train mode)", nodes, edges)


def _bn_param(config: Config, arrays) -> dict:
    return {"mode": config["mode"], "eps": float(config["eps"]), "momentum": float(config["momentum"]),
            "running_mean": arrays["running_mean"].copy(), "running_var": arrays["running_var"].copy()}


WARMUP_STEPS = 20


def make_inputs(config: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The spec's draw (x = 5 randn + 12), and running statistics warmed up on WARMUP_STEPS batches."""
    rows, features = int(config["N"]), int(config["D"])
    x = 5 * rng.standard_normal((rows, features)) + 12
    gamma, beta = rng.standard_normal(features), rng.standard_normal(features)
    bn_param = {"mode": "train", "eps": float(config["eps"]), "momentum": float(config["momentum"])}
    for _ in range(WARMUP_STEPS):
        layers.batchnorm_forward(5 * rng.standard_normal((rows, features)) + 12, gamma, beta, bn_param)
    return {"x": x, "gamma": gamma, "beta": beta,
            "running_mean": bn_param["running_mean"], "running_var": bn_param["running_var"]}


def forward(config: Config, arrays):
    out, cache = layers.batchnorm_forward(arrays["x"], arrays["gamma"], arrays["beta"], _bn_param(config, arrays))
    return {"out": out}, cache


def backward(config: Config, upstream, cache):
    step = layers.batchnorm_backward_alt if config.impl == "closed form" else layers.batchnorm_backward
    dx, dgamma, dbeta = step(upstream["dout"], cache)
    return {"dx": dx, "dgamma": dgamma, "dbeta": dbeta}


PROOF_SIZES = {"N": 2, "D": 2}


@functools.lru_cache(maxsize=64)
def verify(config: Config):
    from derivations.run import run_topic

    result = run_topic(TOPIC, config, check=False)
    train = config["mode"] == "train"
    reference = {"out" if train else "out_test": result.outputs["out"],
                 "dx" if train else "dx_test": result.gradients["dx"]}
    if train:
        reference.update(dgamma=result.gradients["dgamma"], dbeta=result.gradients["dbeta"])
    arrays = {**result.arrays, **result.upstream}
    return timed_verification("batchnorm", derivation(config.replace(**PROOF_SIZES)), derivation(config),
                              arrays, reference)


SPEC_CHECK = '''\
import numpy as np
from layers import batchnorm_backward, batchnorm_forward, eval_numerical_gradient_array, rel_error

rng = np.random.default_rng(231)

# Train-mode forward: means and stds of the features before and after batch normalization
N, D1, D2, D3 = 200, 50, 60, 3
X = rng.standard_normal((N, D1))
W1 = rng.standard_normal((D1, D2))
W2 = rng.standard_normal((D2, D3))
a = np.maximum(0, X.dot(W1)).dot(W2)
print('Before batch normalization:')
print('  means:', a.mean(axis=0))
print('  stds: ', a.std(axis=0))
a_norm, _ = batchnorm_forward(a, np.ones(D3), np.zeros(D3), {'mode': 'train'})
print('After batch normalization (gamma=1, beta=0): means close to 0, stds close to 1')
print('  means:', a_norm.mean(axis=0))
print('  stds: ', a_norm.std(axis=0))
gamma = np.asarray([1.0, 2.0, 3.0])
beta = np.asarray([11.0, 12.0, 13.0])
a_norm, _ = batchnorm_forward(a, gamma, beta, {'mode': 'train'})
print('After batch normalization (gamma, beta = [1, 2, 3], [11, 12, 13]): means close to beta, stds to gamma')
print('  means:', a_norm.mean(axis=0))
print('  stds: ', a_norm.std(axis=0))

# Test-mode forward after warming up the running averages on 50 training batches
bn_param = {'mode': 'train'}
gamma, beta = np.ones(D3), np.zeros(D3)
for _ in range(50):
    X = rng.standard_normal((N, D1))
    batchnorm_forward(np.maximum(0, X.dot(W1)).dot(W2), gamma, beta, bn_param)
bn_param['mode'] = 'test'
X = rng.standard_normal((N, D1))
a_norm, _ = batchnorm_forward(np.maximum(0, X.dot(W1)).dot(W2), gamma, beta, bn_param)
print('After batch normalization (test mode): means close to 0, stds close to 1, noisier')
print('  means:', a_norm.mean(axis=0))
print('  stds: ', a_norm.std(axis=0))

# Backward: gradient check of dx, dgamma, dbeta (each lambda varies its own argument)
N, D = 4, 5
x = 5 * rng.standard_normal((N, D)) + 12
gamma = rng.standard_normal(D)
beta = rng.standard_normal(D)
dout = rng.standard_normal((N, D))
bn_param = {'mode': 'train'}
fx = lambda x: batchnorm_forward(x, gamma, beta, bn_param)[0]
fg = lambda g: batchnorm_forward(x, g, beta, bn_param)[0]
fb = lambda b: batchnorm_forward(x, gamma, b, bn_param)[0]
dx_num = eval_numerical_gradient_array(fx, x, dout)
dgamma_num = eval_numerical_gradient_array(fg, gamma.copy(), dout)
dbeta_num = eval_numerical_gradient_array(fb, beta.copy(), dout)
_, cache = batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = batchnorm_backward(dout, cache)
print('dx error:    ', rel_error(dx_num, dx))
print('dgamma error:', rel_error(dgamma_num, dgamma))
print('dbeta error: ', rel_error(dbeta_num, dbeta))
'''


TOPIC = Topic(
    key="batchnorm",
    part=1,
    title="Batch normalization",
    summary="Train- and test-mode batch normalization with running averages.",
    fields=(
        Field("N", "batch size N", "int", 4, 1, 64),
        Field("D", "features D", "int", 5, 1, 32),
        Field("mode", "mode", "choice", "train", choices=("train", "test"), group="hyper-parameter"),
        Field("eps", "eps", "float", 1e-5, 1e-12, 1.0, group="hyper-parameter"),
        Field("momentum", "momentum", "float", 0.9, 0.0, 1.0, group="hyper-parameter"),
    ),
    inputs=("x", "gamma", "beta"),
    outputs=("out",),
    make_inputs=make_inputs,
    forward=forward,
    backward=backward,
    derivation=derivation,
    graph=graph,
    verify=verify,
    impls=("staged graph", "closed form"),
    spec_check=SPEC_CHECK,
)
