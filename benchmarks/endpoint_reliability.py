"""An endpoint under load while it is disturbed: (a) traffic moved between two deployments
several times, (b) the router kill -9'd several times. Counts failed requests and, for (b),
the time from the kill to the first request sent after it that succeeds.

There is no baseline in the same run: the router before supervision never recovered (the
scoring URI refused connections until someone acted), so its "time to recover" is unbounded;
the figures are absolute.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import iris_versions, scratch_workspace  # noqa: E402

CLIENTS = 2  # sized for 2 cores: the clients, the router and two scoring servers share them
SHIFTS = ({"blue": 50, "green": 50}, {"green": 100}, {"blue": 100}, {"blue": 10, "green": 90}, {"green": 100})
KILLS = 3
ROW = {"data": [[5.1, 3.5, 1.4, 0.2]]}


class Load:
    """CLIENTS threads posting to the scoring URI; each request's (sent, answered, ok)."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.headers = url, {"Authorization": f"Bearer {key}"}
        self.done = threading.Event()
        self.log: list[tuple[float, float, bool]] = []
        self.threads = [threading.Thread(target=self._loop) for _ in range(CLIENTS)]

    def _loop(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.done.is_set():
                sent = time.perf_counter()
                try:
                    ok = client.post(self.url, json=ROW, headers=self.headers).status_code == 200
                except httpx.TransportError:
                    ok = False
                self.log.append((sent, time.perf_counter(), ok))

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        for t in self.threads:
            t.join()

    def failed(self) -> int:
        return sum(1 for *_, ok in self.log if not ok)

    def recovery(self, kill: float) -> float:
        return min(end for sent, end, ok in self.log if ok and sent >= kill) - kill


def _router_pid(ws) -> int:  # noqa: ANN001 - a Workspace
    supervisor = ws.store.get_endpoint("bench").worker.rsplit(":", 2)[1]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == supervisor:
                    return int(entry.name)
            except OSError:
                continue
    raise RuntimeError("the endpoint's router is not running")


def main() -> list[str]:
    from trainyard.serving import endpoints

    with tempfile.TemporaryDirectory() as d:
        ws = scratch_workspace(Path(d))
        iris_versions(ws, Path(d))
        record = endpoints.create_endpoint(ws, "bench")
        try:
            endpoints.create_deployment(ws, "bench", "blue", "iris:1")
            endpoints.create_deployment(ws, "bench", "green", "iris:2")
            endpoints.set_traffic(ws, "bench", {"blue": 100})
            url = f"http://127.0.0.1:{record.port}/score"
            with Load(url, record.primary_key) as shifting:
                for split in SHIFTS:
                    time.sleep(1.0)
                    endpoints.set_traffic(ws, "bench", split)
                time.sleep(1.0)
            kills: list[float] = []
            with Load(url, record.primary_key) as killing:
                for _ in range(KILLS):
                    time.sleep(1.5)
                    pid = _router_pid(ws)
                    kills.append(time.perf_counter())
                    os.kill(pid, signal.SIGKILL)
                time.sleep(1.5)
            recoveries = [killing.recovery(k) * 1000 for k in kills]
            restarts = ws.store.get_endpoint("bench").restarts
        finally:
            endpoints.delete_endpoint(ws, "bench")
    return [
        f"{'traffic shifted ' + str(len(SHIFTS)) + ' times under load':<40} {len(shifting.log)} requests "
        f"from {CLIENTS} clients, {shifting.failed()} failed",
        f"{'router kill -9 under load, ' + str(KILLS) + ' times':<40} {len(killing.log)} requests, "
        f"{killing.failed()} failed, router restarts recorded {restarts}",
        f"{'time from a kill to the next success':<40} "
        + ", ".join(f"{r:.0f} ms" for r in recoveries)
        + f" (max {max(recoveries):.0f} ms)",
    ]


if __name__ == "__main__":
    print("\n".join(main()))
