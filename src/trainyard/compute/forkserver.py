"""The fork server: a warm process per workspace that forks local workers, so a job does not wait
for a new interpreter to import trainyard (0.3-0.8 s) before it runs.

``python -m trainyard.compute.forkserver <workspace>`` imports the worker module, listens on
``compute/forkserver.sock`` and, for each request (a run, and the submitter's environment and
working directory), forks a worker and answers its pid. It stays single-threaded, so a fork
copies no lock held by another thread. It opens the workspace once (``_opened_workspace``) and
closes its store's connections, so a worker starts with the engine made and its first
statements compiled but opens its own connections, as one started by ``subprocess`` does. The
worker makes itself a session leader, closes every inherited descriptor, writes its output to
the job's ``worker.log`` and takes the submitter's environment, then runs ``worker.main``
(``random`` reseeds itself after a fork: its at-fork hook).

One runs per workspace: it holds ``compute/forkserver.lock`` (``flock``); ``spawn`` starts one
when it finds none and the submitter falls back to a plain worker process for that run, as it
does whenever the server cannot answer (a socket path over the 108-byte limit, a server of
another interpreter or user, one leaving). It exits after ``TRAINYARD_FORK_SERVER_IDLE_SECONDS``
(default 60; 0 turns it off) without a run to start. A worker forked for a run whose answer was
lost is harmless: of two workers of a run only one claims it (``Worker.run``).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import socket
import struct
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from trainyard.compute import supervisor
from trainyard.compute.slots import try_lock

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

IDLE_VAR = "TRAINYARD_FORK_SERVER_IDLE_SECONDS"
ANSWER_TIMEOUT = 1.0  # a fork takes milliseconds; past this the submitter starts a plain worker
# What a worker imports only once it opens the workspace (SQLAlchemy alone is 0.3 s), and the
# pipeline driver its zygote runs (compute/zygote.py): imported, never opened, so the fork
# copies modules and no connection.
PRELOAD = ("trainyard.store.sql.store", "trainyard.artifacts.fsspec_store", "trainyard.pipelines.driver")
PACKAGE = Path(__file__).resolve().parents[1]  # this trainyard's folder (no import of the package)
MAX_UNIX_PATH = 107  # sun_path holds 108 bytes, the last one a NUL


def socket_path(root: Path) -> Path:
    return root / "compute" / "forkserver.sock"


def lock_path(root: Path) -> Path:
    return root / "compute" / "forkserver.lock"


def idle_seconds() -> float:
    """How long a fork server waits for its next run before it exits; 0 or less: no fork server."""
    try:
        return float(os.environ.get(IDLE_VAR, "60"))
    except ValueError:
        return 60.0


def _identity() -> list[str]:
    """Who may be served: a submitter with this interpreter and this trainyard (else its worker
    would run other code than its own)."""
    return [sys.executable, str(PACKAGE)]


def spawn(root: Path, run_id: str, log: Path) -> int | None:
    """The pid of a worker the workspace's fork server forked for ``run_id``, its output in ``log``;
    None when no server answered (one is started for the next run)."""
    path = socket_path(root)
    if sys.platform != "linux" or idle_seconds() <= 0 or len(os.fsencode(path)) > MAX_UNIX_PATH:
        return None
    request = {
        "run": run_id,
        "log": str(log),
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "identity": _identity(),
    }
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(ANSWER_TIMEOUT)
            sock.connect(str(path))
            sock.sendall(json.dumps(request).encode() + b"\n")
            with sock.makefile("rb") as answer:
                return int(json.loads(answer.readline())["pid"])
    except (OSError, ValueError, KeyError, TypeError):  # none there, leaving, or not ours to use
        supervisor.start_detached(lock_path(root), "trainyard.compute.forkserver", root)
        return None


def serve(root: Path, idle: float) -> None:
    """Answer requests until ``idle`` seconds pass without a worker started (``main``)."""
    lock = try_lock(lock_path(root))
    if lock is None:  # another one serves this workspace
        return
    from trainyard.compute import worker  # what this process is for: imported once, forked per run

    for module in PRELOAD:
        importlib.import_module(module)
    opened = _opened_workspace(root)
    worker.setpriv()  # found once here, not in each worker

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # its workers are reaped by the kernel
    path = socket_path(root)
    path.unlink(missing_ok=True)  # a killed server's; no live one has it while we hold the lock
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
        listener.listen(64)
        deadline = time.monotonic() + idle
        while (left := deadline - time.monotonic()) > 0:
            listener.settimeout(left)
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                break
            with conn:
                if _answer(conn, root, partial(worker.main, opened=opened), listener):
                    deadline = time.monotonic() + idle
    finally:
        path.unlink(missing_ok=True)  # before the lock goes: a new server binds only after
        listener.close()
        lock.release()


def _opened_workspace(root: Path) -> Workspace | None:
    """The workspace, its store opened once (the engine made, the schema checked, a run read: the
    statements each worker runs first are compiled and cached) and its connections closed, so each
    forked worker starts from it (``worker.main``) and connects anew. None for a server's
    workspace, whose client takes the submitter's credentials from its environment, or one that
    does not open: each worker opens its own then."""
    from trainyard.errors import NotFoundError
    from trainyard.workspace import Workspace

    try:
        ws = Workspace(root)
        if ws.is_server:
            return None
        with contextlib.suppress(NotFoundError):
            ws.store.get_run("0" * 12)
        ws.artifacts  # noqa: B018 - made once here, not in every worker
        ws.store.close()  # no connection crosses a fork (store/sql/engine.py)
    except Exception:  # noqa: BLE001 - a bad config, a database not there: workers say why
        return None
    return ws


def _answer(
    conn: socket.socket, root: Path, run: Callable[[list[str]], None], listener: socket.socket
) -> bool:
    """Fork a worker for the request on ``conn`` and send its pid (or why not); True if forked."""
    conn.settimeout(ANSWER_TIMEOUT)
    try:
        uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
        with conn.makefile("rb") as lines:
            request = json.loads(lines.readline())
        if uid != os.getuid() or request["identity"] != _identity():
            conn.sendall(b'{"error": "another user or interpreter"}\n')
            return False
        pid = _fork_worker(request, root, run, [conn, listener])
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    except (OSError, ValueError, KeyError, TypeError):  # the submitter gave up, or sent nonsense
        return False
    return True


def _fork_worker(
    request: dict[str, Any], root: Path, run: Callable[[list[str]], None], sockets: Sequence[socket.socket]
) -> int:
    """Fork the worker; its pid. The server ignores SIGCHLD (``serve``), so the kernel reaps its
    workers when they exit: one fork, no zombie, and no second fork to leave an orphan."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # kept across exec: the worker waits on its commands
        _become_worker(request, root, run, sockets)
    return pid


def _become_worker(
    request: dict[str, Any], root: Path, run: Callable[[list[str]], None], sockets: Sequence[socket.socket]
) -> NoReturn:
    code = 1
    try:
        for sock in sockets:  # closed as objects too, so no finalizer closes a reused descriptor
            sock.close()
        os.setsid()  # its own session, like a worker started with start_new_session
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # the lock, the listener, the log's spare copy
        os.environ.clear()
        os.environ.update(request["env"])
        try:
            os.chdir(request["cwd"])
        except OSError:
            os.chdir("/")
        run([str(root), request["run"]])
        code = 0
    except BaseException:  # noqa: BLE001 - told in worker.log, as a worker process's traceback is
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def main(argv: list[str] | None = None) -> None:
    root = Path((argv or sys.argv[1:])[0]).resolve()
    serve(root, idle_seconds())


if __name__ == "__main__":
    main()
