"""The Train page's sparsity and free-bits knobs: enabled for the models that have the field,
and carried into the model config the run trains."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from aecore.recipes import model_config

ROOT = Path(__file__).resolve().parents[1]


def test_sparsity_and_free_bits_knobs_follow_the_model():
    at = AppTest.from_file(str(ROOT / "pages" / "4_Train.py"), default_timeout=60).run()
    assert not at.exception
    for kind, sparse_on, fb_on in (("vae", False, True), ("ae", True, False),
                                   ("dae", False, False), ("conv_vae", False, True)):
        at.selectbox(key="train.model").set_value(kind).run()
        assert not at.exception
        assert at.slider(key="train.sparsity").disabled is not sparse_on, kind
        assert at.slider(key="train.free_bits").disabled is not fb_on, kind
    # the knobs' values reach the config only of the models that have the field
    ae = model_config("ae", sparsity=0.05, free_bits=0.5)
    vae = model_config("vae", sparsity=0.05, free_bits=0.5)
    assert ae.sparsity == 0.05 and not hasattr(ae, "free_bits")
    assert vae.free_bits == 0.5 and not hasattr(vae, "sparsity")
