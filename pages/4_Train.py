"""Train: fit your own model live in a worker process and save it for every page."""
import streamlit as st

from ui import shell, text, training, trainview

shell.page_setup("Train", icon=":material/model_training:")
st.title("Train a model")
st.markdown(text.TRAIN)
with st.expander("The formulas", icon=":material/function:"):
    st.latex(text.FORMULA_AE)
    st.latex(text.FORMULA_MSE)
    st.latex(text.FORMULA_ELBO)
    st.latex(text.FORMULA_KL)
recipe = trainview.controls()
job = training.current_job()
busy = job is not None and job.active
if st.button("Start training", type="primary", icon=":material/play_arrow:",
             disabled=recipe is None or busy, key="train.start"):
    problem = training.start(recipe)
    if problem:
        st.warning(problem, icon=":material/hourglass:")
trainview.live_view()
