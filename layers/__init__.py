"""The spec's layer API, pure NumPy: forward returns ``(out, cache)``, backward returns
gradients in input order. Naive loops for reading, vectorized twins for speed."""

from layers.batchnorm import batchnorm_backward, batchnorm_backward_alt, batchnorm_forward
from layers.conv import conv_backward_fast, conv_backward_naive, conv_forward_fast, conv_forward_naive
from layers.gradient_check import eval_numerical_gradient_array, rel_error
from layers.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from layers.pool import (
    max_pool_backward_fast,
    max_pool_backward_naive,
    max_pool_forward_fast,
    max_pool_forward_naive,
)
from layers.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

__all__ = [
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "conv_forward_naive",
    "conv_backward_naive",
    "conv_forward_fast",
    "conv_backward_fast",
    "max_pool_forward_naive",
    "max_pool_backward_naive",
    "max_pool_forward_fast",
    "max_pool_backward_fast",
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
    "eval_numerical_gradient_array",
    "rel_error",
]
