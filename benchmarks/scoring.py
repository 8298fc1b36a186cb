"""Scoring latency and throughput over loopback: ``trainyard model serve`` vs ``mlflow models serve``.

The same scikit-learn LogisticRegression (iris) is saved in each tool's format and served by
each, one worker each, both started and measured in this run; in-process ``model.predict`` on
one row is the floor. Latency: 1,000 sequential single-row requests on a kept-alive
connection to ``/invocations`` (the route both serve). Throughput: 16 client threads.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REQUESTS = 1000
CLIENTS = 16
PER_CLIENT = 150


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv: list[str], port: int, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while time.perf_counter() - started < 120:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                return proc, time.perf_counter() - started
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{argv[:4]} did not start")


def latencies(port: int, body: dict) -> list[float]:
    out = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(50):  # warm up
            client.post("/invocations", json=body)
        for _ in range(REQUESTS):
            t = time.perf_counter()
            reply = client.post("/invocations", json=body)
            out.append(time.perf_counter() - t)
            assert reply.status_code == 200, reply.text
    return out


def throughput(port: int, body: dict) -> float:
    errors: list[int] = []

    def client_loop() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(PER_CLIENT):
                if client.post("/invocations", json=body).status_code != 200:
                    errors.append(1)

    threads = [threading.Thread(target=client_loop) for _ in range(CLIENTS)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    return CLIENTS * PER_CLIENT / (time.perf_counter() - t)


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def main() -> list[str]:
    import mlflow.sklearn
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from trainyard import models

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    row = X.head(1)
    body = {"dataframe_split": {"columns": list(row.columns), "data": row.values.tolist()}}
    in_process = []
    for _ in range(REQUESTS):
        t = time.perf_counter()
        model.predict(row)
        in_process.append(time.perf_counter() - t)
    lines = []
    with tempfile.TemporaryDirectory() as d:
        ours_dir = models.save(model, Path(d) / "ours", input_example=X.head())
        theirs_dir = Path(d) / "theirs"
        mlflow.sklearn.save_model(model, str(theirs_dir), input_example=X.head())
        results = {}
        # mlflow runs `uvicorn` from PATH: put this interpreter's scripts first
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{d}/mlflow.db", "PATH": path}
        servers = {
            "trainyard": [sys.executable, "-m", "trainyard", "model", "serve", str(ours_dir), "--port"],
            "mlflow": [
                sys.executable,
                "-m",
                "mlflow",
                "models",
                "serve",
                "-m",
                str(theirs_dir),
                "--env-manager",
                "local",
                "--workers",
                "1",
                "-p",
            ],
        }
        for name, argv in servers.items():
            port = free_port()
            proc, ready = start([*argv, str(port)], port, env)
            try:
                lat = latencies(port, body)
                results[name] = (ready, pct(lat, 0.5), pct(lat, 0.99), throughput(port, body))
            finally:
                proc.terminate()
                proc.wait(20)
    ours, theirs = results["trainyard"], results["mlflow"]
    lines.append(
        f"{'single-row latency p50':<34} trainyard {ours[1]:7.2f} ms   mlflow {theirs[1]:7.2f} ms   "
        f"in-process predict {pct(in_process, 0.5):6.2f} ms   ratio {theirs[1] / ours[1]:5.1f}x"
    )
    lines.append(
        f"{'single-row latency p99':<34} trainyard {ours[2]:7.2f} ms   mlflow {theirs[2]:7.2f} ms   "
        f"in-process predict {pct(in_process, 0.99):6.2f} ms   ratio {theirs[2] / ours[2]:5.1f}x"
    )
    lines.append(
        f"{'throughput, 16 clients':<34} trainyard {ours[3]:7.0f} rps  mlflow {theirs[3]:7.0f} rps  "
        f"ratio {ours[3] / theirs[3]:5.1f}x"
    )
    lines.append(
        f"{'start to ready':<34} trainyard {ours[0]:7.2f} s    mlflow {theirs[0]:7.2f} s    "
        f"ratio {theirs[0] / ours[0]:5.1f}x"
    )
    return lines


if __name__ == "__main__":
    print("\n".join(main()))
