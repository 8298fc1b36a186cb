"""Online endpoints: create, deploy, shift traffic, invoke, delete.

An endpoint is a router on a fixed port, run by a supervisor that restarts it; each deployment
is a supervisor process running a scoring server on loopback. Both supervisors are detached
(they outlive the CLI) and record their worker ids, so ``show`` can tell whether they are still
up, and count the restarts of what they run.

In an embedded workspace they run on this machine, the router on loopback. In a server
workspace the server runs them, on its machine (``serving/on_server.py`` asks it to, and the
server calls these same functions on its own workspace): the router listens where the server
does, and the scoring URI each client is shown names the host that client reaches the server by.
Traffic and keys are records the router re-reads, so changing them is the same call everywhere.
"""

from __future__ import annotations

import math
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from trainyard.environments import Environment, is_built
from trainyard.errors import InvalidInputError, TrainyardError
from trainyard.liveness import worker_alive
from trainyard.serving import on_server
from trainyard.serving.deployment import entry_script_key, free_port, local_entry_script
from trainyard.serving.inference_config import InferenceConfig
from trainyard.serving.router import REFRESH
from trainyard.status import DeploymentStatus
from trainyard.store import DeploymentRecord, DeploymentUpdate, EndpointRecord, EndpointUpdate, Store
from trainyard.store.records import GROUP_VERSION
from trainyard.store.validation import check_endpoint_name
from trainyard.workspace import Workspace

DEFAULT_REQUEST_TIMEOUT = 60.0  # seconds, as MLflow's MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT
LOOPBACK = "127.0.0.1"
RUNNING = (DeploymentStatus.CREATING, DeploymentStatus.READY)  # what has a supervisor to keep up


def _log_path(ws: Workspace, endpoint: str, deployment: str | None = None) -> Path:
    name = f"{endpoint}.{deployment}.log" if deployment else f"{endpoint}.router.log"
    return ws.root / "endpoints" / name


def _spawn(ws: Workspace, log: Path, argv: list[str]) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def _url(host: str, port: int) -> str:
    """``http://host:port``, an IPv6 address in brackets; a wildcard bind is reached on loopback."""
    host = {"0.0.0.0": LOOPBACK, "::": "::1", "": LOOPBACK}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _stop(worker: str | None, timeout: float = 20.0) -> None:
    if not worker_alive(worker):
        return
    pid = int(worker.rsplit(":", 2)[1])  # type: ignore[union-attr]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while worker_alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    if worker_alive(worker):
        os.kill(pid, signal.SIGKILL)


def _settle() -> None:
    """Wait until the router has re-read the store, so a change is in force when we return."""
    time.sleep(REFRESH * 2 + 0.05)


def _routed(port: int, host: str = LOOPBACK) -> list[str] | None:
    """The deployments the router on ``port`` routes to; None while it does not answer."""
    try:
        reply = httpx.get(f"{_url(host, port)}/ping", timeout=1)
        return list(reply.json().get("deployments", [])) if reply.status_code == 200 else None
    except (httpx.TransportError, ValueError):
        return None


def _wait_routed(ws: Workspace, endpoint: str, name: str, timeout: float = 5.0) -> None:
    """Until the router lists the deployment among those it can route to."""
    port = ws.store.get_endpoint(endpoint).port
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and name not in (_routed(port) or []):
        time.sleep(0.02)


def create_endpoint(
    ws: Workspace,
    name: str,
    port: int | None = None,
    timeout: float = 20.0,
    *,
    host: str = LOOPBACK,
    store: Store | None = None,
) -> EndpointRecord:
    """A new endpoint whose router listens on ``host`` (``port``: a free one by default).

    ``store`` is where its record is made (the server passes one that keeps the request's
    idempotency key, so a retried create finds the first one's endpoint and router).
    """
    if ws.is_server:
        return on_server.create_endpoint(ws, name, port)
    record = (store or ws.store).create_endpoint(
        name, port or free_port(host), secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    )
    router = None if worker_alive(record.worker) else _start_router(ws, name, host)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _routed(record.port, host) is not None:
            return ws.store.get_endpoint(name)
        if router is not None and router.poll() is not None:  # it could not start: nothing is left
            ws.store.delete_endpoint(name)
            raise TrainyardError(f"endpoint {name!r} did not start: {_last_line(_log_path(ws, name))}")
        time.sleep(0.1)
    raise TrainyardError(f"endpoint {name!r} did not start; see `trainyard endpoint logs {name}`")


def _start_router(ws: Workspace, name: str, host: str) -> subprocess.Popen[bytes]:
    argv = ["trainyard.serving.router", str(ws.root), name, "--host", host]
    return _spawn(ws, _log_path(ws, name), argv)


def _start_deployment(ws: Workspace, endpoint: str, name: str) -> None:
    argv = ["trainyard.serving.deployment", str(ws.root), endpoint, name]
    _spawn(ws, _log_path(ws, endpoint, name), argv)


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return lines[-1] if lines else "it exited without a word"


def _pinned(ws: Workspace, environment: Environment | str | None) -> tuple[Environment, str] | None:
    """The deployment's environment, registered, and its ``name:version`` (None: the default one)."""
    if environment is None:
        return None
    env = environment if isinstance(environment, Environment) else Environment.named(ws.store, environment)
    if env.is_default and not env.env_vars:
        return None
    record = env.register(ws.store)
    return env, f"{record.name}:{record.version}"


def create_deployment(
    ws: Workspace,
    endpoint: str,
    name: str,
    model_ref: str,
    workers: int = 1,
    timeout: float = 90.0,
    entry_script: str | os.PathLike[str] | None = None,
    request_timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
    environment: Environment | str | None = None,
    inference_config: InferenceConfig | None = None,
    *,
    many_models: bool = False,
    max_models_in_memory: int | None = None,
    store: Store | None = None,
) -> DeploymentRecord:
    """Start ``model_ref`` behind ``endpoint``; each prediction may take ``request_timeout`` seconds
    (a 504 after that; None: no limit, and the model runs on the server's event loop). With an
    ``environment`` (or an ``inference_config`` naming one) the scoring server runs in its
    interpreter; ``timeout`` counts from the end of its build, which the deployment's log shows.

    With ``many_models``, ``model_ref`` is the name of a many-models group, and the deployment
    serves every partition's model, routing each row by its partition columns and keeping at
    most ``max_models_in_memory`` loaded per worker (``serving/many_models.py``).

    ``store`` is where its record is made, as for ``create_endpoint``.
    """
    from trainyard.registry import Model
    from trainyard.serving.many_models import DEFAULT_MODELS_IN_MEMORY, group_columns

    if inference_config is not None:
        if entry_script is not None or environment is not None:
            raise InvalidInputError(
                "give the entry script and the environment either in the inference config or as "
                "arguments, not both"
            )
        entry_script, environment = inference_config.entry_script, inference_config.environment
    if workers < 1:
        raise InvalidInputError("a deployment needs at least 1 worker")
    if request_timeout is not None and not (0 < request_timeout < math.inf):
        raise InvalidInputError(f"the request timeout is seconds above 0, not {request_timeout}")
    if entry_script is not None and not Path(entry_script).is_file():
        raise InvalidInputError(f"entry script {entry_script} does not exist")
    if not many_models and max_models_in_memory is not None:
        raise InvalidInputError("max_models_in_memory is for a many-models deployment (--many-models NAME)")
    if many_models:
        if entry_script is not None:
            raise InvalidInputError(
                "a many-models deployment routes rows to its partitions' models itself; "
                "it takes no entry script"
            )
        if max_models_in_memory is None:
            max_models_in_memory = DEFAULT_MODELS_IN_MEMORY
        if max_models_in_memory < 1:
            raise InvalidInputError(f"max_models_in_memory must be 1 or more, not {max_models_in_memory}")
    pinned = _pinned(ws, environment)  # registered in the workspace, a server's too
    if ws.is_server:
        environment_ref = pinned[1] if pinned else None
        return on_server.create_deployment(
            ws,
            endpoint,
            name,
            model_ref,
            workers,
            entry_script,
            request_timeout,
            environment_ref,
            max_models_in_memory if many_models else None,
        )
    if many_models:
        model_name = model_ref.removeprefix("azureml:")
        group_columns(ws, model_name)  # a name with no partition's model is refused here
        model_version = GROUP_VERSION
    else:
        model = Model(ws, model_ref)
        model_name, model_version = model.name, model.version
    made = (store or ws.store).create_deployment(endpoint, name, model_name, model_version, workers)
    settings = DeploymentUpdate(
        request_timeout=request_timeout,
        environment=pinned[1] if pinned else None,
        max_models_in_memory=max_models_in_memory if many_models else None,
    )
    ws.store.update_deployment(endpoint, name, settings)
    if entry_script is not None:  # kept with the deployment, so later edits of the file change nothing
        ws.artifacts.put_file(entry_script_key(endpoint, name), str(entry_script))
    if not worker_alive(made.worker):  # else a retried create: its supervisor runs already
        _start_deployment(ws, endpoint, name)
    deadline = time.monotonic() + timeout
    while True:
        record = ws.store.get_deployment(endpoint, name)
        if record.status == DeploymentStatus.READY:
            _wait_routed(ws, endpoint, name)
            return record
        if record.status == DeploymentStatus.FAILED:
            raise TrainyardError(
                f"deployment {name!r} failed: {record.error}; the endpoint serves on as before"
            )
        if pinned and not is_built(pinned[0]) and worker_alive(record.worker):
            deadline = time.monotonic() + timeout  # its supervisor is building the environment
        elif time.monotonic() >= deadline:
            raise TrainyardError(
                f"deployment {name!r} was not ready after {timeout:g}s; see `trainyard endpoint logs`"
            )
        time.sleep(0.1)


def inference_config_of(ws: Workspace, endpoint: str, name: str) -> InferenceConfig:
    """How a deployment scores, to serve another model the same way (a retrain's new deployment)."""
    record = ws.store.get_deployment(endpoint, name)
    return InferenceConfig(
        entry_script=local_entry_script(ws, endpoint, name), environment=record.environment
    )


def set_traffic(ws: Workspace, endpoint: str, weights: dict[str, int]) -> EndpointRecord:
    """Weights per deployment, in percent, adding up to 100 (deployments not named get 0)."""
    deployments = {d.name: d for d in ws.store.list_deployments(endpoint)}
    unknown = sorted(set(weights) - set(deployments))
    if unknown:
        raise InvalidInputError(f"endpoint {endpoint!r} has no deployment {', '.join(unknown)}")
    if any(w < 0 for w in weights.values()) or sum(weights.values()) != 100:
        raise InvalidInputError(f"traffic must add up to 100 percent, got {sum(weights.values())}")
    not_ready = sorted(
        n for n, w in weights.items() if w > 0 and deployments[n].status != DeploymentStatus.READY
    )
    if not_ready:
        raise InvalidInputError(f"deployment {', '.join(not_ready)} is not ready; it cannot take traffic")
    before = ws.store.get_endpoint(endpoint).traffic
    after = {n: w for n, w in weights.items() if w > 0}
    change = EndpointUpdate(traffic=after, previous_traffic=before if before != after else None)
    record = ws.store.update_endpoint(endpoint, change)
    _settle()
    return record


def rollback(ws: Workspace, endpoint: str) -> EndpointRecord:
    """Put the traffic back as it was before the last change (after a retrain's swap, say)."""
    previous = ws.store.get_endpoint(endpoint).previous_traffic
    if not previous:
        raise InvalidInputError(f"endpoint {endpoint!r} has no earlier traffic split to go back to")
    return set_traffic(ws, endpoint, previous)


def delete_deployment(ws: Workspace, endpoint: str, name: str) -> None:
    """Stop a deployment that takes no traffic and remove it (again after an interrupted delete)."""
    if ws.is_server:
        return on_server.delete_deployment(ws, endpoint, name)
    record = ws.store.get_endpoint(endpoint)
    if record.traffic.get(name, 0) > 0:
        raise InvalidInputError(
            f"deployment {name!r} takes {record.traffic[name]}% of {endpoint!r}'s traffic; move it first "
            f"(trainyard endpoint traffic {endpoint} …)"
        )
    deployment = ws.store.get_deployment(endpoint, name)
    if deployment.status != DeploymentStatus.DELETING:
        ws.store.update_deployment(endpoint, name, DeploymentUpdate(status=DeploymentStatus.DELETING))
        _settle()  # the router stops choosing it before it stops
    _stop(deployment.worker)
    ws.store.delete_deployment(endpoint, name)


def delete_endpoint(ws: Workspace, name: str) -> None:
    """Stop the endpoint's deployments and router and remove it.

    The record goes before the router is stopped, so nothing restarts the router meanwhile
    (``revive``); a router whose endpoint is gone stops by itself too.
    """
    if ws.is_server:
        return on_server.delete_endpoint(ws, name)
    record = ws.store.update_endpoint(name, EndpointUpdate(traffic={}))
    for deployment in ws.store.list_deployments(name):
        delete_deployment(ws, name, deployment.name)
    ws.store.delete_endpoint(name)
    _stop(record.worker)


def revive(ws: Workspace, host: str = LOOPBACK) -> list[str]:
    """Start again the routers and deployment supervisors of this machine that died (a reboot, a kill).

    Returns what was started (``endpoint`` or ``endpoint/deployment``). A process recorded on
    another host, or not recorded yet (still starting), is left alone; so are deployments that
    failed or are being deleted. A deployment that was ready is ``creating`` until its new
    server is, so the router does not send requests to the dead one's port meanwhile.
    """
    started = []
    for endpoint in ws.store.list_endpoints():
        if worker_alive(endpoint.worker) is False:
            _start_router(ws, endpoint.name, host)
            started.append(endpoint.name)
        for d in ws.store.list_deployments(endpoint.name):
            if d.status in RUNNING and worker_alive(d.worker) is False:
                if d.status == DeploymentStatus.READY:
                    why = "restarted: its supervisor had stopped"
                    ws.store.update_deployment(
                        endpoint.name, d.name, DeploymentUpdate(status=DeploymentStatus.CREATING, error=why)
                    )
                _start_deployment(ws, endpoint.name, d.name)
                started.append(f"{endpoint.name}/{d.name}")
    return started


def regenerate_key(ws: Workspace, name: str, which: str) -> EndpointRecord:
    if which not in ("primary", "secondary"):
        raise InvalidInputError("--key-type is primary or secondary")
    key = secrets.token_urlsafe(24)
    change = EndpointUpdate(primary_key=key) if which == "primary" else EndpointUpdate(secondary_key=key)
    record = ws.store.update_endpoint(name, change)
    _settle()
    return record


def invoke(
    ws: Workspace,
    endpoint: str,
    body: bytes,
    deployment: str | None = None,
    path: str = "/score",
    timeout: float = 60.0,
    host: str = LOOPBACK,
) -> tuple[int, Any]:
    """Send ``body`` to the endpoint's router on ``host`` with its key: (status, reply)."""
    info = describe(ws, endpoint, host)
    base = info["scoring_uri"].removesuffix("/score")
    headers = {"Authorization": f"Bearer {info['keys']['primary']}", "Content-Type": "application/json"}
    if deployment:
        headers["azureml-model-deployment"] = deployment
    try:
        reply = httpx.post(f"{base}{path}", content=body, headers=headers, timeout=timeout)
    except httpx.TransportError as exc:  # the router is down or stuck: say so, not a traceback
        why = f"no reply within {timeout:g}s" if isinstance(exc, httpx.TimeoutException) else "no connection"
        raise TrainyardError(
            f"endpoint {endpoint!r} did not answer on {base} ({why}); its router is {info['router']}: "
            f"see `trainyard endpoint show {endpoint}` and `trainyard endpoint logs {endpoint}`"
        ) from None
    try:
        return reply.status_code, reply.json()
    except ValueError:
        return reply.status_code, reply.text


def describe(ws: Workspace, name: str, host: str = LOOPBACK) -> dict[str, Any]:
    """The endpoint as ``endpoint show`` prints it, its URIs on ``host`` (the server passes the
    name its caller reaches it by); a server workspace's from the server."""
    if ws.is_server:
        return on_server.describe(ws, name)
    record = ws.store.get_endpoint(name)
    base = _url(host, record.port)
    return {
        "name": record.name,
        "scoring_uri": f"{base}/score",
        "openapi_uri": f"{base}/openapi.json",
        "router": "up" if worker_alive(record.worker) else "down",
        "router_restarts": record.restarts,
        "keys": {"primary": record.primary_key, "secondary": record.secondary_key},
        "traffic": record.traffic,
        "deployments": [
            {
                "name": d.name,
                "model": f"{d.model_name} (many models)"
                if d.serves_group
                else f"{d.model_name}:{d.model_version}",
                "many_models": _group_health(d) if d.serves_group else None,
                "status": d.status.value,
                "workers": d.workers,
                "restarts": d.restarts,
                "request_timeout": d.request_timeout,
                "environment": d.environment,
                "error": d.error,
                "supervisor": "up" if worker_alive(d.worker) else "down",
            }
            for d in ws.store.list_deployments(name)
        ],
    }


def _group_health(deployment: DeploymentRecord) -> dict[str, Any] | None:
    """A ready many-models deployment's partitions and cache counts, as its server's health route
    shows them (one worker's, when it has several); None while it does not answer."""
    if deployment.status != DeploymentStatus.READY or not deployment.port:
        return None
    try:
        reply = httpx.get(f"{_url(LOOPBACK, deployment.port)}/health", timeout=1)
        return dict(reply.json()["many_models"]) if reply.status_code == 200 else None
    except (httpx.TransportError, ValueError, KeyError):
        return None


def endpoint_log(ws: Workspace, name: str, deployment: str | None = None) -> str:
    """The router's log, or a deployment's (kept where they run: a server's on the server)."""
    if ws.is_server:
        return on_server.endpoint_log(ws, name, deployment)
    ws.store.get_endpoint(name)
    if deployment is not None:  # a deleted deployment's log is kept: only the name is checked
        check_endpoint_name(deployment, "deployment")
    path = _log_path(ws, name, deployment)
    return path.read_text(errors="replace") if path.exists() else ""
