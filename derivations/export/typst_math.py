"""Typst math for the derivation's sympy equations, printed directly from the sympy objects.

The PDF export compiles with typst, whose math syntax is not LaTeX. Rather than
translate LaTeX strings, ``TypstPrinter`` walks the same sympy expressions the
LaTeX printer does (Add, Mul, Pow, Indexed, Sum, Piecewise, ...), so nothing is
lost in translation. Variable names come from ``typst_names`` (their LaTeX names
translated); the dimension lines mirror ``printing.dims_latex``.
"""

# ruff: noqa: N802, N815 - sympy printers dispatch on methods named _print_<ClassName>

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.printer import Printer

from derivations.export.typst_names import latex_name_to_typst, symbol_typst
from derivations.model import Derivation, Equation

FUNCTIONS = {"tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "sin": "sin", "cos": "cos", "tan": "tan",
             "exp": "exp", "log": "log", "sigmoid": "sigma", "Abs": "abs", "floor": "floor",
             "ceiling": "ceil"}
RELATIONS = {"==": "=", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}


class TypstPrinter(Printer):
    """sympy expression -> typst math source. ``names`` maps a symbol or IndexedBase label
    name to its typst form (from ``Variable.latex``); other symbols go through ``symbol_typst``."""

    printmethod = "_typst"
    _default_settings = {"order": None}

    def __init__(self, names: dict[str, str] | None = None):
        super().__init__()
        self.names = names or {}

    def emptyPrinter(self, expr):  # noqa: N802 - sympy's hook name
        raise ValueError(f"no typst form for {type(expr).__name__}: {expr}")

    def paren(self, expr, level: int) -> str:
        text = self._print(expr)
        return f"({text})" if precedence(expr) < level else text

    def _print_Symbol(self, expr):
        return self.names.get(expr.name) or symbol_typst(expr.name)

    _print_Dummy = _print_Symbol

    def _print_IndexedBase(self, expr):
        return self._print(expr.label)

    def _print_Idx(self, expr):
        return self._print(expr.label)

    def _print_Indexed(self, expr):
        base = self._print(expr.base)
        indices = [self._print(i) for i in expr.indices]
        if re.fullmatch(r"[A-Za-z]+(\.[a-z]+)?", base):  # a letter or a named symbol: a plain subscript
            return f"{base}_({', '.join(indices)})"
        return f"attach({base}, b: {' comma '.join(indices)})"

    def _print_Integer(self, expr):
        return str(expr.p)

    def _print_Rational(self, expr):
        sign = "-" if expr.p < 0 else ""
        return f"{sign}frac({abs(expr.p)}, {expr.q})"

    def _print_Float(self, expr):
        mantissa, _, exponent = f"{float(expr):.6g}".partition("e")
        return f"{mantissa} times 10^({int(exponent)})" if exponent else mantissa

    def _print_Exp1(self, expr):
        return "e"

    def _print_Pi(self, expr):
        return "pi"

    def _print_Infinity(self, expr):
        return "infinity"

    def _print_Add(self, expr):
        pieces = []
        for i, term in enumerate(self._as_ordered_terms(expr)):
            if term.could_extract_minus_sign():
                pieces.append(("- " if i == 0 else " - ") + self.paren(-term, PRECEDENCE["Add"] + 1))
            else:
                pieces.append(("" if i == 0 else " + ") + self.paren(term, PRECEDENCE["Add"]))
        return "".join(pieces)

    def _print_Mul(self, expr):
        if expr.could_extract_minus_sign():
            return "- " + self.paren(-expr, PRECEDENCE["Mul"])
        numerator, denominator = sp.fraction(expr, exact=True)
        if denominator != 1:
            return f"frac({self._print(numerator)}, {self._print(denominator)})"
        factors = list(expr.as_ordered_factors())
        printed = []
        for i, factor in enumerate(factors):
            last = i == len(factors) - 1
            wrap = precedence(factor) < PRECEDENCE["Mul"] or (isinstance(factor, sp.Sum) and not last)
            text = self._print(factor)
            printed.append(f"({text})" if wrap else text)
        return " ".join(printed)

    def _print_Pow(self, expr):
        base, exponent = expr.as_base_exp()
        if exponent == sp.S.Half:
            return f"sqrt({self._print(base)})"
        if exponent.is_number and exponent < 0:
            positive = base if exponent == -1 else sp.Pow(base, -exponent, evaluate=False)
            return f"frac(1, {self._print(positive)})"
        negative = base.is_number and base < 0
        atomic = (base.is_Atom or isinstance(base, (sp.Indexed, sp.Function))) and not negative
        base_text = self._print(base) if atomic else f"({self._print(base)})"
        return f"{base_text}^({self._print(exponent)})"

    def _print_Sum(self, expr):
        text = self.paren(expr.function, PRECEDENCE["Mul"])
        for variable, low, high in expr.limits:
            text = f"sum_({self._print(variable)} = {self._print(low)})^({self._print(high)}) {text}"
        return text

    def _print_Piecewise(self, expr):
        rows = []
        for value, condition in expr.args:
            when = '"otherwise"' if condition == sp.true else '"if " ' + self._print(condition)
            rows.append(f"{self._print(value)} & {when}")
        return "cases(" + ", ".join(rows) + ")"

    def _print_Relational(self, expr):
        return f"{self._print(expr.lhs)} {RELATIONS[expr.rel_op]} {self._print(expr.rhs)}"

    def _print_And(self, expr):
        return ' "and" '.join(self.paren(arg, PRECEDENCE["And"] + 1) for arg in expr.args)

    def _print_Or(self, expr):
        return ' "or" '.join(self.paren(arg, PRECEDENCE["Or"] + 1) for arg in expr.args)

    def _print_KroneckerDelta(self, expr):
        return f"delta_({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Max(self, expr):
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr):
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Mod(self, expr):
        left, right = (self.paren(arg, PRECEDENCE["Mul"]) for arg in expr.args)
        return f"{left} mod {right}"

    def _print_Function(self, expr):
        name = type(expr).__name__
        head = FUNCTIONS.get(name, f'op("{name}")')
        return head + "(" + ", ".join(self._print(a) for a in expr.args) + ")"


def typst_names(derivation: Derivation) -> dict[str, str]:
    """Each variable's identifier -> its typst form."""
    return {var.name: latex_name_to_typst(var.latex) for var in derivation.variables}


def equation_typst(equation: Equation, derivation: Derivation, names: dict[str, str] | None = None) -> str:
    """``lhs = rhs`` in typst math (without the ``$``), without the equation number."""
    printer = TypstPrinter(names if names is not None else typst_names(derivation))
    return f"{printer.doprint(equation.lhs)} = {printer.doprint(equation.rhs)}"


def dims_typst(name: str, derivation: Derivation, names: dict[str, str] | None = None) -> str:
    """``hat(x): (N, D) = (4, 5)`` in typst math, the twin of ``printing.dims_latex``."""
    var = derivation.variable(name)
    shown = (names or typst_names(derivation))[name]
    if not var.axes:
        return f'{shown} " scalar"'
    trail = "," if len(var.axes) == 1 else ""
    axes = ", ".join(symbol_typst(axis) for axis in var.axes)
    sizes = ", ".join(str(derivation.sizes[axis]) for axis in var.axes)
    return f"{shown}: ({axes}{trail}) = ({sizes}{trail})"


def equation_dims_typst(
    equation: Equation, derivation: Derivation, names: dict[str, str] | None = None
) -> tuple[str, ...]:
    """One ``dims_typst`` per variable of the equation: the defined one first, then what it reads."""
    names = names if names is not None else typst_names(derivation)
    order = [equation.defines, *[n for n in equation.uses if n != equation.defines]]
    return tuple(dims_typst(n, derivation, names) for n in order)
