"""The scoring server: one loaded model behind ``/invocations``, ``/score`` and ``/v2``.

Health routes answer without a key (probes need them); every other route wants
``Authorization: Bearer <key>`` when keys are set, compared in constant time. Bad input is a
4xx naming the problem; a model that raises is a 500 with its message, and the server keeps
serving. With a request timeout, the model runs off the event loop under a ``Deadline``: one
that hangs is a 504, and a worker whose every slot hangs says so on its health routes (503).
A model that does not load gives a server that is live but never ready (``unready_app``).
With an entry script and a folder that is no model directory (any registered files), the
script alone serves: ``/score`` calls its ``run``, and the model routes say to use ``/score``.
A ``ModelGroup`` (``serving/many_models.py``) serves a many-models group on ``/score`` and
``/invocations``: a row whose partition has no model is a 404 naming it, and the health routes
show the loaded models and the cache's loads and evictions.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.applications import Starlette

from trainyard.errors import InvalidInputError, TrainyardError
from trainyard.manymodels.score import UnknownPartitionError
from trainyard.models.format import LoadedModel, has_mlmodel
from trainyard.serving import codecs, oip
from trainyard.serving.deadline import Deadline, DeadlineExceeded
from trainyard.serving.entry_script import load_entry_script
from trainyard.serving.env import (
    ENV_ENTRY,
    ENV_KEYS,
    ENV_MAX_MODELS,
    ENV_MODEL,
    ENV_NAME,
    ENV_TIMEOUT,
    ENV_TRUST,
    ENV_VERSION,
    ENV_WORKSPACE,
)
from trainyard.serving.keys import BearerKeys
from trainyard.serving.many_models import ModelGroup
from trainyard.serving.openapi import request_bodies

MAX_BODY = 50 * 1024 * 1024
SCRIPT_ONLY = (
    "this server scores with its entry script only: POST /score (the model's folder has no "
    "MLmodel, so /invocations and /v2 have no model to call)"
)
GROUP_ONLY = (
    "this server serves a many-models group: POST rows with column names (the partition columns "
    "among them) to /score or /invocations; each partition's model has its own inputs, so /v2 has none"
)
NO_BODIES: dict[str, dict[str, Any]] = {"invocations": {}, "score": {}, "infer": {}}


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def create_app(
    model: LoadedModel | ModelGroup | None,
    name: str,
    version: str,
    keys: list[str] | None = None,
    max_body: int = MAX_BODY,
    entry_script: str | None = None,
    request_timeout: float | None = None,
    model_dir: Path | None = None,
) -> FastAPI:
    """A scoring app for ``model`` (one, or a many-models group), or with an entry script for
    the files in ``model_dir`` alone."""
    if model is None and not (entry_script and model_dir):
        raise InvalidInputError(
            "a scoring server without a model needs an entry script and the model's folder"
        )
    app = FastAPI(title=f"trainyard scoring: {name}:{version}", version=version)
    deadline = Deadline(request_timeout) if request_timeout else None
    group = model if isinstance(model, ModelGroup) else None
    folder = model.path if isinstance(model, LoadedModel) else model_dir
    script = load_entry_script(entry_script, folder) if entry_script and folder else None
    bodies = request_bodies(model) if isinstance(model, LoadedModel) else NO_BODIES
    secrets = [k.encode() for k in keys or [] if k]

    if secrets:
        app.add_middleware(BearerKeys, secrets=secrets)

    async def raw_body(request: Request) -> bytes:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_body:
            raise _Refused(413, f"the body is {int(length)} bytes; the limit is {max_body}")
        raw = await request.body()
        if len(raw) > max_body:
            raise _Refused(413, f"the body is {len(raw)} bytes; the limit is {max_body}")
        return inflated(raw, request.headers.get("content-encoding", "identity").strip().lower())

    def inflated(raw: bytes, encoding: str) -> bytes:
        """A gzip or deflate body (tritonclient's request compression), inflated no further than the limit."""
        if encoding == "identity":
            return raw
        if encoding not in ("gzip", "deflate"):
            raise _Refused(
                415, f"Content-Encoding {encoding!r} is not supported; send gzip, deflate or identity"
            )
        inflater = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
        try:
            body = inflater.decompress(raw, max_body + 1)
        except zlib.error as exc:
            raise InvalidInputError(f"the body is not valid {encoding} data: {exc}") from None
        if len(body) > max_body:
            raise _Refused(413, f"the body inflates past the limit of {max_body} bytes")
        return body

    def content_type(request: Request, accepted: tuple[str, ...]) -> str:
        kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if kind not in accepted:
            raise _Refused(415, f"content type {kind!r} is not supported; send {' or '.join(accepted)}")
        return kind

    async def body_of(request: Request, csv_ok: bool = False) -> tuple[Any, bool]:
        raw = await raw_body(request)
        kind = content_type(request, ("application/json", "text/csv") if csv_ok else ("application/json",))
        if kind == "text/csv":
            try:
                return codecs.decode_csv(raw), True
            except UnicodeDecodeError as exc:
                raise _Refused(415, f"the CSV body is not UTF-8 ({exc.reason} at byte {exc.start})") from None
        return codecs.parse_json(raw), False

    async def call(fn: Any, arg: Any) -> Any:
        # Without a deadline, CPU-bound work stays on the loop: a thread hop only adds latency.
        return await deadline.run(fn, arg) if deadline is not None else fn(arg)

    def scored_model() -> LoadedModel | ModelGroup:
        if model is None:
            raise _Refused(404, SCRIPT_ONLY)
        return model

    def one_model() -> LoadedModel:
        """The model of the /v2 routes: a group has no one signature to take tensors by."""
        scored = scored_model()
        if isinstance(scored, ModelGroup):
            raise _Refused(404, GROUP_ONLY)
        return scored

    async def predict(data: Any) -> Any:
        try:
            return await call(scored_model().predict, data)
        except UnknownPartitionError as exc:
            raise _Refused(404, str(exc)) from None
        except TrainyardError:
            raise
        except DeadlineExceeded as exc:
            raise _Refused(504, str(exc)) from None
        except Exception as exc:  # the model's own failure: report it, keep serving
            if where := codecs.non_finite(data):  # the client sent what the model cannot take
                said = (str(exc).splitlines() or [""])[0]
                raise _Refused(
                    400,
                    f"the model does not take NaN or infinite values ({where}): {type(exc).__name__}: {said}",
                ) from None
            raise _Refused(500, f"the model failed: {type(exc).__name__}: {exc}") from None

    def failure(exc: Exception, oip: bool = False) -> JSONResponse:
        status = exc.status if isinstance(exc, _Refused) else 400
        message = str(exc)
        if oip:
            return JSONResponse({"error": message}, status_code=status)
        code = {
            400: "BAD_REQUEST",
            404: "NOT_FOUND",
            413: "REQUEST_TOO_LARGE",
            415: "UNSUPPORTED_MEDIA_TYPE",
            504: "TIMEOUT",
        }.get(status, "INTERNAL_ERROR")
        return JSONResponse({"error_code": code, "message": message}, status_code=status)

    @app.get("/")
    @app.get("/ping")
    @app.get("/health")
    @app.get("/v2/health/live")
    @app.get("/v2/health/ready")
    async def health() -> Any:
        stuck = deadline.stuck if deadline is not None else None
        if stuck:
            return JSONResponse({"status": "stuck", "error": stuck}, status_code=503)
        return {"status": "ok", "many_models": group.stats()} if group is not None else {"status": "ok"}

    @app.get("/version")
    async def served_version() -> dict[str, str]:
        return {"model": name, "version": version, "flavor": model.flavor if model else "entry_script"}

    @app.post("/invocations", openapi_extra=bodies["invocations"])
    async def invocations(request: Request) -> Any:
        try:
            signature = scored_model().signature
            body, is_csv = await body_of(request, csv_ok=True)
            data = body if is_csv else codecs.decode_mlflow(body, signature)
            return {"predictions": codecs.as_list(await predict(data))}
        except (InvalidInputError, _Refused) as exc:
            return failure(exc)

    @app.post("/score", openapi_extra={} if script is not None else bodies["score"])
    async def score(request: Request) -> Any:
        try:
            if script is not None:  # Azure's entry script: run(raw_data) gets the body as text
                raw = await request.body()
                try:
                    return await call(script.run, raw.decode("utf-8", errors="replace"))
                except DeadlineExceeded as exc:
                    raise _Refused(504, str(exc)) from None
                except Exception as exc:
                    raise _Refused(
                        500, f"run() in the entry script failed: {type(exc).__name__}: {exc}"
                    ) from None
            body, _ = await body_of(request)
            if codecs.is_designer(body):
                rows = codecs.decode_designer(body)
                return codecs.designer_reply(rows, await predict(rows))
            return codecs.as_list(await predict(codecs.decode_azure(body, scored_model().signature)))
        except (InvalidInputError, _Refused) as exc:
            return failure(exc)

    @app.get("/v2")
    async def server_metadata() -> dict[str, Any]:
        return {"name": "trainyard", "version": _trainyard_version(), "extensions": oip.EXTENSIONS}

    def _check_name(model_name: str, model_version: str | None = None) -> None:
        if model_name != name or (model_version is not None and model_version != version):
            raise _Refused(
                404, f"this server serves {name} version {version}, not {model_name} {model_version or ''}"
            )

    def _unknown_model(model_name: str, model_version: str | None) -> JSONResponse | None:
        try:
            _check_name(model_name, model_version)
        except _Refused as exc:
            return failure(exc, oip=True)
        return None

    @app.get("/v2/models/{model_name}")
    @app.get("/v2/models/{model_name}/versions/{model_version}")
    async def model_metadata(model_name: str, model_version: str | None = None) -> Any:
        if (refused := _unknown_model(model_name, model_version)) is not None:
            return refused
        try:
            return oip.metadata(one_model(), name, version)
        except _Refused as exc:
            return failure(exc, oip=True)

    @app.get("/v2/models/{model_name}/ready")
    @app.get("/v2/models/{model_name}/versions/{model_version}/ready")
    async def model_ready(model_name: str, model_version: str | None = None) -> Any:
        if (refused := _unknown_model(model_name, model_version)) is not None:
            return refused
        return {"name": name, "ready": True}

    @app.post("/v2/models/{model_name}/infer", openapi_extra=bodies["infer"])
    @app.post("/v2/models/{model_name}/versions/{model_version}/infer", openapi_extra=bodies["infer"])
    async def infer(model_name: str, request: Request, model_version: str | None = None) -> Any:
        try:
            _check_name(model_name, model_version)
            signature = one_model().signature
            raw = await raw_body(request)
            content_type(request, ("application/json", "application/octet-stream"))
            body, tail = oip.split_body(raw, request.headers.get(oip.HEADER_LENGTH))
            data, binary = oip.decode(body, tail, signature), oip.wants_binary(body)
            content, json_length = oip.encode(await predict(data), name, version, binary, body.get("id"))
        except (InvalidInputError, _Refused) as exc:
            return failure(exc, oip=True)
        if json_length is None:
            return Response(content, media_type="application/json")
        headers = {"Inference-Header-Content-Length": str(json_length)}
        return Response(content, media_type="application/octet-stream", headers=headers)

    return app


def _trainyard_version() -> str:
    from importlib.metadata import version

    return version("trainyard")


def app_from_env() -> Starlette:
    """For ``uvicorn --factory`` worker processes: each loads the model itself."""
    import traceback

    from trainyard.models import load
    from trainyard.serving.unready import unready_app

    keys = [k for k in os.environ.get(ENV_KEYS, "").split(",") if k]
    script = os.environ.get(ENV_ENTRY) or None
    timeout = float(os.environ.get(ENV_TIMEOUT) or 0) or None
    folder = Path(os.environ.get(ENV_MODEL, ""))
    try:  # an entry script loads what is no model directory itself
        model: LoadedModel | ModelGroup | None
        if os.environ.get(ENV_MAX_MODELS):  # a group: its models come from the workspace, on demand
            from trainyard.workspace import Workspace

            workspace = Workspace(os.environ[ENV_WORKSPACE])
            model = ModelGroup(workspace, os.environ[ENV_NAME], int(os.environ[ENV_MAX_MODELS]))
        elif script and not has_mlmodel(folder):
            model = None
        else:
            model = load(folder, trust=os.environ.get(ENV_TRUST) == "1")
        return create_app(
            model,
            os.environ[ENV_NAME],
            os.environ[ENV_VERSION],
            keys,
            entry_script=script,
            request_timeout=timeout,
            model_dir=folder,
        )
    except Exception as exc:  # live but never ready, saying why (the traceback goes to the log)
        traceback.print_exc()
        return unready_app(f"the model did not load: {type(exc).__name__}: {exc}", keys)
