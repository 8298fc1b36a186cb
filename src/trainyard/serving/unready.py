"""The scoring server of a model that did not load: live, never ready, and saying why.

Liveness (``/``, ``/v2/health/live``) answers 200, so a supervisor keeps the process and the
error stays readable; readiness (``/ping``, ``/health``, ``/v2/health/ready``, a model's
``ready``) and every scoring route answer 503 with the load error.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from trainyard.serving.keys import BearerKeys

LIVE = {"/", "/v2/health/live"}


def unready_app(error: str, keys: list[str] | None = None) -> Starlette:
    async def answer(request: Request) -> JSONResponse:
        path = request.url.path
        if path in LIVE:
            return JSONResponse({"status": "live", "ready": False, "error": error})
        if path.startswith("/v2"):
            return JSONResponse({"error": error}, status_code=503)
        return JSONResponse({"error_code": "UNAVAILABLE", "message": error}, status_code=503)

    app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])
    if keys:  # the error is for those who may call the model
        app.add_middleware(BearerKeys, secrets=[k.encode() for k in keys])
    return app
