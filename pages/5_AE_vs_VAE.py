"""AE vs VAE: the same data through both, side by side, and a scoreboard."""
import streamlit as st

from aecore.errors import LatentLabError
from ui import cache, checks, compare, explain, shell, state, text

shell.page_setup("AE vs VAE", icon=":material/compare:")
st.title("AE vs VAE")
ds = st.session_state.get(state.DATASET, "digits")
infos = [i for i in cache.list_models()[0] if i.dataset == ds]
beta_first = st.session_state.get(state.CMP_FOCUS) == "beta"  # a β lesson lands on the slider
if beta_first:
    compare.beta_sweep(infos, ds)
    st.caption(text.BETA_FIRST)
st.markdown(text.AE_VS_VAE)
explain.formulas_and_models([text.FORMULA_AE, text.FORMULA_ELBO, text.FORMULA_KL,
                             text.FORMULA_REPARAM], label="The formulas")
if len(infos) < 2:
    st.info(f"This lesson needs two models trained on {ds}: pick digits in the sidebar, or "
            "train a second model on the Train page.", icon=":material/info:")
    st.stop()
try:
    left, right = compare.pickers(infos, (f"{ds}_ae_z2", f"{ds}_vae_z2"))
    compare.side_by_side(left, right)
    st.subheader("Scoreboard (test set)")
    compare.scoreboard_table(left, right)
    st.subheader("The same interpolation")
    compare.interpolations(left, right)
    st.subheader("Prior samples")
    compare.prior_samples(left, right)
    if not beta_first:
        compare.beta_sweep(infos, ds)
except LatentLabError as exc:
    st.error(f"Cannot compare these models: {exc}", icon=":material/error:")
checks.section("AE_vs_VAE")
