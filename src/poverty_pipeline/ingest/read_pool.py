"""Files read side by side: several reader processes (``read_worker.ReadWorker``), each file's
submission handed back in the order the files came.

Reading and normalising a file is most of an ingest's time and runs in a reader process while
the ingest itself waits, so one reader uses one core of the machine. A pool of readers, each
driven by a thread of the ingest (a thread only waits on its reader's pipe), reads as many files
at once. At most ``2 × readers`` files are read ahead of the one the ingest takes next, so the
ingest's memory still follows its part, not the batch. Each reader keeps its own limits and is
replaced on its own when a file ends it.
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from poverty_pipeline.ingest.read_worker import ReadWorker

T = TypeVar("T")
R = TypeVar("R")


class ReadPool:
    """``size`` readers (or the ``readers`` given, which the pool does not close); a context
    manager, each reader's process ending with it."""

    def __init__(self, size: int = 1, readers: list[ReadWorker] | None = None):
        self.owned = readers is None
        self.readers = readers or [ReadWorker() for _ in range(size)]

    def __enter__(self) -> ReadPool:
        return self

    def __exit__(self, *exc) -> None:
        if self.owned:
            for reader in self.readers:
                reader.close()

    def map(self, take: Callable[[T, ReadWorker], R], items: Iterable[T]) -> Iterator[R]:
        """``take(item, reader)`` for each item, as many at once as there are readers; the
        results in the items' order. An exception of ``take`` is raised where its item's
        result would have come; the items not yet taken are then not read."""
        free: queue.SimpleQueue[ReadWorker] = queue.SimpleQueue()
        for reader in self.readers:
            free.put(reader)

        def run(item: T) -> R:
            reader = free.get()
            try:
                return take(item, reader)
            finally:
                free.put(reader)

        ahead = 2 * len(self.readers)
        pool = ThreadPoolExecutor(len(self.readers), thread_name_prefix="reader")
        pending: deque = deque()
        try:
            for item in items:
                pending.append(pool.submit(run, item))
                if len(pending) >= ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # files not yet taken by a reader are dropped; those being read, waited for
            pool.shutdown(wait=True, cancel_futures=True)
