"""An endpoint's router: the stable port clients call, spreading requests over deployments.

It checks the endpoint's keys (primary or secondary), picks a deployment by traffic weight
(or the one an ``azureml-model-deployment`` header names) among those ``ready``, and forwards
the request. Its view of traffic, keys and deployments is re-read from the store every
``REFRESH`` seconds, so a traffic change takes effect without dropping a request; a request
whose deployment is unreachable is retried on another ready one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import random
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from trainyard.serving.app import MAX_BODY
from trainyard.status import DeploymentStatus
from trainyard.store import EndpointUpdate
from trainyard.workspace import Workspace

REFRESH = 0.25
OPEN = {"/", "/ping", "/health", "/v2/health/live", "/v2/health/ready"}


@dataclass
class View:
    keys: list[bytes] = field(default_factory=list)
    weights: dict[str, int] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)  # ready deployments only


def read_view(ws: Workspace, endpoint: str) -> View:
    record = ws.store.get_endpoint(endpoint)
    ready = {
        d.name: d.port
        for d in ws.store.list_deployments(endpoint)
        if d.status == DeploymentStatus.READY and d.port
    }
    return View([record.primary_key.encode(), record.secondary_key.encode()], dict(record.traffic), ready)


def choose(view: View, pinned: str | None, exclude: set[str]) -> str | None:
    if pinned:
        return pinned if pinned in view.ports and pinned not in exclude else None
    names = [n for n, w in view.weights.items() if w > 0 and n in view.ports and n not in exclude]
    if not names:
        return None
    return random.choices(names, weights=[view.weights[n] for n in names])[0]


def create_router(ws: Workspace, endpoint: str) -> Starlette:
    view = read_view(ws, endpoint)
    client = httpx.AsyncClient(timeout=60)

    async def refresh() -> None:
        nonlocal view
        while True:
            await asyncio.sleep(REFRESH)
            try:
                view = await asyncio.to_thread(read_view, ws, endpoint)
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
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept")}
        while True:
            name = choose(view, pinned, tried)
            if name is None:
                what = f"deployment {pinned!r} is not ready" if pinned else "no deployment takes traffic"
                return JSONResponse(
                    {"error_code": "UNAVAILABLE", "message": f"{what} on endpoint {endpoint!r}"},
                    status_code=503,
                )
            try:
                reply = await client.request(
                    request.method,
                    f"http://127.0.0.1:{view.ports[name]}{path}",
                    params=request.query_params,
                    content=body,
                    headers=headers,
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
                },
            )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(refresh())
        yield
        task.cancel()
        await client.aclose()

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])], lifespan=lifespan)


def main() -> None:
    import uvicorn

    from trainyard.liveness import worker_id

    ws_root, endpoint = sys.argv[1:3]
    ws = Workspace(ws_root)
    record = ws.store.update_endpoint(endpoint, EndpointUpdate(worker=worker_id()))
    uvicorn.run(
        create_router(ws, endpoint), host="127.0.0.1", port=record.port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
