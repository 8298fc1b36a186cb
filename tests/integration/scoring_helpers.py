"""For scoring-server tests: iris with a signature, and ``trainyard model serve`` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from trainyard import models
from trainyard.serving.deployment import free_port
from trainyard.workspace import Workspace

COLUMNS = ["sl", "sw", "pl", "pw"]


def saved_iris(folder: Path) -> tuple[Path, Any, pd.DataFrame]:
    """A logistic regression on iris saved with an input example: (model folder, estimator, X)."""
    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = COLUMNS
    model = LogisticRegression(max_iter=500).fit(X, y)
    return models.save(model, folder / "iris", input_example=X.head()), model, X


def cli(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    """``trainyard ARGS`` on ``ws``, its output captured."""
    env = {**os.environ, "TRAINYARD_WORKSPACE": str(ws.root)}
    return subprocess.run(
        [sys.executable, "-m", "trainyard", *args], env=env, capture_output=True, text=True, timeout=180
    )


@contextmanager
def model_server(ws: Workspace, *args: str) -> Iterator[str]:
    """``trainyard model serve ARGS`` on a free loopback port: its base URL once it is ready."""
    port = free_port()
    env = {**os.environ, "TRAINYARD_WORKSPACE": str(ws.root)}
    server = subprocess.Popen(
        [sys.executable, "-m", "trainyard", "model", "serve", *args, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                raise AssertionError(f"model serve exited: {server.stdout.read() if server.stdout else ''}")
            if time.monotonic() > deadline:
                raise AssertionError("model serve was not ready within 30 s")
            try:
                if httpx.get(f"{base}/v2/health/ready").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(10)
