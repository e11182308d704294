"""Plotly figure builders (no browser needed)."""
import numpy as np

from ui import figures


def _fig():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(50, 2))
    labels = np.repeat(np.arange(5), 10)
    grid = np.stack(np.meshgrid(np.linspace(-3, 3, 8), np.linspace(-3, 3, 8)), -1).reshape(-1, 2)
    return emb, labels, grid


def test_latent_map_one_trace_per_class_with_global_ids():
    emb, labels, _ = _fig()
    fig = figures.latent_map(emb, labels, [str(i) for i in range(5)], method="pca")
    assert [t.name for t in fig.data] == ["0", "1", "2", "3", "4"]
    ids = np.concatenate([np.asarray(t.customdata) for t in fig.data])
    assert sorted(ids.tolist()) == list(range(50))
    for t in fig.data:  # customdata maps back to the right coordinates
        cd = np.asarray(t.customdata)
        assert np.allclose(np.c_[t.x, t.y], emb[cd])
    assert fig.layout.xaxis.title.text == "PC 1"
    # a class with no image gets no legend entry
    assert len(figures.latent_map(emb[:20], labels[:20], list("01234")).data) == 2
