"""Run a callable that reports progress through a callback in a worker thread, and iterate its events live.

`Recommender.stream` and `ChatSession.stream` share this, so a long stage's progress reaches the caller while the
stage runs. Implementation-only.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def stream_events(work: Callable[[Callable[[Any], None]], Any], *, name: str) -> Iterator[Any]:
    """Yield every item `work` passes to its callback, then `work`'s return value.

    Args:
        work: called in a worker thread with one argument, the callback to report events with.
        name: the worker thread's name.

    Raises:
        Whatever `work` raised, after the events that preceded it.
    """
    items: queue.Queue = queue.Queue()
    done = object()

    def run() -> None:
        try:
            items.put(work(items.put))
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            items.put(_Failure(err))
        items.put(done)

    threading.Thread(target=run, name=name, daemon=True).start()
    while (item := items.get()) is not done:
        if isinstance(item, _Failure):
            raise item.error
        yield item
