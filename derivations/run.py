"""Run a topic for a configuration: seeded inputs, forward, backward, numerical gradients.

The result holds every array the app plots and the exporters report, so a
configuration is computed once and cached by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from derivations.topic import Config, Topic
from layers.gradient_check import eval_numerical_gradient_array, rel_error, sampled_numerical_gradient

# arrays with more entries than this get a sampled numerical check (stated in the result)
FULL_CHECK_LIMIT = 4096
SAMPLED_COORDINATES = 256


@dataclass(frozen=True)
class GradientCheck:
    """Analytic against numerical gradient for one input."""

    name: str  # "dx"
    analytic: np.ndarray  # the checked entries, flattened when sampled
    numerical: np.ndarray  # same shape as analytic
    rel_error: float  # the spec's relative error over the checked entries
    sampled: int  # 0 for a full check, else the number of random coordinates checked


@dataclass(frozen=True)
class RunResult:
    config: Config
    arrays: dict[str, np.ndarray]  # every forward input
    outputs: dict[str, np.ndarray]  # "out" or "next_h"/"next_c"
    upstream: dict[str, np.ndarray]  # "d" + output
    gradients: dict[str, np.ndarray]  # "d" + input
    checks: tuple[GradientCheck, ...]


def make_upstream(topic: Topic, config: Config, outputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Seeded random upstream gradients, one per output, independent of the input draw."""
    rng = np.random.default_rng([config.seed, 1])
    return {"d" + name: rng.standard_normal(outputs[name].shape) for name in topic.outputs}


def loss_function(topic: Topic, config: Config, arrays, upstream, wrt: str):
    """``x -> (sum_k f_k(x) * d_k)`` packaged for ``eval_numerical_gradient_array`` with df = 1."""

    def weighted_outputs(value: np.ndarray) -> np.ndarray:
        outputs, _ = topic.forward(config, {**arrays, wrt: value})
        total = sum(np.sum(outputs[name] * upstream["d" + name]) for name in topic.outputs)
        return np.array(total)

    return weighted_outputs


def gradient_checks(topic: Topic, config: Config, arrays, upstream, gradients, h: float = 1e-5):
    """Numerical gradient of every input, full for small arrays, sampled for large ones."""
    checks = []
    rng = np.random.default_rng([config.seed, 2])
    if topic.reference_impl is not None:
        config = Config(config.layer, config.values, config.seed, topic.reference_impl)
    for name in topic.inputs:
        f = loss_function(topic, config, arrays, upstream, name)
        point = np.array(arrays[name], dtype=np.float64)  # perturbed in place: work on a copy
        analytic = gradients["d" + name]
        if point.size <= FULL_CHECK_LIMIT:
            numerical = eval_numerical_gradient_array(f, point, np.array(1.0), h=h)
            checks.append(GradientCheck("d" + name, analytic, numerical, rel_error(analytic, numerical), 0))
        else:
            where, numerical = sampled_numerical_gradient(f, point, np.array(1.0), SAMPLED_COORDINATES, rng, h)
            picked = analytic[where]
            checks.append(GradientCheck("d" + name, picked, numerical, rel_error(picked, numerical), len(numerical)))
    return tuple(checks)


def run_topic(topic: Topic, config: Config, check: bool = True) -> RunResult:
    """Inputs, forward, backward and (when ``check``) the numerical gradient check."""
    rng = np.random.default_rng(config.seed)
    arrays = topic.make_inputs(config, rng)
    outputs, cache = topic.forward(config, arrays)
    upstream = make_upstream(topic, config, outputs)
    gradients = topic.backward(config, upstream, cache)
    checks = gradient_checks(topic, config, arrays, upstream, gradients) if check else ()
    return RunResult(config, arrays, outputs, upstream, gradients, checks)
