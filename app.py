"""Latent Lab: ``streamlit run app.py`` serves the app; this file is also its home page.

``streamlit run`` finds the ``st.App`` below and serves it with the class API
(:mod:`services.classapi`: a student's click without a script run) beside the pages; every
browser session then runs this file as ``__main__``, which draws the home page: what an
autoencoder is and what each page shows.
"""
import streamlit as st

if __name__ != "__main__":  # imported by the server (uvicorn), not run for a session
    from services import classapi

    app = st.App(__file__, routes=classapi.routes())
else:
    from ui import home

    home.page()
