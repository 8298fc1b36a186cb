"""The one error table: ``TrainyardError`` class <-> ``error_code`` <-> HTTP status.

The server answers a ``TrainyardError`` with the first row it is an instance of (most specific
first), as JSON ``{"error_code", "message"}``; the client raises the class of the code it gets
back, so a caller of ``RestStore`` sees the same exception as a caller of ``SqlStore``. The codes
that no ``TrainyardError`` raises (auth, unknown routes, limits, outages) are named here too, with
the class the client raises for each. MLflow's routes answer in MLflow's own statuses, but with
these code names.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainyard.errors import (
    AlreadyExistsError,
    ArtifactPathError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    TrainyardError,
    WorkspaceError,
)


class ServerUnavailableError(WorkspaceError):
    """The server could not be reached, or kept answering 'unavailable', for the whole retry window."""


class ServerAccessError(WorkspaceError):
    """The server refused the token (401) or the token's role (403)."""


class ServerError(WorkspaceError):
    """The server failed on a request (500): the server log has the details."""


@dataclass(frozen=True)
class ErrorCode:
    """One row: what the server answers for ``error`` and what the client raises for ``code``."""

    error: type[TrainyardError]
    status: int
    code: str


ERRORS: tuple[ErrorCode, ...] = (
    ErrorCode(NotFoundError, 404, "RESOURCE_DOES_NOT_EXIST"),
    ErrorCode(AlreadyExistsError, 409, "RESOURCE_ALREADY_EXISTS"),
    ErrorCode(InvalidTransitionError, 409, "INVALID_STATE"),
    ErrorCode(ArtifactPathError, 400, "INVALID_ARTIFACT_PATH"),
    ErrorCode(InvalidInputError, 400, "INVALID_PARAMETER_VALUE"),
    ErrorCode(WorkspaceError, 500, "WORKSPACE_ERROR"),
    ErrorCode(TrainyardError, 400, "BAD_REQUEST"),
)
# Answers that no TrainyardError raised: the server's protocol, auth and limits.
UNAUTHENTICATED = ErrorCode(ServerAccessError, 401, "UNAUTHENTICATED")
PERMISSION_DENIED = ErrorCode(ServerAccessError, 403, "PERMISSION_DENIED")
ENDPOINT_NOT_FOUND = ErrorCode(NotFoundError, 404, "ENDPOINT_NOT_FOUND")
METHOD_NOT_ALLOWED = ErrorCode(TrainyardError, 405, "METHOD_NOT_ALLOWED")
REQUEST_TOO_LARGE = ErrorCode(InvalidInputError, 413, "REQUEST_TOO_LARGE")
INTERNAL_ERROR = ErrorCode(ServerError, 500, "INTERNAL_ERROR")
TEMPORARILY_UNAVAILABLE = ErrorCode(ServerUnavailableError, 503, "TEMPORARILY_UNAVAILABLE")
# The server's disk (or its quota, or a file size limit) is full: not retried, someone must act.
INSUFFICIENT_STORAGE = ErrorCode(ServerError, 507, "INSUFFICIENT_STORAGE")
PROTOCOL: tuple[ErrorCode, ...] = (
    UNAUTHENTICATED,
    PERMISSION_DENIED,
    ENDPOINT_NOT_FOUND,
    METHOD_NOT_ALLOWED,
    REQUEST_TOO_LARGE,
    INTERNAL_ERROR,
    TEMPORARILY_UNAVAILABLE,
    INSUFFICIENT_STORAGE,
)
_BY_CODE = {row.code: row for row in (*ERRORS, *PROTOCOL)}


def for_class(error: type[TrainyardError]) -> ErrorCode:
    """The row the server answers errors of class ``error`` with."""
    return next(row for row in ERRORS if issubclass(error, row.error))


def for_code(code: str | None) -> ErrorCode | None:
    """The row of a code a server answered with; None for a code this table does not know."""
    return _BY_CODE.get(code) if code else None
