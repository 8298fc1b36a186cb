"""Outbound URLs a user gives the server: http(s) to public addresses only, unless allowed.

A URL a user can hand the server (a model version's ``source`` today; a webhook or a dataset
source if one is ever fetched) could aim the server at its own loopback services, the private
network behind it, or a cloud's metadata endpoint (``169.254.169.254``): server-side request
forgery. ``check_url`` resolves the host name first, then refuses the URL if any address it
resolves to is loopback, link-local, private, shared (CGNAT), multicast, reserved or unspecified,
IPv4-mapped IPv6 forms included, unless ``allow_private`` (``trainyard server
--allow-private-urls``). Numeric tricks (``2130706433``, ``127.1``, ``0x7f.1``) resolve to what
they mean and are caught the same way.

The server fetches no user URL today. A fetcher added later must connect to one of the addresses
``check_url`` returned (not resolve again: DNS rebinding), set a timeout and follow no redirects.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from trainyard.errors import InvalidInputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is a public unicast address (not loopback, link-local, private…)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str, *, allow_private: bool = False) -> list[IPAddress]:
    """The addresses ``url``'s host resolves to, or ``InvalidInputError`` saying why it is refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInputError(f"URL {url!r} cannot be read: {exc}") from None
    if parts.scheme.lower() not in SCHEMES:
        raise InvalidInputError(f"URL {url!r}: only {' and '.join(SCHEMES)} URLs are allowed")
    host = parts.hostname
    if not host:
        raise InvalidInputError(f"URL {url!r} names no host")
    try:
        found = socket.getaddrinfo(
            host, port or (443 if parts.scheme.lower() == "https" else 80), proto=socket.IPPROTO_TCP
        )
    except (OSError, UnicodeError) as exc:
        raise InvalidInputError(f"URL {url!r}: the host {host!r} does not resolve ({exc})") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found))
    if not addresses:
        raise InvalidInputError(f"URL {url!r}: the host {host!r} resolves to no address")
    refused = [a for a in addresses if not is_public(a)]
    if refused and not allow_private:
        raise InvalidInputError(
            f"URL {url!r}: {host!r} resolves to {refused[0]}, a loopback, link-local or private "
            "address, which the server does not reach for users (a server started with "
            "--allow-private-urls does)"
        )
    return addresses
