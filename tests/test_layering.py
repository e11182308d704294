import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_aecore_never_imports_streamlit_or_plotly():
    code = ("import sys, aecore, aecore.atlas, aecore.recipes, aecore.latent, aecore.project, "
            "aecore.__main__\n"
            "import pkgutil, importlib\n"
            "for m in pkgutil.walk_packages(aecore.__path__, 'aecore.'):\n"
            "    importlib.import_module(m.name)\n"
            "bad = [m for m in ('streamlit', 'plotly') if m in sys.modules]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_figures_module_has_no_streamlit():
    code = "import sys, ui.figures, ui.images; sys.exit('streamlit' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
