"""The Streamlit explainer: the only package that imports streamlit (main, controls, compute,
stepper, views); the rest of it (state, hints, figures, check_figures, graph_view,
gradient_sweep, derivation_view, exports) is pure and tested without streamlit."""
