"""Sample the prior: generate new images from random codes; decode the latent manifold."""
import streamlit as st

from aecore.errors import LatentLabError
from ui import prior, shell, text

sel = shell.page_setup("Sample the prior", icon=":material/casino:")
st.title("Sample the prior")
st.markdown(text.SAMPLE_PRIOR)
with st.expander("The formulas", icon=":material/function:"):
    st.latex(text.FORMULA_REPARAM)
    st.latex(r"z \sim \mathcal{N}(0,\, T^2 I)\ \text{(VAE)},\qquad z \sim \mathcal{N}(\bar z,\,"
             r" T^2\,\Sigma_{\text{train}})\ \text{(AE)}")
if sel.info is None:
    st.stop()
try:
    st.subheader("Random samples")
    prior.samples_view(sel.info, sel.method)
    st.subheader("The latent manifold")
    prior.manifold_view(sel.info, sel.method)
except LatentLabError as exc:
    st.error(f"Cannot sample this model: {exc}", icon=":material/error:")
