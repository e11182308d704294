"""The question bank (``ui/questionbank.toml``) as typed, validated objects.

Three kinds of question, each tagged with a page and linked to the page state that settles it:

* ``"mc"``: multiple choice, one explanation per choice (why it is right or wrong); the
  choices are shown in a fixed shuffled order (the file may list the right one first);
* ``"picture"``: predict the picture: which of 3-4 images a shipped model's decoder draws at a
  pinned spot of its 2-D latent map (the images are computed from the models by
  :func:`ui.cache.question_pictures`; one candidate is that decoder's own output there);
* ``"card"``: a flashcard: recall, reveal the back, grade yourself.

This module reads data only (no Streamlit, no models), so tests and services can use it.
:func:`validate` checks every rule the file's header states; :func:`bank` raises
:class:`BankError` on the first broken one.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BANK_FILE = Path(__file__).with_name("questionbank.toml")
KINDS = ("mc", "picture", "card")
SOURCES = ("decode", "nearest")  # a picture candidate: the decoder at a spot, or the nearest
#                                  training image to the code there
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}$")
MAX_TEXT = 600  # characters of a prompt, choice, explanation or card back


class BankError(ValueError):
    """The question bank file breaks one of its rules (the message names the question)."""


@dataclass(frozen=True)
class Link:
    """The page state that settles a question: a page file (``pages/1_Latent_map.py``) and
    lesson-link parameters (``{"model": "digits_ae_z2", "pick": "g-2,6.8"}``, all strings)."""

    page: str
    params: dict


@dataclass(frozen=True)
class Candidate:
    """One image of a predict-the-picture question.

    ``source`` is ``"decode"`` (``model``'s decoder at the code under map spot ``at``) or
    ``"nearest"`` (the training image whose code is nearest that code); ``at`` is (x, y) in
    the units of ``model``'s identity (2-D latent) map.
    """

    source: str
    model: str
    at: tuple[float, float]


@dataclass(frozen=True)
class Question:
    """One question of the bank (see the module docstring for the kinds).

    ``answer`` indexes ``choices`` (mc) or ``candidates`` (picture); -1 for a card.
    ``why`` has one explanation per choice or candidate. ``back`` is a card's answer.
    """

    id: str
    kind: str
    page: str
    topic: str
    prompt: str
    explain: str
    link: Link
    choices: tuple[str, ...] = ()
    why: tuple[str, ...] = ()
    answer: int = -1
    back: str = ""
    model: str = ""
    spot: tuple[float, float] | None = None
    candidates: tuple[Candidate, ...] = ()

    @property
    def n_options(self) -> int:
        """How many answers a student can choose from (0 for a card)."""
        return len(self.candidates) if self.kind == "picture" else len(self.choices)

    def option_labels(self) -> list[str]:
        """The options as shown in a class's bar chart: the choice texts, or A, B, C, D."""
        if self.kind == "picture":
            return [chr(ord("A") + k) for k in range(len(self.candidates))]
        return list(self.choices)


def _text(q: dict, key: str, qid: str) -> str:
    v = q.get(key)
    if not isinstance(v, str) or not v.strip() or len(v) > MAX_TEXT:
        raise BankError(f"question {qid}: {key!r} must be text of 1 to {MAX_TEXT} characters")
    return v


def _xy(v, what: str) -> tuple[float, float]:
    if not (isinstance(v, list) and len(v) == 2 and all(isinstance(a, (int, float)) for a in v)):
        raise BankError(f"{what} must be [x, y]")
    return float(v[0]), float(v[1])


def _question(q: dict) -> Question:
    qid = q.get("id")
    if not isinstance(qid, str) or not _ID.match(qid):
        raise BankError(f"bad question id {qid!r}: 2-41 characters of a-z 0-9 -")
    kind = q.get("kind")
    if kind not in KINDS:
        raise BankError(f"question {qid}: kind must be one of {KINDS}, not {kind!r}")
    link = q.get("link")
    if not (isinstance(link, dict) and isinstance(link.get("page"), str)
            and isinstance(link.get("params", {}), dict)
            and all(isinstance(v, str) for v in link.get("params", {}).values())):
        raise BankError(f"question {qid}: link must be {{page = ..., params = {{...}}}} "
                        "with string values")
    common = dict(id=qid, kind=kind, page=_text(q, "page", qid), topic=_text(q, "topic", qid),
                  prompt=_text(q, "prompt", qid), explain=_text(q, "explain", qid),
                  link=Link(link["page"], dict(link.get("params", {}))))
    if kind == "card":
        return Question(**common, back=_text(q, "back", qid))
    why = q.get("why")
    answer = q.get("answer")
    if kind == "mc":
        choices = q.get("choices")
        if not isinstance(choices, list) or not 2 <= len(choices) <= 6:
            raise BankError(f"question {qid}: 2 to 6 choices")
        choices = tuple(_text({"c": c}, "c", qid) for c in choices)
        n = len(choices)
        extra = {"choices": choices}
    else:
        cands = q.get("candidates")
        if not isinstance(cands, list) or not 3 <= len(cands) <= 4:
            raise BankError(f"question {qid}: a picture question has 3 or 4 candidates")
        parsed = []
        for c in cands:
            if not isinstance(c, dict) or c.get("source") not in SOURCES \
                    or not isinstance(c.get("model"), str):
                raise BankError(f"question {qid}: candidate {c!r} needs source in {SOURCES} "
                                "and a model name")
            parsed.append(Candidate(c["source"], c["model"], _xy(c.get("at"), f"{qid} at")))
        model = _text(q, "model", qid)
        spot = _xy(q.get("spot"), f"question {qid}: spot")
        truth = Candidate("decode", model, spot)
        if parsed.count(truth) != 1:
            raise BankError(f"question {qid}: exactly one candidate must be the decoder of "
                            f"{model} at {spot}")
        if len(set(parsed)) != len(parsed):
            raise BankError(f"question {qid}: two candidates are the same image")
        n = len(parsed)
        extra = {"candidates": tuple(parsed), "model": model, "spot": spot}
        if answer != parsed.index(truth):
            raise BankError(f"question {qid}: answer must be {parsed.index(truth)}, the "
                            "decoder's own output")
    if not isinstance(why, list) or len(why) != n:
        raise BankError(f"question {qid}: 'why' needs one explanation per option ({n})")
    if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < n:
        raise BankError(f"question {qid}: answer must be an index from 0 to {n - 1}")
    why = tuple(_text({"w": w}, "w", qid) for w in why)
    if kind == "mc":  # the file may list the right answer first: show the choices shuffled
        order = _order(qid, n)
        extra["choices"] = tuple(extra["choices"][k] for k in order)
        why, answer = tuple(why[k] for k in order), order.index(answer)
    return Question(**common, **extra, why=why, answer=answer)


def _order(qid: str, n: int) -> list[int]:
    """A fixed shuffle of ``n`` choices, the same on every server (seeded by the id)."""
    return sorted(range(n), key=lambda k: hashlib.sha256(f"{qid}:{k}".encode()).digest())


def validate(raw: dict) -> tuple[Question, ...]:
    """Parse a bank (the TOML file's content as a dict) into questions.

    Raises
    ------
    BankError
        On the first question that breaks a rule, or on a repeated id.
    """
    items = raw.get("question")
    if not isinstance(items, list) or not items:
        raise BankError("the bank has no [[question]] entries")
    out = [_question(q) for q in items]
    ids = [q.id for q in out]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise BankError(f"question id {dup} is used twice")
    return tuple(out)


@lru_cache(maxsize=1)
def bank() -> tuple[Question, ...]:
    """Every question of ``questionbank.toml``, in file order (read once per process).

    Raises
    ------
    BankError
        If the file breaks a rule (see :func:`validate`).
    """
    with open(BANK_FILE, "rb") as f:
        return validate(tomllib.load(f))


def by_id(qid: str) -> Question:
    """The question with this id.

    Raises
    ------
    KeyError
        No question has this id.
    """
    for q in bank():
        if q.id == qid:
            return q
    raise KeyError(qid)


def for_page(page: str) -> list[Question]:
    """The questions tagged with ``page`` (e.g. ``"Latent_map"``), in file order."""
    return [q for q in bank() if q.page == page]
