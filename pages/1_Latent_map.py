"""Latent map: every test image as a point; click to reconstruct or decode anywhere."""
import streamlit as st

from aecore.errors import LatentLabError
from ui import checks, explain, mapview, shell, text

sel = shell.page_setup("Latent map", icon=":material/scatter_plot:", images=False)
st.title("Latent map")
st.markdown(text.LATENT_MAP)
explain.formulas_and_models([text.FORMULA_AE, text.FORMULA_ELBO, text.FORMULA_KL,
                             text.FORMULA_REPARAM], [sel.info])
if sel.info is None:
    st.stop()
try:
    mapview.map_and_panel(sel.info, sel.method)
except LatentLabError as exc:
    st.error(f"This model's map cannot be shown: {exc}", icon=":material/error:")
checks.section("Latent_map")
