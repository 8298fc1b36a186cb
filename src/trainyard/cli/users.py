"""``trainyard user add|list``, ``trainyard token create|list|revoke`` and ``trainyard login``.

On the server machine they work straight in the workspace's database (``--store`` names it),
which is how the first owner token is made on a fresh server that answers nobody yet; from a
client whose workspace is the server, an owner's token manages them over HTTP. ``login`` runs
on a client: it checks a token against the server and stores it (0600) for later calls.
"""

from __future__ import annotations

import getpass
import re
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from trainyard.api import routes
from trainyard.cli.output import Format, console, fmt_time, print_json, table
from trainyard.errors import InvalidInputError, WorkspaceError

if TYPE_CHECKING:
    from trainyard.store.auth import TokenInfo, User
    from trainyard.store.server import ServerStore

user_app = typer.Typer(help="Users of a team server and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens of a team server (stored hashed).", no_args_is_help=True)

STORE_HELP = (
    "The server's metadata store (postgresql://…, sqlite:///…) or workspace folder; default: this workspace."
)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_lifetime(text: str) -> float:
    """``30d``, ``12h``, ``90m``, ``3600s``, ``2w`` -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if match is None or float(match.group(1)) <= 0:
        raise InvalidInputError(f"--expires {text!r}: use a positive number and a unit, e.g. 30d, 12h, 90m")
    return float(match.group(1)) * UNITS[match.group(2)]


class RemoteAuth:
    """The ``ServerStore`` user and token calls the CLI makes, over a server's owner-only routes."""

    def __init__(self, url: str) -> None:
        from trainyard.api.client import ServerClient

        self.client = ServerClient(url)

    def add_user(self, name: str, role: str) -> User:
        from trainyard.store.auth import User

        return User(**self.client.call(routes.ADD_USER, json={"name": name, "role": role}))

    def list_users(self) -> list[User]:
        from trainyard.store.auth import User

        return [User(**u) for u in self.client.call(routes.LIST_USERS)]

    def create_token(self, user: str, *, kind: str, expires_in: float | None) -> tuple[str, TokenInfo]:
        body = {"user": user, "kind": kind, "expires_in": expires_in}
        made = self.client.call(routes.CREATE_TOKEN, json=body)
        return made.pop("token"), _token_info(made)

    def list_tokens(self, user: str | None) -> list[TokenInfo]:
        return [_token_info(t) for t in self.client.call(routes.LIST_TOKENS, params={"user": user})]

    def revoke_token(self, token_id: str) -> None:
        self.client.call(routes.REVOKE_TOKEN.at(token_id=token_id))


def _token_info(data: dict) -> TokenInfo:
    from trainyard.store.auth import TokenInfo

    data.pop("state", None)
    return TokenInfo(**data)


def open_auth(store: str | None) -> ServerStore | RemoteAuth:
    """Users and tokens of ``store``: a database URI or workspace folder (direct access, on the
    server machine), else this workspace; a server workspace goes through its owner-only routes."""
    from trainyard.store import open_store
    from trainyard.store.server import server_part
    from trainyard.workspace import Workspace, is_server_url

    if store and "://" in store and not is_server_url(store):
        return server_part(open_store(store))
    ws = Workspace.from_config(store)
    if ws.is_server:
        return RemoteAuth(ws.uri)
    return server_part(ws.store)


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Option("contributor", help="reader, contributor or owner."),
    store: str = typer.Option(None, help=STORE_HELP),
) -> None:
    """Add a user with a role in this workspace."""
    user = open_auth(store).add_user(name, role)
    console.print(
        f"user [bold]{user.name}[/] added as {user.role}; make a token: trainyard token create --user {name}"
    )


@user_app.command("list")
def user_list(
    store: str = typer.Option(None, help=STORE_HELP),
    output: Format = typer.Option(Format.table, "--output", "-o"),
) -> None:
    """The users and their roles."""
    users = open_auth(store).list_users()
    if output == Format.json:
        print_json([u.__dict__ for u in users])
        return
    console.print(
        table(None, ["name", "role", "created"], [[u.name, u.role, fmt_time(u.created_at)] for u in users])
    )


@token_app.command("create")
def token_create(
    user: str = typer.Option(None, help="Whose token (default: your login name)."),
    expires: str = typer.Option(None, help="Lifetime, e.g. 30d, 12h (default: never expires)."),
    agent: bool = typer.Option(
        False, "--agent", help="A compute agent's token: it can only claim and report jobs."
    ),
    store: str = typer.Option(None, help=STORE_HELP),
) -> None:
    """Make a token and print it once; only its hash is kept."""
    lifetime = parse_lifetime(expires) if expires else None
    token, info = open_auth(store).create_token(
        user or getpass.getuser(), kind="agent" if agent else "user", expires_in=lifetime
    )
    until = (
        datetime.fromtimestamp(info.expires_at).isoformat(timespec="minutes") if info.expires_at else "never"
    )
    console.print(f"token {info.id} for {info.user_name} ({info.kind}, expires {until}); shown once:")
    print(token)  # plain stdout, so `TOKEN=$(trainyard token create | tail -1)` works


@token_app.command("list")
def token_list(
    user: str = typer.Option(None, help="Only this user's tokens."),
    store: str = typer.Option(None, help=STORE_HELP),
    output: Format = typer.Option(Format.table, "--output", "-o"),
) -> None:
    """Tokens (never their secrets): who, kind, state, expiry."""
    tokens = open_auth(store).list_tokens(user)
    rows = [{**t.__dict__, "state": t.state} for t in tokens]
    if output == Format.json:
        print_json(rows)
        return
    columns = ["id", "user", "kind", "state", "created", "expires", "run"]
    console.print(
        table(
            None,
            columns,
            [
                [
                    r["id"],
                    r["user_name"],
                    r["kind"],
                    r["state"],
                    fmt_time(r["created_at"]),
                    fmt_time(r["expires_at"]) if r["expires_at"] else "never",
                    r["run_id"] or "-",
                ]
                for r in rows
            ],
        )
    )


@token_app.command("revoke")
def token_revoke(
    token_id: str = typer.Argument(..., help="The token's id (`trainyard token list`)."),
    store: str = typer.Option(None, help=STORE_HELP),
) -> None:
    """Revoke a token at once."""
    open_auth(store).revoke_token(token_id)
    console.print(f"token {token_id} revoked")


def login(
    url: str = typer.Argument(..., help="The server, e.g. http://host:8080."),
    token: str = typer.Option(None, help="The token (default: read from the prompt, hidden)."),
) -> None:
    """Check a token against a server and remember it for that URL."""
    import httpx

    from trainyard.credentials import normalize_url, save_token
    from trainyard.workspace import is_server_url

    if not is_server_url(url):
        raise InvalidInputError(f"server URL {url!r} must start with http:// or https://")
    token = token or typer.prompt("token", hide_input=True)
    try:  # one try, no retries (unlike ServerClient): a wrong URL should fail at once
        response = httpx.get(
            normalize_url(url) + routes.WHOAMI.at().path,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
    except httpx.TransportError as exc:
        raise WorkspaceError(f"cannot reach {url}: {exc}") from None
    if response.status_code != 200:
        try:
            why = response.json().get("message", response.text)
        except ValueError:
            why = response.text[:200]
        raise InvalidInputError(f"{url} refused the token ({response.status_code}): {why}")
    who = response.json()
    path = save_token(url, token)
    console.print(
        f"logged in to {normalize_url(url)} as {who['user']} ({who['role']}); token saved in {path}"
    )
