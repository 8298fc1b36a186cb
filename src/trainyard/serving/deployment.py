"""A deployment's supervisor: one detached process per deployment.

It loads the model version, starts a scoring server (uvicorn, ``workers`` processes) on a free
loopback port, marks the deployment ``ready`` with that port once the server answers, and
restarts the server if it dies, counting restarts. SIGTERM stops the server gracefully
(in-flight requests finish) and ends the supervisor.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from trainyard.liveness import worker_id
from trainyard.serving import env as serve_env
from trainyard.status import DeploymentStatus
from trainyard.store import DeploymentUpdate
from trainyard.workspace import Workspace

READY_TIMEOUT = 60.0


def entry_script_key(endpoint: str, name: str) -> str:
    """Where a deployment's copy of its entry script is kept in the artifact store."""
    return f"endpoints/{endpoint}/{name}/score.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Supervisor:
    def __init__(self, ws: Workspace, endpoint: str, name: str) -> None:
        self.ws, self.endpoint, self.name = ws, endpoint, name
        self.record = ws.store.get_deployment(endpoint, name)
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)

    def _stop(self, *_: object) -> None:
        self.stopping = True

    def _update(self, update: DeploymentUpdate) -> None:
        self.ws.store.update_deployment(self.endpoint, self.name, update)

    def _start_server(self, folder: str, port: int) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            serve_env.ENV_MODEL: folder,
            serve_env.ENV_NAME: self.record.model_name,
            serve_env.ENV_VERSION: str(self.record.model_version),
            serve_env.ENV_TRUST: "1",
        }
        env.pop(serve_env.ENV_KEYS, None)  # the endpoint's router checks keys; this port is loopback only
        script_key = entry_script_key(self.endpoint, self.name)
        if self.ws.artifacts.exists(script_key):
            local = self.ws.root / "endpoints" / f"{self.endpoint}.{self.name}.score.py"
            env[serve_env.ENV_ENTRY] = str(self.ws.artifacts.download(script_key, local))
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "trainyard.serving.app:app_from_env",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                # one worker: no uvicorn supervisor process in between (faster to start)
                *(["--workers", str(self.record.workers)] if self.record.workers > 1 else []),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            start_new_session=True,
        )

    def _wait_ready(self, proc: subprocess.Popen[bytes], port: int) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and not self.stopping:
            if proc.poll() is not None:
                return False
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v2/health/ready", timeout=1).status_code == 200:
                    return True
            except httpx.TransportError:
                time.sleep(0.1)
        return False

    def run(self) -> None:
        from trainyard.models.format import fetch

        self._update(DeploymentUpdate(worker=worker_id()))
        try:
            folder = str(fetch(f"models:/{self.record.model_name}/{self.record.model_version}", self.ws))
        except Exception as exc:  # a model that cannot load: the deployment fails, the endpoint serves on
            self._update(
                DeploymentUpdate(status=DeploymentStatus.FAILED, error=f"the model did not load: {exc}")
            )
            return
        restarts = 0
        while not self.stopping:
            port = free_port()
            proc = self._start_server(folder, port)
            if not self._wait_ready(proc, port):
                proc.kill()
                if self.stopping:
                    break
                self._update(
                    DeploymentUpdate(
                        status=DeploymentStatus.FAILED, error="the scoring server did not become ready"
                    )
                )
                return
            self._update(
                DeploymentUpdate(status=DeploymentStatus.READY, port=port, error=None, restarts=restarts)
            )
            while proc.poll() is None and not self.stopping:
                time.sleep(0.2)
            if self.stopping:
                os.killpg(proc.pid, signal.SIGTERM)  # graceful: in-flight requests complete
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                break
            restarts += 1  # the server died: start it again
            self._update(
                DeploymentUpdate(
                    status=DeploymentStatus.CREATING,
                    restarts=restarts,
                    error=f"restarted after exit code {proc.returncode}",
                )
            )


def main() -> None:
    ws_root, endpoint, name = sys.argv[1:4]
    Supervisor(Workspace(ws_root), endpoint, name).run()


if __name__ == "__main__":
    main()
