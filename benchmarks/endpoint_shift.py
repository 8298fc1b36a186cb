"""A blue -> green traffic shift under load: 10,000 requests from 4 clients through an endpoint
while the traffic moves 100/0 -> 90/10 -> 50/50 -> 0/100 and blue is deleted; every request
must succeed. Also: how long a deployment takes to be ready, and what the router adds to a
request (p50 through the endpoint vs straight to the deployment's server)."""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import iris_versions, scratch_workspace  # noqa: E402

TOTAL = 10_000
CLIENTS = 4
ROW = {"data": [[5.1, 3.5, 1.4, 0.2]]}


def main() -> list[str]:
    from trainyard.serving import endpoints

    with tempfile.TemporaryDirectory() as d:
        ws = scratch_workspace(Path(d))
        iris_versions(ws, Path(d))
        endpoints.create_endpoint(ws, "bench")
        started = time.perf_counter()
        blue = endpoints.create_deployment(ws, "bench", "blue", "iris:1")
        ready = time.perf_counter() - started
        endpoints.set_traffic(ws, "bench", {"blue": 100})
        endpoints.create_deployment(ws, "bench", "green", "iris:2")
        record = ws.store.get_endpoint("bench")
        headers = {"Authorization": f"Bearer {record.primary_key}"}
        base = f"http://127.0.0.1:{record.port}"

        def p50(url: str, hdrs: dict[str, str]) -> float:
            times = []
            with httpx.Client() as client:
                for _ in range(500):
                    t = time.perf_counter()
                    client.post(url, json=ROW, headers=hdrs)
                    times.append(time.perf_counter() - t)
            return statistics.median(times) * 1000

        via_router = p50(f"{base}/score", headers)
        direct = p50(f"http://127.0.0.1:{ws.store.get_deployment('bench', 'blue').port}/score", {})
        failures: list[str] = []
        sent = [0]
        lock = threading.Lock()

        def client_loop() -> None:
            with httpx.Client() as client:
                while True:
                    with lock:
                        if sent[0] >= TOTAL:
                            return
                        sent[0] += 1
                    reply = client.post(f"{base}/score", json=ROW, headers=headers)
                    if reply.status_code != 200:
                        failures.append(str(reply.status_code))

        threads = [threading.Thread(target=client_loop) for _ in range(CLIENTS)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for split in ({"blue": 90, "green": 10}, {"blue": 50, "green": 50}, {"green": 100}):
            time.sleep(1.5)
            endpoints.set_traffic(ws, "bench", split)
        endpoints.delete_deployment(ws, "bench", "blue")
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        endpoints.delete_endpoint(ws, "bench")
        assert blue.status == "ready"
    return [
        f"{'blue->green shift under load':<40} {TOTAL} requests in {elapsed:.1f} s, {len(failures)} failed",
        f"{'deployment create -> ready':<40} {ready:.2f} s",
        f"{'request p50 via the endpoint router':<40} {via_router:.2f} ms   straight to the deployment "
        f"{direct:.2f} ms   router adds {via_router - direct:.2f} ms",
    ]


if __name__ == "__main__":
    print("\n".join(main()))
