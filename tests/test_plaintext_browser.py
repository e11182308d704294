"""Real browser: a lesson link's echoed values stay plain text (issue 14 item 8). Before,
``/AE_vs_VAE?beta=1`![i](http://127.0.0.1:9/v.png)` `` made the browser fetch that image from
inside the app's own warning. (Student names on the projector: tests/test_classroom_page.py.)"""
from __future__ import annotations

from urllib.parse import quote, urlparse

import pytest

from tests.e2e import open_page, shot, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

IMG = "![i](http://127.0.0.1:9/v.png)"
LINK = "[Reset password](http://e.co/x)"


def _watch(page) -> list[str]:
    """Requests the page makes to the hostile hosts."""
    hits = []
    page.on("request", lambda r: hits.append(r.url)
            if urlparse(r.url).netloc in ("127.0.0.1:9", "e.co") else None)
    return hits


def test_echoed_link_values_render_as_text_not_images_or_links(server, page):
    hits = _watch(page)
    open_page(page, server, f"AE_vs_VAE?beta={quote('1`' + IMG + '`')}&{quote(LINK)}=1")
    page.get_by_text("was ignored").first.wait_for(timeout=30_000)
    wait_idle(page)
    shot(page, "link_injection")
    assert page.locator('img[src*="127.0.0.1:9"]').count() == 0
    assert page.locator('a[href*="e.co"]').count() == 0
    assert page.get_by_text("Reset password").first.is_visible()  # shown, as text
    assert hits == []
