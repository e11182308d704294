"""Every session-state key of the app, declared once: name, default, widget range, URL name.

Keys are namespaced: ``side.*`` for the shared sidebar, ``map.*`` for the latent map page, and
so on. A :class:`Key` is the key's name (a ``str``, so it indexes ``st.session_state``
directly) carrying its declaration; widgets take their range and default from it, and
:mod:`ui.links` takes the URL parameter name and the accepted range from it. Widget keys that
mirror a persistent key start with ``w.`` (see :func:`sync_widget`), because Streamlit forgets
a widget's key on pages where that widget is not drawn.
"""
from __future__ import annotations

import streamlit as st


class Key(str):
    """A session-state key name with its declaration (immutable).

    Parameters
    ----------
    name : str
        The key, e.g. ``"train.latent"``.
    default : object
        Value of a widget that has none yet (and of :func:`init` for the keys in ``DEFAULTS``).
    lo, hi : number, optional
        The widget's range; a lesson link's value must lie in it.
    url : str, optional
        Name of the key's parameter in a lesson link (``?latent=16``); None: not in links.
    """

    def __new__(cls, name: str, default: object = None, *, lo=None, hi=None,
                url: str | None = None) -> Key:
        """Create the key ``name`` with its declaration (see the class docstring)."""
        k = super().__new__(cls, name)
        object.__setattr__(k, "_decl", (default, lo, hi, url))
        return k

    def __setattr__(self, attr, value):
        raise AttributeError("a Key is immutable")

    @property
    def name(self) -> str:
        """The key as a plain string."""
        return str.__str__(self)

    @property
    def default(self) -> object:
        """The widget's default value."""
        return self._decl[0]

    @property
    def lo(self):
        """Lower end of the widget's range (None: unbounded)."""
        return self._decl[1]

    @property
    def hi(self):
        """Upper end of the widget's range (None: unbounded)."""
        return self._decl[2]

    @property
    def url(self) -> str | None:
        """URL parameter name in lesson links, or None."""
        return self._decl[3]


# -- the shared sidebar (every page) -----------------------------------------------------------
DATASET = Key("side.dataset", "digits", url="dataset")
MODEL = Key("side.model")  # checkpoint path (str)
MODEL_NAME = Key("side.model_name", url="model")  # checkpoint name of MODEL (links carry it)
PROJECTION = Key("side.projection", url="proj")
PRESENTER = Key("side.presenter", False, url="presenter")  # presenter mode on/off
HIDE = Key("side.hide", (), url="hide")  # tuple of hidden controls, from ui.links.HIDEABLE

# -- Latent map ---------------------------------------------------------------------------------
MAP_PICK = Key("map.pick", url="pick")  # {"kind": "point", "index": i} or {"kind": "grid", ...}
MAP_BLOBS_SENT = Key("lmap.sent")  # set of map/decoder blob ids this browser already holds
MAP_RESENDS = Key("lmap.resends", ())  # times (monotonic s) of recent blob resends asked for

# -- Interpolate --------------------------------------------------------------------------------
INTERP_A = Key("interp.a", 0, lo=0, hi=10**7, url="a")  # test-image index of end A
INTERP_B = Key("interp.b", 1, lo=0, hi=10**7, url="b")  # ... of end B
INTERP_METHOD = Key("interp.method", "lerp", url="path")  # "lerp" or "slerp"
INTERP_STEPS = Key("interp.steps", 12, lo=5, hi=60, url="steps")
INTERP_TARGET = Key("interp.target", "A")  # which end the next click on the map sets
INTERP_OTHER = Key("interp.other")  # path of a second model for the same pair ("—": none)

# -- Sample the prior ---------------------------------------------------------------------------
PRIOR_N = Key("prior.n", 32, lo=4, hi=64, url="n")
PRIOR_TEMPERATURE = Key("prior.temperature", 1.0, lo=0.1, hi=3.0, url="temp")
PRIOR_SEED = Key("prior.seed", 0, lo=0, hi=10**9, url="seed")
PRIOR_GRID = Key("prior.grid", 15, lo=5, hi=30)  # manifold grid edge (aecore refuses > 200)

# -- AE vs VAE ----------------------------------------------------------------------------------
CMP_PICK = Key("cmp.pick", 0, lo=0, hi=10**7, url="img")  # test index picked in either map
CMP_BETA = Key("cmp.beta", 1.0, lo=0.0, hi=100.0, url="beta")  # the beta sweep's slider
CMP_FOCUS = Key("cmp.focus", url="focus")  # "beta": the beta sweep leads the page (a lesson)
CMP_LEFT, CMP_RIGHT = Key("cmp.left"), Key("cmp.right")  # the two models' paths
CMP_B = Key("cmp.b")  # the other end of the side-by-side interpolation (default: pick + 1)

# -- Anomalies, Denoising -----------------------------------------------------------------------
ANOM_THRESHOLD = Key("anom.threshold", lo=-1e9, hi=1e9, url="thr")  # default: 95th percentile
DEN_INDEX = Key("den.index", 0, lo=0, hi=10**7, url="img")
DEN_KIND = Key("den.kind", "gaussian", url="noise")
DEN_LEVEL = Key("den.level", 0.3, lo=0.0, hi=0.8, url="level")

# -- Train --------------------------------------------------------------------------------------
TRAIN_PACE = Key("train.pace", True)  # lecture speed: every epoch on screen (services.jobs)
TRAIN_JOB = Key("train.job_id")  # id of this session's run in the server's registry
TRAIN_MODEL = Key("train.model", "vae")
TRAIN_LATENT = Key("train.latent", 2, lo=2, hi=128, url="latent")
TRAIN_HIDDEN = Key("train.hidden", "256,128")
TRAIN_CHANNELS = Key("train.channels", "32,64")
TRAIN_BETA = Key("train.beta", 1.0, lo=0.0, hi=8.0, url="beta")
TRAIN_ANNEAL_LEN = Key("train.anneal_len", 10, lo=1, hi=50)
TRAIN_NOISE_LEVEL = Key("train.noise_level", 0.3, lo=0.0, hi=1.0)
TRAIN_DROPOUT = Key("train.dropout", 0.0, lo=0.0, hi=0.8)
TRAIN_SPARSITY = Key("train.sparsity", 0.0, lo=0.0, hi=0.5)  # L1 weight on z (plain AE)
TRAIN_FREE_BITS = Key("train.free_bits", 0.0, lo=0.0, hi=2.0)  # nats per latent dim (VAE)
TRAIN_EPOCHS = Key("train.epochs", 60, lo=1, hi=300)
TRAIN_SEED = Key("train.seed", 0, lo=0, hi=10**6)
TRAIN_LOSS = Key("train.loss", "bce")
TRAIN_ANNEAL = Key("train.anneal", "none")
TRAIN_NOISE = Key("train.noise", "gaussian")
TRAIN_WD = Key("train.wd", 0.0)  # weight decay (a select slider: its choices are the range)
TRAIN_BATCH = Key("train.batch", 64)
TRAIN_LR = Key("train.lr", 2e-3)
TRAIN_SPLIT = Key("train.split", True)  # non-digits data: the 8,000 / 2,000 test-set split
TRAIN_ACT = Key("train.activation", "relu")  # hidden-layer nonlinearity (aecore.models.blocks)
TRAIN_NORM = Key("train.norm", "none")  # normalisation after each hidden layer
TRAIN_PRETRAIN = Key("train.pretrain", 0, lo=0, hi=50)  # layer-wise pretraining epochs per layer
ACT_IMG = Key("act.img", 0, lo=0, hi=10**6, url="img")  # Activations: first test image shown
DEEP_IMG = Key("deep.img", 0, lo=0, hi=10**6, url="img")  # Deep AE: first test image shown

# -- Tabular, Semi-supervised (issue 17) --------------------------------------------------------
TAB_CASE = Key("tab.case", lo=0, hi=10**7, url="case")  # test case explained (default: worst)
MAP_TAB_CASE = Key("map.tab_case", 0, lo=0, hi=10**7)  # case shown beside a tabular latent map
SEMI_N = Key("semi.n", 10, lo=1, hi=50, url="labels")  # labels per class shown on the map
# -- Bottleneck size (a switch per fix of the overcomplete AE) ----------------------------------
CAP_FIX_DENOISE = Key("cap.fix.denoise", False, url="denoise")
CAP_FIX_DROPOUT = Key("cap.fix.dropout", False, url="dropout")
CAP_FIX_WD = Key("cap.fix.wd", False, url="wd")
CAP_FIX_SPARSE = Key("cap.fix.sparse", False, url="sparse")
CAP_FIXES = {"denoise": CAP_FIX_DENOISE, "dropout": CAP_FIX_DROPOUT, "wd": CAP_FIX_WD,
             "sparse": CAP_FIX_SPARSE}

# -- Classroom ----------------------------------------------------------------------------------
CLASS_CODE = Key("class.code")
CLASS_TOKEN = Key("class.token")  # lecturer's secret (only in the lecturer's session)
CLASS_ROLE = Key("class.role")  # "lecturer" | "student"
CLASS_STUDENT = Key("class.student")  # this browser session's anonymous student id
CLASS_DETAIL = Key("class.detail")  # student: {"map": map key, "pick": pin} asked for in detail
CLASS_KEY = Key("class.key")  # the student's key for the class API (services.classapi)
CLASS_NAME = Key("class.name")  # the student's name (the join form's field is forgotten)
CLASS_SEEN = Key("class.seen")  # lecturer: the clicks on the current map (list of Click)
CLASS_LAST = Key("class.last_id")  # lecturer: id of the last click fetched
CLASS_NEW_MAP = Key("class.new_map")  # lecturer switched model: earlier clicks are another map
CLASS_DRAWN = Key("class.drawn")  # lecturer: the class's drawings placed on the current map
DRAW_SENT = Key("draw.sent")  # student: (kind, message, pad's seq) of the last drawing sent

# -- Check your understanding, class questions (issue 15) ---------------------------------------
CHECKS_PROGRESS = Key("checks.progress")  # {question id: {"choice": i, "correct": bool}} or
#                                            {"grade": "knew" | "again"} for a flashcard
CHECKS_AT = Key("checks.at")  # {page tag: index of the question shown in its section}
QUIZ_APPLIED = Key("quiz.applied")  # student: id of the last revealed class question applied
QUIZ_SET = Key("quiz.set")  # lecturer: the question ids of the pre/post check

DEFAULTS: dict[str, object] = {k: k.default for k in (DATASET, MODEL, PROJECTION, MAP_PICK,
                                                      PRESENTER, HIDE)}


def init() -> None:
    """Fill missing keys with their defaults (never overwrites a user's choice)."""
    for k, v in DEFAULTS.items():
        st.session_state.setdefault(k, v)


def widget_key(key: str) -> str:
    """The widget key that mirrors a persistent key."""
    return "w." + key


def sync_widget(key: str) -> None:
    """Before drawing a widget: give it the persistent value (survives page switches)."""
    st.session_state[widget_key(key)] = st.session_state.get(key)


def hidden(control: str) -> bool:
    """Whether a lesson link (or presenter mode) hid ``control`` (see ``ui.links.HIDEABLE``)."""
    return control in (st.session_state.get(HIDE) or ())


def clamp(key: str, lo, hi) -> bool:
    """Keep a numeric session value (e.g. from a lesson link) inside a widget's [lo, hi];
    writes only when it changes, and before the widget is drawn. True when it changed."""
    v = st.session_state.get(key)
    if v is not None and not lo <= v <= hi:
        st.session_state[key] = type(v)(min(max(v, lo), hi))
        return True
    return False


def store_widget(key: str) -> None:
    """``on_change`` callback: copy the widget's value into the persistent key."""
    st.session_state[key] = st.session_state[widget_key(key)]
