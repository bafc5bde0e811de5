"""Elementwise functions used by the equations that sympy lacks, with the three faces each
needs: a typeset form, a float form (numeric evaluation) and an explicit sympy form (proofs).

The proof always differentiates the explicit form (``1 / (1 + exp(-a))``), never a
derivative rule we wrote ourselves, so it cannot be fooled by our own ``fdiff``.
"""

from __future__ import annotations

import math

import sympy as sp


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
