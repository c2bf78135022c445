"""Where webhooks may go: scheme, credentials, and every resolved address (SSRF)."""

from __future__ import annotations

import pytest

from services.interagency.egress import UnsafeUrl, check_url


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise UnsafeUrl(f"the host {host!r} does not resolve")
        return table[host]

    return resolve


DNS = resolver(
    {
        "partner.laocai.gov.vn": ["203.113.131.5"],
        "internal.example": ["10.1.2.3"],
        "metadata.example": ["169.254.169.254"],
        "rebind.example": ["203.113.131.5", "127.0.0.1"],
        "v6.example": ["2001:4860:4860::8888"],
        "ula.example": ["fd00::1"],
        "localhost": ["127.0.0.1", "::1"],
    }
)

CASES = [
    # url, production, allowed
    ("https://partner.laocai.gov.vn/webhooks", True, True),
    ("https://partner.laocai.gov.vn/webhooks", False, True),
    ("http://partner.laocai.gov.vn/webhooks", True, False),
    ("http://partner.laocai.gov.vn/webhooks", False, True),
    ("ftp://partner.laocai.gov.vn/x", False, False),
    ("https://user:pass@partner.laocai.gov.vn/", False, False),
    ("https://internal.example/", True, False),
    ("https://internal.example/", False, True),
    ("https://metadata.example/latest/meta-data", False, False),
    ("http://169.254.169.254/latest/meta-data", False, False),
    ("http://[fe80::1]/", False, False),
    ("http://[fd00:ec2::254]/", False, False),
    ("https://ula.example/", True, False),
    ("https://rebind.example/", True, False),
    ("https://rebind.example/", False, True),
    ("http://127.0.0.1:8080/hook", False, True),
    ("https://127.0.0.1/hook", True, False),
    ("https://localhost/hook", True, False),
    ("http://0.0.0.0/", False, False),
    ("http://[::ffff:169.254.169.254]/", False, False),
    ("https://[::ffff:10.0.0.1]/", True, False),
    ("https://100.64.0.1/", True, False),
    ("http://224.0.0.1/", False, False),
    ("https://v6.example/", True, True),
    ("https://unknown.example/", False, False),
    ("https:///nohost", False, False),
    ("not a url", False, False),
]


@pytest.mark.parametrize(("url", "production", "allowed"), CASES)
def test_webhook_url_table(url: str, production: bool, allowed: bool) -> None:
    if allowed:
        check_url(url, production=production, resolve=DNS)
    else:
        with pytest.raises(UnsafeUrl):
            check_url(url, production=production, resolve=DNS)


def test_the_destination_pins_the_checked_address_and_keeps_the_host() -> None:
    destination = check_url(
        "https://partner.laocai.gov.vn:8443/hooks?x=1", production=True, resolve=DNS
    )
    assert destination.pinned_url() == "https://203.113.131.5:8443/hooks?x=1"
    assert destination.host_header() == "partner.laocai.gov.vn:8443"
    v6 = check_url("https://v6.example/h", production=True, resolve=DNS)
    assert v6.pinned_url() == "https://[2001:4860:4860::8888]/h"
    assert v6.host_header() == "v6.example"
