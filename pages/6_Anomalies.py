"""Anomalies: reconstruction error as an anomaly score; the held-out-class experiment."""
import streamlit as st

from ui import lessons, shell, text

sel = shell.page_setup("Anomalies", icon=":material/report:")
st.title("Anomaly detection")
st.markdown(text.ANOMALIES)
with st.expander("The formulas", icon=":material/function:"):
    st.latex(text.FORMULA_AE)
if sel.info is not None:
    st.subheader(f"Reconstruction error of {sel.info.name}")
    lessons.anomaly_view(sel.info, sel.method)
held = lessons.shipped("digits_ae_no7_z16")
if held is not None:
    st.subheader("An AE that never saw a 7")
    lessons.held_out_view(held)
