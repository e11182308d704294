"""Sample the prior: generate new images from random codes; decode the latent manifold."""
import streamlit as st

from aecore.errors import LatentLabError
from ui import checks, explain, prior, shell, text

sel = shell.page_setup("Sample the prior", icon=":material/casino:")
st.title("Sample the prior")
st.markdown(text.SAMPLE_PRIOR)
explain.formulas_and_models([text.FORMULA_REPARAM, text.FORMULA_SAMPLING], [sel.info])
if sel.info is None:
    st.stop()
try:
    st.subheader("Random samples")
    prior.samples_view(sel.info, sel.method)
    st.subheader("The latent manifold")
    prior.manifold_view(sel.info, sel.method)
except LatentLabError as exc:
    st.error(f"Cannot sample this model: {exc}", icon=":material/error:")
checks.section("Sample_prior")
