"""Plotly figure builders and the click-to-pick translation (no browser needed)."""
import numpy as np

from ui import figures
from ui.mapview import pick_from_event


def _fig():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(50, 2))
    labels = np.repeat(np.arange(5), 10)
    grid = np.stack(np.meshgrid(np.linspace(-3, 3, 8), np.linspace(-3, 3, 8)), -1).reshape(-1, 2)
    return emb, labels, grid


def test_latent_map_one_trace_per_class_with_global_ids():
    emb, labels, grid = _fig()
    fig = figures.latent_map(emb, labels, [str(i) for i in range(5)], grid_xy=grid, selected=7)
    names = [t.name for t in fig.data]
    assert names[0] == "empty space"  # the grid is drawn first, under the data
    assert names[1:6] == ["0", "1", "2", "3", "4"]
    ids = np.concatenate([np.asarray(t.customdata) for t in fig.data[1:6]])
    assert sorted(ids.tolist()) == list(range(50))
    for t in fig.data[1:6]:  # customdata maps back to the right coordinates
        cd = np.asarray(t.customdata)
        assert np.allclose(np.c_[t.x, t.y], emb[cd])
    sel = fig.data[-1]
    assert sel.name == "selected" and np.allclose([sel.x[0], sel.y[0]], emb[7])
    assert all(t.unselected.marker.opacity == 1 for t in fig.data[1:6])
    assert set(np.asarray(fig.data[0].customdata)) == {figures.GRID_CUSTOMDATA}


def test_pick_from_event_prefers_data_points_over_grid_nodes():
    pts = [{"x": 0.5, "y": 1.0, "customdata": -1}, {"x": 0.4, "y": 0.9, "customdata": 12}]
    assert pick_from_event(pts) == {"kind": "point", "index": 12}
    assert pick_from_event(pts[:1]) == {"kind": "grid", "x": 0.5, "y": 1.0}
    assert pick_from_event([{"x": 1, "y": 2, "customdata": [4]}]) == {"kind": "point", "index": 4}
    assert pick_from_event([]) is None
