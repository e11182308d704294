"""Bottleneck size: a sweep over z, the copy test, and the fixes of an overcomplete AE."""
import streamlit as st

from ui import bottleneck, cache, checks, explain, shell, text

sel = shell.page_setup("Bottleneck size", icon=":material/compress:", needs_data=False,
                       default_model="digits_ae_z16")
st.title("How big should the bottleneck be?")
st.markdown(text.BOTTLENECK)
explain.formulas_and_models(
    [text.FORMULA_AE, text.FORMULA_COMPLETE, text.FORMULA_COPY_SCORE, text.FORMULA_SPARSE,
     text.FORMULA_DAE],
    [cache.model_named(bottleneck.SWEEP[2]), cache.model_named(bottleneck.SWEEP[128])],
    label="The formulas and the smallest and largest models")
bottleneck.sweep_view()
bottleneck.mine_view(sel.info)
checks.section("Bottleneck")
