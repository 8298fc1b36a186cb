"""A driver's command started without a new interpreter: a child the worker forks before it
starts any thread, which waits to become the command.

A pipeline's or a sweep's run is a job whose command is ``python -m <trainyard driver>``. Run
as a new interpreter it imports trainyard, SQLAlchemy and pydantic again (0.7 s of CPU, seconds
on a loaded machine), and its interpreter's exit takes a while more; the worker, forked from the
fork server, has all of that imported already. So for such a job the worker forks a zygote while
it is still single-threaded (no lock of another thread can be copied held), and when the command
is due it sends the zygote the command's environment and folder; the zygote becomes what
``subprocess.Popen`` would have started: a session leader in its own process group writing to
the job's log, killed with its worker (``PR_SET_PDEATHSIG``), and the worker's child, so the
worker waits on it, stops it and reads its exit code as it does any command's. A zygote whose
worker never sends it anything (the run was canceled or taken by another worker) reads the end
of its pipe and exits.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import runpy
import signal
import sys
import threading
from collections.abc import Callable
from typing import IO, Any, NoReturn

# The commands run this way: trainyard's own drivers, which import nothing a worker lacks.
MODULES = ("trainyard.pipelines.driver", "trainyard.sweep.driver")
PYTHON_NAMES = ("python", "python3")


def runs_in_zygote(argv: list[str], default_environment: bool) -> bool:
    """Whether ``argv`` is one of trainyard's drivers, run by this interpreter."""
    return (
        default_environment
        and len(argv) >= 3
        and argv[0] in (*PYTHON_NAMES, sys.executable)
        and argv[1] == "-m"
        and argv[2] in MODULES
    )


class Zygote:
    """The forked child and the pipe it waits on; ``start`` it once, or ``close`` it unused."""

    def __init__(self, log: IO[bytes], before_run: Callable[[], None]) -> None:
        if threading.active_count() != 1:  # a fork copies other threads' locks as they are
            raise RuntimeError("a zygote is forked before the worker starts any thread")
        read, self._write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._write)
            _wait_to_become(read, log.fileno(), before_run)
        os.close(read)
        self.returncode: int | None = None

    def start(self, argv: list[str], env: dict[str, str], cwd: str) -> None:
        """Make the zygote run ``argv`` (``python -m module args...``) in ``cwd`` with ``env``."""
        message = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode()
        with os.fdopen(self._write, "wb") as pipe:
            pipe.write(message)
        self._write = -1

    def close(self) -> None:
        """Let an unused zygote go (it reads the end of its pipe) and reap it."""
        if self._write >= 0:
            os.close(self._write)
            self._write = -1
            self.wait()

    # What the worker uses of a ``subprocess.Popen``: pid, poll, wait, returncode.
    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import subprocess
        import time

        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is None:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > end:
                raise subprocess.TimeoutExpired(["zygote", str(self.pid)], timeout or 0)
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode


def _wait_to_become(read: int, log: int, before_run: Callable[[], None]) -> NoReturn:
    code, ran = 1, False
    try:
        before_run()  # dies with the worker from now on (PR_SET_PDEATHSIG)
        with os.fdopen(read, "rb") as pipe:
            message = pipe.read()
        if message:
            ran = True
            code = _become(json.loads(message), log)
        else:
            code = 0
    except BaseException:  # noqa: BLE001 - in the job's log, as a command's traceback is
        sys.excepthook(*sys.exc_info())  # which also tells trainyard's hook the run crashed
    finally:
        if ran:  # what an interpreter's exit does: the run's metrics flushed, its owned runs finished
            with contextlib.suppress(BaseException):
                atexit._run_exitfuncs()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _become(order: dict[str, Any], log: int) -> int:
    """What ``subprocess.Popen`` with the worker's arguments does, then run the module; its exit code."""
    os.setsid()
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # the worker's store, log and locks stay its own
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the worker's handler; the driver sets its own
    os.environ.clear()
    os.environ.update(order["env"])
    os.chdir(order["cwd"])
    return _run_module(order["argv"][2], order["argv"][3:])


def _run_module(module: str, args: list[str]) -> int:
    """``python -m module args``: its exit code."""
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    return 0
