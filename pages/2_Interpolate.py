"""Interpolate: morph one test image into another through latent space."""
import streamlit as st

from aecore.errors import LatentLabError
from ui import checks, explain, interp, shell, text

sel = shell.page_setup("Interpolate", icon=":material/timeline:")
st.title("Interpolate")
st.markdown(text.INTERPOLATE)
explain.formulas_and_models([text.FORMULA_LERP, text.FORMULA_SLERP], [sel.info])
if sel.info is None:
    st.stop()
try:
    interp.interpolation_view(sel.info, sel.method)
except LatentLabError as exc:
    st.error(f"Cannot interpolate with this model: {exc}", icon=":material/error:")
checks.section("Interpolate")
