"""The scoring server's keys: every route but health and version needs ``Bearer <key>``.

Its own module so that the server of a model that did not load (``unready``) checks them too.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.responses import JSONResponse

OPEN_ROUTES = {"/", "/ping", "/health", "/version", "/v2/health/live", "/v2/health/ready"}


class BearerKeys:
    """Pure ASGI middleware (cheaper than ``@app.middleware``): 401 without a valid key."""

    def __init__(self, app: Any, secrets: list[bytes]) -> None:
        self.app, self.secrets = app, secrets

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_ROUTES:
            given = dict(scope["headers"]).get(b"authorization", b"")
            token = given[len(b"Bearer ") :].strip() if given.startswith(b"Bearer ") else b""
            if not token or not any(hmac.compare_digest(token, s) for s in self.secrets):
                reply = JSONResponse(
                    {"error_code": "UNAUTHENTICATED", "message": "send Authorization: Bearer <key>"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await reply(scope, receive, send)
                return
        await self.app(scope, receive, send)
