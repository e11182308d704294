"""Child processes for the multi-process store tests."""
from __future__ import annotations

import multiprocessing as mp
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def spawning() -> Iterator:
    """A ``spawn`` multiprocessing context whose children start clean.

    Not fork: this test process may run the live board's thread (``ui.cache.live_board``,
    started by the page tests), and a child forked while that thread was inside SQLite inherits
    SQLite's mutex locked and hangs at its first connect. And while children start, ``__main__``
    is a plain module: an AppTest run can leave its temporary script as ``__main__``, which a
    spawned child would otherwise run again (and fail on).
    """
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield mp.get_context("spawn")
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved
