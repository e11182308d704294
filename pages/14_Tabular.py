"""Tabular: an AE trained on benign breast-cancer cases flags malignant ones by their error."""
import streamlit as st

from aecore.errors import LatentLabError
from ui import cache, checks, explain, shell, tabularview, text

sel = shell.page_setup("Tabular", icon=":material/table_chart:", sidebar=False)
st.title("Autoencoders on tabular data")
st.markdown(text.TABULAR)
info = cache.model_named("breast_cancer_ae_z2")
explain.formulas_and_models([text.FORMULA_TABULAR, text.FORMULA_ANOMALY, text.FORMULA_AUC],
                            [info])
if info is None:
    st.error(text.TABULAR_NO_MODEL, icon=":material/error:")
    st.stop()
try:
    tabularview.lesson_view(info)
except LatentLabError as exc:
    st.error(f"Cannot score this model: {exc}", icon=":material/error:")
checks.section("Tabular")
