"""ui.state: each session key is declared once, and the widgets and lesson links read it."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import links, state

ROOT = Path(__file__).resolve().parents[1]


def test_every_link_parameter_comes_from_a_declared_key():
    declared = {v for v in vars(state).values() if isinstance(v, state.Key)}
    for p in links.PARAMS:
        assert p.key in declared and p.name == p.key.url, p.key
    names = [(p.name, p.pages) for p in links.PARAMS]
    assert len(set(names)) == len(names)  # one parameter name per page


@pytest.mark.parametrize("key", [k for k in vars(state).values()
                                 if isinstance(k, state.Key) and k.lo is not None and k.url])
def test_links_accept_exactly_the_declared_range(key):
    p = next(p for p in links.PARAMS if p.key == key)
    assert p.parse(str(key.lo)) == key.lo and p.parse(str(key.hi)) == key.hi
    step = 1 if isinstance(key.hi, int) else 0.01 * (key.hi - key.lo)
    for bad in (key.lo - step, key.hi + step):
        with pytest.raises(ValueError):
            p.parse(str(bad))


def test_train_page_widgets_use_the_declared_ranges_and_defaults():
    at = AppTest.from_file(str(ROOT / "pages" / "4_Train.py"), default_timeout=60).run()
    assert not at.exception
    for key in (state.TRAIN_LATENT, state.TRAIN_BETA, state.TRAIN_EPOCHS, state.TRAIN_DROPOUT):
        s = at.slider(key=key)
        assert (s.min, s.max, s.value) == (key.lo, key.hi, key.default), key
    assert at.selectbox(key=state.TRAIN_MODEL).value == state.TRAIN_MODEL.default


def test_keys_are_immutable_strings():
    k = state.TRAIN_LATENT
    assert k == "train.latent" and k.name == "train.latent" and isinstance(k, str)
    with pytest.raises(AttributeError):
        k.lo = 0
