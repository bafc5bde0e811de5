"""A derivation as plain strings ready to display: LaTeX per equation, its number, its
dimensions line and its justification; pure, so it can be cached and tested without streamlit."""

from __future__ import annotations

from dataclasses import dataclass

from derivations.model import Derivation
from derivations.printing import equation_dims_latex, equation_latex


@dataclass(frozen=True)
class EquationView:
    number: str  # "1.3"
    latex: str  # "lhs = rhs \tag{1.3}"
    dims: str  # LaTeX dimensions line bound to the user's sizes
    why: str
    node: str | None  # graph node id, or None
    defines: str  # variable name assigned


@dataclass(frozen=True)
class SectionView:
    title: str
    stage: str  # forward | backward | aside
    intro: str
    equations: tuple[EquationView, ...]


STAGE_ORDER = {"forward": 0, "aside": 1, "backward": 2}


def tagged(latex: str, number: str) -> str:
    """KaTeX display math with the equation's number on the right."""
    return rf"{latex} \tag{{{number}}}"


def section_views(derivation: Derivation) -> tuple[SectionView, ...]:
    """Every section in the derivation's order, each equation typeset with its number."""
    views = []
    for section in derivation.sections:
        equations = tuple(
            EquationView(eq.number, tagged(equation_latex(eq, derivation), eq.number),
                         equation_dims_latex(eq, derivation), eq.why, eq.node, eq.defines)
            for eq in section.equations
        )
        views.append(SectionView(section.title, section.stage, section.intro, equations))
    return tuple(views)


def forward_then_backward(sections: tuple[SectionView, ...]) -> tuple[SectionView, ...]:
    """Forward sections first (with their asides), backward ones last; stable within a stage."""
    return tuple(sorted(sections, key=lambda s: STAGE_ORDER.get(s.stage, 1)))


def equation_by_number(sections: tuple[SectionView, ...], number: str) -> EquationView | None:
    for section in sections:
        for equation in section.equations:
            if equation.number == number:
                return equation
    return None


def backward_equations_of(sections: tuple[SectionView, ...], node_id: str) -> tuple[EquationView, ...]:
    """Backward equations attached to a graph node, in order (branch terms, then their sum)."""
    return tuple(eq for s in sections if s.stage == "backward" for eq in s.equations if eq.node == node_id)
