"""One queue for model work: the page and the HTTP API share the machine's model slots.

On a CPU one model run already keeps every core busy (torch and CTranslate2 use them all), and a model's
tokenizer is not safe to share between threads, so ``slots`` is 1 there: two runs at once would only fight
for the cores and both finish later.  A job waits its turn in a bounded queue: when ``max_waiting`` jobs
already wait, or a job has waited ``max_wait_s``, it is refused with :class:`QueueFull` (the API answers
503 with ``Retry-After``), never left hanging.

Ordering: *short first, with ageing*.  Each job gets a deadline, its arrival time plus ``age_s_per_char``
seconds per character it brings (the translation work grows with the text), and the waiting job with the
earliest deadline runs next.  A one-sentence request (100 characters: 0.2 s at the default 2 ms a
character) therefore overtakes an article (5,000 characters: 10 s) that arrived less than ~10 s before
it, but an article that has waited longer than that is no longer overtaken: nothing starves.  The head
start is capped (``MAX_HEAD_START_S``, 30 s, and half the longest wait), so even a huge job is passed by
later ones for 30 s at most, and never waits out ``max_wait_s`` behind them.  Plain arrival order
(``ordering="fifo"``) is kept for comparison; ``bench/queue_ordering.py`` measures the two side by side.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tarjama.server.limits import DEFAULT_QUEUE_SIZE, DEFAULT_QUEUE_WAIT_S

ORDERINGS = ("short-first", "fifo")
AGE_S_PER_CHAR = 0.002  # a job's deadline grows 2 ms per character (see the module docstring)
MAX_HEAD_START_S = 30.0  # ... up to this: no job is overtaken by later ones for longer than 30 s


class QueueFull(Exception):
    """The model queue cannot take this job now; ``retry_after`` (seconds) is a fair guess of when it can."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(order=True)
class _Waiting:
    deadline: float
    seq: int
    cost: int = field(compare=False)
    arrived: float = field(compare=False)
    gone: bool = field(default=False, compare=False)  # timed out: skipped when it reaches the top


class ModelQueue:
    """``with queue.slot(cost=len(text)):`` runs the block when this job's turn comes (at most ``slots`` blocks
    at once), or raises :class:`QueueFull`.  Thread-safe; the page's handlers and the API's worker threads use
    the same instance."""

    def __init__(self, slots: int = 1, max_waiting: int = DEFAULT_QUEUE_SIZE,
                 max_wait_s: float = DEFAULT_QUEUE_WAIT_S, ordering: str = "short-first",
                 age_s_per_char: float = AGE_S_PER_CHAR) -> None:
        if ordering not in ORDERINGS:
            raise ValueError(f"ordering must be one of {', '.join(ORDERINGS)}, not {ordering!r}")
        self.slots = max(1, slots)
        self.max_waiting = max(0, max_waiting)
        self.max_wait_s = max_wait_s
        self.ordering = ordering
        self.age_s_per_char = age_s_per_char
        self._lock = threading.Condition()
        self._heap: list[_Waiting] = []
        self._waiting = 0
        self._running = 0
        self._seq = itertools.count()
        self._job_s = 1.0  # a running average of how long a job holds its slot, for Retry-After

    @property
    def waiting(self) -> int:
        return self._waiting

    @property
    def running(self) -> int:
        return self._running

    @contextmanager
    def slot(self, cost: int = 0) -> Iterator[None]:
        """Wait for a model slot (a job of ``cost`` characters), hold it for the block, then give it back."""
        self._enter(max(0, cost))
        started = time.monotonic()
        try:
            yield
        finally:
            self._leave(time.monotonic() - started)

    def retry_after(self) -> int:
        """Seconds until a new job would likely be taken: the jobs ahead of it times the average job."""
        with self._lock:
            return self._retry_after()

    def _retry_after(self) -> int:
        ahead = self._waiting + self._running
        return max(1, math.ceil(self._job_s * ahead / self.slots))

    def _enter(self, cost: int) -> _Waiting:
        now = time.monotonic()
        with self._lock:
            if self._running < self.slots and self._waiting == 0:
                self._running += 1
                return _Waiting(now, next(self._seq), cost, now)
            if self._waiting >= self.max_waiting:
                raise QueueFull(f"the server is busy: {self._waiting} model jobs are already waiting; "
                                f"try again in {self._retry_after()} s", self._retry_after())
            entry = _Waiting(now + self.head_start(cost), next(self._seq), cost, now)
            heapq.heappush(self._heap, entry)
            self._waiting += 1
            try:
                turn = self._lock.wait_for(lambda: self._turn(entry), timeout=self.max_wait_s)
            except BaseException:  # interrupted while waiting: leave nothing at the top of the heap
                turn = False
                raise
            finally:
                if not turn:
                    entry.gone = True
                    self._waiting -= 1
                    self._lock.notify_all()
            if not turn:
                raise QueueFull(f"the server is busy: waited {self.max_wait_s:.0f} s for a model slot; "
                                f"try again in {self._retry_after()} s", self._retry_after())
            heapq.heappop(self._heap)
            self._waiting -= 1
            self._running += 1
            self._lock.notify_all()
            return entry

    def head_start(self, cost: int) -> float:
        """Seconds later jobs may overtake a job of ``cost`` characters (0 in FIFO order)."""
        if self.ordering == "fifo":
            return 0.0
        return min(cost * self.age_s_per_char, MAX_HEAD_START_S, self.max_wait_s / 2)

    def _turn(self, entry: _Waiting) -> bool:
        while self._heap and self._heap[0].gone:
            heapq.heappop(self._heap)
        return self._running < self.slots and bool(self._heap) and self._heap[0] is entry

    def _leave(self, seconds: float) -> None:
        with self._lock:
            self._running -= 1
            self._job_s = 0.8 * self._job_s + 0.2 * seconds
            self._lock.notify_all()
