"""The write-up exporters: every equation of every topic survives each format, the .tex compiles
with pdflatex, the notebook validates and runs, the PDF has one page number per page, the CLI works.

Documents are built once per module (``verify`` is cached by each topic), so the whole file
runs in well under a minute and a half.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from derivations import printing
from derivations.catalog import TOPICS
from derivations.export import content, latex, markdown, notebook, pdf
from derivations.export.__main__ import main
from derivations.export.typst_math import dims_typst, equation_typst, typst_names
from derivations.export.typst_names import latex_name_to_typst
from derivations.layout import graph_svg, graph_tikz, layout_graph, node_lines

REPO_ROOT = Path(__file__).resolve().parent.parent
LAYERS = [*TOPICS, "all"]


def configs(layer: str):
    return content.configs_for(layer, {})


def derivations_of(layer: str):
    return [TOPICS[c.layer].derivation(c) for c in configs(layer)]


class Documents(dict):
    """layer -> {format: document}, each layer built on first use and kept for the module."""

    def __missing__(self, layer: str) -> dict:
        chosen = configs(layer)
        self[layer] = {"tex": latex.latex_document(chosen), "md": markdown.markdown_document(chosen),
                       "ipynb": notebook.notebook_node(chosen), "typ": pdf.typst_source(chosen)}
        return self[layer]


@pytest.fixture(scope="module")
def documents():
    return Documents()


def _markdown_of(nb) -> str:
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")


@pytest.mark.parametrize("layer", LAYERS)
def test_every_equation_survives_each_format(documents, layer):
    docs = documents[layer]
    notebook_markdown = _markdown_of(docs["ipynb"])
    for derivation in derivations_of(layer):
        names = typst_names(derivation)
        for section in derivation.sections:
            assert section.title in docs["md"] and section.title in notebook_markdown
        for eq in derivation.equations:
            tex = printing.equation_latex(eq, derivation)
            assert rf"\fitmath{{{tex}}} \tag{{{eq.number}}}" in docs["tex"], eq.number
            assert f"{tex} \\tag{{{eq.number}}}" in docs["md"], eq.number
            assert f"{tex} \\tag{{{eq.number}}}" in notebook_markdown, eq.number
            assert f'#numbered("{eq.number}", $ {equation_typst(eq, derivation, names)} $)' in docs["typ"]
            for doc in (docs["tex"], docs["md"], notebook_markdown, docs["typ"]):
                assert f"(Eqn {eq.number})" in doc
            dims = f"${printing.dims_latex(eq.defines, derivation)}$"  # the dimensions line starts with it
            assert dims in docs["tex"] and dims in docs["md"] and dims in notebook_markdown
            assert f"${dims_typst(eq.defines, derivation, names)}$" in docs["typ"]


@pytest.mark.parametrize("layer", LAYERS)
def test_tex_compiles_with_pdflatex(documents, layer, tmp_path):
    assert shutil.which("pdflatex"), "pdflatex is missing: `make test` installs TeX from Debian packages"
    (tmp_path / "writeup.tex").write_text(documents[layer]["tex"])
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "writeup.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    log = (tmp_path / "writeup.log").read_text(errors="replace")
    assert run.returncode == 0, log[-3000:]
    assert (tmp_path / "writeup.pdf").stat().st_size > 0
    overflows = [float(pt) for pt in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert all(pt < 20 for pt in overflows), f"lines overflow by {overflows} pt"
    assert r"\pagestyle{plain}" in documents[layer]["tex"]


@pytest.mark.parametrize("layer", LAYERS)
def test_notebook_validates(documents, layer):
    nb = documents[layer]["ipynb"]
    nbformat.validate(nb)
    reread = nbformat.reads(nbformat.writes(nb), as_version=4)
    code = [cell.source for cell in reread.cells if cell.cell_type == "code"]
    assert "sys.path.insert(0, PROJECT_ROOT)" in code[0] and repr(str(REPO_ROOT)) in code[0]
    with_checks = [c for c in configs(layer) if TOPICS[c.layer].spec_check.strip()]
    assert len(code) == 1 + len(with_checks)


def test_the_all_notebook_runs_and_prints_errors(documents, tmp_path, monkeypatch):
    monkeypatch.delenv("PYTHONPATH", raising=False)  # the first cell alone must make `import layers` work
    nb = nbformat.reads(nbformat.writes(documents["all"]["ipynb"]), as_version=4)  # a fresh copy
    where = {"metadata": {"path": str(tmp_path)}}
    client = NotebookClient(nb, timeout=240, kernel_name="python3", resources=where)
    client.execute()
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    printed = "".join(out.get("text", "") for out in outputs)
    assert "error" in printed.lower() and "Traceback" not in printed


@pytest.mark.parametrize("layer", ["batchnorm", "all"])
def test_pdf_has_one_page_number_per_page(documents, layer):
    source = documents[layer]["typ"]
    data = pdf.compile_pdf(source)
    assert data.startswith(b"%PDF")
    pages = pdf.page_count(data)
    assert pages >= 2 and pdf.page_labels(source) == list(range(1, pages + 1))
    if shutil.which("pdftotext"):  # when poppler is around, read the printed numbers back too
        text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True).stdout
        for number, page in enumerate(text.decode().split("\f")[:pages], start=1):
            assert page.strip().splitlines()[-1].strip() == str(number)


@pytest.mark.parametrize("layer", [key for key in TOPICS])
def test_pdf_compiles_for_every_topic(documents, layer):
    assert pdf.compile_pdf(documents[layer]["typ"]).startswith(b"%PDF")


def test_graph_layout_has_no_overlaps_and_routes_every_edge():
    for config in configs("all"):
        graph = TOPICS[config.layer].graph(config)
        placed = layout_graph(graph, node_lines(graph))
        assert {box.id for box in placed.boxes} == {node.id for node in graph.nodes}
        assert len(placed.routes) == len(graph.edges)
        for i, a in enumerate(placed.boxes):
            for b in placed.boxes[i + 1:]:
                apart_x = abs(a.x - b.x) >= (a.width + b.width) / 2
                apart_y = abs(a.y - b.y) >= (a.height + b.height) / 2
                assert apart_x or apart_y, (graph.title, a.id, b.id)
        assert graph_svg(graph).startswith("<svg") and r"\begin{tikzpicture}" in graph_tikz(graph)


def test_latex_names_translate_to_typst():
    derivative = latex_name_to_typst(r"\frac{\partial L}{\partial x_{c}}^{(1)}")
    assert derivative == "frac(partial L, partial x_(c))^(( 1 ))"
    assert latex_name_to_typst(r"\hat{x}") == "hat(x)"
    assert latex_name_to_typst(r"h_{prev}") == "h_(p r e v)"
    with pytest.raises(ValueError, match="unbalanced"):
        latex_name_to_typst(r"\hat{x")


@pytest.mark.parametrize("fmt", ["tex", "md", "ipynb", "pdf"])
def test_cli_writes_each_format(fmt, tmp_path, capsys):
    out = tmp_path / f"bn.{fmt}"
    args = ["--layer", "batchnorm", "--format", fmt, "--output", str(out), "--set", "N=3", "--seed", "2"]
    assert main(args) == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF") if fmt == "pdf" else b"1.26" in data
    if fmt == "ipynb":
        nbformat.validate(nbformat.reads(data.decode(), as_version=4))
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("bad, message", [
    (["--set", "N=0"], "out of bounds"),
    (["--set", "N=four"], "not a number"),
    (["--set", "Q=1"], "Q"),
    (["--set", "N"], "NAME=VALUE"),
    (["--seed", "-1"], "seed"),
])
def test_cli_rejects_bad_values_in_one_line(bad, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--layer", "batchnorm", "--format", "md", "--output", str(tmp_path / "x.md"), *bad])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and not (tmp_path / "x.md").exists()


def test_cli_bad_value_exits_2_without_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    run = subprocess.run([sys.executable, "-m", "derivations.export", "--layer", "all", "--format", "tex",
                          "--output", str(tmp_path / "x.tex"), "--set", "N=1000"],
                         cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "N=" in run.stderr and "out of bounds" in run.stderr and len(run.stderr.strip().splitlines()) == 1
