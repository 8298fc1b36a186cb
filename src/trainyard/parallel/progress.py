"""A parallel job's progress: a Rich bar on a terminal, else a plain line in the job log every
``every`` percent; at the same points (and at the end) the counts go to the run as metrics."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

MetricSink = Callable[[dict[str, float]], None]


class Progress:
    """``update(completed, failed, rows)`` as mini-batches finish; use it as a context manager."""

    def __init__(
        self,
        total: int,
        metrics: MetricSink | None = None,
        every: int = 10,
        out: TextIO | None = None,
        bar: bool | None = None,
    ) -> None:
        self.total = total
        self.metrics = metrics
        self.every = every
        self.out = out or sys.stdout
        self.use_bar = self.out.isatty() if bar is None else bar
        self.reported = -1  # the last step of ``every`` percent reported
        self.counts = (0, 0, 0)
        self._last: tuple[int, int, int] | None = None  # the counts last reported
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.use_bar:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("mini-batches"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed, {task.fields[rows]} rows"),
                TimeRemainingColumn(),
                console=Console(file=self.out),
            )
            self._bar.start()
            self._task = self._bar.add_task("", total=self.total, failed=0, rows=0)
        self._report(force=True)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
        self._report(force=True)

    def update(self, completed: int, failed: int, rows: int) -> None:
        self.counts = (completed, failed, rows)
        if self._bar is not None:
            self._bar.update(self._task, completed=completed + failed, failed=failed, rows=rows)
        self._report()

    def _report(self, force: bool = False) -> None:
        completed, failed, rows = self.counts
        percent = 100 * (completed + failed) // self.total if self.total else 100
        step = percent // self.every
        if self.counts == self._last or (step == self.reported and not force):
            return
        self.reported = step
        self._last = self.counts
        if self._bar is None:
            print(
                f"[parallel] {percent}%: {completed}/{self.total} mini-batches done, {failed} failed, "
                f"{rows} rows",
                file=self.out,
                flush=True,
            )
        if self.metrics is not None:
            self.metrics(
                {"mini_batches_completed": completed, "mini_batches_failed": failed, "rows_processed": rows}
            )
