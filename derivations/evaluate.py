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
from sympy.printing.codeprinter import CodePrinter
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter, SymPyPrinter

from derivations.functions import NUMERIC_FUNCTIONS, SYMBOLIC_FUNCTIONS
from derivations.model import Derivation, Equation, IndexRange, Stage

Mode = Literal["numeric", "symbolic"]


class _LazyPiecewisePrinter(NumPyPrinter):
    """NumPy's printer, except that ``Piecewise`` becomes a conditional expression that reads
    only the branch taken: ``numpy.select`` reads every branch, and the guarded branch of a
    recursion (``da[n, t+1, k]`` at ``t = T-1``) lies out of range. (The symbolic mode's
    printer is lazy already.)"""

    _print_Piecewise = PythonCodePrinter._print_Piecewise  # noqa: N815 - sympy's printer naming
    # entries are scalars: Python's comparisons and and/or are ~10x faster than numpy's ufuncs on them
    _print_Relational = PythonCodePrinter._print_Relational  # noqa: N815
    _print_And = CodePrinter._print_And  # noqa: N815
    _print_Or = CodePrinter._print_Or  # noqa: N815
    _print_Not = PythonCodePrinter._print_Not  # noqa: N815


def _numeric_printer() -> NumPyPrinter:
    # the settings lambdify gives its own default printer
    settings = {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True}
    return _LazyPiecewisePrinter({**settings, "user_functions": {name: name for name in NUMERIC_FUNCTIONS}})


class _ExactPrinter(SymPyPrinter):
    """sympy's own printer, except that numbers stay sympy numbers: the default prints 1/2 as the
    Python expression ``1/2``, a float, which would put 0.5 into a proof that claims to be exact."""

    def _print_Rational(self, expr):  # noqa: N802 - sympy dispatches on this name
        return f"Rational({expr.p}, {expr.q})"

    def _print_Half(self, expr):  # noqa: N802
        return "Rational(1, 2)"


def _symbolic_printer() -> SymPyPrinter:
    settings = {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True}
    return _ExactPrinter({**settings, "user_functions": {name: name for name in SYMBOLIC_FUNCTIONS}})


@functools.lru_cache(maxsize=1024)
def _compiled(rhs: sp.Expr, index_symbols: tuple[sp.Symbol, ...], mode: Mode):
    """``rhs`` as a Python function of (index values..., arrays...) and the array names it reads."""
    bases = tuple(sorted(rhs.atoms(sp.IndexedBase), key=lambda base: str(base.label)))
    labels = {b.label for b in bases}
    free = {s for s in rhs.free_symbols if isinstance(s, sp.Symbol)}  # drops Indexed entries
    scalars = tuple(sorted(free - set(index_symbols) - labels, key=str))
    modules = [NUMERIC_FUNCTIONS, "math", "numpy"] if mode == "numeric" else [
        {**SYMBOLIC_FUNCTIONS, "Rational": sp.Rational}, "sympy"]
    printer = _numeric_printer() if mode == "numeric" else _symbolic_printer()
    function = sp.lambdify([*index_symbols, *bases, *scalars], rhs, modules=modules, printer=printer)
    return function, tuple(str(b.label) for b in bases), tuple(str(s) for s in scalars)


def _index_values(index: IndexRange, sizes: Mapping[str, int]) -> list[int]:
    values = range(sizes[index.axis])
    return list(reversed(values) if index.descending else values)


def _index_grid(
    equation: Equation, sizes: Mapping[str, int], fixed: Mapping[sp.Symbol, int]
) -> Iterable[tuple[int, ...]]:
    """Every index tuple of ``equation`` in evaluation order; indices in ``fixed`` take one value."""
    ranges = [[fixed[i.symbol]] if i.symbol in fixed else _index_values(i, sizes) for i in equation.indices]
    return itertools.product(*ranges)


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
        if section.recurrence is None:
            for equation in section.equations:
                _allocate(equation, derivation, env, mode)
                _filler(equation, derivation, env, bindings, mode)({})
                trace.append((equation, env[equation.defines]))
        else:
            _evaluate_recurrence(section, derivation, env, bindings, mode)
            trace.extend((equation, env[equation.defines]) for equation in section.equations)
    return env, trace


def _as_mode(value, mode: Mode):
    if mode == "symbolic" and isinstance(value, float):
        return sp.nsimplify(value, rational=True)  # exact in proofs: eps=1e-5 -> 1/100000
    return value


def _evaluate_recurrence(section, derivation, env, bindings, mode) -> None:
    """All equations of ``section`` for one step of its recurrence index, then the next step."""
    index = section.recurrence
    unindexed = [eq.number for eq in section.equations if index.symbol not in [i.symbol for i in eq.indices]]
    if unindexed:
        raise ValueError(f"section {section.title!r} recurs over {index.symbol}, but Eqn {unindexed} do not")
    for equation in section.equations:  # all arrays first: a step may read any of them
        _allocate(equation, derivation, env, mode)
    fillers = [_filler(equation, derivation, env, bindings, mode) for equation in section.equations]
    for step in _index_values(index, derivation.sizes):
        for fill in fillers:
            fill({index.symbol: step})


def _allocate(equation, derivation, env, mode) -> None:
    shape = derivation.shape(equation.defines)
    if mode == "numeric":
        env[equation.defines] = np.zeros(shape, dtype=np.float64)
    else:
        env[equation.defines] = np.full(shape, sp.S.Zero, dtype=object)


def _filler(equation, derivation, env, bindings, mode):
    """A function ``fill(fixed)`` that computes the entries of the equation's allocated array
    for every index value, except that the indices in ``fixed`` take the one value given.
    The array is in ``env`` while it is filled: a recursion over time reads earlier entries."""
    rhs = equation.rhs.xreplace(bindings)
    index_symbols = tuple(index.symbol for index in equation.indices)
    function, array_names, scalar_names = _compiled(rhs, index_symbols, mode)
    missing = [name for name in array_names if name not in env]
    if missing:
        raise KeyError(f"Eqn {equation.number} reads {missing} before any equation or input defines them")
    operands = [env[name] for name in array_names]
    scalars = [env[name] for name in scalar_names]
    result = env[equation.defines]
    if not isinstance(equation.lhs, sp.Indexed):

        def fill_scalar(fixed):
            result[()] = function(*operands, *scalars)

        return fill_scalar
    lhs_positions = [index_symbols.index(i) for i in equation.lhs.indices]

    def fill(fixed):
        for values in _index_grid(equation, derivation.sizes, fixed):
            result[tuple(values[p] for p in lhs_positions)] = function(*values, *operands, *scalars)

    return fill
