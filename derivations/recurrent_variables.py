"""The variables of parts 4 (vanilla RNN) and 5 (LSTM), one step and a sequence: names, typeset
forms, axes. Gradients are named "d" + name; L is the loss the upstream gradients belong to."""

from __future__ import annotations

from derivations.model import Variable
from derivations.recurrent_common import LOSS, grad

GATE_MEANINGS = {"i": "input gate", "f": "forget gate", "o": "output gate", "g": "block input"}


def _gates(axes: tuple[str, ...]) -> tuple[Variable, ...]:
    return tuple(Variable(gate, gate, axes, meaning) for gate, meaning in GATE_MEANINGS.items())


RNN_STEP_VARIABLES = (
    Variable("x", "x", ("N", "D"), "input of this step"),
    Variable("prev_h", r"h_{prev}", ("N", "H"), "previous hidden state"),
    Variable("Wx", r"W_{x}", ("D", "H"), "input-to-hidden weights"),
    Variable("Wh", r"W_{h}", ("H", "H"), "hidden-to-hidden weights"),
    Variable("b", "b", ("H",), "bias"),
    Variable("x_Wx", r"x W_{x}", ("N", "H"), "input term of Eqn 4.0 (a graph node)"),
    Variable("h_Wh", r"h_{prev} W_{h}", ("N", "H"), "recurrent term of Eqn 4.0 (a graph node)"),
    Variable("a", "a", ("N", "H"), "pre-activation"),
    Variable("next_h", r"h_{next}", ("N", "H"), "next hidden state"),
    grad("next_h", r"h_{next}", ("N", "H"), "upstream gradient"),
    LOSS,
    grad("a", "a", ("N", "H")),
    grad("x", "x", ("N", "D")),
    grad("prev_h", r"h_{prev}", ("N", "H")),
    grad("Wx", r"W_{x}", ("D", "H")),
    grad("Wh", r"W_{h}", ("H", "H")),
    grad("b", "b", ("H",)),
)
RNN_SEQUENCE_VARIABLES = (
    Variable("x", "x", ("N", "T", "D"), "inputs of all steps"),
    Variable("h0", r"h_{init}", ("N", "H"), "initial hidden state (the spec's h0)"),
    Variable("Wx", r"W_{x}", ("D", "H"), "input-to-hidden weights, shared by all steps"),
    Variable("Wh", r"W_{h}", ("H", "H"), "hidden-to-hidden weights, shared by all steps"),
    Variable("b", "b", ("H",), "bias, shared by all steps"),
    Variable("h_prev", r"h_{prev}", ("N", "T", "H"), "the state entering each step"),
    Variable("h", "h", ("N", "T", "H"), "hidden states of all steps"),
    grad("h", "h", ("N", "T", "H"), "upstream gradient of every hidden state"),
    LOSS,
    Variable("dh_total", r"\frac{\partial L}{\partial h}^{tot}", ("N", "T", "H"),
             "total gradient of each hidden state: its own plus the one from the next step"),
    grad("a", "a", ("N", "T", "H"), "gradient of each step's pre-activation"),
    grad("x", "x", ("N", "T", "D")),
    grad("Wx", r"W_{x}", ("D", "H")),
    grad("Wh", r"W_{h}", ("H", "H")),
    grad("b", "b", ("H",)),
    grad("h0", r"h_{init}", ("N", "H")),
)
LSTM_STEP_VARIABLES = (
    Variable("x", "x", ("N", "D"), "input of this step"),
    Variable("prev_h", r"h_{prev}", ("N", "H"), "previous hidden state"),
    Variable("prev_c", r"c_{prev}", ("N", "H"), "previous cell state"),
    Variable("Wx", r"W_{x}", ("D", "4H"), "input-to-hidden weights, blocks i, f, o, g"),
    Variable("Wh", r"W_{h}", ("H", "4H"), "hidden-to-hidden weights, blocks i, f, o, g"),
    Variable("b", "b", ("4H",), "bias, blocks i, f, o, g"),
    Variable("x_Wx", r"x W_{x}", ("N", "4H"), "input term of Eqn 5.0 (a graph node)"),
    Variable("h_Wh", r"h_{prev} W_{h}", ("N", "4H"), "recurrent term of Eqn 5.0 (a graph node)"),
    Variable("a", "a", ("N", "4H"), "activation of all four gates"),
    *(Variable("a_" + gate, f"a_{{{gate}}}", ("N", "H"), f"block of a for the {meaning}")
      for gate, meaning in GATE_MEANINGS.items()),
    *_gates(("N", "H")),
    Variable("f_c", r"f \odot c_{prev}", ("N", "H"), "kept part of the old cell (a graph node)"),
    Variable("i_g", r"i \odot g", ("N", "H"), "written candidate (a graph node)"),
    Variable("next_c", r"c_{next}", ("N", "H"), "next cell state"),
    Variable("tanh_c", r"\tanh(c_{next})", ("N", "H"), "squashed cell (a graph node)"),
    Variable("next_h", r"h_{next}", ("N", "H"), "next hidden state"),
    grad("next_h", r"h_{next}", ("N", "H"), "upstream gradient of next_h"),
    grad("next_c", r"c_{next}", ("N", "H"), "upstream gradient of next_c"),
    LOSS,
    grad("o", "o", ("N", "H")),
    Variable("dc_total", r"\frac{\partial L}{\partial c_{next}}^{tot}", ("N", "H"),
             "total gradient of next_c: upstream plus through next_h"),
    *(grad(gate, gate, ("N", "H")) for gate in ("i", "f", "g")),
    grad("prev_c", r"c_{prev}", ("N", "H")),
    *(grad("a_" + gate, f"a_{{{gate}}}", ("N", "H")) for gate in GATE_MEANINGS),
    grad("a", "a", ("N", "4H")),
    grad("x", "x", ("N", "D")),
    grad("prev_h", r"h_{prev}", ("N", "H")),
    grad("Wx", r"W_{x}", ("D", "4H")),
    grad("Wh", r"W_{h}", ("H", "4H")),
    grad("b", "b", ("4H",)),
)

LSTM_SEQUENCE_VARIABLES = (
    Variable("x", "x", ("N", "T", "D"), "inputs of all steps"),
    Variable("h0", r"h_{init}", ("N", "H"), "initial hidden state (the spec's h0)"),
    Variable("Wx", r"W_{x}", ("D", "4H"), "input-to-hidden weights, shared by all steps"),
    Variable("Wh", r"W_{h}", ("H", "4H"), "hidden-to-hidden weights, shared by all steps"),
    Variable("b", "b", ("4H",), "bias, shared by all steps"),
    Variable("h_prev", r"h_{prev}", ("N", "T", "H"), "hidden state entering each step"),
    Variable("c_prev", r"c_{prev}", ("N", "T", "H"), "cell state entering each step"),
    Variable("a", "a", ("N", "T", "4H"), "activation of each step"),
    *_gates(("N", "T", "H")),
    Variable("c", "c", ("N", "T", "H"), "cell states of all steps"),
    Variable("h", "h", ("N", "T", "H"), "hidden states of all steps"),
    grad("h", "h", ("N", "T", "H"), "upstream gradient of every hidden state"),
    LOSS,
    Variable("dh_total", r"\frac{\partial L}{\partial h}^{tot}", ("N", "T", "H"),
             "total gradient of each hidden state: its own plus the one from the next step"),
    Variable("dc_total", r"\frac{\partial L}{\partial c}^{tot}", ("N", "T", "H"),
             "total gradient of each cell state: through h_t plus the one from the next step"),
    *(grad("a_" + gate, f"a_{{{gate}}}", ("N", "T", "H")) for gate in GATE_MEANINGS),
    grad("a", "a", ("N", "T", "4H")),
    grad("x", "x", ("N", "T", "D")),
    grad("Wx", r"W_{x}", ("D", "4H")),
    grad("Wh", r"W_{h}", ("H", "4H")),
    grad("b", "b", ("4H",)),
    grad("h0", r"h_{init}", ("N", "H")),
)
