"""What every MLflow route shares: argument parsing, errors as MLflow writes them, and paging.

MLflow clients send GET arguments in the query string and everything else as a JSON body;
int64 fields may arrive as numbers or as strings. Errors go back as
``{"error_code": …, "message": …}`` so the client raises its own ``MlflowException`` with our
one-line message.
"""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from trainyard.api import errors
from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError, TrainyardError
from trainyard.store.search import (
    Clause,
    check_max_results,
    decode_page_token,
    encode_page_token,
    parse_filter,
)

MAX_RESULTS = 1000
# the exception classes a user can cause, with v1's code names (trainyard.api.errors) and the
# statuses MLflow's clients expect (an existing name is a 400 there, and every other error too)
ERROR_CODES: list[tuple[type[TrainyardError], int, str]] = [
    (NotFoundError, 404, errors.for_class(NotFoundError).code),
    (AlreadyExistsError, 400, errors.for_class(AlreadyExistsError).code),
    (TrainyardError, 400, errors.for_class(InvalidInputError).code),
]


class NotSupportedError(TrainyardError):
    """An MLflow route or option trainyard does not serve."""


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The JSON error body of every server answer, trainyard's and MLflow's: ``{"error_code", "message"}``."""
    return JSONResponse({"error_code": code, "message": message}, status_code=status, headers=headers)


def as_error_response(exc: TrainyardError) -> JSONResponse:
    if isinstance(exc, NotSupportedError):
        return error_response(501, "NOT_IMPLEMENTED", str(exc))
    status, code = next((s, c) for kind, s, c in ERROR_CODES if isinstance(exc, kind))
    return error_response(status, code, str(exc))


class MlflowRoute(APIRoute):
    """A route whose ``TrainyardError``s become MLflow error bodies (routers carry no exception handlers)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except TrainyardError as exc:
                return as_error_response(exc)

        return handle


class Args:
    """The request's arguments, from the query string (GET) or the JSON body (other methods)."""

    def __init__(self, values: dict[str, Any], size: int = 0, query: bool = False) -> None:
        self.values = values
        self.size = size  # bytes of the JSON body, for the limits of log-batch
        self.query = query  # from a query string, where a repeated argument is a list

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def str(self, name: str, default: str | None = None) -> str | None:
        """A scalar argument as text (``default`` when absent or empty)."""
        value = self.values.get(name)
        if isinstance(value, list) and self.query:
            value = value[0]
        if value is None or value == "":
            return default
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise InvalidInputError(f"parameter '{name}' must be a string, got {type(value).__name__}")
        return str(value)

    def need(self, name: builtins.str) -> builtins.str:
        """A required scalar argument."""
        value = self.str(name)
        if value is None:
            raise InvalidInputError(f"missing value for parameter '{name}'")
        return value

    def int(self, name: builtins.str, default: builtins.int | None = None) -> builtins.int | None:
        """An int64 field, given as a JSON number or as a string of digits."""
        value = self.str(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not number.is_integer():
            raise InvalidInputError(f"parameter '{name}' must be an integer, got {value!r}")
        return int(value) if value.lstrip("-").isdigit() else int(number)

    def number(self, name: builtins.str) -> float:
        value = self.values.get(name)
        if isinstance(value, bool) or value is None:
            raise InvalidInputError(f"parameter '{name}' must be a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise InvalidInputError(f"parameter '{name}' must be a number, got {value!r}") from None

    def list(self, name: builtins.str) -> builtins.list[Any]:
        value = self.values.get(name)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    def items(self, name: builtins.str) -> builtins.list[Args]:
        """A list of objects (metrics of a batch, models of an output), each as ``Args``."""
        found = self.list(name)
        if not all(isinstance(item, dict) for item in found):
            raise InvalidInputError(f"each entry of '{name}' must be a JSON object")
        return [Args(item) for item in found]

    def pairs(self, name: builtins.str) -> dict[builtins.str, builtins.str]:
        """``[{"key": k, "value": v}, …]`` (MLflow's tag lists) as a dict."""
        found = {}
        for item in self.list(name):
            if not isinstance(item, dict) or not isinstance(item.get("key"), str):
                raise InvalidInputError(f"each entry of '{name}' must be an object with 'key' and 'value'")
            found[item["key"]] = "" if item.get("value") is None else str(item["value"])
        return found


async def read_args(request: Request) -> Args:
    """The dependency every MLflow route takes."""
    if request.method == "GET":
        values: dict[str, Any] = {}
        for key, value in request.query_params.multi_items():
            values[key] = [*values[key], value] if key in values else value
        return Args(values, query=True)
    raw = await request.body()
    if not raw.strip():
        return Args({})
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInputError("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidInputError("the request body must be a JSON object")
    return Args(body, len(raw))


def run_id_of(args: Args) -> str:
    """MLflow 1 clients send ``run_uuid``, later ones ``run_id``."""
    return args.str("run_id") or args.need("run_uuid")


def ms(seconds: float | None) -> int | None:
    """Trainyard keeps seconds; MLflow speaks milliseconds."""
    return None if seconds is None else int(round(seconds * 1000))


def pairs_out(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(values.items())]


def page(items: Sequence[Any], args: Args, default: int = MAX_RESULTS) -> tuple[list[Any], str | None]:
    """One page of an in-memory list, with run search's page tokens."""
    size = check_max_results(args.int("max_results", default)) or default
    start = decode_page_token(args.str("page_token"))
    end = start + size
    return list(items[start:end]), (encode_page_token(end) if end < len(items) else None)


def ordered(rows: list[dict[str, Any]], order_by: list[Any], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """Response objects sorted by MLflow's ``order_by``.

    Items are ``"name ASC"`` strings, or logged models' ``{"field_name", "ascending"}``;
    ``fields`` are the keys of ``rows`` that may be named.
    """
    result = list(rows)
    for item in reversed(order_by):
        if isinstance(item, dict):
            field, ascending = str(item.get("field_name", "")), item.get("ascending", True) is not False
        else:
            field, _, direction = str(item).strip().partition(" ")
            ascending = direction.strip().upper() != "DESC"
            if direction.strip().upper() not in ("", "ASC", "DESC"):
                field = ""
        field = field.removeprefix("attributes.").strip("`")
        if field not in fields:
            raise InvalidInputError(f"order_by {item!r}: order by {', '.join(fields)}, with ASC or DESC")
        result.sort(key=lambda row: _sort_value(row.get(field)), reverse=not ascending)
    return result


def _sort_value(value: Any) -> tuple[int, float, str]:
    """Missing values last; numbers (and strings of digits, such as versions) before other strings."""
    if value is None:
        return (2, 0.0, "")
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _like(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern), flags
    )


def _matches(clause: Clause, value: str | None) -> bool:
    """A missing tag matches only ``!=`` and ``NOT IN`` (how MLflow's client excludes prompts)."""
    if value is None:
        return clause.op in ("!=", "NOT IN")
    wanted = clause.value
    if clause.op in ("IN", "NOT IN"):
        return (isinstance(wanted, tuple) and value in wanted) == (clause.op == "IN")
    if clause.op in ("LIKE", "ILIKE"):
        return _like(str(wanted), re.IGNORECASE if clause.op == "ILIKE" else 0).fullmatch(value) is not None
    return (value == wanted) == (clause.op == "=")


def entity_filter(
    filter_string: str | None, attributes: tuple[str, ...] = ("name",)
) -> Callable[[dict[str, str | None], dict[str, str]], bool]:
    """Filters of experiment, model and logged-model searches, in run search's grammar.

    They compare ``attributes`` (the name; a version's ``run_id`` too) and tags:
    ``keep({"name": …}, tags)``.
    """
    clauses = parse_filter(filter_string)
    for clause in clauses:
        if clause.entity != "tag" and (clause.entity != "attribute" or clause.key not in attributes):
            raise InvalidInputError(
                f"filter {filter_string!r}: this search compares {', '.join(attributes)} and tags only, "
                "e.g. \"name LIKE 'fraud%' and tags.team = 'risk'\""
            )
    return lambda values, tags: all(
        _matches(c, values.get(c.key) if c.entity == "attribute" else tags.get(c.key)) for c in clauses
    )
