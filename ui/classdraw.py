"""Students' drawings on the class map (issue 19): the Draw your own page's **Send to the class
map** action (a student in a class), and the drawings on the lecturer's Classroom map (red
stars, a strip of the newest, a show/hide toggle and a Clear button).

The pad (``ui/web/drawpad.js``) sends only the drawing's model input, the ``H*W`` grey values
0..255 it already computed for the encoder, as the trigger value ``send``; the store
(:class:`services.classdraw.DrawStore`) checks them against the class's dataset and bounds.
The lecturer's map encodes each drawing with the class model (``mu`` for a VAE) and places the
code with the map's projection (:meth:`aecore.atlas.Atlas.project`: exact for the identity and
PCA, the nearest stored codes' positions for UMAP and t-SNE).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from aecore import latent
from aecore.checkpoints import CheckpointInfo
from services.classdraw import Drawing
from services.errors import (ClassExpired, ClassFull, ClassNotFound, ClassroomError,
                             DrawingsHidden, RateLimited, WrongDataset)

from . import cache, images, latentmap, mapview, state, text
from .plaintext import escape_md

__all__ = ["STRIP_N", "Placed", "ClassDrawings", "place", "overlays", "placed_now",
           "lecturer_bar", "strip", "send_action", "on_send", "send_outcome"]

STRIP_N = 6  # newest drawings shown enlarged under the lecturer's map
STRIP_PX = 140  # their width on screen (nearest-neighbour enlarged: crisp pixels)
SHOW_KEY = "class.draw.show"  # the lecturer's "Show the class's drawings" toggle
PAGE = 500  # drawings fetched per read


@dataclass(frozen=True)
class Placed:
    """A drawing placed on a map: ``x, y`` map coordinates of its code (``mu`` for a VAE),
    ``z`` the code itself, shape (latent_dim,)."""

    drawing: Drawing
    x: float
    y: float
    z: np.ndarray


# -- the lecturer's map ------------------------------------------------------------------------

def place(md: mapview.MapData, drawings: list[Drawing]) -> list[Placed]:
    """Encode drawings with the map's model and place their codes on the map.

    Parameters
    ----------
    md : MapData
        The class's map: its model encodes, its atlas projects.
    drawings : list of Drawing
        Pixels (H, W) uint8; those of another dataset or shape than the model's are skipped.

    Returns
    -------
    list of Placed
        In the input order. ``z = model.embed(pixels / 255)`` (the encoder's ``mu`` for a VAE,
        shape (latent_dim,)), ``(x, y) = atlas.project(z)``: ``z`` itself on a 2-D latent's
        identity map.
    """
    shape = tuple(md.model.config.input_shape)
    ok = [d for d in drawings if d.dataset == md.info.dataset and (1, *d.pixels.shape) == shape]
    if not ok:
        return []
    x = torch.from_numpy(np.stack([d.image() for d in ok]))  # (N, 1, H, W) in [0, 1]
    z = latent.encode(md.model, x)
    xy, _ = md.atlas.project(z)
    return [Placed(d, float(p[0]), float(p[1]), zz) for d, p, zz in zip(ok, xy, z)]


def overlays(placed: list[Placed]) -> list[dict]:
    """The drawings as one map overlay: white stars outlined in red (as the pad draws a
    student's own drawing; unlike presenter mode's filled class markers, one of which is a
    star), the newest :data:`STRIP_N` labelled D1, D2... (oldest first, as in :func:`strip`).
    Names are never drawn on the map."""
    if not placed:
        return []
    cut = max(0, len(placed) - STRIP_N)
    labels = [""] * cut + [f"D{k + 1}" for k in range(len(placed) - cut)]
    return [{"name": "class drawings", "xy": [[round(p.x, 4), round(p.y, 4)] for p in placed],
             "symbol": "star", "size": 9, "color": "#d62728", "fill": "#fff", "line": 2.5,
             "text": labels}]


@dataclass(frozen=True)
class ClassDrawings:
    """The class's drawings as the lecturer's map sees them now.

    ``placed``: those placed on this map (all of the class model's dataset), oldest first;
    ``stored``: how many the class stores; ``fetched``: how many were read (``fetched -
    len(placed)`` were made for another dataset); ``hidden``: the lecturer hid them.
    """

    placed: list[Placed]
    stored: int
    fetched: int
    hidden: bool


def placed_now(md: mapview.MapData, code: str) -> ClassDrawings:
    """The class's drawings on this map, fetched incrementally and kept in the session (a
    drawing is encoded once per map; a model switch, a removed student or a clear starts
    over).

    Raises
    ------
    ClassroomError
        The class ended.
    """
    store = cache.draw_store()
    for _ in range(2):
        memo = st.session_state.get(state.CLASS_DRAWN)
        if not memo or memo["map"] != md.key or memo["code"] != code:
            memo = {"map": md.key, "code": code, "last": 0, "seen": 0, "placed": []}
        while True:  # everything new, in pages
            new = store.drawings(code, after_id=memo["last"], limit=PAGE)
            if new:
                memo["last"], memo["seen"] = new[-1].id, memo["seen"] + len(new)
                memo["placed"] = memo["placed"] + place(md, new)
            if len(new) < PAGE:
                break
        stored, hidden = store.status(code)  # read after: a drawing sent meanwhile is seen
        st.session_state[state.CLASS_DRAWN] = memo  # at the next poll
        if memo["seen"] <= stored:
            break
        st.session_state.pop(state.CLASS_DRAWN)  # some were deleted elsewhere: read afresh
    return ClassDrawings(memo["placed"], stored, memo["seen"], hidden)


def lecturer_bar(md: mapview.MapData, code: str, token: str) -> list[Placed]:
    """Above the class's map: how many drawings it shows, the show/hide toggle and Clear.
    Returns the drawings to draw (none while hidden).

    Raises
    ------
    ClassroomError
        The class ended.
    """
    cd = placed_now(md, code)
    shown = [] if cd.hidden else cd.placed
    x0, x1, y0, y1 = latentmap.extent(md.atlas)
    off = sum(not (x0 <= p.x <= x1 and y0 <= p.y <= y1) for p in shown)
    other = cd.fetched - len(cd.placed)
    c1, c2, c3 = st.columns([4, 3, 3], vertical_alignment="center")
    if cd.hidden:
        c1.markdown(f"Drawings hidden: **0** shown of **{cd.stored}** stored; new drawings are "
                    "refused until you show them again.")
    else:
        n = len(shown)
        c1.markdown(f"**{n}** drawing{'s' * (n != 1)} shown (red stars)"
                    + (f", {off} of them outside the map's frame" if off else "")
                    + (f"; {other} made for another dataset not shown" if other else "") + "."
                    + ("" if md.atlas.inverse_is_exact else " Placed by their nearest test codes "
                       "(this projection cannot place new codes exactly)."))
        if not cd.stored:
            c1.caption(text.CLASS_DRAWINGS)
    # the store is the authority (another tab of the lecturer may have changed it)
    st.session_state[SHOW_KEY] = not cd.hidden
    c2.toggle("Show the class's drawings", key=SHOW_KEY, on_change=_set_hidden,
              args=(code, token))
    c3.button("Clear drawings", key="class.draw.clear", on_click=_clear, args=(code, token),
              disabled=cd.stored == 0, icon=":material/delete_sweep:")
    return shown


def strip(placed: list[Placed]) -> None:
    """The newest :data:`STRIP_N` drawings enlarged (crisp pixels), labelled D1, D2... as on
    the map, each captioned with its student's name (plain text)."""
    last = placed[-STRIP_N:]
    if not last:
        return
    st.caption("Newest drawings sent by students (what the model sees):")
    cols = st.columns(STRIP_N)
    for k, (col, p) in enumerate(zip(cols, last)):
        d = p.drawing
        col.image(images.enlarge(d.pixels / 255.0), width=STRIP_PX,
                  caption=f"D{k + 1}. {d.name or 'student ' + d.student[:4]}")


def _set_hidden(code: str, token: str) -> None:
    try:
        cache.draw_store().set_hidden(code, token, not st.session_state[SHOW_KEY])
    except ClassroomError:
        pass  # the class ended meanwhile: the next run says so


def _clear(code: str, token: str) -> None:
    try:
        cache.draw_store().clear(code, token)
    except ClassroomError:
        pass
    st.session_state.pop(state.CLASS_DRAWN, None)


# -- the student's pad -------------------------------------------------------------------------

def _student_code() -> str | None:
    from . import classroom  # the Classroom glue's session keys
    if st.session_state.get(classroom.ROLE) == "student":
        return st.session_state.get(classroom.CODE)
    return None


def send_action(info: CheckpointInfo) -> dict | None:
    """The pad's ``send`` data when this browser is a student in a class whose model is on
    ``info``'s dataset; else None, after a line that says how to join or what to pick."""
    code = _student_code()
    if not code:
        st.caption(text.DRAW_SEND_JOIN)
        return None
    try:  # the server's latest read of the class (services/classlive.py), not a query
        snap = cache.live_board().watch(code)
    except ClassroomError as exc:
        st.warning(f"Your class has ended: {escape_md(exc)}", icon=":material/error:")
        return None
    if snap.ended:
        st.warning("Your class has ended.", icon=":material/error:")
        return None
    ds = snap.settings.get("dataset")
    if ds != info.dataset:
        st.info(text.DRAW_SEND_OTHER.format(code=code, dataset=escape_md(ds)),
                icon=":material/swap_horiz:")
        return None
    lim = cache.draw_store().limits
    h, w = info.model_config.input_shape[1:]
    st.caption(text.DRAW_SEND.format(code=code, h=h, w=w, gap=lim.min_interval_s,
                                     per=lim.per_student))
    kind, msg, seq = st.session_state.get(state.DRAW_SENT) or ("", "", 0)
    # seq: the pad's count of sends answered, so that a repeated message still updates the pad
    return {"label": "Send to the class map", "status": msg, "ok": kind == "ok", "seq": seq}


def on_send(key: str, dataset: str) -> None:
    """The pad's ``send`` trigger: store its pixels as this student's drawing for the class
    (``dataset``: the pad's model's, never the browser's word). Keeps the outcome for
    :func:`send_outcome`."""
    from . import classroom
    val = st.session_state.get(key)
    sent = val.get("send") if hasattr(val, "get") else getattr(val, "send", None)
    code = _student_code()
    if not code or not isinstance(sent, dict):
        return
    try:
        cache.draw_store().send(code, st.session_state[classroom.STUDENT], dataset,
                                sent.get("pixels"),
                                name=st.session_state.get(classroom.NAME) or "")
        out = ("ok", "Sent: your drawing is on the lecturer's map.")
    except RateLimited as exc:
        out = ("warn", f"Not sent: wait {exc.retry_after_s:.0f} s before sending another "
                       "drawing.")
    except (ClassExpired, ClassNotFound) as exc:
        out = ("error", f"Not sent: the class has ended or you left it ({exc}).")
    except WrongDataset as exc:
        out = ("error", f"Not sent: {exc}.")
    except (DrawingsHidden, ClassFull) as exc:
        out = ("warn", f"Not sent: {exc}.")
    except ClassroomError as exc:
        out = ("error", f"Not sent: {exc}.")
    seq = sent.get("seq")
    st.session_state[state.DRAW_SENT] = (*out, seq if isinstance(seq, int) else 0)


def send_outcome() -> None:
    """The last send's outcome as a message (plain text inside it)."""
    kind, msg, _ = st.session_state.get(state.DRAW_SENT) or ("", "", 0)
    if kind == "ok":
        st.success(escape_md(msg), icon=":material/send:")
    elif kind == "warn":
        st.warning(escape_md(msg), icon=":material/timer:")
    elif kind == "error":
        st.error(escape_md(msg), icon=":material/error:")
