"""A task's CPU work stops when its deadline passes: the search answers on time and its worker
thread stops soon after (counted in the filter checks it makes); the worker pool is bounded, drops
jobs whose caller gave up before they started, and stops running ones on close."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Mapping
from types import SimpleNamespace
from typing import Any

import pytest

import aigw.fallbacks.fuzzy as fuzzy_module
from aigw.catalog.filters import matches
from aigw.catalog.item import Item
from aigw.errors import GatewayError
from aigw.fallbacks.cancellation import Cancellation
from aigw.fallbacks.fuzzy import FuzzyIndex
from aigw.observability.tracing import Trace
from aigw.policy.caller import Caller
from aigw.tasks.catalog_index import LoadedCollection
from aigw.tasks.recommend import RecommendRequest
from aigw.tasks.search import CatalogTasks, SearchRequest
from aigw.tasks.workers import TaskWorkers

ITEMS = 3000
CALLER = Caller("k1", is_admin=False)
CHECK_COST_S = 0.001  # each filter check made slow, so the uncancelled search would run ~3 s


class SlowChecks:
    """`matches`, slowed down and counted, standing for a filtered pass over a very large catalog."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, metadata: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
        self.calls += 1
        time.sleep(CHECK_COST_S)
        return matches(metadata, filters)


@pytest.fixture(scope="module")
def catalog() -> LoadedCollection:
    items = [Item(f"i{n}", f"leather sofa number {n}", {"color": "brown"}) for n in range(ITEMS)]
    return LoadedCollection("shop", 1, {i.id: i for i in items}, FuzzyIndex(items))


@pytest.fixture
def slow_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowChecks]:
    checks = SlowChecks()
    monkeypatch.setattr(fuzzy_module, "matches", checks)
    yield checks


class Loaded:
    """Stands for the catalog indexes: the collection is loaded already."""

    def __init__(self, collection: LoadedCollection) -> None:
        self.collection = collection

    async def get(self, name: str) -> LoadedCollection:
        return self.collection


def local_tasks(workers: TaskWorkers, deadline_s: float, collection: LoadedCollection) -> CatalogTasks:
    no_provider: Any = SimpleNamespace(enabled=False)  # the provider path says flag_off at once
    unused: Any = None
    indexes: Any = Loaded(collection)
    return CatalogTasks(
        indexes,
        unused,
        no_provider,
        embedding_model=lambda: "m",
        order=lambda: ["local"],
        deadline_s=deadline_s,
        workers=workers,
    )


async def stops_soon(checks: SlowChecks) -> int:
    """The check count once it stops moving (the thread stopped between two checks for cancellation,
    256 items apart), or fails when it keeps going."""
    deadline = time.monotonic() + 1.5
    last = -1
    while checks.calls != last:
        assert time.monotonic() < deadline, f"the abandoned search went on: {checks.calls} filter checks"
        last = checks.calls
        await asyncio.sleep(0.2)
    return last


async def test_a_search_past_its_deadline_answers_on_time_and_its_thread_stops(
    catalog: LoadedCollection, slow_checks: SlowChecks
) -> None:
    workers = TaskWorkers(threads=2)
    tasks = local_tasks(workers, 0.2, catalog)
    started = time.perf_counter()
    with pytest.raises(GatewayError) as failed:  # no path could answer in time
        await tasks.semantic_search(SearchRequest("shop", "sofa", 5, {"color": "red"}), CALLER, Trace("t"))
    took = time.perf_counter() - started
    assert "fuzzy: timeout" in str(failed.value)
    assert took < 0.5, f"answered after {took:.2f}s"
    checked = await stops_soon(slow_checks)
    assert checked < ITEMS / 3  # stopped long before the end of the catalog
    workers.close()


async def test_a_recommendation_past_its_deadline_stops_its_thread(
    catalog: LoadedCollection, slow_checks: SlowChecks
) -> None:
    workers = TaskWorkers(threads=2)
    tasks = local_tasks(workers, 0.2, catalog)
    request = RecommendRequest("shop", ("i1",), 5, {"color": "red"})
    with pytest.raises(GatewayError):
        await tasks.recommend(request, CALLER, Trace("t"))
    assert await stops_soon(slow_checks) < ITEMS / 3
    workers.close()


def spin_until_cancelled(started: threading.Event, ran: list[str], name: str) -> Any:
    def work(cancel: Cancellation) -> None:
        ran.append(name)
        started.set()
        while True:
            cancel.check()
            time.sleep(0.001)

    return work


async def test_jobs_whose_caller_gave_up_never_start_and_places_are_bounded() -> None:
    workers = TaskWorkers(threads=1, queued=1)
    ran: list[str] = []
    started = threading.Event()
    running = asyncio.create_task(workers.run(spin_until_cancelled(started, ran, "first")))
    queued = asyncio.create_task(workers.run(spin_until_cancelled(threading.Event(), ran, "queued")))
    await asyncio.to_thread(started.wait, 5)
    with pytest.raises(TimeoutError):  # both places taken: a third caller waits, within its own deadline
        async with asyncio.timeout(0.1):
            await workers.run(lambda cancel: ran.append("third"))
    queued.cancel()
    running.cancel()
    await asyncio.gather(running, queued, return_exceptions=True)
    assert await asyncio.wait_for(workers.run(lambda cancel: "free again"), 2) == "free again"
    assert ran == ["first"]  # the queued job was dropped before it started; the running one stopped
    workers.close()


async def test_close_stops_running_jobs() -> None:
    workers = TaskWorkers(threads=1)
    started, ran = threading.Event(), []
    job = asyncio.create_task(workers.run(spin_until_cancelled(started, ran, "long")))
    await asyncio.to_thread(started.wait, 5)
    workers.close()
    done = await asyncio.wait_for(asyncio.gather(job, return_exceptions=True), 2)
    assert type(done[0]).__name__ == "WorkCancelled"
