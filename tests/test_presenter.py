"""Presenter mode for a projector: every chart and table styled for it, maps at full width
(AppTest on the figure specs; tests/test_browser.py::test_presenter_* looks at 1280x720)."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["1_Latent_map.py", "2_Interpolate.py", "3_Sample_prior.py", "5_AE_vs_VAE.py",
         "6_Anomalies.py", "7_Denoising.py", "8_AE_vs_PCA.py"]


def _open(page: str, presenter: bool) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=180)
    if presenter:
        at.query_params["presenter"] = "1"
    return at.run()


def _parents_are_columns(at, key: str) -> bool:
    """Whether the element ``key`` sits inside a column block."""
    def walk(node, in_col):
        if getattr(node, "key", None) == key:
            return in_col
        for child in getattr(node, "children", {}).values():
            r = walk(child, in_col or getattr(node, "type", "") == "column")
            if r is not None:
                return r
        return None
    return bool(walk(at.main, False))


@pytest.mark.parametrize("page", PAGES)
def test_every_chart_and_table_is_styled_for_the_projector(page):
    at = _open(page, presenter=True)
    assert not at.exception
    charts = at.get("plotly_chart")
    for c in charts:
        spec = json.loads(c.proto.spec)
        if json.loads(c.proto.config or "{}").get("staticPlot"):
            continue  # the layer diagram: no axes, no legend
        lay = spec["layout"]
        for ax in [k for k in lay if k.startswith(("xaxis", "yaxis"))]:
            assert lay[ax]["tickfont"]["size"] >= 18, (page, c.proto.id, ax)
            assert lay[ax]["title"]["font"]["size"] >= 20, (page, c.proto.id, ax)
            assert lay[ax]["tickfont"]["color"] == "#111"
        assert lay["legend"]["orientation"] == "h", (page, c.proto.id)  # not squeezing the plot
    assert not at.dataframe, page  # tables as st.table: wrapping text in the projector's type


@pytest.mark.parametrize("page,key", [("2_Interpolate.py", "interp.chart"),
                                      ("6_Anomalies.py", "anom.map"),
                                      ("8_AE_vs_PCA.py", "pca.ae")])
def test_presenter_maps_get_the_full_width(page, key):
    assert _parents_are_columns(_open(page, presenter=False), key)
    assert not _parents_are_columns(_open(page, presenter=True), key)


def test_the_toolbar_leaves_room_for_the_legend_title():
    at = _open("8_AE_vs_PCA.py", presenter=False)
    spec = json.loads(next(c for c in at.get("plotly_chart") if "pca.map" in c.proto.id).proto.spec)
    assert spec["layout"]["legend"]["title"]["text"] == "class"
    assert spec["layout"]["margin"]["t"] >= 36  # Plotly's toolbar is ~30 px high
