"""Watch it learn: a training run's test codes replayed epoch by epoch on the latent map."""
import streamlit as st

from aecore.errors import LatentLabError
from ui import cache, checks, explain, present, replay, shell, text

sel = shell.page_setup("Watch it learn", icon=":material/animation:",
                       default_model="digits_ae_z2")
st.title("Watch it learn")
st.markdown(text.LEARN)
explain.formulas_and_models([text.FORMULA_LEARN, text.FORMULA_AE, text.FORMULA_ELBO], [sel.info])
if sel.info is None:
    st.stop()
try:
    rec = replay.recording_for(sel.info)
except LatentLabError as exc:
    st.error(f"This model's recording cannot be read: {exc}", icon=":material/error:")
    st.stop()
if rec is None:
    st.info(text.LEARN_NONE.format(name=sel.info.name), icon=":material/info:")
    st.stop()
model = cache.load_model(str(sel.info.path), sel.info.id)
replay.show(sel.info, model, rec, presenter=present.on())
st.caption(text.LEARN_FACTS.format(**replay.facts(rec)))
checks.section("Watch_it_learn")
