"""An endpoint's router: the stable port clients call, spreading requests over deployments.

It checks the endpoint's keys (primary or secondary), picks a deployment by traffic weight
(or the one an ``azureml-model-deployment`` header names) among those ``ready``, and forwards
the request. Its view of traffic, keys and deployments is re-read from the store every
``REFRESH`` seconds, so a traffic change takes effect without dropping a request; a request
whose deployment is unreachable is retried on another ready one.

``python -m trainyard.serving.router`` runs a ``Supervisor``: it owns the port's socket and
forks the router, again whenever the router dies, so the scoring URI never refuses a
connection because a process was killed. A router whose endpoint is gone from the store (a
delete that could not stop it) stops, and so does its supervisor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from trainyard.errors import NotFoundError
from trainyard.serving import oip
from trainyard.serving.app import MAX_BODY
from trainyard.status import DeploymentStatus
from trainyard.store import EndpointRecord, EndpointUpdate
from trainyard.workspace import Workspace

REFRESH = 0.25
GRACE = 5.0  # seconds the router waits beyond a deployment's own request timeout
OPEN = {"/", "/ping", "/health", "/v2/health/live", "/v2/health/ready"}
# what a deployment needs of a request's headers: OIP's binary tensor data and compressed bodies too
FORWARDED = {"content-type", "accept", "content-encoding", oip.HEADER_LENGTH}


@dataclass
class View:
    keys: list[bytes] = field(default_factory=list)
    weights: dict[str, int] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)  # ready deployments only
    timeouts: dict[str, float | None] = field(default_factory=dict)  # their request timeouts


def read_view(ws: Workspace, endpoint: str) -> View:
    record = ws.store.get_endpoint(endpoint)
    ready = [d for d in ws.store.list_deployments(endpoint) if d.status == DeploymentStatus.READY and d.port]
    return View(
        [record.primary_key.encode(), record.secondary_key.encode()],
        dict(record.traffic),
        {d.name: d.port for d in ready if d.port},
        {d.name: d.request_timeout for d in ready},
    )


def choose(view: View, pinned: str | None, exclude: set[str]) -> str | None:
    if pinned:
        return pinned if pinned in view.ports and pinned not in exclude else None
    names = [n for n, w in view.weights.items() if w > 0 and n in view.ports and n not in exclude]
    if not names:
        return None
    return random.choices(names, weights=[view.weights[n] for n in names])[0]


def create_router(ws: Workspace, endpoint: str) -> Starlette:
    view = read_view(ws, endpoint)
    client = httpx.AsyncClient()

    async def refresh() -> None:
        nonlocal view
        while True:
            await asyncio.sleep(REFRESH)
            try:
                view = await asyncio.to_thread(read_view, ws, endpoint)
            except NotFoundError:  # deleted: stop gracefully (the supervisor then stops too)
                os.kill(os.getpid(), signal.SIGTERM)
                return
            except Exception:  # a store hiccup: keep routing with what we know
                continue

    async def forward(request: Request) -> Response:
        path = request.url.path
        if path in OPEN:
            return JSONResponse({"status": "ok", "deployments": sorted(view.ports)})
        given = request.headers.get("authorization", "")
        token = given.removeprefix("Bearer ").strip().encode()
        if not given.startswith("Bearer ") or not any(hmac.compare_digest(token, k) for k in view.keys):
            return JSONResponse(
                {"error_code": "UNAUTHENTICATED", "message": "send Authorization: Bearer <key>"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY:
            return JSONResponse(
                {
                    "error_code": "REQUEST_TOO_LARGE",
                    "message": f"the body is {length} bytes; the limit is {MAX_BODY}",
                },
                status_code=413,
            )
        body = await request.body()
        pinned = request.headers.get("azureml-model-deployment")
        tried: set[str] = set()
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
        while True:
            name = choose(view, pinned, tried)
            if name is None:
                what = f"deployment {pinned!r} is not ready" if pinned else "no deployment takes traffic"
                return JSONResponse(
                    {"error_code": "UNAVAILABLE", "message": f"{what} on endpoint {endpoint!r}"},
                    status_code=503,
                )
            limit = view.timeouts.get(name)
            try:
                reply = await client.request(
                    request.method,
                    f"http://127.0.0.1:{view.ports[name]}{path}",
                    params=request.query_params,
                    content=body,
                    headers=headers,
                    # the deployment answers its own timeout (504); this only guards against a stuck one
                    timeout=httpx.Timeout(limit + GRACE if limit else None, connect=GRACE),
                )
            except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:  # it got the request: never re-send it
                return JSONResponse(
                    {"error_code": "TIMEOUT", "message": f"deployment {name!r} did not answer: {exc}"},
                    status_code=504,
                    headers={"azureml-model-deployment": name},
                )
            except httpx.TransportError:
                tried.add(name)  # restarting or stopped: try another
                continue
            return Response(
                reply.content,
                status_code=reply.status_code,
                headers={
                    "content-type": reply.headers.get("content-type", "application/json"),
                    "azureml-model-deployment": name,
                    **{k: v for k, v in reply.headers.items() if k.lower() == oip.HEADER_LENGTH},
                },
            )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(refresh())
        yield
        task.cancel()
        await client.aclose()

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])], lifespan=lifespan)


class Supervisor:
    """Holds the endpoint's listening socket and forks the router that serves on it, again when it dies.

    The socket stays open across a restart, so clients that connect meanwhile wait in its
    backlog instead of being refused; the fork carries the imports, so a restart takes
    milliseconds. Restarts are counted on the endpoint's record, as a deployment's are.
    """

    def __init__(self, ws_root: str, endpoint: str, listener: socket.socket) -> None:
        self.ws_root, self.endpoint, self.listener = ws_root, endpoint, listener
        self.child: int | None = None
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)

    def _stop(self, *_: object) -> None:
        self.stopping = True
        if self.child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.child, signal.SIGTERM)  # graceful: in-flight requests complete

    def _record(self, update: EndpointUpdate) -> EndpointRecord:
        """Write to the store through a connection opened for it, so none is open across a fork."""
        ws = Workspace(self.ws_root)
        try:
            return ws.store.update_endpoint(self.endpoint, update)
        finally:
            ws.close()

    def run(self) -> None:
        from trainyard.liveness import worker_id

        restarts = self._record(EndpointUpdate(worker=worker_id())).restarts
        while not self.stopping:
            started = time.monotonic()
            self.child = os.fork()
            if self.child == 0:
                _serve_child(self.ws_root, self.endpoint, self.listener)
            _, status = os.waitpid(self.child, 0)
            if self.stopping:
                break
            restarts += 1
            print(f"router exited ({_exit_reason(status)}); restart {restarts}", flush=True)
            try:
                self._record(EndpointUpdate(restarts=restarts))
            except NotFoundError:
                print(f"endpoint {self.endpoint} was deleted; stopping", flush=True)
                break
            if time.monotonic() - started < 1.0:  # dying at once: do not spin
                time.sleep(1.0)


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def _serve_child(ws_root: str, endpoint: str, listener: socket.socket) -> None:
    """The forked router: serve on the inherited socket until told to stop; never returns."""
    code = 1
    try:
        import uvicorn

        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # uvicorn installs its own handlers
        supervisor = os.getppid()
        server = uvicorn.Server(
            uvicorn.Config(create_router(Workspace(ws_root), endpoint), log_level="warning", access_log=False)
        )
        threading.Thread(
            target=_hand_over_if_orphaned, args=(server, supervisor, ws_root, endpoint, listener), daemon=True
        ).start()
        server.run(sockets=[listener])
        code = 0
    finally:
        os._exit(code)


def _hand_over_if_orphaned(
    server: Any, supervisor: int, ws_root: str, endpoint: str, listener: socket.socket
) -> None:
    """If the supervisor is killed, start a new one on the same socket, then stop gracefully.

    The socket never closes, so no connection is refused during the hand-over.
    """
    while not server.should_exit:
        time.sleep(REFRESH)
        if os.getppid() != supervisor and not server.should_exit:
            fd = str(listener.fileno())
            subprocess.Popen(
                [sys.executable, "-m", "trainyard.serving.router", ws_root, endpoint, "--fd", fd],
                pass_fds=(listener.fileno(),),
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            server.should_exit = True
            return


def _listen(host: str, port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(2048)
    return listener


def main() -> None:
    """``python -m trainyard.serving.router WORKSPACE ENDPOINT [--host HOST | --fd FD]``.

    HOST: the address to listen on (loopback by default); FD: a listening socket handed over.
    """
    parser = argparse.ArgumentParser(prog="python -m trainyard.serving.router")
    parser.add_argument("workspace")
    parser.add_argument("endpoint")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--fd", type=int)
    args = parser.parse_args()
    if args.fd is not None:
        listener = socket.socket(fileno=args.fd)
    else:
        ws = Workspace(args.workspace)
        port = ws.store.get_endpoint(args.endpoint).port
        ws.close()
        try:
            listener = _listen(args.host, port)
        except OSError as exc:  # the one line ``create_endpoint`` reports
            print(f"cannot listen on {args.host} port {port}: {exc.strerror or exc}", flush=True)
            sys.exit(1)
    Supervisor(args.workspace, args.endpoint, listener).run()


if __name__ == "__main__":
    main()
