"""Deep AE: vanishing gradients, layer-wise pretraining and ReLU + BatchNorm."""
import streamlit as st

from ui import checks, deepae, explain, shell, text

shell.page_setup("Deep AE", icon=":material/layers:", needs_data=False)
st.title("Deep autoencoders and layer-wise pretraining")
st.markdown(text.DEEP_AE)
explain.formulas_and_models([text.FORMULA_BACKPROP, text.FORMULA_PRETRAIN, text.FORMULA_NORM],
                            list(deepae.shipped().values())[:1],
                            label="The formulas and the model")
deepae.view()
checks.section("Deep_AE")
