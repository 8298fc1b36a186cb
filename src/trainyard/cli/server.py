"""``trainyard server``: serve a workspace to a team over HTTP; ``trainyard server db upgrade``.

The served workspace is the ``.trainyard`` folder under ``--workspace`` (created on first start
with ``--store`` and ``--artifacts``; SQLite and a local folder by default). Migrations run on
start; a store written by a newer trainyard is refused. Binding beyond loopback needs
``--insecure``: the server speaks plain HTTP, so tokens would cross the network in clear text
unless a TLS proxy sits in front. Requests must name the server by one of the ``Host`` names it
answers to (loopback's, the bind address, and each ``--allowed-host``): a guard against DNS
rebinding, where a web page's own name is pointed at this server's address.
"""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.output import console
from trainyard.errors import InvalidInputError, WorkspaceError

server_app = typer.Typer(
    help="Serve this workspace to a team: REST API, MLflow-compatible API, agents.",
    invoke_without_command=True,
)
db_app = typer.Typer(help="The served workspace's metadata store.", no_args_is_help=True)
server_app.add_typer(db_app, name="db")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

WORKSPACE_OPT = typer.Option(Path("."), "--workspace", "-w", help="Folder holding (or to hold) .trainyard.")
STORE_OPT = typer.Option(
    None, "--store", help="Metadata store: postgresql://… or sqlite:///… (default SQLite)."
)
ARTIFACTS_OPT = typer.Option(None, "--artifacts", help="Artifact root: a folder or s3://bucket/prefix.")


def open_served(workspace: Path, store: str | None, artifacts: str | None):  # noqa: ANN201 - Workspace
    """The workspace to serve, its store migrated to this trainyard's schema."""
    from trainyard.store.upgrade import HEAD, upgrade_schema
    from trainyard.workspace import Workspace, is_server_url

    ws = Workspace.create(workspace, store=store, artifacts=artifacts, connect=False)
    for given, configured, name in (
        (store, ws.config.store, "store"),
        (artifacts, ws.config.artifacts, "artifacts"),
    ):
        if given and ws._resolve(given) != ws._resolve(configured):
            raise WorkspaceError(
                f"--{name} {given!r}: the workspace at {ws.root} already uses {configured!r}; "
                f"edit {ws.root / 'config.yaml'} to move it, or serve another --workspace"
            )
    if is_server_url(ws.config.store):
        raise InvalidInputError(
            f"--store {ws.config.store!r}: a server serves a database, not another server"
        )
    before = upgrade_schema(ws._resolve(ws.config.store))
    if before != HEAD:
        console.print(f"store schema: {before or 'empty'} -> {HEAD}")
    return ws


@server_app.callback()
def serve(
    ctx: typer.Context,
    workspace: Path = WORKSPACE_OPT,
    store: str = STORE_OPT,
    artifacts: str = ARTIFACTS_OPT,
    host: str = typer.Option("127.0.0.1", help="Address to bind; beyond loopback needs --insecure."),
    port: int = typer.Option(8080, min=1, max=65535, help="Port to listen on."),
    insecure: bool = typer.Option(False, "--insecure", help="Allow a non-loopback bind over plain HTTP."),
    allowed_host: list[str] = typer.Option(
        [],
        "--allowed-host",
        help="A Host name clients use for this server (repeatable), besides localhost, 127.0.0.1, "
        "[::1] and --host; '*' allows any (a proxy in front checks it).",
    ),
    allow_private_urls: bool = typer.Option(
        False,
        "--allow-private-urls",
        help="Accept URLs users give (a model source) that point at loopback, link-local or private "
        "addresses.",
    ),
    public_url: str = typer.Option(
        None,
        "--public-url",
        help="The URL clients reach this server by (a proxy's, say); endpoints' scoring URIs name its "
        "host. Default: the host each client used.",
    ),
) -> None:
    """Run the server until interrupted (migrating the store first)."""
    if ctx.invoked_subcommand is not None:
        return
    if host not in LOOPBACK and not insecure:
        raise InvalidInputError(
            f"--host {host}: binding beyond loopback sends tokens over plain HTTP; put a TLS proxy in front "
            "and pass --insecure, or keep --host 127.0.0.1"
        )
    if public_url is not None and not _is_base_url(public_url):
        raise InvalidInputError(
            f"--public-url {public_url!r}: give http(s)://HOST[:PORT], e.g. http://gpu-box:8080"
        )
    import uvicorn

    from trainyard.server.app import create_app, host_names

    ws = open_served(workspace, store, artifacts)
    hosts = host_names(host, allowed_host)
    console.print(f"serving {ws.root} on [bold]http://{host}:{port}[/] (API docs at /api/docs)")
    console.print(f"answering to Host: {', '.join(hosts)} (more with --allowed-host)")
    app = create_app(
        ws,
        allowed_hosts=hosts,
        allow_private_urls=allow_private_urls,
        serving_host=host,
        public_url=public_url,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)


def _is_base_url(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


@db_app.command("upgrade")
def db_upgrade(
    workspace: Path = WORKSPACE_OPT, store: str = STORE_OPT, artifacts: str = ARTIFACTS_OPT
) -> None:
    """Run the store's migrations and exit (back the database up first)."""
    from trainyard.store.upgrade import HEAD

    ws = open_served(workspace, store, artifacts)
    console.print(f"store at schema {HEAD}: {ws.config.store}")
