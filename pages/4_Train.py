"""Train: fit your own model live in a worker process and save it for every page."""
import streamlit as st

from ui import checks, explain, shell, text, trainview

shell.page_setup("Train", icon=":material/model_training:", needs_data=False, images=False)
st.title("Train a model")
st.markdown(text.TRAIN)
explain.formulas_and_models(
    [text.FORMULA_AE, text.FORMULA_MSE, text.FORMULA_ELBO, text.FORMULA_KL,
     r"\text{KL annealing (epoch } t\text{, length } k\text{) and the denoising objective:}",
     text.FORMULA_ANNEAL, text.FORMULA_DAE], label="The formulas")
recipe = trainview.controls()
trainview.start_button(recipe)
trainview.live_view()
checks.section("Train")
