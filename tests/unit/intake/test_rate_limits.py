"""The pure parts of the receipt limits: whom a limit counts, and how wrong answers slow down."""

from __future__ import annotations

import pytest

from libs.common.ratelimit import UNPARSED, network_key, site_key, slowdown


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("not an address", UNPARSED),
        ("", UNPARSED),
    ],
)
def test_ipv6_clients_are_keyed_by_their_slash_64_and_ipv4_by_address(
    address: str, key: str
) -> None:
    assert network_key(address) == key


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0.0), (2000, 0.0), (2001, 0.0015), (3000, 1.5), (4000, 3.0), (10**9, 3.0)],
)
def test_wrong_answers_slow_down_with_global_failures_up_to_a_bound(
    failures: int, delay: float
) -> None:
    assert slowdown(failures, 2000, 3.0) == pytest.approx(delay)


def test_no_free_budget_means_no_slowdown_rather_than_a_division_by_zero() -> None:
    assert slowdown(5, 0, 3.0) == 0.0


@pytest.mark.parametrize(
    ("client", "site"),
    [
        ("2001:db8:1:2::/64", "2001:db8:1::/48"),
        ("2001:db8:1:ffff::/64", "2001:db8:1::/48"),
        ("203.0.113.7", None),
        (UNPARSED, None),
    ],
)
def test_an_ipv6_clients_site_is_its_slash_48(client: str, site: str | None) -> None:
    assert site_key(client) == site
