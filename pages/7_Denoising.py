"""Denoising: noisy input -> plain AE -> denoising AE, with PSNR."""
import streamlit as st

from ui import cache, checks, experiments, explain, shell, state, text

shell.page_setup("Denoising", icon=":material/auto_fix_high:", needs_data=False)
st.title("Denoising")
st.markdown(text.DENOISING)
plain, dae = cache.model_named("digits_ae_z16"), cache.model_named("digits_dae_z16")
explain.formulas_and_models([text.FORMULA_DAE, text.FORMULA_AE, text.FORMULA_PSNR],
                            [plain, dae], label="The formulas and the models")
if plain is None or dae is None:
    st.error("The shipped digits_ae_z16 and digits_dae_z16 models are missing: run "
             "`python -m aecore rebuild-shipped digits_ae_z16 digits_dae_z16`.",
             icon=":material/error:")
    st.stop()
if st.session_state.get(state.DATASET, "digits") != "digits":
    st.info(text.DENOISE_DIGITS_ONLY, icon=":material/info:")
experiments.denoise_view(plain, dae)
checks.section("Denoising")
