"""The runs this process owns: heartbeated from here, and finished when it exits.

Runs this process starts itself (offline runs, child runs, component runs) are owned: the
metric buffer's thread heartbeats them, so the reaper leaves them alone while the process lives,
and at exit each one still open is finished: completed, failed after an uncaught exception,
canceled after SIGTERM. A submitted job's own run is not owned here; its worker finishes it.
Runs are named by id and store, so this module needs nothing of ``TrackedRun``.
"""

from __future__ import annotations

import atexit
import signal
import sys
import threading
import traceback

from trainyard.liveness import worker_id
from trainyard.status import RunStatus
from trainyard.store import Store
from trainyard.tracking.buffer import buffer_for

_owned: dict[str, Store] = {}  # run id -> its store, in the order the runs started
_state: dict[str, str | None] = {"crash": None, "signal": None}
_installed = threading.Lock()
_hooks_done = False


def own(store: Store, run_id: str) -> None:
    """Heartbeat the run from this process and finish it at exit."""
    install_hooks()
    buffer_for(store).own(run_id, worker_id())
    _owned[run_id] = store


def release(run_id: str) -> None:
    """The run finished in this process: stop heartbeating it and leave it alone at exit."""
    store = _owned.pop(run_id, None)
    if store is not None:
        buffer_for(store).disown(run_id)


def install_hooks() -> None:
    """Record an uncaught exception or SIGTERM, and finish the owned runs at exit by it."""
    global _hooks_done
    with _installed:
        if _hooks_done:
            return
        _hooks_done = True
        previous = sys.excepthook

        def hook(kind, value, tb) -> None:  # noqa: ANN001 - excepthook signature
            _state["crash"] = "".join(traceback.format_exception_only(kind, value)).strip()
            previous(kind, value, tb)

        sys.excepthook = hook
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) in (
            signal.SIG_DFL,
            None,
        ):
            signal.signal(signal.SIGTERM, _on_sigterm)
        atexit.register(_finish_owned)


def _on_sigterm(signum: int, _frame: object) -> None:
    _state["signal"] = "canceled: the process received SIGTERM"
    raise SystemExit(128 + signum)


def _finish_owned() -> None:
    for run_id, store in reversed(list(_owned.items())):
        try:
            buffer = buffer_for(store)
            buffer.flush(run_id)
            buffer.disown(run_id)
            if store.get_run(run_id).status.is_terminal:
                continue
            if _state["signal"]:
                store.set_status(run_id, RunStatus.CANCELED, error=_state["signal"])
            elif _state["crash"]:
                store.set_status(run_id, RunStatus.FAILED, error=_state["crash"])
            else:
                store.set_status(run_id, RunStatus.COMPLETED)
        except Exception as exc:  # never hide the script's own exit status
            print(f"trainyard: could not finish run {run_id}: {exc}", file=sys.stderr)
