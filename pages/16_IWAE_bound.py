"""IWAE bound: importance sampling tightens the ELBO towards log p(x) (Burda et al. 2016)."""
import streamlit as st

from ui import cache, checks, explain, iwae, shell, text

sel = shell.page_setup("IWAE bound", icon=":material/trending_up:", default_model="digits_vae_z16",
                       needs_data=False)
st.title("The importance-weighted bound")
st.markdown(text.IWAE)
info = sel.info
if info is None or info.name not in iwae.curves():
    info = cache.model_named("digits_vae_z16")
    st.caption(text.IWAE_FALLBACK.format(name=info.name if info else "digits_vae_z16"))
explain.formulas_and_models([text.FORMULA_ELBO, text.FORMULA_IWAE, text.FORMULA_IWAE_GAP], [info])
iwae.view(info.name if info else "digits_vae_z16")
checks.section("IWAE_bound")
