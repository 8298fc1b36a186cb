"""The run a script logs to, and what happens to this process's runs when it exits.

Inside a submitted job the worker sets ``TRAINYARD_RUN_ID`` and ``TRAINYARD_WORKSPACE``; the
job's own run then belongs to the worker, which decides its final status. Runs this process
starts itself (offline runs, child runs) are heartbeated from here and finished at exit:
completed, failed after an uncaught exception, canceled after SIGTERM.
"""

from __future__ import annotations

import atexit
import signal
import sys
import threading
import traceback
from typing import TYPE_CHECKING

from trainyard.liveness import worker_id
from trainyard.status import RunStatus

if TYPE_CHECKING:
    from trainyard.tracking.run import TrackedRun

RUN_ID_VAR = "TRAINYARD_RUN_ID"
WORKSPACE_VAR = "TRAINYARD_WORKSPACE"
EXPERIMENT_VAR = "TRAINYARD_EXPERIMENT"

_owned: list[TrackedRun] = []
_state: dict[str, str | None] = {"crash": None, "signal": None}
_installed = threading.Lock()
_hooks_done = False


def own(run: TrackedRun) -> None:
    """Heartbeat ``run`` from this process and finish it at exit."""
    install_hooks()
    run._buffer.own(run.id, worker_id())
    _owned.append(run)


def release(run: TrackedRun) -> None:
    """``run`` finished in this process: stop heartbeating it and leave it alone at exit."""
    run._buffer.disown(run.id)
    if run in _owned:
        _owned.remove(run)


def install_hooks() -> None:
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
    for run in reversed(_owned):
        try:
            run.flush()
            run._buffer.disown(run.id)
            if run.workspace.store.get_run(run.id).status.is_terminal:
                continue
            if _state["signal"]:
                run.workspace.store.set_status(run.id, RunStatus.CANCELED, error=_state["signal"])
            elif _state["crash"]:
                run.workspace.store.set_status(run.id, RunStatus.FAILED, error=_state["crash"])
            else:
                run.workspace.store.set_status(run.id, RunStatus.COMPLETED)
        except Exception as exc:  # never hide the script's own exit status
            print(f"trainyard: could not finish run {run.id}: {exc}", file=sys.stderr)
