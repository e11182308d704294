"""Anomalies: reconstruction error as an anomaly score; the held-out-class experiment."""
import streamlit as st

from aecore.errors import LatentLabError
from ui import cache, checks, experiments, explain, shell, text

sel = shell.page_setup("Anomalies", icon=":material/report:")
st.title("Anomaly detection")
st.markdown(text.ANOMALIES)
held = cache.model_named("digits_ae_no7_z16")
explain.formulas_and_models([text.FORMULA_ANOMALY, text.FORMULA_AE, text.FORMULA_AUC],
                            [sel.info, held], label="The formulas and the models")
try:
    if sel.info is not None:
        st.subheader(f"Reconstruction error of {sel.info.name}")
        experiments.anomaly_view(sel.info, sel.method)
    if held is not None:
        st.subheader(f"An AE that never saw a {held.meta['exclude_class']}")
        experiments.held_out_view(held)
except LatentLabError as exc:
    st.error(f"Cannot score this model: {exc}", icon=":material/error:")
checks.section("Anomalies")
