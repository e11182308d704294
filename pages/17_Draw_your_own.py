"""Draw your own: a drawing encoded live on the latent map (code, posterior, anomaly score)."""
import streamlit as st

from aecore.errors import LatentLabError
from ui import checks, classdraw, draw, explain, present, shell, text

sel = shell.page_setup("Draw your own", icon=":material/draw:")
st.title("Draw your own")
st.markdown(text.DRAW)
explain.formulas_and_models([text.FORMULA_POSTERIOR, text.FORMULA_REPARAM, text.FORMULA_AE],
                            [sel.info])
if sel.info is None:
    st.stop()
try:
    dd = draw.load_draw_data(sel.info)
except LatentLabError as exc:
    st.error(f"This model cannot be drawn on: {exc}", icon=":material/error:")
    st.stop()
if dd.info.model_config.name == "dae":
    st.info(text.DRAW_DAE, icon=":material/blur_on:")
send = classdraw.send_action(dd.info)  # a student in a class: send a drawing to its map
draw.show(dd, presenter=present.on(), send=send,
          on_send=lambda: classdraw.on_send(draw.KEY, dd.info.dataset))
if send is not None:
    classdraw.send_outcome()
st.caption(text.DRAW_FACTS.format(n=len(dd.errors), p95=dd.p95, unit=dd.unit) + " "
           + text.DRAW_WHERE.format(method=text.POINTER_NOTES[dd.method]))
checks.section("Draw_your_own")
