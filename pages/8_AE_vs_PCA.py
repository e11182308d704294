"""AE vs PCA: two numbers per image, linear vs nonlinear."""
import streamlit as st

from ui import cache, checks, experiments, explain, shell, state, text

sel = shell.page_setup("AE vs PCA", icon=":material/stacked_line_chart:")
st.title("Autoencoder vs PCA")
st.markdown(text.AE_VS_PCA)
info = sel.info
if info is None or info.model_config.latent_dim != 2:
    ds = st.session_state.get(state.DATASET, "digits")
    info = cache.model_named(f"{ds}_ae_z2")
    st.caption(f"Showing {info.name if info else 'no model'}: this lesson needs a 2-D latent, "
               "so it uses the shipped 2-D AE when the sidebar's model is not 2-D.")
explain.formulas_and_models([text.FORMULA_PCA, text.FORMULA_AE], [info])
if info is not None:
    experiments.pca_view(info)
checks.section("AE_vs_PCA")
