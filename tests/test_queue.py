"""The model queue: one job at a time, short first with ageing (or FIFO), bounded, never an unbounded wait.

Real threads; the order jobs get their slot is read from what they record, and every wait is bounded by
an Event with a timeout, so a broken queue fails the test instead of hanging it."""

from __future__ import annotations

import threading
import time

import pytest

from tarjama.server.queue import ModelQueue, QueueFull


def _waiter(queue: ModelQueue, name: str, cost: int, order: list[str], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            with queue.slot(cost):
                order.append(name)
        except BaseException as err:
            errors.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the queue did not reach the expected state"
        time.sleep(0.005)


def _order_after(queue: ModelQueue, jobs: list[tuple[str, int]], gap_s: float = 0.0) -> list[str]:
    """Hold the slot, queue ``jobs`` (in this arrival order), release; the order they ran in."""
    order: list[str] = []
    errors: list[BaseException] = []
    release = threading.Event()

    def holder() -> None:
        with queue.slot(1):
            release.wait(10)

    first = threading.Thread(target=holder, daemon=True)
    first.start()
    _until(lambda: queue.running == 1)
    threads = []
    for k, (name, cost) in enumerate(jobs):
        threads.append(_waiter(queue, name, cost, order, errors))
        _until(lambda k=k: queue.waiting == k + 1)
        time.sleep(gap_s)
    release.set()
    for t in [first, *threads]:
        t.join(10)
    assert not errors
    return order


@pytest.mark.parametrize(("ordering", "jobs", "expected"), [
    ("short-first", [("article", 5000), ("sentence", 100)], ["sentence", "article"]),
    ("fifo", [("article", 5000), ("sentence", 100)], ["article", "sentence"]),
    ("short-first", [("a", 300), ("b", 200), ("c", 100)], ["c", "b", "a"]),
    ("short-first", [("same1", 100), ("same2", 100)], ["same1", "same2"]),  # equal size: arrival order
])
def test_order_of_waiting_jobs(ordering: str, jobs: list[tuple[str, int]], expected: list[str]) -> None:
    assert _order_after(ModelQueue(ordering=ordering), jobs) == expected


def test_a_long_job_that_has_waited_long_enough_is_not_overtaken() -> None:
    """Ageing: the article's deadline (its arrival + 5000 characters × 10 µs = 50 ms) has passed when the
    sentence arrives 200 ms later, so the sentence no longer jumps ahead of it."""
    queue = ModelQueue(age_s_per_char=0.00001)  # 5000 chars: 50 ms
    assert _order_after(queue, [("article", 5000), ("sentence", 100)], gap_s=0.2) == ["article", "sentence"]


def test_one_job_at_a_time() -> None:
    queue = ModelQueue()
    inside, most = [0], [0]
    lock = threading.Lock()

    def job() -> None:
        with queue.slot(10):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.01)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=job) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most[0] == 1 and queue.running == 0 and queue.waiting == 0


def test_a_full_queue_refuses_at_once_with_a_retry_time() -> None:
    queue = ModelQueue(max_waiting=1)
    order: list[str] = []
    errors: list[BaseException] = []
    with queue.slot(1):
        waiter = _waiter(queue, "second", 10, order, errors)
        _until(lambda: queue.waiting == 1)
        started = time.monotonic()
        with pytest.raises(QueueFull) as refused, queue.slot(10):
            pass
        assert time.monotonic() - started < 1.0  # refused, not queued
        assert refused.value.retry_after >= 1 and "busy" in str(refused.value)
    waiter.join(10)
    assert order == ["second"] and not errors


def test_a_job_waits_at_most_max_wait() -> None:
    queue = ModelQueue(max_wait_s=0.2)
    with queue.slot(1):
        started = time.monotonic()
        with pytest.raises(QueueFull, match="waited"), queue.slot(1):
            pass
        assert 0.15 < time.monotonic() - started < 2.0
        assert queue.waiting == 0
    with queue.slot(1):  # the timed-out entry left nothing behind
        pass


def test_an_exception_gives_the_slot_back() -> None:
    queue = ModelQueue()
    with pytest.raises(RuntimeError), queue.slot(1):
        raise RuntimeError("model failed")
    assert queue.running == 0
    with queue.slot(1):
        assert queue.running == 1


def test_unknown_ordering_is_refused() -> None:
    with pytest.raises(ValueError, match="short-first"):
        ModelQueue(ordering="random")


def test_a_huge_job_is_overtaken_for_30_s_at_most() -> None:
    """The head start a short job gets is capped, so a huge job (a 10 MB file: 20,000 s uncapped) runs once
    it has waited 30 s, not after max_wait_s has refused it."""
    from tarjama.server.queue import MAX_HEAD_START_S

    queue = ModelQueue(max_wait_s=300)
    assert queue.head_start(10_000_000) == MAX_HEAD_START_S == 30.0
    assert queue.head_start(100) == pytest.approx(0.2)
    assert ModelQueue(max_wait_s=20).head_start(10_000_000) == 10.0  # half the longest wait
    assert ModelQueue(ordering="fifo").head_start(10_000_000) == 0.0
