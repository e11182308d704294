"""AE vs PCA: two numbers per image, linear vs nonlinear."""
import streamlit as st

from ui import lessons, shell, text

sel = shell.page_setup("AE vs PCA", icon=":material/stacked_line_chart:")
st.title("Autoencoder vs PCA")
st.markdown(text.AE_VS_PCA)
info = sel.info
if info is None or info.model_config.latent_dim != 2:
    ds = st.session_state.get("side.dataset", "digits")
    info = lessons.shipped(f"{ds}_ae_z2")
    st.caption(f"Showing {info.name if info else 'no model'}: this lesson needs a 2-D latent.")
if info is not None:
    lessons.pca_view(info)
