"""Benchmark helpers for the team server: a scratch PostgreSQL database and servers as processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

from trainyard.api import routes

ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def database(name: str) -> Iterator[str]:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def started(args: list[str], health: str, log: Path) -> subprocess.Popen[bytes]:
    """``args`` as a process (output appended to ``log``), once ``health`` answers 200."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(health, timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{args[0]} did not start: {log.read_text()[-1500:]}")
        time.sleep(0.1)


@contextmanager
def process(args: list[str], health: str, log: Path) -> Iterator[None]:
    proc = started(args, health, log)
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(30)


@contextmanager
def trainyard_server(tmp: Path, pg_uri: str) -> Iterator[tuple[str, str]]:
    """``trainyard server`` on PostgreSQL, and a contributor's token."""
    from trainyard.server.running import free_port
    from trainyard.store.sql.store import SqlStore

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "trainyard", "server", "-w", str(tmp / "ty"), "--store", pg_uri]
    with process([*args, "--port", str(port)], url + routes.HEALTH.template, tmp / "ty.log"):
        db = SqlStore(pg_uri)
        auth = db
        auth.add_user("bench", "contributor")
        token = auth.create_token("bench")[0]
        db.close()
        yield url, token


@contextmanager
def mlflow_server(tmp: Path, pg_uri: str) -> Iterator[str]:
    """``mlflow server`` (one worker) on PostgreSQL, artifacts under ``tmp``: its URL."""
    from trainyard.server.running import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    store = pg_uri.replace("postgresql://", "postgresql+psycopg://", 1)
    args = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", store, "--workers", "1"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--artifacts-destination", str(tmp / "ml")]
    with process(args, f"{url}/health", tmp / "mlflow.log"):
        yield url
