import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter at the repo root (a clean sys.modules)."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_aecore_never_imports_streamlit_or_plotly():
    code = ("import sys, logging\n"
            "import aecore, aecore.atlas, aecore.recipes, aecore.latent, aecore.project\n"
            "import aecore.__main__\n"
            "import pkgutil, importlib\n"
            "for m in pkgutil.walk_packages(aecore.__path__, 'aecore.'):\n"
            "    importlib.import_module(m.name)\n"
            "bad = [m for m in ('streamlit', 'plotly') if m in sys.modules]\n"
            "assert not bad, bad\n"
            "assert 'aecore.recipes' in sys.modules and 'aecore.models.conv' in sys.modules\n"
            # convention 12: the library never adds logging handlers
            "assert logging.getLogger().handlers == [], logging.getLogger().handlers\n"
            "print('ok')")
    r = _run(code)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


def test_aecore_never_imports_the_services_package():
    code = ("import sys, pkgutil, importlib, aecore, aecore.__main__\n"
            "for m in pkgutil.walk_packages(aecore.__path__, 'aecore.'):\n"
            "    importlib.import_module(m.name)\n"
            "bad = [m for m in sys.modules if m == 'services' or m.startswith('services.')]\n"
            "assert not bad, bad\n"
            "print('ok')")
    r = _run(code)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


def test_services_never_import_streamlit_or_plotly():
    code = ("import sys, pkgutil, importlib, services\n"
            "names = [m.name for m in pkgutil.walk_packages(services.__path__, 'services.')]\n"
            "for name in names:\n"
            "    importlib.import_module(name)\n"
            "assert {'services.paths', 'services.classroom', 'services.errors',\n"
            "        'services.jobs'} <= set(names), names\n"
            "bad = [m for m in ('streamlit', 'plotly') if m in sys.modules]\n"
            "assert not bad, bad\n"
            "print('ok')")
    r = _run(code)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


def test_figures_module_has_no_streamlit():
    code = "import sys, ui.figures, ui.images; sys.exit('streamlit' in sys.modules)"
    r = _run(code)
    assert r.returncode == 0, r.stderr
