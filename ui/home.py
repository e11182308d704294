"""The home page (``app.py``): what an autoencoder is, the ready lessons and the pages."""
import streamlit as st

from . import cache, checks, explain, links, shell, text


def page() -> None:
    """Draw the home page."""
    shell.page_setup("Home", icon=":material/home:", sidebar=False)
    st.title("Latent Lab")
    st.caption("An interactive latent-space explorer for teaching autoencoders.")
    st.markdown(text.HOME)
    st.latex(text.FORMULA_AE)
    st.latex(text.FORMULA_ELBO)
    if (default := cache.model_named("digits_vae_z2")) is not None:
        st.markdown(text.HOME_DIAGRAM)
        with st.columns([3, 2])[0]:
            explain.model_diagram(default, key="home.diagram", height=150)
    st.subheader("Ready lessons")
    st.caption(text.LESSONS_INTRO)
    for lesson in links.LESSONS:
        st.page_link(lesson.page, label=lesson.title, icon=":material/school:",
                     query_params=lesson.params)
        st.caption(lesson.blurb)
    st.subheader("Pages")
    for path, (label, icon, blurb) in text.PAGES.items():
        st.page_link(path, label=label, icon=icon)
        st.caption(blurb)
    st.caption("Runs offline on scikit-learn's 8×8 handwritten digits with pretrained models. "
               "Pick a dataset and model in the sidebar of any page.")
    checks.section("Home")
