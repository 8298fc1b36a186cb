"""A deployment's supervisor: one detached process per deployment.

It loads the model version, resolves the deployment's environment (built the first time, as a
job's is), starts a scoring server (uvicorn, ``workers`` processes) in that environment's
interpreter on a free loopback port, marks the deployment ``ready`` with that port once the
server answers, and restarts the server if it dies or its health routes say it is stuck (every
prediction slot hung past the request timeout), counting restarts; every restart uses the same
interpreter. A model that does not load in the server fails the deployment with the server's
own error, and the server is kept: live, not ready. A many-models deployment loads nothing
here: its server reads the group's versions from the workspace and loads them on demand.
SIGTERM stops the server gracefully (in-flight requests finish) and ends the supervisor.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from trainyard.environments import Environment, ResolvedEnvironment, resolve
from trainyard.liveness import worker_id
from trainyard.serving import env as serve_env
from trainyard.status import DeploymentStatus
from trainyard.store import DeploymentUpdate
from trainyard.workspace import Workspace

READY_TIMEOUT = 60.0
PROBE_EVERY = 1.0  # seconds between liveness probes of a serving server


def entry_script_key(endpoint: str, name: str) -> str:
    """Where a deployment's copy of its entry script is kept in the artifact store."""
    return f"endpoints/{endpoint}/{name}/score.py"


def local_entry_script(ws: Workspace, endpoint: str, name: str) -> Path | None:
    """The deployment's copy of its entry script, on this machine (None: it has none)."""
    key = entry_script_key(endpoint, name)
    if not ws.artifacts.exists(key):
        return None
    return ws.artifacts.download(key, ws.root / "endpoints" / f"{endpoint}.{name}.score.py")


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on at ``host`` now (the kernel's pick)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


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

    def _environment(self) -> ResolvedEnvironment:
        """The interpreter to score with: the deployment's environment, built once and cached."""
        env = Environment.named(self.ws.store, self.record.environment or "")
        return resolve(env, log=lambda line: print(line, flush=True))

    def _start_server(
        self, folder: str | None, port: int, environment: ResolvedEnvironment
    ) -> subprocess.Popen[bytes]:
        served = (
            {serve_env.ENV_MODEL: folder}
            if folder is not None
            else {
                serve_env.ENV_WORKSPACE: str(self.ws.root),
                serve_env.ENV_MAX_MODELS: str(self.record.max_models_in_memory),
            }
        )
        env = {
            **os.environ,
            **environment.env_vars,
            **served,
            serve_env.ENV_NAME: self.record.model_name,
            serve_env.ENV_VERSION: str(self.record.model_version),
            serve_env.ENV_TRUST: "1",
            serve_env.ENV_TIMEOUT: str(self.record.request_timeout or ""),
        }
        env.pop(serve_env.ENV_KEYS, None)  # the endpoint's router checks keys; this port is loopback only
        if (script := local_entry_script(self.ws, self.endpoint, self.name)) is not None:
            env[serve_env.ENV_ENTRY] = str(script)
        return subprocess.Popen(
            [
                environment.python,
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

    def _wait_ready(self, proc: subprocess.Popen[bytes], port: int) -> tuple[str | None, bool]:
        """(None, True) once the server is ready, else why it is not and whether it is live."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and not self.stopping:
            if proc.poll() is not None:
                return f"the scoring server exited with code {proc.returncode}; see its log", False
            try:
                reply = httpx.get(f"http://127.0.0.1:{port}/v2/health/ready", timeout=1)
                if reply.status_code == 200:
                    return None, True
                if reply.status_code == 503 and "error" in reply.json():
                    return str(reply.json()["error"]), True  # the model did not load: the server says why
            except (httpx.TransportError, ValueError):
                time.sleep(0.1)
        return f"the scoring server was not ready within {READY_TIMEOUT:g}s", False

    def _stuck(self, port: int) -> str | None:
        """What the server's liveness route says is wrong, if it says so (a slow answer is not)."""
        try:
            reply = httpx.get(f"http://127.0.0.1:{port}/v2/health/live", timeout=PROBE_EVERY)
            return str(reply.json().get("error")) if reply.status_code == 503 else None
        except (httpx.TransportError, ValueError):
            return None

    def _serve(self, proc: subprocess.Popen[bytes], port: int) -> str | None:
        """Until the server dies or is stuck (why, after killing it) or we are stopping (None)."""
        next_probe = time.monotonic() + PROBE_EVERY
        while proc.poll() is None and not self.stopping:
            time.sleep(0.2)
            if time.monotonic() >= next_probe:
                next_probe = time.monotonic() + PROBE_EVERY
                if stuck := self._stuck(port):
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    return f"restarted: {stuck}"
        return None if self.stopping else f"restarted after exit code {proc.returncode}"

    def _shut_down(self, proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGTERM)  # graceful: in-flight requests complete
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)

    def _model_folder(self) -> str | None:
        """The model's folder on this machine, checked; a group's models are the server's to fetch."""
        from trainyard.models.format import fetch
        from trainyard.serving.many_models import group_columns

        if self.record.serves_group:
            group_columns(self.ws, self.record.model_name)  # it still has a partition's model
            return None
        uri = f"models:/{self.record.model_name}/{self.record.model_version}"
        scripted = self.ws.artifacts.exists(entry_script_key(self.endpoint, self.name))
        return str(fetch(uri, self.ws, scripted=scripted))  # a script loads any registered files

    def run(self) -> None:
        self._update(DeploymentUpdate(worker=worker_id()))
        try:
            folder = self._model_folder()
        except Exception as exc:  # a model that cannot load: the deployment fails, the endpoint serves on
            self._update(
                DeploymentUpdate(status=DeploymentStatus.FAILED, error=f"the model did not load: {exc}")
            )
            return
        try:
            environment = self._environment()
        except Exception as exc:  # TrainyardError: a build that failed, an environment not registered
            self._update(DeploymentUpdate(status=DeploymentStatus.FAILED, error=f"its environment: {exc}"))
            return
        restarts = 0
        proc: subprocess.Popen[bytes] | None = None
        while not self.stopping:
            port = free_port()
            proc = self._start_server(folder, port, environment)
            not_ready, live = self._wait_ready(proc, port)
            if self.stopping:
                break
            if not_ready is not None:
                print(f"deployment {self.name} failed: {not_ready}", flush=True)
                self._update(DeploymentUpdate(status=DeploymentStatus.FAILED, error=not_ready, port=port))
                while live and proc.poll() is None and not self.stopping:  # kept, to be looked at
                    time.sleep(0.2)
                break
            self._update(
                DeploymentUpdate(status=DeploymentStatus.READY, port=port, error=None, restarts=restarts)
            )
            why = self._serve(proc, port)
            if why is None:
                break
            restarts += 1
            print(f"deployment {self.name} {why}", flush=True)  # the log keeps why, once it is ready again
            self._update(DeploymentUpdate(status=DeploymentStatus.CREATING, restarts=restarts, error=why))
        if proc is not None and proc.poll() is None:
            self._shut_down(proc)


def main() -> None:
    ws_root, endpoint, name = sys.argv[1:4]
    Supervisor(Workspace(ws_root), endpoint, name).run()


if __name__ == "__main__":
    main()
