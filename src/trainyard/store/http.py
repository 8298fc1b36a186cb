"""``ServerClient``: HTTP to a trainyard server that rides out restarts.

Every request is retried on a connection error, a dropped connection or a 502/503/504, with
exponential backoff (0.1 s doubling to 2 s) for at most ``retry_seconds`` (30 by default,
``$TRAINYARD_RETRY_SECONDS``), then the last error is raised as a ``ServerUnavailableError``.
Creates carry an idempotency key, so a retried POST returns what the first one made. Error
replies come back as the ``TrainyardError`` class the server raised (``schemas.ERRORS``).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx

from trainyard.credentials import normalize_url, token_for
from trainyard.errors import InvalidInputError, NotFoundError, TrainyardError, WorkspaceError
from trainyard.server.schemas import ERRORS

T = TypeVar("T")
RETRY_VAR = "TRAINYARD_RETRY_SECONDS"
RETRY_STATUSES = frozenset({502, 503, 504})
CHUNK = 1024 * 1024
IDEMPOTENCY_HEADER = "Idempotency-Key"


class ServerUnavailableError(WorkspaceError):
    """The server could not be reached, or kept answering 'unavailable', for the whole retry window."""


class ServerAccessError(WorkspaceError):
    """The server refused the token (401) or the token's role (403)."""


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()
        code, message = body.get("error_code"), body.get("message") or response.text
    except ValueError:
        code, message = None, response.text[:500] or response.reason_phrase
    if response.status_code in (401, 403):
        raise ServerAccessError(f"{response.request.url.host}: {message}")
    if response.status_code == 413:
        raise InvalidInputError(message)
    if response.status_code == 404 and code == "ENDPOINT_NOT_FOUND":  # a name that makes no valid path
        raise NotFoundError(f"{response.request.method} {response.request.url.path}: not found")
    for cls, _status, known in ERRORS:
        if code == known:
            raise cls(message)
    raise TrainyardError(f"server answered {response.status_code} {code or ''}: {message}".strip())


class ServerClient:
    """One connection pool to one server, shared by the threads of a process."""

    def __init__(self, url: str, *, token: str | None = None, retry_seconds: float | None = None) -> None:
        self.url = normalize_url(url)
        token = token or token_for(self.url)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.retry_seconds = (
            float(os.environ.get(RETRY_VAR, "30")) if retry_seconds is None else retry_seconds
        )
        self.http = httpx.Client(
            base_url=self.url, headers=headers, timeout=httpx.Timeout(120.0, connect=5.0)
        )

    def close(self) -> None:
        self.http.close()

    def retrying(self, attempt: Callable[[], T], what: str) -> T:
        """``attempt()`` again on transport errors and 502/503/504, with backoff, within the window."""
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.1
        while True:
            try:
                return attempt()
            except (httpx.TransportError, _Unavailable) as exc:
                if time.monotonic() + delay > deadline:
                    raise ServerUnavailableError(
                        f"trainyard server {self.url} unavailable for {self.retry_seconds:.0f} s "
                        f"({what}): {exc}"
                    ) from None
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotent_create: bool = False,
    ) -> Any:
        """The decoded JSON reply of one API call, retried as the module says."""
        headers = {IDEMPOTENCY_HEADER: uuid.uuid4().hex} if idempotent_create else None
        params = {k: v for k, v in (params or {}).items() if v is not None}

        def attempt() -> Any:
            response = self.http.request(method, path, json=json, params=params, headers=headers)
            if response.status_code in RETRY_STATUSES:
                raise _Unavailable(f"{response.status_code} {response.text[:200]}")
            _raise_for(response)
            return response.json()

        return self.retrying(attempt, f"{method} {path}")

    def upload(self, path: str, source: Path) -> None:
        """PUT the file in chunks (re-read from the start on a retry)."""

        def chunks() -> Iterator[bytes]:
            with open(source, "rb") as fh:
                while block := fh.read(CHUNK):
                    yield block

        def attempt() -> None:
            response = self.http.put(path, content=chunks())
            if response.status_code in RETRY_STATUSES:
                raise _Unavailable(str(response.status_code))
            _raise_for(response)

        self.retrying(attempt, f"upload {path}")

    def download(self, path: str, dest: Path) -> None:
        """GET into ``dest`` in chunks, through a temporary file renamed into place."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp-{uuid.uuid4().hex}")

        def attempt() -> None:
            with self.http.stream("GET", path) as response:
                if response.status_code in RETRY_STATUSES:
                    raise _Unavailable(str(response.status_code))
                if not response.is_success:
                    response.read()
                    _raise_for(response)
                with open(tmp, "wb") as fh:
                    for block in response.iter_bytes(CHUNK):
                        fh.write(block)

        try:
            self.retrying(attempt, f"download {path}")
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    def post_bytes(self, path: str, data: bytes, *, params: dict[str, Any] | None = None) -> Any:
        """POST ``data`` as the raw body with an idempotency key (a retry is applied once); the JSON reply."""
        headers = {IDEMPOTENCY_HEADER: uuid.uuid4().hex, "Content-Type": "application/octet-stream"}

        def attempt() -> Any:
            response = self.http.post(path, content=data, params=params, headers=headers)
            if response.status_code in RETRY_STATUSES:
                raise _Unavailable(f"{response.status_code} {response.text[:200]}")
            _raise_for(response)
            return response.json()

        return self.retrying(attempt, f"POST {path}")

    def read_from(self, path: str, offset: int) -> Iterator[bytes]:
        """GET from byte ``offset`` to the end in chunks (a ``Range`` request); nothing past the end.

        A connection dropped mid-body is picked up again from the first byte not yet received.
        """

        def attempt() -> httpx.Response | None:
            response = self.http.send(
                self.http.build_request("GET", path, headers={"Range": f"bytes={offset}-"}), stream=True
            )
            if response.status_code == 416:  # the offset is at or past the end
                response.close()
                return None
            if response.status_code in RETRY_STATUSES:
                response.close()
                raise _Unavailable(str(response.status_code))
            if response.status_code != 206:
                response.read()
                response.close()
                _raise_for(response)
                raise TrainyardError(f"GET {path} from byte {offset}: the server ignored the Range header")
            return response

        while (response := self.retrying(attempt, f"GET {path} from byte {offset}")) is not None:
            try:
                for block in response.iter_bytes(CHUNK):
                    offset += len(block)
                    yield block
                return
            except httpx.TransportError:
                continue  # resume from ``offset``
            finally:
                response.close()


class _Unavailable(Exception):
    """A 502/503/504 reply: retried like a dropped connection."""
