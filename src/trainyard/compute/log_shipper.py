"""``LogShipper``: a job's log written on this machine, appended to its artifact as it grows.

A worker whose artifact store has no local path for the log (a server workspace, an object
store) writes the job's output to a scratch file, and this sends only the bytes added since the
last pass (``ArtifactStore.append``), every ``LOG_SYNC_SECONDS`` and once more at the end; so a
follower on any machine sees the log grow, and a long log is never sent twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from trainyard.artifacts import ArtifactStore

LOG_SYNC_SECONDS = 2.0
CHUNK = 1024 * 1024


class LogShipper:
    def __init__(self, artifacts: ArtifactStore, key: str, path: Path) -> None:
        self.artifacts = artifacts
        self.key = key
        self.path = path
        self.sent = path.stat().st_size if path.exists() else 0  # a previous attempt's, shipped by it
        self._lock = threading.Lock()  # the loop's pass and the final one never send a byte twice

    def ship(self) -> None:
        """Append what the file gained since the last call."""
        with self._lock, open(self.path, "rb") as fh:
            fh.seek(self.sent)
            while block := fh.read(CHUNK):
                self.artifacts.append(self.key, block, at=self.sent)
                self.sent += len(block)

    def try_ship(self, report: Callable[[str], None]) -> None:
        """``ship()``, telling ``report`` when it fails: a server hiccup must not fail the job."""
        try:
            self.ship()
        except Exception as exc:  # the next pass sends what this one could not
            report(f"log upload failed: {exc}")

    def ship_until(self, stop: threading.Event, report: Callable[[str], None]) -> None:
        """``try_ship`` every ``LOG_SYNC_SECONDS`` until ``stop`` is set."""
        while not stop.wait(LOG_SYNC_SECONDS):
            self.try_ship(report)
