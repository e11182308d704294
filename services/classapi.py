"""The class API: a student's click on the class map, or answer to the class question, as one
small HTTP request, handled beside Streamlit by the same server process without a script run.

A pin sent through Streamlit costs a script run of the student's page (about 45 ms of the one
Python process under load): 300 students pinning every 3 s offered 100 runs a second and the
server completed 21 (issue 18). Here the page's map (``ui/web/latentmap.js``) POSTs the pin
and shows the reply itself, and so does the answer box (``ui/web/answerbox.js``, issue 15); the
store call is the whole cost. Clicks queue for one writer thread that stores them in batches
(:mod:`services.clickbatch`); an answer is stored by a thread of the server's pool.

A request names its class, student and that student's key
(:meth:`services.classroom.ClassStore.student_key`, handed to the student's page when they
join): the key proves the request came from that student's page, on any replica of the same
database. Every other check (rates, the map's extent, blocked students, class limits) is the
store's, as for any click.

Routes (mounted by ``app.py`` through ``st.App``)::

    POST /api/class/click   {"code", "student", "key", "pick", "name"}
        200 {"ok": true, "id": <click id>}
        4xx {"ok": false, "error": "<message>", "retry_after_s": <s, on 429>}
    POST /api/class/answer  {"code", "student", "key", "round", "choice"}
        200 {"ok": true, "choice": <choice>}; refusals as above (409: the answer is revealed)
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import stores
from .classquiz import QuizStore
from .classroom import ClassStore
from .clickbatch import ClickBatcher
from .errors import (AnswersClosed, BadClick, ClassExpired, ClassFull, ClassNotFound,
                     ClassroomError, NotLecturer, NotThisStudent, RateLimited)

__all__ = ["CLICK_PATH", "ANSWER_PATH", "MAX_BODY_BYTES", "routes", "ApiError"]

CLICK_PATH = "/api/class/click"
ANSWER_PATH = "/api/class/answer"
MAX_BODY_BYTES = 2048  # a click is ~200 bytes of JSON

# the HTTP status of each store refusal (the most specific class first)
_STATUS = [(RateLimited, 429), (NotThisStudent, 403), (NotLecturer, 403),
           (ClassNotFound, 404), (ClassExpired, 410), (ClassFull, 409), (AnswersClosed, 409),
           (BadClick, 400), (ClassroomError, 400)]


class ApiError(ClassroomError):
    """A request the API refuses before the store sees it (too large, not a JSON object).

    Attributes
    ----------
    status : int
        The HTTP status to answer with (400 or 413).
    """

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


async def _json_body(request: Request) -> dict:
    """The request's body as a JSON object, read no further than :data:`MAX_BODY_BYTES`.

    Raises
    ------
    ApiError
        413 if the body is larger; 400 if it is not UTF-8 JSON holding an object.
    """
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise ApiError(f"a request is at most {MAX_BODY_BYTES} bytes", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(f"a request is at most {MAX_BODY_BYTES} bytes", 413)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError("the request is not JSON") from None
    if not isinstance(data, dict):
        raise ApiError("the request is not a JSON object")
    return data


def _refusal(exc: ClassroomError) -> JSONResponse:
    status = getattr(exc, "status", None) or next(s for t, s in _STATUS if isinstance(exc, t))
    body: dict = {"ok": False, "error": str(exc)[:300]}
    headers = {}
    if isinstance(exc, RateLimited):
        body["retry_after_s"] = round(exc.retry_after_s, 2)
        headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
    return JSONResponse(body, status_code=status, headers=headers)


def _answer(quiz: QuizStore, data: dict) -> int:
    """Check the student's key, then store the answer; returns the choice (store errors
    raise)."""
    code, student, choice = data.get("code"), data.get("student"), data.get("choice")
    quiz.classes.check_student_key(code, student, data.get("key"))
    round_id = data.get("round")
    if isinstance(round_id, bool) or not isinstance(round_id, int):
        raise BadClick("a round is the question's id number")
    quiz.answer(code, student, round_id, choice)
    return choice


def routes(class_store: Callable[[], ClassStore] = stores.class_store,
           quiz_store: Callable[[], QuizStore] = stores.quiz_store) -> list[Route]:
    """The API's routes, for ``st.App(..., routes=routes())``.

    ``class_store`` and ``quiz_store`` give the stores to use (the process's ones by default;
    tests pass their own).
    """
    clicks = ClickBatcher(class_store)  # one writer thread: clicks stored in batches

    async def click(request: Request) -> JSONResponse:
        try:
            data = await _json_body(request)
            stored = await asyncio.wrap_future(clicks.submit(data))
        except ClassroomError as exc:
            return _refusal(exc)
        return JSONResponse({"ok": True, "id": stored.id})

    async def answer(request: Request) -> JSONResponse:
        try:
            data = await _json_body(request)
            # the store blocks on the database: off the event loop serving the websockets
            choice = await run_in_threadpool(_answer, quiz_store(), data)
        except ClassroomError as exc:
            return _refusal(exc)
        return JSONResponse({"ok": True, "choice": choice})

    return [Route(CLICK_PATH, click, methods=["POST"]),
            Route(ANSWER_PATH, answer, methods=["POST"])]
