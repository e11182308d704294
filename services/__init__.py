"""services: the app's server-side services (no Streamlit, no autoencoder maths).

- :mod:`services.paths`: the app's folders (state, user checkpoints, map cache, pending files).
- :mod:`services.classroom`: the shared class store (SQLite) and its errors.
- :mod:`services.jobs`: training runs in worker processes and the registry of running jobs.

Layers: ``pages/`` → ``ui/`` → ``services/`` → ``aecore/``; ``aecore`` never imports this
package, and this package never imports Streamlit (``tests/test_layering.py``).
"""
