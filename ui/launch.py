"""The ``latentlab`` command (installed by ``pip install -e .``): starts the app.

``latentlab [streamlit options]`` is ``streamlit run app.py [options]`` from the checkout the
package was installed from, e.g. ``latentlab --server.port 8600``.
"""
from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"


def main(argv: list[str] | None = None) -> int:
    """Run ``streamlit run app.py`` with ``argv`` (default: the command line's arguments).

    Returns
    -------
    int
        2 when ``app.py`` is not beside the package (a non-editable install); otherwise
        Streamlit's own exit status.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if not APP.exists():
        print(f"latentlab: {APP} not found; install the checkout with `pip install -e .`",
              file=sys.stderr)
        return 2
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *args]
    try:
        cli.main()
    except SystemExit as exc:  # click ends with SystemExit
        return int(exc.code or 0)
    return 0
