"""Elementwise functions used by the equations that sympy lacks, with the three faces each
needs: a typeset form, a float form (numeric evaluation) and an explicit sympy form (proofs).

The proof always differentiates the explicit form (``1 / (1 + exp(-a))``), never a
derivative rule we wrote ourselves, so it cannot be fooled by our own ``fdiff``.
"""

from __future__ import annotations

import math

import sympy as sp
from sympy.concrete.expr_with_limits import ExprWithLimits
from sympy.printing.pycode import SymPyPrinter


class sigmoid(sp.Function):  # noqa: N801 - sympy functions are lower-case by convention
    """The logistic function, typeset as sigma."""

    nargs = 1

    def _latex(self, printer, exp=None):
        arg = printer._print(self.args[0])
        base = rf"\sigma\left({arg}\right)"
        return rf"{base}^{{{exp}}}" if exp else base

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + sp.exp(-arg))


def _float_sigmoid(a: float) -> float:
    if a >= 0:  # stable for large |a|: never exp of a large positive number
        return 1.0 / (1.0 + math.exp(-a))
    ea = math.exp(a)
    return ea / (1.0 + ea)


# name -> implementation, per evaluation mode; lambdify looks names up here first
NUMERIC_FUNCTIONS = {"sigmoid": _float_sigmoid}
SYMBOLIC_FUNCTIONS = {"sigmoid": lambda a: 1 / (1 + sp.exp(-a))}


# ---------------------------------------------------------------- max pooling (Part 3)
class iverson_eq(sp.Function):  # noqa: N801 - sympy functions are lower-case by convention
    """The Iverson bracket ``[a = b]``: 1 when the two values are equal, else 0.

    Its value depends on comparing numbers, so the symbolic form raises ``TypeError`` when
    sympy cannot decide the comparison (unknown symbols); ``verify.prove`` then compares
    at exact rational points instead (see the module docstring of ``derivations.verify``).
    """

    nargs = 2

    def _latex(self, printer, exp=None):
        a, b = (printer._print(arg) for arg in self.args)
        return rf"\left[{a} = {b}\right]"

    def _typst(self, printer):
        a, b = (printer._print(arg) for arg in self.args)
        return f"lr([{a} = {b}])"


def _exact_iverson_eq(a, b):
    difference = sp.sympify(a) - sp.sympify(b)
    if difference.is_zero is None:
        raise TypeError(f"cannot decide whether {a} = {b} without numbers")
    return sp.S.One if difference.is_zero else sp.S.Zero


class window_max(ExprWithLimits):  # noqa: N801 - reads like sympy's own lower-case functions
    """``max`` of ``function`` over integer ranges, like ``Sum`` but taking the largest term:
    ``window_max(x[n, c, S*i + k, S*j + l], (k, 0, HH - 1), (l, 0, WW - 1))`` is the largest
    entry of the HH x WW window at (i, j). The ranges' variables are bound (not free).

    Evaluated as a generator over the ranges: ``builtins.max`` on floats, sympy ``Max`` on
    exact values (``_exact_max``), so the proof differentiates sympy's own ``Max`` (its
    derivative is a ``Heaviside`` of the differences, exact at rational points)."""

    def _latex(self, printer, exp=None):
        ranges = r",\ ".join(rf"{printer._print(low)} \le {printer._print(v)} \le {printer._print(high)}"
                             for v, low, high in self.limits)
        return rf"\max_{{{ranges}}} {printer._print(self.function)}"

    def _typst(self, printer):
        ranges = ", ".join(f"{printer._print(low)} <= {printer._print(v)} <= {printer._print(high)}"
                           for v, low, high in self.limits)
        return f"max_({ranges}) {printer._print(self.function)}"

    def _loops(self, printer) -> str:
        return " ".join(f"for {printer._print(v)} in range({printer._print(low)}, {printer._print(high)}+1)"
                        for v, low, high in self.limits[::-1])

    def _numpycode(self, printer):  # numeric evaluation (lambdify with NumPy's printer)
        return f"(builtins.max({printer._print(self.function)} {self._loops(printer)}))"

    def _pythoncode(self, printer):  # symbolic evaluation (lambdify with SymPy's printer)
        if isinstance(printer, SymPyPrinter):
            return f"(exact_max(*({printer._print(self.function)} {self._loops(printer)})))"
        return self._numpycode(printer)


def _exact_max(*values):
    """sympy's ``Max`` of exact values. On symbols it is a balanced tree of unevaluated
    two-argument ``Max``: the n-ary ``Max`` compares every pair of symbolic arguments (seconds
    for a few windows), while the proof only needs sympy's derivative of it, a product of
    ``Heaviside(a - b)`` along the tree, exact at rational points."""
    if all(sp.sympify(value).is_number for value in values):
        return sp.Max(*values)
    level = list(values)
    while len(level) > 1:
        pairs = [sp.Max(a, b, evaluate=False) for a, b in zip(level[::2], level[1::2], strict=False)]
        level = pairs + level[len(pairs) * 2:]  # an odd one out moves up unchanged
    return level[0]


NUMERIC_FUNCTIONS["iverson_eq"] = lambda a, b: 1.0 if a == b else 0.0
SYMBOLIC_FUNCTIONS["iverson_eq"] = _exact_iverson_eq
SYMBOLIC_FUNCTIONS["exact_max"] = _exact_max
