"""Train: fit your own model live in a worker process and save it for every page."""
import streamlit as st

from ui import shell, text, trainview

shell.page_setup("Train", icon=":material/model_training:")
st.title("Train a model")
st.markdown(text.TRAIN)
with st.expander("The formulas", icon=":material/function:"):
    st.latex(text.FORMULA_AE)
    st.latex(text.FORMULA_MSE)
    st.latex(text.FORMULA_ELBO)
    st.latex(text.FORMULA_KL)
    st.markdown("**KL annealing** (epoch *t*, length *k*) and the **denoising** objective:")
    st.latex(text.FORMULA_ANNEAL)
    st.latex(text.FORMULA_DAE)
recipe = trainview.controls()
trainview.start_button(recipe)
trainview.live_view()
