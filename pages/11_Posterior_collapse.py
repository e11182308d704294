"""Posterior collapse: KL per latent dimension and active units of a VAE."""
import streamlit as st

from ui import cache, checks, collapseview, explain, shell, text

sel = shell.page_setup("Posterior collapse", icon=":material/bar_chart:",
                       default_model="digits_vae_z16_b4")
st.title("Posterior collapse")
st.markdown(text.COLLAPSE)
explain.formulas_and_models(
    [text.FORMULA_KL_DIM, text.FORMULA_ACTIVE, text.FORMULA_FREE_BITS, text.FORMULA_ANNEAL],
    [cache.model_named(collapseview.LESSON["plain"])])
collapseview.lesson_view()
collapseview.mine_view(sel.info)
checks.section("Posterior_collapse")
