"""Show text typed by a user, or echoed from an address, as plain text inside Markdown.

Streamlit renders ``st.markdown``, ``st.warning``, ``st.error``, ``st.info``, ``st.success``,
``st.toast``, ``st.caption`` and widget labels as GitHub-flavoured Markdown with Streamlit's own
extensions: ``$...$`` KaTeX, ``:red[...]`` colour directives, ``:rocket:`` emoji shortcodes and
``:material/...:`` icons, bare URLs as live links, and inline HTML where allowed. A name like
``![](http://host/)`` would make the lecturer's browser fetch an image. Where a value must sit
inside such a message, :func:`escape_md` makes it inert; where it can stand alone, prefer
elements that do not interpret Markdown at all (``st.text``, ``st.code``, ``st.dataframe``,
image captions).
"""
from __future__ import annotations

import re

__all__ = ["escape_md"]

# CommonMark: a backslash before any ASCII punctuation character makes it literal
_PUNCT = re.compile(r"([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
_ZWSP = "\u200b"  # invisible: breaks ":shortcode:", "http://" and "www." without showing


def escape_md(s: object, max_len: int | None = None) -> str:
    """``s`` as a Markdown fragment that renders as exactly its characters.

    Every ASCII punctuation character gets a backslash (so no emphasis, link, image, code span,
    HTML tag, KaTeX ``$`` or ``:directive[...]`` can start), and a zero-width space follows each
    ``:`` and ``.`` (so no emoji shortcode, bare ``scheme://`` URL or ``www.`` link can form: the
    autolink and emoji extensions match the rendered text, after the escapes are gone).

    Parameters
    ----------
    s : object
        Converted with ``str``; line breaks become spaces (a line break could start a block).
    max_len : int, optional
        Cut the text to this many characters first (with "…").

    Returns
    -------
    str
    """
    t = " ".join(str(s).splitlines())
    if max_len is not None and len(t) > max_len:
        t = t[:max_len] + "…"
    t = _PUNCT.sub(r"\\\1", t)
    return t.replace(":", ":" + _ZWSP).replace(".", "." + _ZWSP)
