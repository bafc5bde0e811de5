"""Proof that a derivation's closed-form gradients are right, and a numeric cross-check.

``prove`` builds the derivation's forward equations on arrays of sympy
symbols, forms ``L = sum(d<out> * out)`` with a symbolic upstream gradient,
lets sympy differentiate ``L`` with respect to every input entry and compares
with each backward equation that defines ``d<input>``:

1. exactly, when ``expand`` (or ``cancel``) of the difference is zero;
2. otherwise at several random rational points, where every input is an exact
   rational and the difference is evaluated to 60 significant digits.

Closed forms that branch on values (max pooling's argmax) cannot be evaluated
on symbols; they are compared at the rational points only. ``Check.method``
says which route each gradient took.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping

import numpy as np
import sympy as sp

from derivations.evaluate import evaluate
from derivations.model import Check, Derivation, Verification

EXACT = "exact simplification"
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


def _exactly_zero(expr: sp.Expr) -> bool:
    return sp.expand(expr) == 0 or sp.cancel(sp.together(expr)) == 0


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
        checks = _gradient_checks(derivation, trace, auto, _exactly_zero, EXACT)
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
