"""One worker process of a parallel job: imports the entry script, calls ``init()`` once, then
``run(mini_batch)`` for each mini-batch the runner sends, writing what it returns to a part file.

Messages to the runner: ``("ready",)`` after ``init()``, ``("init_failed", why)``,
``("done", index, rows)``, ``("failed", index, why)``. ``None`` from the runner means stop
(``shutdown()`` is called if the script has one). A worker whose runner is gone exits by itself.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

from trainyard.parallel.rows import result_lines, write_part


def describe(exc: BaseException) -> str:
    """``ValueError: bad row`` (the first line of the message)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def load_entry_script(script: Path, arguments: list[str]) -> ModuleType:
    """Import ``script`` as a module (its folder first on ``sys.path``, ``sys.argv`` its arguments)."""
    if not script.is_file():
        raise FileNotFoundError(f"entry script {script} not found")
    sys.path.insert(0, str(script.parent))
    sys.argv = [str(script), *arguments]  # an init() that parses its arguments, as Azure's do
    name = script.stem if script.stem not in sys.modules else f"entry_script_{script.stem}"  # not shadowing
    spec = importlib.util.spec_from_file_location(name, script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _exit_when_orphaned(lifeline: Connection) -> None:
    """A runner killed outright cannot stop its workers: its end of ``lifeline`` closes with it,
    and they exit. (Their parent is the fork server, which lives as long as they do.)"""
    lifeline.poll(None)
    os._exit(1)


def _run_function(module: ModuleType) -> tuple[Callable[..., Any], bool]:
    """The script's ``run`` and whether it takes ``mini_batch_context`` too."""
    run = getattr(module, "run", None)
    if not callable(run):
        raise AttributeError(f"{module.__name__}.py has no run(mini_batch) function")
    try:
        params = [
            p
            for p in inspect.signature(run).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):  # a builtin or C function: give it the mini-batch only
        return run, False
    return run, len(params) >= 2


@dataclass(frozen=True)
class WorkerSpec:
    """What every worker of a job is started with."""

    script: str  # absolute
    arguments: list[str]
    logging_level: str
    parts: str  # the folder of part files
    cwd: str  # the runner's: a fork server's child starts in the server's


class EntryScript:
    """The entry script loaded in a worker (a process or a Ray actor): ``init()`` called once,
    then ``run_batch`` per mini-batch, ``shutdown()`` at a clean stop."""

    def __init__(self, spec: WorkerSpec) -> None:
        """Import the script and call its ``init()``; whatever either raises is the caller's."""
        self.module = load_entry_script(Path(spec.script), spec.arguments)
        init = getattr(self.module, "init", None)
        if callable(init):
            init()
        self.run, self.takes_context = _run_function(self.module)

    def run_batch(self, index: int, data: Any, context: Any) -> tuple[str, int] | str:
        """The mini-batch's lines and rows, or why it failed (its traceback printed to stderr)."""
        try:
            result = self.run(data, context) if self.takes_context else self.run(data)
            return result_lines(result)
        except Exception as exc:
            print(f"mini-batch #{index} failed:", file=sys.stderr)
            traceback.print_exc()
            return describe(exc)

    def shutdown(self) -> None:
        shutdown = getattr(self.module, "shutdown", None)
        if callable(shutdown):
            shutdown()


def serve(conn: Connection, lifeline: Connection, spec: WorkerSpec) -> None:
    """The worker's main function (the target of its ``multiprocessing`` process).

    ``lifeline``: the read end of a pipe only the runner can write to; it reads EOF when the
    runner is gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle
    threading.Thread(target=_exit_when_orphaned, args=(lifeline,), daemon=True).start()
    logging.basicConfig(level=spec.logging_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.chdir(spec.cwd)
    try:
        script = EntryScript(spec)
    except BaseException as exc:  # noqa: BLE001 - whatever the script raises, the runner is told
        traceback.print_exc()
        conn.send(("init_failed", describe(exc)))
        return
    conn.send(("ready",))
    folder = Path(spec.parts)
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            break
        index, data, context = message
        outcome = script.run_batch(index, data, context)
        if isinstance(outcome, str):
            conn.send(("failed", index, outcome))
            continue
        text, rows = outcome
        try:
            write_part(folder, index, text)
        except OSError as exc:
            conn.send(("failed", index, describe(exc)))
            continue
        conn.send(("done", index, rows))
    script.shutdown()
