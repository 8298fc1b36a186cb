"""RELIABILITY row 7: URLs a user gives the server reach public addresses only, after resolving."""

from __future__ import annotations

import pytest

from trainyard.errors import InvalidInputError
from trainyard.url_guard import check_url

REFUSED = [
    "http://127.0.0.1/",
    "http://localhost:8080/x",  # resolves to loopback
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[fd00:ec2::254]/",  # AWS metadata over IPv6 (unique local)
    "http://10.0.0.7/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # shared address space (CGNAT)
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "http://2130706433/",  # 127.0.0.1 as one number
    "http://127.1/",
    "http://0x7f.0.0.1/",
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
]


@pytest.mark.parametrize("url", REFUSED)
def test_loopback_link_local_and_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(InvalidInputError, match="--allow-private-urls"):
        check_url(url)
    assert check_url(url, allow_private=True)  # a server that allows them, explicitly


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://8.8.8.8/x", "gopher://8.8.8.8/", "http://", "http://[::1", "//8.8.8.8/"],
)
def test_other_schemes_and_broken_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInputError):
        check_url(url, allow_private=True)


def test_a_public_address_is_allowed_and_returned_for_the_fetcher_to_pin() -> None:
    assert [str(a) for a in check_url("https://8.8.8.8:8443/model")] == ["8.8.8.8"]
    assert [str(a) for a in check_url("http://[2001:4860:4860::8888]/")] == ["2001:4860:4860::8888"]


def test_a_name_that_does_not_resolve_is_refused_with_the_reason() -> None:
    with pytest.raises(InvalidInputError, match="does not resolve"):
        check_url("http://no-such-host.invalid/")
