"""Where we may send webhooks: SSRF checks of a partner's URL at registration and before every
delivery, which then connects to the very address that was checked (no DNS rebinding)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_METADATA = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class UnsafeUrl(ValueError):
    """The URL may not receive our webhooks; the message says why (no secrets in it)."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"the host {host!r} does not resolve") from exc
    return sorted({str(info[4][0]) for info in infos})


def _unwrap(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_problem(address: IPAddress, *, production: bool) -> str | None:
    """Why ``address`` may not be a webhook destination, or None."""
    address = _unwrap(address)
    if any(address in net for net in _METADATA if net.version == address.version):
        return "link-local and metadata addresses are refused"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "multicast, unspecified and reserved addresses are refused"
    if production:
        if address.is_loopback:
            return "loopback addresses are refused in production"
        if address.is_private or (address.version == 4 and address in _CGNAT):
            return "private addresses are refused in production"
        if not address.is_global:
            return "only public addresses are allowed in production"
    return None


@dataclass(frozen=True)
class Destination:
    """A checked URL and the address to connect to."""

    url: str
    host: str
    port: int
    address: str

    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        default = 443 if parts.scheme == "https" else 80
        netloc = literal if self.port == default else f"{literal}:{self.port}"
        return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, parts.query, ""))

    def host_header(self) -> str:
        default = 443 if self.url.startswith("https:") else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def check_url(url: str, *, production: bool, resolve: Resolver = system_resolver) -> Destination:
    """The destination of ``url`` if every address it resolves to is allowed; else UnsafeUrl."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("not a valid URL") from exc
    if parts.scheme not in ("https", "http"):
        raise UnsafeUrl("the URL must be https (or http outside production)")
    if production and parts.scheme != "https":
        raise UnsafeUrl("https is required in production")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("credentials in the URL are refused; we sign every request instead")
    if parts.fragment:
        raise UnsafeUrl("a webhook URL has no fragment")
    host = parts.hostname
    if not host:
        raise UnsafeUrl("the URL has no host")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = resolve(host, port)
    if not addresses:
        raise UnsafeUrl(f"the host {host!r} does not resolve")
    for raw in addresses:
        problem = address_problem(ipaddress.ip_address(raw.split("%")[0]), production=production)
        if problem is not None:
            raise UnsafeUrl(f"{host} resolves to a refused address: {problem}")
    return Destination(url=url, host=host, port=port, address=addresses[0].split("%")[0])
