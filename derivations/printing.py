"""LaTeX for equations and dimension lines, shared by every exporter and the app."""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter

from derivations.model import Derivation, Equation


def symbol_names(derivation: Derivation) -> dict[sp.Symbol, str]:
    """Variable identifiers (``x_hat``) -> their typeset form (``\\hat{x}``)."""
    return {sp.Symbol(var.name): var.latex for var in derivation.variables}


class _Printer(LatexPrinter):
    """sympy's LaTeX, except that an indexed entry of a decorated name is bracketed:
    ``(x_{c})_{n,d}`` and ``(\frac{\\partial L}{\\partial y})_{n,d}`` instead of the
    ambiguous ``x_{c n,d}`` that plain subscript stacking renders."""

    def _print_Indexed(self, expr):  # noqa: N802 - sympy dispatches on this name
        base = self._print(expr.base)
        if any(mark in base for mark in ("_", "^", "\\frac")):
            base = rf"\left({base}\right)"
        indices = ",".join(self._print(i) for i in expr.indices)
        return f"{{{base}}}_{{{indices}}}"


def equation_latex(equation: Equation, derivation: Derivation) -> str:
    """``lhs = rhs`` in LaTeX, without the equation number."""
    printer = _Printer({"symbol_names": symbol_names(derivation)})
    return f"{printer.doprint(equation.lhs)} = {printer.doprint(equation.rhs)}"


def dims_text(name: str, derivation: Derivation) -> str:
    """``x_hat: (N, D) = (4, 5)`` for one variable, in plain text."""
    var = derivation.variable(name)
    if not var.axes:
        return f"{name}: scalar"
    axes = ", ".join(var.axes)
    sizes = ", ".join(str(derivation.sizes[a]) for a in var.axes)
    trail = "," if len(var.axes) == 1 else ""
    return f"{name}: ({axes}{trail}) = ({sizes}{trail})"


def dims_latex(name: str, derivation: Derivation) -> str:
    """The same as ``dims_text`` typeset: ``\\hat{x} \\in (N, D) = (4, 5)``."""
    var = derivation.variable(name)
    if not var.axes:
        return rf"{var.latex}\ \text{{scalar}}"
    trail = "," if len(var.axes) == 1 else ""
    axes = ", ".join(_axis_latex(a) for a in var.axes)
    sizes = ", ".join(str(derivation.sizes[a]) for a in var.axes)
    return rf"{var.latex}: ({axes}{trail}) = ({sizes}{trail})"


def _axis_latex(axis: str) -> str:
    return axis.replace("'", r"^{\prime}")


def equation_dims_latex(equation: Equation, derivation: Derivation) -> str:
    """The dimensions line of an equation: the defined variable first, then what it reads."""
    names = [equation.defines, *[n for n in equation.uses if n != equation.defines]]
    return r",\quad ".join(dims_latex(n, derivation) for n in names)


def equation_dims_text(equation: Equation, derivation: Derivation) -> str:
    names = [equation.defines, *[n for n in equation.uses if n != equation.defines]]
    return "; ".join(dims_text(n, derivation) for n in names)
