"""The one browser session of a ``trainyard studio`` process (``server/auth.py`` checks it).

An embedded workspace has no users or tokens. The process makes a URL token, prints it in the
studio's URL, and the page trades it for a cookie (``server/studio.py``) named for this process,
``HttpOnly`` and ``SameSite=Strict``: whoever was given the URL is this machine's user, an owner;
other local users, who can reach the port but not read the terminal or the browser's cookies,
are no one.
"""

from __future__ import annotations

import getpass
import hmac
import secrets
from dataclasses import dataclass, field

from starlette.requests import Request

from trainyard.store.auth import Principal

STUDIO = "/studio"  # the studio's page and its files, public as "/" is
STUDIO_WRITE_HEADER = "x-trainyard-studio"  # the page's writes carry it; a cross-site form cannot


@dataclass(frozen=True)
class LocalSession:
    """The credentials of one ``trainyard studio`` process: its URL token and the page's cookie."""

    url_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    cookie_value: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # a name of its own, so that two studios on one host (cookies ignore ports) keep theirs
    cookie_name: str = field(default_factory=lambda: f"trainyard-studio-{secrets.token_hex(4)}")
    user: str = field(default_factory=getpass.getuser)

    def admits_url_token(self, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self.url_token.encode())

    def principal(self, request: Request) -> Principal | None:
        """The session's principal if the request carries its cookie, else None."""
        given = request.cookies.get(self.cookie_name)
        if given is None or not hmac.compare_digest(given.encode(), self.cookie_value.encode()):
            return None
        return Principal(user=self.user, role="owner", kind="user", token_id="studio-session")
