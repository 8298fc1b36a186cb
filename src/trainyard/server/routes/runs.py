"""Runs: create, get, search, short ids, status changes, requeue, heartbeat, cancel, errors, bulk
tag, delete and restore (contributors only, as every write: ``server/auth.py``), and a step's
output table previewed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from trainyard.api import routes
from trainyard.api.schemas import (
    CancelRequest,
    Heartbeat,
    Requeue,
    RunCreate,
    RunError,
    RunSearch,
    RunSelection,
    RunTagChange,
    StatusChange,
    to_json,
)
from trainyard.components.preview import MAX_ROWS, output_preview
from trainyard.errors import InvalidInputError
from trainyard.server.routes.deps import (
    IdempotencyKey,
    PrincipalDep,
    StoreDep,
    WorkspaceDep,
    create_once,
    refuse_user_tag,
)
from trainyard.server.routing import serve
from trainyard.store.records import USER_TAG

router = APIRouter(tags=["runs"])


@serve(router, routes.CREATE_RUN)
def create_run(
    body: RunCreate,
    request: Request,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """A new run. A root run's user (``USER_TAG``) is the caller, whatever the body says, so no
    one logs as someone else; a child's is its parent's (the store's rule): a sweep's trial or a
    pipeline's step is its submitter's, not the agent's that made it."""
    fields = body.model_dump(exclude={"experiment_id"})
    tags = {k: v for k, v in (fields["tags"] or {}).items() if k != USER_TAG}
    fields["tags"] = tags if body.parent_id is not None else {**tags, USER_TAG: principal.user}
    return create_once(request, idempotency_key, lambda keyed: keyed.create_run(body.experiment_id, **fields))


@serve(router, routes.SEARCH_RUNS)
def search_runs(body: RunSearch, store: StoreDep) -> Any:
    page = store.search_runs(body.experiment_ids, **body.model_dump(exclude={"experiment_ids"}))
    return {"runs": to_json(list(page)), "next_page_token": page.next_page_token}


@serve(router, routes.FIND_RUN_IDS)
def find_run_ids(store: StoreDep, prefix: str = "", limit: Annotated[int, Query(ge=1, le=1000)] = 2) -> Any:
    return {"ids": store.find_run_ids(prefix, limit)}


@serve(router, routes.GET_RUN)
def get_run(run_id: str, store: StoreDep) -> Any:
    return to_json(store.get_run(run_id))


@serve(router, routes.SET_STATUS)
def set_status(run_id: str, body: StatusChange, store: StoreDep) -> Any:
    changed = store.set_status(run_id, **body.model_dump())
    return {"changed": changed}


@serve(router, routes.REQUEUE)
def requeue(run_id: str, body: Requeue, store: StoreDep) -> Any:
    return {"requeued": store.requeue(run_id, body.expected, body.error)}


@serve(router, routes.HEARTBEAT)
def heartbeat(run_id: str, body: Heartbeat, store: StoreDep) -> Any:
    return {"cancel_requested": store.heartbeat(run_id, body.worker)}


@serve(router, routes.REQUEST_CANCEL)
def request_cancel(run_id: str, store: StoreDep, body: CancelRequest | None = None) -> Any:
    return to_json(store.request_cancel(run_id, body.reason if body else None))


@serve(router, routes.SET_RUN_ERROR)
def set_run_error(run_id: str, body: RunError, store: StoreDep) -> Any:
    store.set_run_error(run_id, body.error)
    return {}


@serve(router, routes.TAG_RUNS)
def tag_runs(body: RunTagChange, store: StoreDep) -> Any:
    """Set ``set`` and remove ``remove`` on every run of ``run_ids``; an unknown id changes nothing."""
    both = sorted(set(body.set) & set(body.remove))
    if both:
        raise InvalidInputError(f"tags {', '.join(both)}: set or remove a tag, not both")
    refuse_user_tag([*body.set, *body.remove])
    store.update_run_tags(body.run_ids, {**dict.fromkeys(body.remove), **body.set})
    return {}


@serve(router, routes.DELETE_RUNS)
def delete_runs(body: RunSelection, store: StoreDep) -> Any:
    """Soft-delete: searches leave the runs out until they are restored; nothing is removed."""
    store.delete_runs(body.run_ids)
    return {}


@serve(router, routes.RESTORE_RUNS)
def restore_runs(body: RunSelection, store: StoreDep) -> Any:
    store.restore_runs(body.run_ids)
    return {}


@serve(router, routes.GET_OUTPUT_PREVIEW)
def get_output_preview(
    run_id: str,
    port: str,
    ws: WorkspaceDep,
    rows: Annotated[int, Query(ge=0, le=MAX_ROWS, description="How many first rows.")] = 20,
    table: Annotated[str | None, Query(description="A report's table; its first by default.")] = None,
) -> Any:
    """Output ``port`` of a (step's) run as a table: its first ``rows`` rows and each column's
    count, missing, unique, mean, min and max (``components/preview.py``); a report output names
    its tables and previews one."""
    return output_preview(ws, run_id, port, table, rows)
