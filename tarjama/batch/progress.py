"""Progress: a bar on a terminal, periodic log lines otherwise, nothing with --quiet."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

LOG_INTERVAL_S = 10.0     # progress log lines when stderr is not a terminal


# --------------------------------------------------------------------------- progress


class Progress(Protocol):
    def start(self, total: int | None) -> None: ...
    def advance(self, ok: int = 0, failed: int = 0) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def start(self, total: int | None) -> None:
        pass

    def advance(self, ok: int = 0, failed: int = 0) -> None:
        pass

    def close(self) -> None:
        pass


class BarProgress:
    """A tqdm bar on a terminal: articles done/total, articles/s, ETA, failures in the postfix."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.bar: Any = None
        self.failed = 0

    def start(self, total: int | None) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="article", desc="batch", file=self.stream, dynamic_ncols=True)
        self.bar.set_postfix(failed=0)

    def advance(self, ok: int = 0, failed: int = 0) -> None:
        first = self.bar.n == 0
        self.failed += failed
        if failed:
            self.bar.set_postfix(failed=self.failed, refresh=False)
        self.bar.update(ok + failed)
        if first:  # tqdm skips updates within 0.1 s of the last one: the first must show
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class LogProgress:
    """Without a terminal: a line at the start (0/total), one when the first article is done (proof that
    the models work, and a first rate), then one every ``interval`` seconds (cron logs stay readable)."""

    def __init__(self, stream: Any = None, interval: float = LOG_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream or sys.stderr
        self.interval, self.clock = interval, clock
        self.total: int | None = None
        self.done = self.failed = 0

    def start(self, total: int | None) -> None:
        self.total = total
        self.started = self.last = self.clock()
        print(f"tarjama: {self.line(self.started)}; a progress line every {self.interval:g} s", file=self.stream,
              flush=True)

    def advance(self, ok: int = 0, failed: int = 0) -> None:
        first = self.done == 0
        self.done += ok + failed
        self.failed += failed
        now = self.clock()
        if first or now - self.last >= self.interval:
            self.last = now
            print(f"tarjama: {self.line(now)}", file=self.stream, flush=True)

    def line(self, now: float) -> str:
        of = f"/{self.total}" if self.total is not None else ""
        counts = f"{self.done}{of} articles ({self.failed} failed)"
        if not self.done:
            return counts  # no rate yet
        rate = self.done / max(now - self.started, 1e-9)
        eta = f", ETA {duration(max(self.total - self.done, 0) / rate)}" if self.total is not None else ""
        return f"{counts}, {rate:.2f} articles/s{eta}"

    def close(self) -> None:
        pass


def duration(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def make_progress(quiet: bool, stream: Any = None) -> Progress:
    stream = stream or sys.stderr
    if quiet:
        return NoProgress()
    return BarProgress(stream) if stream.isatty() else LogProgress(stream)
