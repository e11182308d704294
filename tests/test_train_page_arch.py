"""The Train page's activation, normalisation and layer-wise pretraining knobs reach the run:
the worker trains that model and the page's command line repeats them."""
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "4_Train.py")


def test_activation_norm_and_pretraining_knobs_reach_the_run_and_its_command():
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    assert not at.exception
    at.selectbox(key="train.model").set_value("ae").run()
    at.selectbox(key="train.activation").set_value("tanh")
    at.selectbox(key="train.norm").set_value("batchnorm")
    at.slider(key="train.pretrain").set_value(1)
    at.slider(key="train.epochs").set_value(1)
    at.run()
    assert not at.exception and not at.error
    at.button(key="train.start").click().run()
    t0 = time.time()
    while not at.success and time.time() - t0 < 180:
        time.sleep(0.5)
        at.run()
        assert not at.exception and not at.error
    assert at.success, "the run did not finish"
    cmd = next(c.value for c in at.code if "python -m aecore train" in c.value)
    assert "--activation tanh --norm batchnorm" in cmd and "--pretrain-epochs 1" in cmd
    assert "--model ae" in cmd


def test_pretraining_is_off_for_models_it_cannot_pretrain():
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    at.selectbox(key="train.model").set_value("vae").run()
    assert at.slider(key="train.pretrain").disabled
    at.selectbox(key="train.model").set_value("conv_ae")
    at.selectbox(key="train.norm").set_value("layernorm").run()
    assert any("norm" in e.value for e in at.error)  # conv + LayerNorm: a clear message
    assert at.button(key="train.start").disabled
