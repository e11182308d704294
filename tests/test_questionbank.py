"""The question bank: enough questions over the whole syllabus, every entry well formed, every
lesson link parseable by ui/links.py, and each predict-the-picture answer the decoder's own
output at the pinned spot."""
import copy
import tomllib

import numpy as np
import pytest
import torch

from aecore import checkpoints
from ui import links, text
from ui.checks import page_file, page_title
from ui.questionbank import BANK_FILE, BankError, bank, validate

# the pages other helpers are writing now: questions wait there under the page's future name
FUTURE_PAGES = {"Bottleneck", "Posterior_collapse", "Activations", "Deep_AE", "Tabular",
                "Semi_supervised", "IWAE_bound", "Draw_your_own"}
SYLLABUS = ["encoder, decoder, bottleneck", "under- vs overcomplete",
            "MSE vs BCE and the sigmoid output", "regularisation (dropout, weight decay)",
            "denoising", "anomaly detection", "AE vs PCA", "the VAE's Gaussian encoder",
            "the reparameterization trick", "the KL term and the ELBO", "β and KL annealing",
            "posterior collapse", "prior sampling", "AE vs VAE smoothness",
            "myth: a bigger bottleneck is always better", "myth: autoencoders need labels",
            "myth: autoencoders only work on images", "myth: an autoencoder is a classifier"]


def test_bank_covers_the_syllabus_with_every_kind():
    qs = bank()
    assert len(qs) >= 40  # 55 now
    assert {q.kind for q in qs} == {"mc", "picture", "card"}
    assert sum(q.kind == "picture" for q in qs) >= 3
    topics = {q.topic for q in qs}
    assert not [t for t in SYLLABUS if t not in topics]
    assert FUTURE_PAGES <= {q.page for q in qs}


def test_every_page_tag_is_a_page_or_a_page_being_written():
    for q in bank():
        assert page_file(q.page) or q.page in FUTURE_PAGES, q.id
    # every existing page except the Classroom has questions of its own
    tags = {q.page for q in bank()}
    for path in text.PAGES:
        tag = path.split("_", 1)[1].removesuffix(".py")
        assert tag == "Classroom" or tag in tags, tag


def test_every_lesson_link_parses():
    for q in bank():
        assert q.link.page == "app.py" or q.link.page in text.PAGES, q.id
        params = {p.name: p for p in links.params_for(page_title(q.link.page))}
        for name, value in q.link.params.items():
            assert name in params, f"{q.id}: {name} is no parameter of {q.link.page}"
            params[name].parse(value)  # raises ValueError on a bad value


def test_choice_explanations_say_right_or_wrong():
    for q in bank():
        if q.kind == "card":
            assert q.back and q.answer == -1
            continue
        assert len(q.why) == q.n_options
        for k, w in enumerate(q.why):
            assert w.startswith("Right" if k == q.answer else "✗ Incorrect"), (q.id, k)


@torch.no_grad()
def test_picture_answer_is_the_decoders_output_at_the_pinned_spot():
    from ui import cache  # the app's own computation, checked against aecore directly

    for q in (q for q in bank() if q.kind == "picture"):
        model, info = checkpoints.load(checkpoints.SHIPPED_DIR / f"{q.model}.safetensors")
        assert model.config.latent_dim == 2  # the spot is the code itself on an identity map
        a = cache.atlas(cache.model_named(q.model), "identity")
        x0, x1, y0, y1 = (float(v) for v in (a.grid_xy[:, 0].min(), a.grid_xy[:, 0].max(),
                                             a.grid_xy[:, 1].min(), a.grid_xy[:, 1].max()))
        assert x0 <= q.spot[0] <= x1 and y0 <= q.spot[1] <= y1, q.id  # on the model's map
        truth = model.decode(torch.tensor([q.spot], dtype=torch.float32))[0].numpy()
        pics = cache.question_pictures(q.id)
        assert len(pics) == len(q.candidates)
        np.testing.assert_allclose(pics[q.answer], truth, atol=1e-5)
        for k, p in enumerate(pics):  # every decoy looks different from the answer
            if k != q.answer:
                assert np.abs(p - truth).max() > 0.3, (q.id, k)  # measured >= 0.34


def test_collapse_question_states_what_the_model_measured():
    q = next(q for q in bank() if q.id == "collapse-picture")
    assert "KL on the test set is about 0" in q.prompt
    info = checkpoints.read_info(checkpoints.SHIPPED_DIR / f"{q.model}.safetensors")
    assert info.meta["metrics"]["test_kl"] < 0.01


def _raw() -> dict:
    with open(BANK_FILE, "rb") as f:
        return tomllib.load(f)


@pytest.mark.parametrize("breakage, message", [
    (lambda q: q.update(answer=0), "decoder's own output"),
    (lambda q: q["candidates"].append(copy.deepcopy(q["candidates"][0])), "3 or 4"),
    (lambda q: q["why"].pop(), "one explanation per option"),
    (lambda q: q.update(kind="quiz"), "kind must be"),
    (lambda q: q["candidates"].pop(2), "exactly one candidate"),
])
def test_bad_entries_are_refused(breakage, message):
    raw = _raw()
    q = next(q for q in raw["question"] if q["id"] == "hole-picture")
    breakage(q)
    with pytest.raises(BankError, match=message):
        validate(raw)


def test_duplicate_ids_are_refused():
    raw = _raw()
    raw["question"].append(copy.deepcopy(raw["question"][0]))
    with pytest.raises(BankError, match="used twice"):
        validate(raw)
