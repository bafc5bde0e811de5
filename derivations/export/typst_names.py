"""Typst names for the derivation's variables, from their ``Variable.latex``, and for sympy symbols.

Typst math is not LaTeX, but a variable's typeset name uses a small LaTeX subset
(fractions, accents, Greek letters, sub- and superscripts, primes, thin spaces),
which ``latex_name_to_typst`` translates exactly; anything else raises a ValueError
naming the construct, so a new name cannot silently vanish from the PDF.
"""

from __future__ import annotations

import re

from sympy.printing.conventions import split_super_sub

GREEK = {name: name for name in (
    "alpha beta gamma delta zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon "
    "chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega").split()}
GREEK.update(epsilon="epsilon.alt", varepsilon="epsilon", phi="phi.alt", varphi="phi", vartheta="theta.alt",
             lamda="lambda")
SYMBOL_COMMANDS = {**GREEK, "partial": "partial", "ell": "ell", "nabla": "nabla", "infty": "infinity",
                   "prime": "prime", "odot": "dot.circle", "cdot": "dot.op", "times": "times",
                   "circ": "compose", "top": "top", "intercal": "top", "quad": "quad", "qquad": "wide",
                   "ldots": "dots.h", "cdots": "dots.c", "in": "in", "to": "arrow.r", "leftarrow": "arrow.l",
                   "dagger": "dagger",
                   **{op: op for op in "tanh sinh cosh sin cos tan exp log ln max min arg det".split()}}
SPACES = {",": "thin", ";": "med", ":": "med", " ": "space", "!": ""}
ACCENTS = {"hat": "hat", "widehat": "hat", "tilde": "tilde", "widetilde": "tilde", "bar": "macron",
           "overline": "overline", "vec": "arrow", "dot": "dot", "ddot": "dot.double", "check": "caron",
           "mathbf": "bold", "boldsymbol": "bold", "mathit": "italic", "mathcal": "cal", "sqrt": "sqrt",
           "underline": "underline"}
TEXT_COMMANDS = ("mathrm", "text", "textrm", "operatorname", "mathsf", "texttt")
PLAIN = set("()[],+-=|.<>!;:*")
TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[A-Za-z]|\d+|\s+|.", re.S)


def latex_name_to_typst(latex: str) -> str:
    """Typst math for a variable's LaTeX name, e.g. ``\\frac{\\partial L}{\\partial x_{c}}^{(1)}``
    -> ``frac(partial L, partial x_(c))^((1))``. ValueError names a construct it cannot translate."""
    tokens = [t for t in TOKEN.findall(latex) if not t.isspace() or t == " "]
    atoms, position = _parse_group(tokens, 0, latex)
    if position != len(tokens):
        raise ValueError(f"unbalanced braces in variable name {latex!r}")
    return " ".join(atoms) or '""'


def _parse_argument(tokens, position, latex):
    """One argument: a braced group or a single token; returns (typst, next position)."""
    while position < len(tokens) and tokens[position] == " ":
        position += 1
    if position >= len(tokens):
        raise ValueError(f"missing argument in variable name {latex!r}")
    if tokens[position] == "{":
        atoms, position = _parse_group(tokens, position + 1, latex)
        if position >= len(tokens):
            raise ValueError(f"unbalanced braces in variable name {latex!r}")
        return " ".join(atoms) or '""', position + 1
    atoms, _ = _parse_group([tokens[position]], 0, latex)
    return " ".join(atoms), position + 1


def _raw_argument(tokens, position, latex):
    """A braced argument read as literal text (for ``\\text{...}``)."""
    if position >= len(tokens) or tokens[position] != "{":
        raise ValueError(f"expected {{...}} after a text command in {latex!r}")
    depth, end = 1, position + 1
    while end < len(tokens) and depth:
        depth += {"{": 1, "}": -1}.get(tokens[end], 0)
        end += 1
    return "".join(tokens[position + 1:end - 1]), end


def _parse_group(tokens, position, latex):
    atoms: list[str] = []
    while position < len(tokens):
        token = tokens[position]
        if token == "}":
            return atoms, position
        position += 1
        if token == "{":
            inner, position = _parse_group(tokens, position, latex)
            atoms.append(" ".join(inner) or '""')
            position += 1
        elif token in ("^", "_"):
            argument, position = _parse_argument(tokens, position, latex)
            base = atoms.pop() if atoms else '""'
            atoms.append(f"{base}{token}({argument})")
        elif token == "'":
            atoms.append((atoms.pop() if atoms else '""') + "'")
        elif token == r"\frac":
            top, position = _parse_argument(tokens, position, latex)
            bottom, position = _parse_argument(tokens, position, latex)
            atoms.append(f"frac({top}, {bottom})")
        elif token[1:] in ACCENTS:
            argument, position = _parse_argument(tokens, position, latex)
            atoms.append(f"{ACCENTS[token[1:]]}({argument})")
        elif token[1:] in TEXT_COMMANDS:
            text, position = _raw_argument(tokens, position, latex)
            atoms.append('upright("' + text.replace("\\", "").replace('"', r"\"") + '")')
        elif token in (r"\left", r"\right"):
            continue
        elif token[1:] in SYMBOL_COMMANDS:
            atoms.append(SYMBOL_COMMANDS[token[1:]])
        elif len(token) == 2 and token[0] == "\\" and token[1] in SPACES:
            atoms.extend([SPACES[token[1]]] if SPACES[token[1]] else [])
        elif len(token) == 2 and token[0] == "\\" and token[1] in "{}_%&#$":
            atoms.append("\\" + token[1])
        elif token.isalnum() or token in PLAIN:
            atoms.append(token)
        elif token == "/":
            atoms.append("\\/")
        elif token != " ":
            raise ValueError(f"cannot translate {token!r} in variable name {latex!r} to typst")
    return atoms, position


def symbol_typst(name: str) -> str:
    """A sympy Symbol name as typst: Greek names become letters, ``h_t`` a subscript, words italic."""
    primes = len(name) - len(name.rstrip("'"))  # "W'" is W prime, as sympy's LaTeX printer shows it
    base, supers, subs = split_super_sub(name.rstrip("'"))

    def word(text: str) -> str:
        if text in GREEK:
            return GREEK[text]
        if len(text) == 1 or text.isdigit():
            return text
        return 'italic("' + text + '")'

    out = word(base)
    if subs:
        out += "_(" + " ".join(word(s) for s in subs) + ")"
    if supers:
        out += "^(" + " ".join(word(s) for s in supers) + ")"
    return out + "'" * primes
