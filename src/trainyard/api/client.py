"""``ServerClient``: the one HTTP client to a trainyard server, which rides out restarts.

Every request is retried on a connection error, a dropped connection or a 502/503/504, with
exponential backoff (0.1 s doubling to 2 s) for at most ``retry_seconds`` (30 by default,
``$TRAINYARD_RETRY_SECONDS``), then the last error is raised as a ``ServerUnavailableError``.
Creates and metric batches (``Route.idempotent``) carry an idempotency key, so a retried POST
returns what the first one made and a batch is stored once. Error replies come back as the
``TrainyardError`` class the server raised (``trainyard.api.errors``). ``RestStore``,
``HttpArtifactStore``, the compute agent and the CLI's user and token commands all call through it.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx

from trainyard.api import errors
from trainyard.api.errors import ServerAccessError, ServerError, ServerUnavailableError
from trainyard.api.routes import IDEMPOTENCY_HEADER, Route, Target
from trainyard.credentials import normalize_url, token_for
from trainyard.errors import InvalidInputError, NotFoundError, TrainyardError

T = TypeVar("T")
RETRY_VAR = "TRAINYARD_RETRY_SECONDS"
RETRY_STATUSES = frozenset({502, 503, 504})
FIRST_DELAY = 0.1
MAX_DELAY = 2.0
CHUNK = 1024 * 1024


def raise_for(response: httpx.Response) -> None:
    """Raise what an error reply stands for: the server's class for a known code."""
    if response.is_success:
        return
    try:
        body = response.json()
        code, message = body.get("error_code"), body.get("message") or response.text
    except ValueError:
        code, message = None, response.text[:500] or response.reason_phrase
    if response.status_code in (errors.UNAUTHENTICATED.status, errors.PERMISSION_DENIED.status):
        raise ServerAccessError(f"{response.request.url.host}: {message}")
    if response.status_code == errors.REQUEST_TOO_LARGE.status:  # also from a proxy, without a code
        raise InvalidInputError(message)
    row = errors.for_code(code)
    if row is errors.ENDPOINT_NOT_FOUND:  # a name that makes no valid path
        raise NotFoundError(f"{response.request.method} {response.request.url.path}: not found")
    if row in errors.ERRORS:
        raise row.error(message)
    unexpected = ServerError if response.status_code >= 500 else TrainyardError
    raise unexpected(f"server answered {response.status_code} {code or ''}: {message}".strip())


class ServerClient:
    """One connection pool to one server, shared by the threads of a process."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        retry_seconds: float | None = None,
    ) -> None:
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

    def retrying(self, attempt: Callable[[], T], what: str, stop: threading.Event | None = None) -> T:
        """``attempt()`` again on transport errors and 502/503/504, with backoff, within the window.

        Once ``stop`` is set, a failed attempt is not tried again (an agent that is stopping).
        """
        deadline = time.monotonic() + self.retry_seconds
        delay = FIRST_DELAY
        while True:
            try:
                return attempt()
            except (httpx.TransportError, _Unavailable) as exc:
                if time.monotonic() + delay > deadline or (stop is not None and stop.is_set()):
                    raise ServerUnavailableError(
                        f"trainyard server {self.url} unavailable for {self.retry_seconds:.0f} s "
                        f"({what}): {exc}"
                    ) from None
            if stop is None:
                time.sleep(delay)
            else:
                stop.wait(delay)
            delay = min(delay * 2, MAX_DELAY)

    def call(
        self,
        target: Route | Target,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
        stop: threading.Event | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """The decoded JSON reply of one API call (None for a 204), retried as the module says.

        ``content`` is a raw body instead of ``json`` (an append): the route must make its retry safe.
        An idempotent route gets ``idempotency_key``, or a new one for this call (kept across its
        retries); a caller passes its own to keep it across calls (a metric batch re-sent later).
        """
        target = target.at() if isinstance(target, Route) else target
        if idempotency_key is not None and not target.route.idempotent:
            raise TypeError(f"{target.method} {target.route.template} takes no idempotency key")
        key = idempotency_key or uuid.uuid4().hex
        headers = {IDEMPOTENCY_HEADER: key} if target.route.idempotent else {}
        if content is not None:
            headers["Content-Type"] = "application/octet-stream"
        params = {k: v for k, v in (params or {}).items() if v is not None}

        def attempt() -> Any:
            response = self.http.request(
                target.method, target.path, json=json, content=content, params=params, headers=headers
            )
            if response.status_code in RETRY_STATUSES:
                raise _Unavailable(f"{response.status_code} {response.text[:200]}")
            raise_for(response)
            return None if response.status_code == 204 else response.json()

        return self.retrying(attempt, f"{target.method} {target.path}", stop)

    def upload(self, target: Target, source: Path) -> None:
        """Send the file in chunks (re-read from the start on a retry)."""

        def chunks() -> Iterator[bytes]:
            with open(source, "rb") as fh:
                while block := fh.read(CHUNK):
                    yield block

        def attempt() -> None:
            response = self.http.request(target.method, target.path, content=chunks())
            if response.status_code in RETRY_STATUSES:  # with the reason (an object store is down)
                raise _Unavailable(f"{response.status_code} {response.text[:200]}")
            raise_for(response)

        self.retrying(attempt, f"upload {target.path}")

    def download(self, target: Target, dest: Path) -> None:
        """Receive into ``dest`` in chunks, through a temporary file renamed into place."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp-{uuid.uuid4().hex}")

        def attempt() -> None:
            with self.http.stream(target.method, target.path) as response:
                if response.status_code in RETRY_STATUSES:
                    raise _Unavailable(str(response.status_code))
                if not response.is_success:
                    response.read()
                    raise_for(response)
                with open(tmp, "wb") as fh:
                    for block in response.iter_bytes(CHUNK):
                        fh.write(block)

        try:
            self.retrying(attempt, f"download {target.path}")
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    def read_from(self, target: Target, offset: int) -> Iterator[bytes]:
        """GET from byte ``offset`` to the end in chunks (a ``Range`` request); nothing past the end.

        A connection dropped mid-body is picked up again from the first byte not yet received.
        """

        def attempt() -> httpx.Response | None:
            response = self.http.send(
                self.http.build_request(target.method, target.path, headers={"Range": f"bytes={offset}-"}),
                stream=True,
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
                raise_for(response)
                raise TrainyardError(
                    f"GET {target.path} from byte {offset}: the server ignored the Range header"
                )
            return response

        while (response := self.retrying(attempt, f"GET {target.path} from byte {offset}")) is not None:
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
