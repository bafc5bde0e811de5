"""Proof that a derivation's closed-form gradients are right, and a numeric cross-check.

``prove`` builds the derivation's forward equations on arrays of sympy
symbols, forms ``L = sum(d<out> * out)`` with a symbolic upstream gradient,
lets sympy differentiate ``L`` with respect to every input entry and compares
with each backward equation that defines ``d<input>``:

1. exactly, when ``expand`` (or ``cancel``) of the difference is zero;
2. otherwise by exact rational arithmetic at several random points, with each
   ``exp(...)`` and ``tanh(...)`` of the difference standing for a free symbol
   (a positive number, a number in (-1, 1)): the difference is then a rational
   function, and if it vanishes for free symbols it vanishes for the true values.
   This is how sigmoid gates are proven: sympy's derivative of 1/(1+e^{-a}),
   e^{-a}/(1+e^{-a})^2, equals sigma(1-sigma) only after ``cancel``, which takes
   seconds for one LSTM step, while the points take milliseconds;
3. otherwise at several random rational points, where every input is an exact
   rational and the difference is evaluated to 60 significant digits.

Closed forms that branch on values (max pooling's argmax) cannot be evaluated
on symbols; they are compared at the rational points only. ``Check.method``
says which route each gradient took.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp

from derivations.evaluate import evaluate
from derivations.model import Check, Derivation, Verification

EXACT = "exact simplification"
ALGEBRAIC_POINTS = "exact rational points, exp and tanh as free symbols"
POINTS = "rational points, 60 digits"
POINT_COUNT = 3


def symbolic_arrays(derivation: Derivation, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """An object array of fresh real symbols per name, e.g. ``x_0_1`` for ``x[0, 1]``."""
    arrays = {}
    for name in names:
        shape = derivation.shape(name)
        cells = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            label = "_".join([name, *map(str, index)])
            cells[index] = sp.Symbol(label, real=True)
        arrays[name] = cells
    return arrays


def _leaf_names(derivation: Derivation) -> tuple[str, ...]:
    upstream = tuple("d" + out for out in derivation.outputs)
    return (*derivation.inputs, *derivation.constants, *upstream)


def _gradient_checks(derivation, trace, auto_gradients, difference_is_zero, method):
    targets = {"d" + name for name in derivation.inputs}
    checks = []
    for equation, value in trace:
        if equation.defines not in targets:
            continue
        auto = auto_gradients[equation.defines]
        bad = [idx for idx in np.ndindex(value.shape) if not difference_is_zero(auto[idx] - value[idx])]
        detail = "" if not bad else f"differs at {len(bad)} of {value.size} entries, first {bad[0]}"
        checks.append(Check(equation.number, equation.defines, not bad, method, detail))
    return checks


def _symbolic_loss(derivation: Derivation, env) -> sp.Expr:
    loss = sp.S.Zero
    for out in derivation.outputs:
        loss += sum((env["d" + out] * env[out]).ravel(), sp.S.Zero)
    return loss


def _auto_gradients(derivation, loss, arrays):
    gradients = {}
    for name in derivation.inputs:
        cells = arrays[name]
        grad = np.empty(cells.shape, dtype=object)
        for index in np.ndindex(cells.shape):
            grad[index] = sp.diff(loss, cells[index])
        gradients["d" + name] = grad
    return gradients


def _opaque(expr: sp.Expr) -> tuple[sp.Expr, dict[sp.Dummy, type]]:
    """``expr`` with each ``exp(...)`` and ``tanh(...)`` replaced by a fresh symbol (outermost
    calls first), and each such symbol's function. Zero for free symbols implies zero for the
    true values; the converse can fail (exp(a) exp(b) = exp(a + b) is not used), and then the
    60-digit points decide."""
    calls = {call: sp.Dummy() for call in expr.atoms(sp.exp, sp.tanh)}
    return expr.xreplace(calls), {symbol: call.func for call, symbol in calls.items()}


def _exactly_zero(expr: sp.Expr) -> bool:
    if expr.has(sp.exp):  # sigmoids: only cancel would do, and it takes seconds (see above)
        return False
    opaque, _ = _opaque(expr)
    return sp.expand(opaque) == 0 or sp.cancel(sp.together(opaque)) == 0


def _zero_at_algebraic_points(rng: random.Random):
    """A zero test: the opaque difference (``_opaque``) is exactly 0 at POINT_COUNT random points."""

    def value(symbol, functions):
        if functions.get(symbol) is sp.exp:
            return sp.Rational(rng.randint(1, 400), rng.randint(7, 97))  # exp(...) > 0
        if functions.get(symbol) is sp.tanh:
            return sp.Rational(rng.randint(-96, 96), 97)  # tanh(...) in (-1, 1)
        return sp.Rational(rng.randint(-400, 400), rng.randint(7, 97))

    def is_zero(expr: sp.Expr) -> bool:
        opaque, functions = _opaque(expr)
        points = ({s: value(s, functions) for s in opaque.free_symbols} for _ in range(POINT_COUNT))
        return all(opaque.xreplace(point) == 0 for point in points)

    return is_zero


def _random_point(symbols, rng: random.Random) -> dict:
    # small rationals with distinct values: ties in max pooling have probability ~0
    return {s: sp.Rational(rng.randint(-400, 400), rng.randint(7, 97)) for s in symbols}


def prove(derivation: Derivation, seed: int = 0) -> tuple[Check, ...]:
    """Compare every closed-form gradient of ``derivation`` with sympy's derivative."""
    leaves = _leaf_names(derivation)
    arrays = symbolic_arrays(derivation, leaves)
    forward_env, _ = evaluate(derivation, arrays, mode="symbolic", stages=("forward",))
    loss = _symbolic_loss(derivation, forward_env)
    auto = _auto_gradients(derivation, loss, arrays)
    try:
        _, trace = evaluate(derivation, arrays, mode="symbolic")
        for is_zero, method in ((_exactly_zero, EXACT),
                                (_zero_at_algebraic_points(random.Random(seed)), ALGEBRAIC_POINTS)):
            checks = _gradient_checks(derivation, trace, auto, is_zero, method)
            if all(check.passed for check in checks):
                return tuple(checks)
    except TypeError:  # a closed form branches on values: symbols cannot be compared
        pass
    return _prove_at_points(derivation, arrays, auto, seed)


def _substituted(cells: np.ndarray, point: dict) -> np.ndarray:
    """Every entry of an object array with the symbols replaced by the point's rationals."""
    out = np.empty(cells.shape, dtype=object)
    for index in np.ndindex(cells.shape):
        out[index] = sp.sympify(cells[index]).xreplace(point)
    return out


def _prove_at_points(derivation, arrays, auto, seed) -> tuple[Check, ...]:
    rng = random.Random(seed)
    symbols = [cell for cells in arrays.values() for cell in cells.ravel()]
    per_gradient: dict[tuple[str, str], Check] = {}
    for _ in range(POINT_COUNT):
        point = _random_point(symbols, rng)
        exact_arrays = {name: _substituted(cells, point) for name, cells in arrays.items()}
        _, trace = evaluate(derivation, exact_arrays, mode="symbolic")
        auto_here = {name: _substituted(grad, point) for name, grad in auto.items()}

        def tiny(expr):
            return abs(sp.N(expr, 60)) < sp.Float("1e-45", 60)

        for check in _gradient_checks(derivation, trace, auto_here, tiny, POINTS):
            key = (check.equation, check.gradient)
            if key not in per_gradient or per_gradient[key].passed:
                per_gradient[key] = check
    return tuple(per_gradient.values())


def numeric_errors(
    derivation: Derivation, arrays: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray]
) -> dict[str, float]:
    """Relative error (the spec's) between the equations evaluated in floats and ``reference``
    (the outputs and gradients computed by ``layers``), per name present in both."""
    from layers.gradient_check import rel_error

    env, _ = evaluate(derivation, arrays, mode="numeric", stages=("forward", "backward", "aside"))
    return {name: rel_error(env[name], ref) for name, ref in reference.items() if name in env}


def timed_verification(
    key: str,
    proof_derivation: Derivation,
    user_derivation: Derivation,
    user_arrays: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
) -> Verification:
    """``prove`` on the small symbolic instance plus ``numeric_errors`` on the user's arrays."""
    start = time.perf_counter()
    checks = prove(proof_derivation)
    errors = numeric_errors(user_derivation, user_arrays, reference)
    return Verification(key, dict(proof_derivation.sizes), checks, time.perf_counter() - start, errors)


def instance_label(sizes: Mapping[str, object]) -> str:
    """``"N=1, C=1, H=3"``: names a proof instance in ``Check.detail``."""
    return ", ".join(f"{name}={value}" for name, value in sizes.items())


def verify_on_instances(
    key: str,
    proofs: Sequence[tuple[str, Derivation]],
    user_derivation: Derivation,
    user_arrays: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
) -> Verification:
    """``prove`` on several labelled small instances, then the equations in floats at the user's arrays.

    For topics whose shape parameters change the index arithmetic (stride, padding, overlapping
    windows), one instance cannot cover every case. Every check's ``detail`` starts with its
    instance's label. ``numeric_errors`` has one entry per equation defining a name of
    ``reference``: the name itself for its last definition and ``"name (Eqn k)"`` for an earlier
    one (a variable two routes define, like conv's dw from the loops and from im2col)."""
    from layers.gradient_check import rel_error

    start = time.perf_counter()
    checks = []
    for label, proof in proofs:
        for check in prove(proof):
            detail = f"{label}: {check.detail}" if check.detail else label
            checks.append(dataclasses.replace(check, detail=detail))
    _, trace = evaluate(user_derivation, user_arrays, mode="numeric", stages=("forward", "backward", "aside"))
    defined = [(eq, value) for eq, value in trace if eq.defines in reference]
    last = {eq.defines: eq.number for eq, _ in defined}
    errors = {}
    for eq, value in defined:
        name = eq.defines if last[eq.defines] == eq.number else f"{eq.defines} (Eqn {eq.number})"
        errors[name] = rel_error(value, reference[eq.defines])
    return Verification(key, dict(proofs[0][1].sizes), tuple(checks), time.perf_counter() - start, errors)
