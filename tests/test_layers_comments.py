"""The spec's rule "include comments for each step, even if it is obvious", as the DESIGN states it:
every line of a layer implementation carries a comment with its shape change or equation.

Checked: each statement (a logical line, which may span several physical lines) in the body of every
function of the five layer modules needs a ``#`` comment on one of its lines. Exempt: docstrings,
``def`` lines and decorators; the input-validation helpers ``_check*`` (their error messages say what
they check); and statements with nothing to explain: ``else:``, ``try:``, ``finally:``, ``pass``,
``break``, ``continue``, and ``return`` of plain names (``return dx, dw, db``).
Comments are found with ``tokenize``, so a ``#`` inside a string does not count.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
from pathlib import Path

import pytest

LAYERS_DIR = Path(__file__).resolve().parent.parent / "layers"
MODULES = ("batchnorm.py", "conv.py", "pool.py", "rnn.py", "lstm.py")
BARE_KEYWORDS = {"else", "try", "finally", "pass", "break", "continue"}
SKIPPED = (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING)


def logical_lines(source: str):
    """(first line, last line, tokens) of every statement, comments and line breaks left out."""
    lines, current = [], []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in SKIPPED:
            continue
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if current:
                lines.append((current[0].start[0], tok.start[0], current))
            current = []
            continue
        current.append(tok)
    return lines


def needs_no_comment(tokens) -> bool:
    words = [tok.string for tok in tokens if tok.string != ":"]
    if len(words) == 1 and words[0] in BARE_KEYWORDS:
        return True
    if words[0] == "return":  # return a, b, c: nothing computed
        rest = words[1:]
        return all((w.isidentifier() and not keyword.iskeyword(w)) or w in ",()" for w in rest)
    return False


def uncommented_statements(source: str, name: str) -> list[str]:
    """``"layers/<name>:<line> in <function>(): <statement>"`` for every statement lacking a comment."""
    commented = {tok.start[0] for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                 if tok.type == tokenize.COMMENT}
    statements = logical_lines(source)
    missing = []
    for function in ast.parse(source).body:
        if not isinstance(function, ast.FunctionDef) or function.name.startswith("_check"):
            continue
        body = function.body
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        if not body:
            continue
        first, last = body[0].lineno, function.end_lineno
        for start, end, tokens in statements:
            if first <= start <= last and not needs_no_comment(tokens):
                if not any(line in commented for line in range(start, end + 1)):
                    text = " ".join(tok.string for tok in tokens)
                    missing.append(f"layers/{name}:{start} in {function.name}(): {text[:90]}")
    return missing


def test_checker_sees_comments_and_statements():
    source = (
        "def f(x):\n"
        '    """Doc."""\n'
        "    y = x + 1  # shape (N,)\n"
        "    z = (y +\n"
        "         2)  # continued statement, commented on its last line\n"
        "    w = '# not a comment'\n"
        "    if y:\n"
        "        pass\n"
        "    else:\n"
        "        return y, z\n"
        "    return y.sum()\n"
    )
    missing = uncommented_statements(source, "probe.py")
    assert [m.split(" in ")[0].rsplit(":", 1)[1] for m in missing] == ["6", "7", "11"]


@pytest.mark.parametrize("module", MODULES)
def test_every_statement_of_a_layer_implementation_has_a_comment(module):
    missing = uncommented_statements((LAYERS_DIR / module).read_text(), module)
    assert not missing, f"{len(missing)} statements without a comment:\n" + "\n".join(missing)
