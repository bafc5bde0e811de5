"""Evaluate a derivation's equations on concrete arrays, numerically or symbolically.

The same typeset equations become code here: each right-hand side is turned
into a Python function once (``sympy.lambdify``) and called for every entry of
its left-hand side, with earlier results in the environment. With float arrays
this reproduces the layer's numbers; with arrays of sympy symbols it yields the
exact expressions that ``verify`` differentiates.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import sympy as sp

from derivations.functions import NUMERIC_FUNCTIONS, SYMBOLIC_FUNCTIONS
from derivations.model import Derivation, Equation, Stage

Mode = Literal["numeric", "symbolic"]


@functools.lru_cache(maxsize=1024)
def _compiled(rhs: sp.Expr, index_symbols: tuple[sp.Symbol, ...], mode: Mode):
    """``rhs`` as a Python function of (index values..., arrays...) and the array names it reads."""
    bases = tuple(sorted(rhs.atoms(sp.IndexedBase), key=lambda base: str(base.label)))
    labels = {b.label for b in bases}
    free = {s for s in rhs.free_symbols if isinstance(s, sp.Symbol)}  # drops Indexed entries
    scalars = tuple(sorted(free - set(index_symbols) - labels, key=str))
    modules = [NUMERIC_FUNCTIONS, "math", "numpy"] if mode == "numeric" else [SYMBOLIC_FUNCTIONS, "sympy"]
    function = sp.lambdify([*index_symbols, *bases, *scalars], rhs, modules=modules)
    return function, tuple(str(b.label) for b in bases), tuple(str(s) for s in scalars)


def _index_grid(equation: Equation, sizes: Mapping[str, int]) -> Iterable[tuple[int, ...]]:
    ranges = []
    for index in equation.indices:
        values = range(sizes[index.axis])
        ranges.append(reversed(values) if index.descending else values)
    return itertools.product(*(list(r) for r in ranges))


def evaluate(
    derivation: Derivation,
    arrays: Mapping[str, np.ndarray],
    mode: Mode = "numeric",
    stages: tuple[Stage, ...] = ("forward", "backward"),
) -> tuple[dict[str, np.ndarray], list[tuple[Equation, np.ndarray]]]:
    """Run the equations of the chosen stages in order.

    Inputs:
    - derivation: bound to concrete sizes (``derivation.sizes``, ``derivation.symbols``).
    - arrays: name -> array for every variable no equation defines (inputs,
      parameters, upstream gradients, running statistics); float arrays for
      ``mode="numeric"``, object arrays of sympy expressions for ``"symbolic"``.

    Returns ``(env, trace)``: ``env`` maps every variable name to its final
    array (shape ``derivation.shape(name)``); ``trace`` lists each equation with
    the array it produced, in order (a variable defined twice appears twice).
    """
    env: dict[str, np.ndarray] = dict(arrays)
    trace: list[tuple[Equation, np.ndarray]] = []
    bindings = {symbol: _as_mode(value, mode) for symbol, value in derivation.symbols.items()}
    for section in derivation.sections:
        if section.stage not in stages:
            continue
        for equation in section.equations:
            value = _evaluate_equation(equation, derivation, env, bindings, mode)
            env[equation.defines] = value
            trace.append((equation, value))
    return env, trace


def _as_mode(value, mode: Mode):
    if mode == "symbolic" and isinstance(value, float):
        return sp.nsimplify(value, rational=True)  # exact in proofs: eps=1e-5 -> 1/100000
    return value


def _evaluate_equation(equation, derivation, env, bindings, mode) -> np.ndarray:
    rhs = equation.rhs.xreplace(bindings)
    index_symbols = tuple(index.symbol for index in equation.indices)
    function, array_names, scalar_names = _compiled(rhs, index_symbols, mode)
    missing = [name for name in array_names if name not in env]
    if missing:
        raise KeyError(f"Eqn {equation.number} reads {missing} before any equation or input defines them")
    operands = [env[name] for name in array_names]
    scalars = [env[name] for name in scalar_names]
    shape = derivation.shape(equation.defines)
    if mode == "numeric":
        result = np.zeros(shape, dtype=np.float64)
    else:
        result = np.full(shape, sp.S.Zero, dtype=object)
    env[equation.defines] = result  # visible while filling: recursions over time read earlier entries
    if not isinstance(equation.lhs, sp.Indexed):
        result[()] = function(*operands, *scalars)
        return result
    lhs_positions = [index_symbols.index(i) for i in equation.lhs.indices]
    for values in _index_grid(equation, derivation.sizes):
        entry = function(*values, *operands, *scalars)
        result[tuple(values[p] for p in lhs_positions)] = entry
    return result
