"""Activations: the same AE with five hidden-layer nonlinearities (shipped checkpoints)."""
import streamlit as st

from ui import activations, checks, explain, shell, text

shell.page_setup("Activations", icon=":material/show_chart:", needs_data=False)
st.title("Activations and normalisation")
st.markdown(text.ACTIVATIONS)
explain.formulas_and_models([text.FORMULA_ACTS, text.FORMULA_NORM, text.FORMULA_ROUGHNESS],
                            list(activations.shipped().values())[:1],
                            label="The formulas and the model")
activations.view()
checks.section("Activations")
