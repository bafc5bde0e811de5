"""Relative error of the numerical gradient against the finite-difference step h; pure.

The same centred difference as the gradient check, repeated for steps from 1e-1 down to
1e-10 on a fixed random sample of coordinates per input (the same coordinates for every
h, so the curves compare like with like and the sweep stays cheap at any size).
"""

from __future__ import annotations

import numpy as np

from derivations.run import RunResult, loss_function
from derivations.topic import Topic
from layers.gradient_check import rel_error, sampled_numerical_gradient

STEPS = tuple(10.0**-k for k in range(1, 11))  # 1e-1 .. 1e-10
COORDINATES = 12  # sampled entries per input


def h_sweep(topic: Topic, result: RunResult, steps=STEPS,
            coordinates: int = COORDINATES) -> dict[str, list[float]]:
    """``"d" + input`` -> relative error at each step of ``steps`` (same order).

    Inputs: the topic and its ``RunResult`` (arrays, upstream and analytic gradients).
    Each input is checked at ``min(coordinates, size)`` random entries drawn from a
    generator seeded by the configuration's seed.
    """
    config = result.config
    errors: dict[str, list[float]] = {}
    for name in topic.inputs:
        f = loss_function(topic, config, result.arrays, result.upstream, name)
        point = np.array(result.arrays[name], dtype=np.float64)  # perturbed in place: a copy
        analytic = result.gradients["d" + name]
        errors["d" + name] = []
        for h in steps:
            rng = np.random.default_rng([config.seed, 3])  # same coordinates for every h
            where, numerical = sampled_numerical_gradient(f, point, np.array(1.0), coordinates, rng, h)
            errors["d" + name].append(rel_error(analytic[where], numerical))
    return errors
