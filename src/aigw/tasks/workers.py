"""The worker threads that run the tasks' CPU work: fuzzy searches, query embeddings, field specs.

`asyncio.to_thread` gave each job a thread of the loop's default pool and no way to stop it: when a
task's deadline passed, its search ran on to the end, and on a large catalog the abandoned searches
kept the CPU busy and queued ahead of new ones. Here:

- at most `threads` jobs run and `queued` more wait their turn; a caller waits for a place (within
  its own deadline), so a burst cannot pile work up without bound;
- a job gets a `Cancellation`; when its caller is cancelled (the deadline passed, the client left),
  a job not started never starts and a running one stops at its next check;
- a place is given back when the thread has really finished, so abandoned jobs count until they stop.

Threads: CPU-bound Python holds the GIL, so more threads than cores would only queue inside the
interpreter; rapidfuzz, numpy and onnxruntime release it, hence one per core, at least two.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from aigw.fallbacks.cancellation import Cancellation

T = TypeVar("T")
DEFAULT_THREADS = max(2, os.cpu_count() or 2)
QUEUED_PER_THREAD = 4


class TaskWorkers:
    def __init__(self, threads: int = DEFAULT_THREADS, queued: int | None = None) -> None:
        self.threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="aigw-task")
        self._places = asyncio.Semaphore(threads + (QUEUED_PER_THREAD * threads if queued is None else queued))
        self._live: set[Cancellation] = set()

    async def run(self, work: Callable[[Cancellation], T]) -> T:
        """`work(cancellation)` in a worker thread; cancelling the caller cancels the work."""
        await self._places.acquire()
        cancellation = Cancellation()
        loop = asyncio.get_running_loop()

        def finished(_: Future[T]) -> None:  # in the worker thread, or here for a job dropped unstarted
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits for a place any more
                loop.call_soon_threadsafe(self._finished, cancellation)

        try:
            future = self._pool.submit(work, cancellation)
        except BaseException:
            self._places.release()
            raise
        self._live.add(cancellation)
        future.add_done_callback(finished)
        try:
            return await asyncio.wrap_future(future)  # cancelled: a job not started is dropped (Future.cancel)
        except asyncio.CancelledError:
            cancellation.cancel()  # a running one stops at its next check
            raise

    def _finished(self, cancellation: Cancellation) -> None:
        self._live.discard(cancellation)
        self._places.release()

    def close(self) -> None:
        """Stop every job: those waiting never start, those running stop at their next check."""
        for cancellation in list(self._live):
            cancellation.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
