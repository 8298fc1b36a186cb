"""Which artifact keys a request may change, beyond what its role allows.

The role check (``server/auth.py``) lets a contributor write; this narrows where:

* a delete is scoped to one run, ``runs/<run id>[/…]``, of a run that exists and that the caller
  may write (``Principal.may_write_run``); anything wider (``runs``, ``models``, a snapshot) is
  refused, so no one deletes the store, or another team's files, by prefix;
* a registered model version's files (``models/<name>/<upload id>/…``) never change through the
  artifact routes: not overwritten, appended to, copied over or deleted. They go with their
  version (``DELETE`` of the version, ``registry.model.delete_version``).

Refusals are 403 with a message that says where the files can be changed.
"""

from __future__ import annotations

from trainyard.api import routes
from trainyard.registry.model import version_holding
from trainyard.server.auth import AuthFailed
from trainyard.store import RunInfo, Store
from trainyard.store.auth import Principal

# Parent links followed at most: deeper nesting than a pipeline of sweeps is not made by trainyard.
MAX_LINEAGE = 16


def lineage(store: Store, run: RunInfo) -> list[str]:
    """The run's id, then its parent's, up to the root (at most ``MAX_LINEAGE``)."""
    ids = [run.id]
    while run.parent_id is not None and len(ids) < MAX_LINEAGE:
        run = store.get_run(run.parent_id)
        ids.append(run.id)
    return ids


def check_write(store: Store, key: str) -> None:
    """Refuse (403) a write to ``key`` (a safe key) that would change a registered version's files."""
    version = version_holding(store, key)
    if version is not None:
        raise AuthFailed(
            403,
            f"{key!r} is a file of registered model version {version.name}:{version.version}, which "
            "cannot change; register a new version instead",
        )


def check_delete(store: Store, principal: Principal, key: str) -> None:
    """Refuse (403) a delete of ``key`` (a safe key) that is not inside one run the caller may write."""
    parts = key.split("/")
    if parts[0] != "runs" or len(parts) < 2:
        version = routes.DELETE_MODEL_VERSION
        raise AuthFailed(
            403,
            f"artifacts can be deleted only inside one run (runs/<run id>/…), not {key!r}; a "
            f"registered model version's files go with the version ({version.method} {version.template})",
        )
    _check_run(store, principal, key)


def _check_run(store: Store, principal: Principal, key: str) -> None:
    run = store.get_run(key.split("/")[1])  # NotFoundError (404) for a run that does not exist
    if not principal.may_write_run(lineage(store, run)):
        who = f"{principal.user!r} ({principal.kind} token)"
        raise AuthFailed(403, f"{who} may not change the files of run {run.id}")
