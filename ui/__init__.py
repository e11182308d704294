"""Streamlit glue for Latent Lab: imported only by app.py, pages/ and tests."""
