"""What parts 4 and 5 share: index notation over the axes N, T, D, H and 4H, the dimension
fields, and the verification against ``layers``."""

from __future__ import annotations

import sympy as sp

from derivations.model import Equation, IndexRange, Variable
from derivations.run import run_topic
from derivations.topic import Config, Field, Topic
from derivations.verify import timed_verification

n, t, d, j, k, m = sp.symbols("n t d j k m", integer=True)
N, T, D, H = sp.symbols("N T D H", integer=True, positive=True)
AXES = {n: "N", t: "T", d: "D", j: "H", k: "H", m: "4H"}  # the axis each index runs over
LAST = {"N": N - 1, "T": T - 1, "D": D - 1, "H": H - 1, "4H": 4 * H - 1}  # its last value
FORWARD_IN_TIME, BACKWARD_IN_TIME = IndexRange(t, "T"), IndexRange(t, "T", descending=True)
# the scalar whose gradients the upstream arrays are: L = sum over outputs of sum(d<out> * out)
LOSS = Variable("L", "L", (), "loss, sum of upstream gradient times output over every output")


def index_sum(expr: sp.Expr, *indices: sp.Symbol) -> sp.Sum:
    """``expr`` summed over each index across its whole axis: ``index_sum(e, n)`` = sum_{n=0}^{N-1} e."""
    return sp.Sum(expr, *[(i, 0, LAST[AXES[i]]) for i in indices])


def equation(number, base: sp.IndexedBase, lhs_indices, rhs, why, node=None, time=None) -> Equation:
    """``base[lhs_indices] = rhs``. ``time`` (an IndexRange over t) is looped first, so that a
    recursion reads the steps already computed (descending for backward in time)."""
    loops = tuple(IndexRange(i, AXES[i]) for i in lhs_indices if time is None or i != time.symbol)
    return Equation(number, base[lhs_indices], rhs, loops if time is None else (time, *loops), why, node)


def grad(name: str, latex: str, axes: tuple[str, ...], meaning: str = "") -> Variable:
    """The gradient variable ``"d" + name``, typeset dL/d<latex>."""
    return Variable("d" + name, rf"\frac{{\partial L}}{{\partial {latex}}}", axes, meaning)


def bases(*variable_sets: tuple[Variable, ...]) -> dict[str, sp.IndexedBase]:
    return {var.name: sp.IndexedBase(var.name) for variables in variable_sets for var in variables}


def bound_sizes(config: Config, axes: tuple[str, ...]) -> tuple[dict[str, int], dict[sp.Symbol, int]]:
    """Axis sizes (with "4H" for the LSTM's gates when ``axes`` has it) and the dimension symbols."""
    sizes = {axis: int(config[axis]) for axis in axes if axis != "4H"}
    if "4H" in axes:
        sizes["4H"] = 4 * sizes["H"]
    return sizes, {symbol: sizes[str(symbol)] for symbol in (N, T, D, H) if str(symbol) in sizes}


def dimension_fields(rows: int, inputs: int, hidden: int, steps: int | None = None) -> tuple[Field, ...]:
    """N, (T,) D, H with the spec's shapes as defaults; the bounds keep a rerun fast."""
    fields = [Field("N", "batch size N", "int", rows, 1, 8)]
    if steps is not None:
        fields.append(Field("T", "sequence length T", "int", steps, 1, 12))
    fields += [Field("D", "input size D", "int", inputs, 1, 16),
               Field("H", "hidden size H", "int", hidden, 1, 16)]
    return tuple(fields)


def verify_against_layers(topic: Topic, config: Config, proof_sizes: dict[str, int]):
    """The symbolic proof at ``proof_sizes`` and the closed forms at the user's arrays vs ``layers``."""
    result = run_topic(topic, config, check=False)
    reference = {**result.outputs, **result.gradients}
    return timed_verification(topic.key, topic.derivation(config.replace(**proof_sizes)),
                              topic.derivation(config), {**result.arrays, **result.upstream}, reference)
