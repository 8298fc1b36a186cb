"""The studio's page and files, served by every server app at ``/studio/`` (``/`` leads there).

The page is the React app under ``studio/`` in the repository, built by ``make studio`` into
``studio_static/`` (shipped inside the package, so installing trainyard needs no Node). It
reads everything through REST API v1 with the browser's credentials: a token it was given on a
team server, or on ``trainyard studio`` the cookie of the process's ``LocalSession``
(``server/session.py``), which ``GET /studio/?token=…`` sets and then drops the token from the URL.
These files hold no data and are public; the page's HTML says where scripts may come from.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from trainyard.api import errors
from trainyard.server.mlflow.protocol import error_response
from trainyard.server.session import STUDIO, LocalSession

STATIC = Path(__file__).with_name("studio_static")
PAGE = STUDIO + "/"
HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def install_studio(app: FastAPI) -> None:
    """Serve the studio on ``app``: the page at ``/studio/``, its hashed files below it."""

    def page(request: Request) -> Response:
        session: LocalSession | None = getattr(request.app.state, "local_session", None)
        token = request.query_params.get("token")
        if token is not None:
            if session is None or not session.admits_url_token(token):
                row = errors.UNAUTHENTICATED
                return error_response(row.status, row.code, "this is not the token of this studio")
            answer: Response = RedirectResponse(PAGE, status_code=303, headers=HEADERS)
            answer.set_cookie(
                session.cookie_name, session.cookie_value, httponly=True, samesite="strict", path="/"
            )
            return answer
        index = STATIC / "index.html"
        if not index.is_file():
            row = errors.ENDPOINT_NOT_FOUND
            return error_response(row.status, row.code, "the studio is not built here: run `make studio`")
        return HTMLResponse(index.read_text(encoding="utf-8"), headers=HEADERS)

    def to_page() -> Response:
        return RedirectResponse(PAGE, status_code=307)

    app.add_api_route(PAGE, page, methods=["GET"], include_in_schema=False)
    app.add_api_route(STUDIO, to_page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/", to_page, methods=["GET"], include_in_schema=False)
    assets = STATIC / "assets"
    if assets.is_dir():
        app.mount(STUDIO + "/assets", StaticFiles(directory=assets), name="studio-assets")
