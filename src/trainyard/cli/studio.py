"""``trainyard studio``: the web studio over this machine's workspace, for this user only.

The server app (``server/app.py``) over the embedded workspace, on 127.0.0.1 and a port the
kernel picks, with a token made for this process in the URL it prints (as Jupyter does): the
page trades it for a cookie (``server.auth.LocalSession``), so other users of the machine, who
can reach the port but were not given the URL, read nothing. It runs without lifespan work (no
reaper, no endpoint keeper): the studio looks at the workspace, the workspace's own processes
run it. ``--run`` puts the run's page after the token (``#/runs/ID``): the fragment outlives the
redirect that drops the token, so the browser lands on that run. A server workspace has its
studio on the server, at ``<server>/studio/``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import webbrowser
from typing import TYPE_CHECKING

import typer

from trainyard.cli.output import console
from trainyard.cli.runs import resolve_run_id
from trainyard.errors import InvalidInputError

if TYPE_CHECKING:
    import uvicorn


def studio(
    workspace: str = typer.Option(
        None, "--workspace", "-w", help="The workspace folder (default: the nearest .trainyard)."
    ),
    port: int = typer.Option(0, min=0, max=65535, help="Port on 127.0.0.1 (default: a free one)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Only print the URL."),
    run: str = typer.Option(
        None, "--run", help="Open this run's page (its id, or the prefix `run list` prints)."
    ),
) -> None:
    """Open the web studio on this workspace: experiments, runs, charts, logs, artifacts."""
    import uvicorn

    from trainyard.server.app import create_app
    from trainyard.server.session import LocalSession
    from trainyard.workspace import ENV_VAR, Workspace, is_server_url

    target = workspace or os.environ.get(ENV_VAR)
    if target and is_server_url(target):  # said before anything connects to it
        raise InvalidInputError(
            f"this workspace is served by {target}: open {target.rstrip('/')}/studio/ "
            "(the server serves the studio)"
        )
    ws = Workspace.from_config(target)
    page = f"#/runs/{ws.store.get_run(resolve_run_id(ws, run)).id}" if run else ""
    session = LocalSession()
    app = create_app(ws, local_session=session)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        raise InvalidInputError(
            f"--port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror})"
        ) from None
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/studio/?token={session.url_token}{page}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    console.print(f"studio of {ws.root}; open it at (Ctrl-C stops it):")
    console.print(url, soft_wrap=True, markup=False, highlight=False)
    if not no_browser:
        threading.Thread(target=_open_when_up, args=(server, url), daemon=True).start()
    server.run(sockets=[sock])


def _open_when_up(server: uvicorn.Server, url: str) -> None:
    """Open the browser once uvicorn listens."""
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    webbrowser.open(url)
