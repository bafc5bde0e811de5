"""Computational graphs of parts 4 and 5: the RNN and LSTM steps, and both sequences unrolled
over the user's T (folded beyond ``MAX_SHOWN_STEPS`` steps into one node).

Node variables are names of the topic's derivation; equation numbers are those of
``derivations/rnn.py`` and ``derivations/lstm.py``. Nodes whose value feeds several nodes
(the shared weights, each h_t and c_t of a sequence) are where gradients add. Each graph ends
in the loss L = sum(upstream * output) over the outputs, so that an output that also feeds
another node (the LSTM's next_c, every h_t of a sequence) shows as the branch it is.
"""

from __future__ import annotations

from derivations.model import Graph, Node
from derivations.topic import Config

MAX_SHOWN_STEPS = 4  # longer sequences show steps 0, 1 and T-1 and fold the rest


def _loss(*outputs: str) -> tuple[Node, list[tuple[str, str]]]:
    """The loss node L and its edges from the given output nodes."""
    node = Node("L", "L", "loss: sum of upstream gradient * output", "output")
    return node, [(output, "L") for output in outputs]


def rnn_step_graph(config: Config) -> Graph:
    nodes = (
        Node("x", "x", "input", "input", None, "4.3"),
        Node("prev_h", "prev_h", "previous state", "input", None, "4.4"),
        Node("Wx", "Wx", "weights", "param", None, "4.5"),
        Node("Wh", "Wh", "weights", "param", None, "4.6"),
        Node("b", "b", "bias", "param", None, "4.7"),
        Node("x_Wx", "x_Wx", "matmul x Wx", "op", "4.0", "4.2"),
        Node("h_Wh", "h_Wh", "matmul prev_h Wh", "op", "4.0", "4.2"),
        Node("a", "a", "add (+ b)", "op", "4.0", "4.2"),
        Node("next_h", "next_h", "tanh", "output", "4.1", None),
    )
    edges = [("x", "x_Wx"), ("Wx", "x_Wx"), ("prev_h", "h_Wh"), ("Wh", "h_Wh"), ("x_Wx", "a"), ("h_Wh", "a"),
             ("b", "a"), ("a", "next_h")]
    loss, loss_edges = _loss("next_h")
    return Graph("Vanilla RNN: one step", (*nodes, loss), tuple(edges + loss_edges))


GATES = (("i", "sigmoid", "5.2", "5.8", "5.9"), ("f", "sigmoid", "5.2b", "5.8b", "5.9b"),
         ("o", "sigmoid", "5.2c", "5.6", "5.9c"), ("g", "tanh", "5.3", "5.8c", "5.9d"))


def lstm_step_graph(config: Config) -> Graph:
    nodes = [
        Node("x", "x", "input", "input", None, "5.10"),
        Node("prev_h", "prev_h", "previous state", "input", None, "5.11"),
        Node("prev_c", "prev_c", "previous cell", "input", None, "5.8d"),
        Node("Wx", "Wx", "weights", "param", None, "5.12"),
        Node("Wh", "Wh", "weights", "param", None, "5.12b"),
        Node("b", "b", "bias", "param", None, "5.12c"),
        Node("x_Wx", "x_Wx", "matmul x Wx", "op", "5.0", "5.9e"),
        Node("h_Wh", "h_Wh", "matmul prev_h Wh", "op", "5.0", "5.9e"),
        Node("a", "a", "add (+ b)", "op", "5.0", "5.9e"),
    ]
    edges = [("x", "x_Wx"), ("Wx", "x_Wx"), ("prev_h", "h_Wh"), ("Wh", "h_Wh"), ("x_Wx", "a"), ("h_Wh", "a"),
             ("b", "a")]
    for block, (gate, op, forward_eq, gate_grad_eq, block_grad_eq) in enumerate(GATES):
        split = "5.1" + ("", "b", "c", "d")[block]
        columns = ("0..H-1", "H..2H-1", "2H..3H-1", "3H..4H-1")[block]
        nodes += [Node("a_" + gate, "a_" + gate, f"split: columns {columns}", "op", split, block_grad_eq),
                  Node(gate, gate, op, "op", forward_eq, gate_grad_eq)]
        edges += [("a", "a_" + gate), ("a_" + gate, gate)]
    nodes += [
        Node("f_c", "f_c", "multiply f * prev_c", "op", "5.4", "5.7"),
        Node("i_g", "i_g", "multiply i * g", "op", "5.4", "5.7"),
        Node("next_c", "next_c", "add", "output", "5.4", "5.7"),
        Node("tanh_c", "tanh_c", "tanh", "op", "5.5", None),
        Node("next_h", "next_h", "multiply o * tanh(next_c)", "output", "5.5", None),
    ]
    edges += [("f", "f_c"), ("prev_c", "f_c"), ("i", "i_g"), ("g", "i_g"), ("f_c", "next_c"),
              ("i_g", "next_c"), ("next_c", "tanh_c"), ("tanh_c", "next_h"), ("o", "next_h")]
    loss, loss_edges = _loss("next_h", "next_c")
    return Graph("LSTM: one step", (*nodes, loss), tuple(edges + loss_edges))


def shown_steps(steps: int) -> tuple[tuple[int, ...], str]:
    """The steps drawn for a sequence of ``steps``, and what was folded ("" if nothing)."""
    if steps <= MAX_SHOWN_STEPS:
        return tuple(range(steps)), ""
    hidden = steps - 3
    text = (f"steps t = 2..{steps - 2} ({hidden} step{'s' * (hidden > 1)}) are folded into one node; "
            "each repeats the step drawn before it with the same weights")
    return (0, 1, steps - 1), text


def _fold_node(steps: int) -> Node:
    return Node("fold", "h", f"steps 2..{steps - 2} (folded)", "op")


def rnn_sequence_graph(config: Config) -> Graph:
    steps = int(config["T"])
    shown, folded = shown_steps(steps)
    nodes = [Node("h0", "h0", "initial state", "input", None, "4.11"),
             Node("Wx", "Wx", "weights, shared", "param", None, "4.10"),
             Node("Wh", "Wh", "weights, shared", "param", None, "4.10b"),
             Node("b", "b", "bias, shared", "param", None, "4.10c")]
    edges = []
    previous = "h0"
    for step in shown:
        if folded and step == steps - 1:
            nodes.append(_fold_node(steps))
            edges += [(previous, "fold"), ("Wx", "fold"), ("Wh", "fold"), ("b", "fold")]
            previous = "fold"
        x_id, h_id = f"x_t{step}", f"h_t{step}"
        nodes += [Node(x_id, "x", f"input x[:, {step}]", "input", None, "4.9c"),
                  Node(h_id, "h", f"h[:, {step}] = tanh(x_t Wx + h_prev Wh + b)", "output", "4.8b", "4.9")]
        edges += [(x_id, h_id), ("Wx", h_id), ("Wh", h_id), ("b", h_id), (previous, h_id)]
        previous = h_id
    loss, loss_edges = _loss(*(f"h_t{step}" for step in shown))
    return Graph(f"Vanilla RNN unrolled over T = {steps}", (*nodes, loss), tuple(edges + loss_edges), folded)


def lstm_sequence_graph(config: Config) -> Graph:
    steps = int(config["T"])
    shown, folded = shown_steps(steps)
    nodes = [Node("h0", "h0", "initial state (c starts at 0)", "input", None, "5.15d"),
             Node("Wx", "Wx", "weights, shared", "param", None, "5.15"),
             Node("Wh", "Wh", "weights, shared", "param", None, "5.15b"),
             Node("b", "b", "bias, shared", "param", None, "5.15c")]
    edges = []
    previous_h, previous_c = "h0", None
    for step in shown:
        if folded and step == steps - 1:
            nodes.append(_fold_node(steps))
            edges += [(previous_h, "fold"), (previous_c, "fold")]
            edges += [(param, "fold") for param in ("Wx", "Wh", "b")]
            previous_h = previous_c = "fold"
        x_id, a_id, c_id, h_id = (f"{name}_t{step}" for name in ("x", "a", "c", "h"))
        nodes += [Node(x_id, "x", f"input x[:, {step}]", "input", None, "5.14h"),
                  Node(a_id, "a", "x_t Wx + h_prev Wh + b; gates i, f, o, g", "op", "5.13c", "5.14g"),
                  Node(c_id, "c", f"c[:, {step}] = f * c_prev + i * g", "op", "5.13h", "5.14b"),
                  Node(h_id, "h", f"h[:, {step}] = o * tanh(c_t)", "output", "5.13i", "5.14")]
        edges += [(x_id, a_id), ("Wx", a_id), ("Wh", a_id), ("b", a_id), (previous_h, a_id), (a_id, c_id),
                  (a_id, h_id), (c_id, h_id)]
        if previous_c is not None:
            edges.append((previous_c, c_id))
        previous_h, previous_c = h_id, c_id
    loss, loss_edges = _loss(*(f"h_t{step}" for step in shown))
    return Graph(f"LSTM unrolled over T = {steps}", (*nodes, loss), tuple(edges + loss_edges), folded)
