"""Lesson links: the state of a page in its URL (``st.query_params``), and back.

A lesson link is an ordinary address such as
``/Latent_map?dataset=digits&model=digits_ae_z2&pick=g1.8,-2.4&presenter=1&hide=model``:
opening it restores the page exactly (model, dataset, projection, the picked point, the
interpolation pair, β, the noise level, presenter mode, which controls are hidden).

* :func:`apply` runs at the top of every page (from :func:`ui.shell.page_setup`): when the
  address holds parameters this session has not applied yet, they are parsed, checked and
  copied into ``st.session_state``; a bad value is skipped and reported, never raised.
* :func:`sync_url` writes the current state back into the address (so the address bar is
  always a lesson link); it also runs inside the fragments whose clicks change the state.
* :func:`lesson_url` builds the link for the "Lesson link" dialog.

Models travel by checkpoint *name* (``digits_vae_z2``), never by file path.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from aecore.data import DATASETS
from aecore.noise import NOISE_KINDS
from aecore.project import PROJECTORS

from . import state
from .plaintext import escape_md

APPLIED = "link.applied"  # the query dict last applied or written by this session
RESOLVE_MODEL = "link.resolve_model"  # set when a link named a model: the sidebar selects it
RESOLVE_PROJ = "link.resolve_proj"  # set when a link named a projection: the sidebar checks it
HIDEABLE = ("dataset", "model", "projection", "nav", "formulas")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,80}$")


def _int(lo: int, hi: int) -> Callable[[str], int]:
    def parse(s: str) -> int:
        v = int(s)
        if not lo <= v <= hi:
            raise ValueError(f"must be an integer from {lo} to {hi}")
        return v
    return parse


def _float(lo: float, hi: float) -> Callable[[str], float]:
    def parse(s: str) -> float:
        v = float(s)
        if not (math.isfinite(v) and lo <= v <= hi):
            raise ValueError(f"must be a number from {lo:g} to {hi:g}")
        return v
    return parse


def _in(key: state.Key) -> Callable[[str], float]:
    """Parser of a numeric key: an int or a float (by the type of its range) in the key's
    declared [lo, hi]."""
    if isinstance(key.lo, int) and isinstance(key.hi, int):
        return _int(key.lo, key.hi)
    return _float(key.lo, key.hi)


def _choice(options) -> Callable[[str], str]:
    options = list(options)

    def parse(s: str) -> str:
        if s not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return s
    return parse


def _bool(s: str) -> bool:
    if s.lower() in ("1", "true", "yes", "on"):
        return True
    if s.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be 1 or 0")


def _hide(s: str) -> tuple[str, ...]:
    parts = tuple(p for p in s.split(",") if p)
    bad = [p for p in parts if p not in HIDEABLE]
    if bad:
        raise ValueError(f"unknown control {bad[0]!r}; hideable: {', '.join(HIDEABLE)}")
    return tuple(p for p in HIDEABLE if p in parts)


def _model_name(s: str) -> str:
    if not _NAME.match(s):
        raise ValueError("must be a checkpoint name (letters, digits, _ . -)")
    return s


def parse_pick(s: str) -> dict:
    """``p12`` -> image 12; ``g1.5,-0.25`` -> empty space at (1.5, -0.25) in map units.

    Raises
    ------
    ValueError
        On any other text, a negative index or a non-finite / huge coordinate.
    """
    if s[:1] == "p":
        return {"kind": "point", "index": _int(0, 10**7)(s[1:])}
    if s[:1] == "g" and s.count(",") == 1:
        x, y = (_float(-1e6, 1e6)(v) for v in s[1:].split(","))
        return {"kind": "grid", "x": x, "y": y}
    raise ValueError("must be p<index> or g<x>,<y>")


def format_pick(pick: dict) -> str:
    """Inverse of :func:`parse_pick`."""
    if pick["kind"] == "point":
        return f"p{int(pick['index'])}"
    return f"g{float(pick['x']):.4g},{float(pick['y']):.4g}"


def _num(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


@dataclass(frozen=True)
class Param:
    """One URL parameter: the session key it fills (whose declaration gives the parameter's
    name, :attr:`ui.state.Key.url`), how to parse and print it, and the pages (titles given
    to ``page_setup``) where it belongs (``None``: every page)."""

    key: state.Key
    parse: Callable[[str], object]
    fmt: Callable[[object], str] = _num
    pages: tuple[str, ...] | None = None
    skip: object = None  # a value not worth writing (the default)

    @property
    def name(self) -> str:
        """The URL parameter's name."""
        return self.key.url


_SIDEBAR_PAGES = ("Latent map", "Interpolate", "Sample the prior", "Anomalies", "AE vs PCA",
                  "AE vs VAE", "Denoising", "Train", "Classroom", "Semi-supervised",
                  "Posterior collapse", "Bottleneck size", "IWAE bound", "Draw your own",
                  "Watch it learn")
PARAMS: tuple[Param, ...] = (
    Param(state.PRESENTER, _bool, lambda v: "1" if v else "0", skip=False),
    Param(state.HIDE, _hide, ",".join, skip=()),
    Param(state.DATASET, _choice(DATASETS), str, _SIDEBAR_PAGES),
    Param(state.MODEL_NAME, _model_name, str, _SIDEBAR_PAGES),
    Param(state.PROJECTION, _choice(PROJECTORS), str, _SIDEBAR_PAGES),
    Param(state.MAP_PICK, parse_pick, format_pick, ("Latent map",)),
    Param(state.INTERP_A, _in(state.INTERP_A), pages=("Interpolate",)),
    Param(state.INTERP_B, _in(state.INTERP_B), pages=("Interpolate",)),
    Param(state.INTERP_METHOD, _choice(("lerp", "slerp")), str, ("Interpolate",)),
    Param(state.INTERP_STEPS, _in(state.INTERP_STEPS), pages=("Interpolate",)),
    Param(state.PRIOR_N, _in(state.PRIOR_N), pages=("Sample the prior",)),
    Param(state.PRIOR_TEMPERATURE, _in(state.PRIOR_TEMPERATURE), pages=("Sample the prior",)),
    Param(state.PRIOR_SEED, _in(state.PRIOR_SEED), pages=("Sample the prior",)),
    Param(state.CMP_BETA, _in(state.CMP_BETA), pages=("AE vs VAE",)),
    Param(state.CMP_PICK, _in(state.CMP_PICK), pages=("AE vs VAE",)),
    Param(state.CMP_FOCUS, _choice(("beta",)), str, ("AE vs VAE",)),
    Param(state.ANOM_THRESHOLD, _in(state.ANOM_THRESHOLD), pages=("Anomalies",)),
    Param(state.DEN_INDEX, _in(state.DEN_INDEX), pages=("Denoising",)),
    Param(state.DEN_KIND, _choice(NOISE_KINDS), str, ("Denoising",)),
    Param(state.DEN_LEVEL, _in(state.DEN_LEVEL), pages=("Denoising",)),
    Param(state.TRAIN_LATENT, _in(state.TRAIN_LATENT), pages=("Train",)),
    Param(state.TRAIN_BETA, _in(state.TRAIN_BETA), pages=("Train",)),
    Param(state.ACT_IMG, _in(state.ACT_IMG), pages=("Activations",)),
    Param(state.DEEP_IMG, _in(state.DEEP_IMG), pages=("Deep AE",)),
    Param(state.TAB_CASE, _in(state.TAB_CASE), pages=("Tabular",)),
    Param(state.SEMI_N, _in(state.SEMI_N), pages=("Semi-supervised",)),
    *(Param(k, _bool, lambda v: "1" if v else "0", ("Bottleneck size",), skip=False)
      for k in state.CAP_FIXES.values()),
)
# parameters other modules read themselves (kept in the address, never reported as unknown)
FOREIGN = ("join",)


def params_for(page: str) -> list[Param]:
    """The parameters that belong to ``page``."""
    return [p for p in PARAMS if p.pages is None or page in p.pages]


def _query() -> dict[str, str]:
    return {k: st.query_params[k] for k in st.query_params}  # last value of each key


def apply(page: str) -> list[str]:
    """Copy the address's parameters into session state, once per new address.

    Returns
    -------
    list of str
        One message per parameter that was skipped (bad value or unknown name).
    """
    q = _query()
    if not q or q == st.session_state.get(APPLIED):
        return []
    problems = apply_params(page, q)
    st.session_state[APPLIED] = q
    return problems


def apply_params(page: str, q: dict[str, str]) -> list[str]:
    """Copy lesson-link parameters ``q`` of ``page`` into session state (what :func:`apply`
    does with the address; a question's "Show me" uses it too). Returns one message per
    skipped parameter."""
    problems = []
    known = {p.name for p in params_for(page)}
    for p in params_for(page):
        if p.name in q:
            try:
                st.session_state[p.key] = p.parse(q[p.name])
            except (ValueError, TypeError) as exc:
                problems.append(f"{p.name}={escape_md(q[p.name], 40)} was ignored: "
                                f"{escape_md(exc, 200)}.")
            else:
                if p.key == state.MODEL_NAME:  # ui.shell turns the name into a checkpoint
                    st.session_state[RESOLVE_MODEL] = True
                if p.key == state.PROJECTION:
                    st.session_state[RESOLVE_PROJ] = True
    for name in set(q) - known - set(FOREIGN):
        problems.append(f"{escape_md(name, 40)} is not a setting of this page; ignored.")
    return problems


def current(page: str) -> dict[str, str]:
    """The state of ``page`` as URL parameters (values at their default are left out)."""
    out = {}
    for p in params_for(page):
        v = st.session_state.get(p.key)
        if v is None or v == p.skip:
            continue
        out[p.name] = p.fmt(v)
    return out


def sync_url(page: str) -> None:
    """Write :func:`current` into the address bar (only when it changed)."""
    want = current(page)
    q = _query()
    want.update({k: q[k] for k in FOREIGN if k in q})
    if q != want:
        st.query_params.from_dict(want)
    st.session_state[APPLIED] = want


def fit_index(key: state.Key, n: int) -> None:
    """Keep a test-image index from a lesson link inside ``[0, n)``, saying so when it moved
    (the README promises a message for every value a link cannot use)."""
    was = st.session_state.get(key)
    if state.clamp(key, 0, n - 1):
        st.warning(f"Lesson link: this test set has images 0 to {n - 1}, not {was}; showing "
                   f"image {st.session_state[key]}.", icon=":material/link_off:")


def page_url() -> str:
    """The current page's address in the browser, without its query ("" when there is no browser,
    e.g. under AppTest: a link made from it is then relative, which still works)."""
    try:
        return (st.context.url or "").split("?", 1)[0]
    except Exception:  # bare mode has no context
        return ""


def lesson_url(page: str) -> str:
    """The full lesson link of ``page`` now: this page's address plus :func:`current`."""
    base = page_url()
    q = urlencode(current(page))
    return f"{base}?{q}" if q else base


@dataclass(frozen=True)
class Lesson:
    """A ready lesson: a page opened with a lesson link's parameters.

    ``expect`` maps session keys to the values the page must show (checked by the tests).
    """

    title: str
    page: str
    params: dict
    blurb: str
    expect: dict


LESSONS: tuple[Lesson, ...] = (
    Lesson("Holes in an AE", "pages/1_Latent_map.py",
           {"dataset": "digits", "model": "digits_ae_z2", "proj": "identity",
            "pick": "g-2,6.8"},
           "A plain AE's 2-D latent map, with a click in a gap between the clusters: the "
           "decoder has never seen codes there and draws a blur.",
           {state.MODEL_NAME: "digits_ae_z2", state.MAP_PICK: {"kind": "grid", "x": -2.0,
                                                                "y": 6.8}}),
    Lesson("β trades reconstruction for smoothness", "pages/5_AE_vs_VAE.py",
           {"dataset": "digits", "beta": "4", "focus": "beta"},
           "The AE and the VAE side by side, then the β slider set to 4: the KL term wins and "
           "the codes collapse onto the prior.",
           {state.CMP_BETA: 4.0, state.CMP_FOCUS: "beta"}),
    Lesson("Denoising", "pages/7_Denoising.py",
           {"noise": "gaussian", "level": "0.5", "img": "12"},
           "Heavy Gaussian noise: the plain AE copies the noise, the denoising AE removes it.",
           {state.DEN_KIND: "gaussian", state.DEN_LEVEL: 0.5, state.DEN_INDEX: 12}),
    Lesson("Morph a 3 into an 8 (slerp)", "pages/2_Interpolate.py",
           {"dataset": "digits", "model": "digits_vae_z2", "a": "322", "b": "227",
            "path": "slerp", "steps": "16"},
           "Walk the VAE's latent space from one test image to another and watch each frame.",
           # ends the VAE reconstructs as their own label (tests/test_lessons.py checks it
           # with a classifier trained on the training split)
           {state.INTERP_A: 322, state.INTERP_B: 227, state.INTERP_METHOD: "slerp",
            state.INTERP_STEPS: 16}),
    Lesson("Sigmoid hidden layers learn slowly", "pages/12_Activations.py", {"img": "16"},
           "One digits AE, five activations: the test-loss curves, how smooth each one's "
           "reconstructions are, and the same test images reconstructed by all five.",
           {state.ACT_IMG: 16}),
    Lesson("The vanishing gradient in a deep AE", "pages/13_Deep_AE.py", {"img": "40"},
           "Eight sigmoid layers trained end to end barely move their first layers; layer-wise "
           "pretraining and ReLU + BatchNorm fix it. Gradient norms, losses, reconstructions.",
           {state.DEEP_IMG: 40}),
    Lesson("Anomaly detection on tabular data", "pages/14_Tabular.py", {"case": "23"},
           "An AE trained on benign breast-cancer cases only: malignant cases rebuild badly. "
           "Opens on the worst-reconstructed test case and the features that give it away.",
           {state.TAB_CASE: 23}),
    Lesson("Ten labels per class (semi-supervised)", "pages/15_Semi_supervised.py",
           {"dataset": "digits", "model": "digits_vae_z16", "labels": "10"},
           "1-nearest neighbour with 10 labelled digits per class, on pixels, on the VAE's μ "
           "and on PCA, with the labelled images on the latent map.",
           {state.MODEL_NAME: "digits_vae_z16", state.SEMI_N: 10}),
    Lesson("An overcomplete AE and its fixes", "pages/10_Bottleneck.py",
           {"denoise": "1", "sparse": "1"},
           "Seven bottleneck sizes from 2 to 128, the copy test on noise, letters and shifted "
           "digits, and the z = 128 AE with denoising and a sparsity penalty switched on.",
           {state.CAP_FIX_DENOISE: True, state.CAP_FIX_SPARSE: True,
            state.CAP_FIX_DROPOUT: False, state.CAP_FIX_WD: False}),
    Lesson("Posterior collapse and its cures", "pages/11_Posterior_collapse.py",
           {"dataset": "digits", "model": "digits_vae_z16_b4"},
           # tests/test_lesson_pages.py checks these counts against the shipped models
           "A 16-D VAE with β = 4 switches all 16 latent dimensions off; cyclical KL annealing "
           "does not prevent it, free bits keep all 16 active (KL per dimension, active units).",
           {state.MODEL_NAME: "digits_vae_z16_b4"}),
    Lesson("The ELBO is loose: the IWAE bound", "pages/16_IWAE_bound.py",
           {"dataset": "digits", "model": "digits_vae_z16"},
           "More samples per image tighten the ELBO towards log p(x); the rise is the KL "
           "between the encoder's Gaussian and the true posterior.",
           {state.MODEL_NAME: "digits_vae_z16"}),
    Lesson("Draw a digit, then a letter", "pages/17_Draw_your_own.py",
           {"dataset": "digits", "model": "digits_vae_z2"},
           "Draw a 3 on the pad: the VAE's posterior ellipse lands among the 3s. Clear, draw an "
           "A: the error jumps above the test set's 95th percentile.",
           {state.MODEL_NAME: "digits_vae_z2"}),
    Lesson("Watch the clusters form", "pages/18_Watch_it_learn.py",
           {"dataset": "digits", "model": "digits_vae_z2"},
           "Replay the shipped VAE's training: one small blob at epoch 0, clusters by the end, "
           "held near the origin by the KL term.",
           {state.MODEL_NAME: "digits_vae_z2"}),
)
