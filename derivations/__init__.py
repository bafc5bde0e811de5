"""Derivations as data: numbered sympy equations with dimensions and justifications,
computational graphs, sympy proofs of the closed-form gradients, and exporters."""
