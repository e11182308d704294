"""``page_setup``: page config, session-state defaults and the shared sidebar of every page."""
from __future__ import annotations

import os

from dataclasses import dataclass

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from aecore.checkpoints import CheckpointInfo
from aecore.data import DATASETS
from aecore.models import MODEL_LABELS
from aecore.project import PROJECTORS, methods_for

from . import cache, links, present, state, text
from .plaintext import escape_md


@dataclass
class Selection:
    """What the shared sidebar selected: a model (or None) and a projection method."""

    info: CheckpointInfo | None
    method: str | None


def model_label(info: CheckpointInfo) -> str:
    """Human label for the model picker, e.g. ``digits_vae_z2 · VAE · z=2``."""
    c = info.model_config
    beta = getattr(c, "beta", None)
    extra = f" · β={beta:g}" if beta is not None and beta != 1 else ""
    tag = "" if info.shipped else " · yours"
    return f"{info.name} · {MODEL_LABELS.get(c.name, c.name)} · z={c.latent_dim}{extra}{tag}"


def client_address() -> str | None:
    """The browser's source address (``st.context.ip_address``), or None when unknown (then
    every such client shares one allowance).

    Behind the deployment's nginx (``LATENTLAB_BEHIND_PROXY=1``, set by deploy/stack.py) every
    connection comes from loopback; then the address nginx wrote into ``X-Real-IP`` is used.
    nginx overwrites that header, and a replica listens on loopback only, so a client cannot
    forge it; a direct loopback connection without the header keeps its own address.
    """
    try:
        ip = st.context.ip_address
        if (os.environ.get("LATENTLAB_BEHIND_PROXY") == "1" and ip in ("127.0.0.1", "::1")
                and (real := st.context.headers.get("X-Real-IP"))):
            return real.strip()[:64]
        return ip
    except Exception:  # bare mode / AppTest has no context
        return None


def page_setup(title: str, *, icon: str = ":material/explore:", sidebar: bool = True,
               default_model: str = "digits_vae_z2", needs_data: bool = True,
               images: bool = True) -> Selection:
    """Set the page config, fill session defaults, apply a lesson link and draw the sidebar.

    The sidebar's dataset, model and projection are kept in session state under ``side.*`` so
    they survive switching pages. A lesson link's parameters (:mod:`ui.links`) are applied
    first; the page's state is written back into the address at the end. Controls named in
    ``side.hide`` (and, in presenter mode, the advanced ones) are replaced by a caption.
    When ``needs_data`` and the selected model's images cannot be loaded on this server, the
    page says so, with what to do, and stops there. A page that shows images (``images``,
    the default) says it has nothing to show for a model of tabular data, and stops there.
    """
    presenting = present.on() or st.query_params.get("presenter", "") in ("1", "true")
    st.set_page_config(page_title=f"{title} · Latent Lab", page_icon=icon, layout="wide",
                       initial_sidebar_state="collapsed" if presenting else "auto")
    state.init()
    problems = links.apply(title)
    if present.on():
        present.inject_css()
    _nav()
    _presenter_controls(title)
    for msg in problems:
        st.warning(f"Lesson link: {msg}", icon=":material/link_off:")
    if not sidebar:
        links.sync_url(title)
        return Selection(None, None)
    sel = _pickers(default_model)
    links.sync_url(title)
    problem = cache.data_problem(sel.info) if needs_data and sel.info is not None else None
    if problem:
        st.title(title)
        st.error(text.NO_DATA.format(name=sel.info.name, dataset=sel.info.dataset,
                                     todo=cache.needs_files(sel.info) or problem),
                 icon=":material/cloud_off:")
        st.stop()
    if images and sel.info is not None and sel.info.model_config.is_tabular:
        st.title(title)
        st.info(text.IMAGES_ONLY.format(name=sel.info.name, dataset=sel.info.dataset),
                icon=":material/table_chart:")
        st.stop()
    return sel


def _pickers(default_model: str) -> Selection:
    """Dataset, model and projection pickers (or captions where hidden) and the model card."""
    infos, problems = cache.list_models()
    with st.sidebar:
        names = list(DATASETS)
        if st.session_state[state.DATASET] not in names:
            st.session_state[state.DATASET] = names[0]
        _picker("Dataset", names, state.DATASET, hidden=state.hidden("dataset"))
        ds = st.session_state[state.DATASET]
        mine = [i for i in infos if i.dataset == ds]
        if not present.on():
            for msg in problems:
                st.warning(f"Skipped an unreadable checkpoint: {escape_md(msg)}",
                           icon=":material/warning:")
        if not mine:
            st.info(f"No trained model for **{ds}** yet. Train one on the Train page, or pick "
                    "**digits**, which ships with pretrained models.")
            return Selection(None, None)
        paths = [str(i.path) for i in mine]
        by_path = dict(zip(paths, mine))
        if st.session_state.pop(links.RESOLVE_MODEL, False):  # a lesson link named a model
            want = st.session_state.get(state.MODEL_NAME)
            named = [p for p, i in zip(paths, mine) if i.name == want]
            if named:
                st.session_state[state.MODEL] = named[0]
            else:
                st.warning(f"Lesson link: no model named {escape_md(want, 64)} for {ds} on "
                           "this server; "
                           "showing another one.", icon=":material/link_off:")
        if st.session_state[state.MODEL] not in paths:
            pref = [p for p, i in zip(paths, mine) if i.name == default_model]
            st.session_state[state.MODEL] = (pref or paths)[0]
        _picker("Model", paths, state.MODEL, hidden=state.hidden("model"),
                fmt=lambda p: model_label(by_path[p]) + (
                    text.NEEDS_DATA_MARK.format(dataset=by_path[p].dataset.upper())
                    if cache.needs_files(by_path[p]) else ""))
        info = by_path[st.session_state[state.MODEL]]
        st.session_state[state.MODEL_NAME] = info.name
        methods = methods_for(info.model_config.latent_dim)
        if st.session_state[state.PROJECTION] not in methods:
            if st.session_state.pop(links.RESOLVE_PROJ, False):
                st.warning(f"Lesson link: {info.name} has no "
                           f"{escape_md(st.session_state[state.PROJECTION])} map (its latent is "
                           f"{info.model_config.latent_dim}-D); showing "
                           f"{PROJECTORS[methods[0]].label}.", icon=":material/link_off:")
            st.session_state[state.PROJECTION] = methods[0]
        st.session_state.pop(links.RESOLVE_PROJ, None)
        _picker("Projection", methods, state.PROJECTION,
                hidden=state.hidden("projection") or present.on(),
                fmt=lambda m: PROJECTORS[m].label, on_change=_projection_changed,
                help="How the latent codes are drawn in 2-D. A 2-D latent is shown as is.")
        if not present.on():
            _model_card(info)
    return Selection(info, st.session_state[state.PROJECTION])


def _projection_changed(key: str) -> None:
    """Store the new projection; a picked empty-space spot is in the old map's units, where it
    would point somewhere else on the new map, so it is dropped (a picked image stays)."""
    state.store_widget(key)
    if (st.session_state.get(state.MAP_PICK) or {}).get("kind") == "grid":
        st.session_state[state.MAP_PICK] = None


def _picker(label: str, options: list[str], key: str, *, hidden: bool, fmt=str,
            help: str | None = None, on_change=state.store_widget) -> None:
    """A sidebar selectbox bound to the persistent session key ``key`` (see
    :func:`ui.state.sync_widget`), or, when ``hidden``, a caption naming its value.
    ``on_change(key)`` runs when the user picks another option."""
    if hidden:
        st.caption(f"{label}: **{fmt(st.session_state[key])}**")
        return
    state.sync_widget(key)
    st.selectbox(label, options, key=state.widget_key(key), format_func=fmt,
                 on_change=on_change, args=(key,), help=help)


def _presenter_controls(page: str) -> None:
    """Presenter-mode toggle, the lesson-link button and, when a link hid controls, a way back."""
    with st.sidebar:
        state.sync_widget(state.PRESENTER)
        st.toggle("Presenter mode", key=state.widget_key(state.PRESENTER),
                  on_change=state.store_widget, args=(state.PRESENTER,),
                  help="For a projector: larger type and markers, colour-blind-safe colours, "
                       "fewer controls. Also the link parameter presenter=1.")
        if st.button("Copy lesson link", icon=":material/link:", key="side.link",
                     help="A link that opens this page exactly as it is now."):
            _link_dialog(page)
        if st.session_state.get(state.HIDE):
            st.button("Show all controls", key="side.show_all", icon=":material/visibility:",
                      on_click=lambda: st.session_state.update({state.HIDE: ()}))


@st.dialog("Lesson link", width="large")
def _link_dialog(page: str) -> None:
    """The link of this page's current state, in a code box (its copy icon copies it)."""
    st.markdown(text.LESSON_LINK)
    st.code(links.lesson_url(page), language=None, wrap_lines=True)


def _nav() -> None:
    """Page list at the top of the sidebar (Streamlit's own would call the home page "app")."""
    if state.hidden("nav"):
        return
    with st.sidebar:
        st.markdown("### Latent Lab")
        try:
            st.page_link("app.py", label="Home", icon=":material/home:")
            for path, (label, icon, _) in text.PAGES.items():
                st.page_link(path, label=label, icon=icon)
        except StreamlitPageNotFoundError:
            pass  # a page run on its own (AppTest of one file) has no multipage app around it
        st.divider()


def _model_card(info: CheckpointInfo) -> None:
    """Small summary of the selected model: architecture, loss, metrics."""
    from aecore.models import build_model


    c = info.model_config
    m = info.meta.get("metrics", {})
    layers = build_model(c).layer_sizes()  # [(label, width)], input to output
    # (its layer diagram is drawn once, beside the formulas on each page: ui.explain)
    with st.expander("About this model", expanded=False):
        st.markdown(
            f"**{MODEL_LABELS.get(c.name, c.name)}**, input {c.input_dim} values "
            + (f"(standardised features, {c.output} output)" if c.is_tabular else
               f"({'×'.join(map(str, c.input_shape[1:]))} pixels)")
            + f", latent z of {c.latent_dim} "
            f"dimensions: **{c.completeness}**.  \n"
            f"Layers: {' → '.join(f'{n}' for _, n in layers)}  \n"
            f"Loss: {c.recon_loss.upper()}" + (f" + β·KL, β = {c.beta:g}" if hasattr(c, "beta")
                                                else "") + "  \n"
            f"Trained {info.meta.get('epochs', '?')} epochs on {info.dataset} "
            f"({info.meta.get('train_split', 'train')}); best epoch "
            f"{info.meta.get('best_epoch', '?')}.  \n"
            f"Test: recon {m.get('test_recon', float('nan')):.2f}, KL "
            f"{m.get('test_kl', float('nan')):.2f}, total {m.get('test_total', float('nan')):.2f}"
            f" ({text.UNITS[c.recon_loss]} per image).")
