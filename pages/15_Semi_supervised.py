"""Semi-supervised: 1-NN with a few labels on pixels, on a VAE's mu and on PCA (M1)."""
import streamlit as st

from aecore.errors import LatentLabError
from ui import checks, explain, semisupview, shell, text

sel = shell.page_setup("Semi-supervised", icon=":material/label:",
                       default_model="digits_vae_z16")
st.title("Semi-supervised learning with a VAE")
st.markdown(text.SEMISUP.format(repeats=semisupview.REPEATS))
explain.formulas_and_models([text.FORMULA_SEMISUP, text.FORMULA_ELBO], [sel.info])
if sel.info is None:
    st.stop()
try:
    semisupview.view(sel.info, sel.method)
except LatentLabError as exc:
    st.error(f"Cannot measure this model: {exc}", icon=":material/error:")
checks.section("Semi_supervised")
