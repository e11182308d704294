"""The class API's clicks, stored in batches by one writer thread per server process.

Handled one request per thread, each click took the write lock for a transaction of its own,
and under load the lock holder waited for Python's interpreter lock between every statement:
300 students pinning every 3 s got 46 clicks a second through, p50 0.85 s, and the threads
waiting for the write lock held the pool that also serves static files (2.5 s per state-file
fetch). Here a request only queues its click; one thread takes every click queued by then,
checks each student's key, and stores them all in one transaction
(:meth:`services.classroom.ClassStore.add_clicks`, every click checked as
:meth:`~services.classroom.ClassStore.add_click` checks it).

Typical use (inside a request handler)::

    batcher = ClickBatcher(stores.class_store)
    click = await asyncio.wrap_future(batcher.submit(data))   # raises ClassroomError
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

from .classroom import ClassStore, ClickRequest
from .errors import ClassroomError, RateLimited

__all__ = ["ClickBatcher"]

log = logging.getLogger(__name__)


class ClickBatcher:
    """Queue of the class API's clicks and the one thread that stores them.

    Parameters
    ----------
    store : callable
        Returns the :class:`ClassStore` to write to (called by the writer thread).
    max_batch : int
        Clicks stored in one transaction at most.
    max_queued : int
        Clicks waiting at most; beyond it a click is refused at once with ``RateLimited``
        (the server is overloaded: the page says to try again).
    """

    def __init__(self, store: Callable[[], ClassStore], max_batch: int = 256,
                 max_queued: int = 5000):
        self._store, self.max_batch, self.max_queued = store, max_batch, max_queued
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, data: dict) -> Future:
        """Queue one click request (``{"code", "student", "key", "pick", "name"}``, as the
        page sent it). The future resolves to the stored :class:`~services.classroom.Click`
        or raises the ``ClassroomError`` that refused it (``NotThisStudent`` for a wrong key,
        ``RateLimited`` when ``max_queued`` clicks are already waiting)."""
        fut: Future = Future()
        if self._queue.qsize() >= self.max_queued:
            fut.set_exception(RateLimited("the server is busy; pin again in a second",
                                          retry_after_s=1.0))
            return fut
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="latentlab-clicks",
                                                daemon=True)
                self._thread.start()
        self._queue.put((data, fut))
        return fut

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._store_batch(batch)
            except Exception as exc:  # never leave a page waiting; keep the thread alive
                log.exception("storing a batch of class clicks failed")
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(ClassroomError(f"the class store failed: {exc}"))

    def _store_batch(self, batch: list[tuple[dict, Future]]) -> None:
        store = self._store()
        requests, futures = [], []
        for data, fut in batch:
            code, student = data.get("code"), data.get("student")
            try:
                store.check_student_key(code, student, data.get("key"))
            except ClassroomError as exc:
                fut.set_exception(exc)
                continue
            requests.append(ClickRequest(code, student, data.get("pick"),
                                         data.get("name") or ""))
            futures.append(fut)
        if not requests:
            return
        try:
            results = store.add_clicks(requests, auto_join=False)
        except ClassroomError as exc:  # the database was busy or unusable: nothing stored
            results = [exc] * len(requests)
        for fut, got in zip(futures, results):
            if isinstance(got, BaseException):
                fut.set_exception(got)
            else:
                fut.set_result(got)
