"""The compose stack, live: healthy, reachable only through the gateway, a tip filed there by the
public becomes one case, and with two replicas of everything a killed worker loses and doubles
nothing (relay leadership moves, consumer groups rebalance to no lag, dead-letter topics empty)."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from libs.common.jurisdiction import wards_of
from testkit.intake import resident_key
from tests.docker.conftest import Phase, Stack, run

pytestmark = pytest.mark.docker

PROVINCE = "01"
SERVICES = ("intake", "casework", "victim_support", "interagency", "outreach")
PREFIX = {
    "intake": "/intake",
    "casework": "/casework",
    "victim_support": "/victim-support",
    "interagency": "/interagency",
    "outreach": "/outreach",
}


def until(probe: Callable[[], Any], what: str, timeout: float = 180) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not there after {timeout:.0f}s (last: {found!r})")
        time.sleep(1)


def client(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.gateway, timeout=30)


def tip(ward: str, n: int) -> dict[str, Any]:
    return {
        "channel": "web",
        "description": f"Tin báo kiểm thử số {n}: người quen hứa việc làm bên kia biên giới cho "
        "một thiếu nữ; gia đình mất liên lạc đã ba ngày.",
        "incident_ward_code": ward,
        "exploitation_types": ["forced_labour"],
        "destination_country": "CN",
    }


def file_and_verify(stack: Stack, http: httpx.Client, ward: str, n: int) -> str:
    """As the public files a tip and an officer of the province substantiates it."""
    filed = http.post("/intake/v1/tips", json=tip(ward, n), headers=resident_key())
    assert filed.status_code == 201, filed.text
    tip_id, code = filed.json()["id"], filed.json()["receipt_code"]
    lookup = http.post("/intake/v1/receipts/lookup", json={"receipt_code": code})
    assert lookup.status_code == 200, lookup.text
    officer = stack.token("intake_officer", PROVINCE)
    classified = http.post(
        f"/intake/v1/tips/{tip_id}/classification",
        headers=officer,
        json={"trafficking_related": "yes", "priority": "high"},
    )
    assert classified.status_code == 200, classified.text
    verified = http.post(
        f"/intake/v1/tips/{tip_id}/verification",
        headers=officer,
        json={"outcome": "substantiated", "notes": "kiểm thử"},
    )
    assert verified.status_code == 200, verified.text
    return str(tip_id)


def cases_of(stack: Stack, http: httpx.Client, tip_id: str) -> list[dict[str, Any]]:
    headers = {**stack.token("investigator", PROVINCE), "X-Purpose": "stack test"}
    page = http.get("/casework/v1/cases", params={"tip_id": tip_id}, headers=headers)
    assert page.status_code == 200, page.text
    return list(page.json()["items"])


def test_every_container_is_healthy_and_prometheus_scrapes_every_api_and_worker(
    stack: Stack,
) -> None:
    names = {stack.inspect(c, "{{.Name}}").split("_")[1] for c in stack.containers()}
    for service in SERVICES:
        dns = service.replace("_", "-")
        assert {f"{dns}-api", f"{dns}-worker", f"{dns}-migrate"} <= names

    def targets() -> dict[str, str]:
        raw = stack.compose(
            "exec", "-T", "prometheus", "wget", "-qO-", "http://127.0.0.1:9090/api/v1/targets"
        )
        active = json.loads(raw)["data"]["activeTargets"]
        return {t["labels"]["instance"]: t["health"] for t in active}

    up = until(
        lambda: (t := targets()) and all(h == "up" for h in t.values()) and t,
        "every target up in Prometheus",
        timeout=120,
    )
    assert len(up) == 2 * len(SERVICES)


def test_only_v1_and_the_dashboard_are_public_at_the_gateway(stack: Stack) -> None:
    with client(stack) as http:
        assert http.get("/dashboard").status_code == 200
        for service, prefix in PREFIX.items():
            for internal in ("/healthz", "/readyz", "/metrics", "/docs"):
                assert http.get(f"{prefix}{internal}").status_code == 404, (service, internal)
        refused = http.get("/casework/v1/cases")
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")


def test_a_tip_filed_through_the_gateway_opens_one_case(stack: Stack) -> None:
    ward = random.choice(wards_of(PROVINCE))
    with client(stack) as http:
        tip_id = file_and_verify(stack, http, ward, 0)
        (case,) = until(lambda: cases_of(stack, http, tip_id), "the case of the tip")
        assert case["tip_id"] == tip_id


def relay_holders(stack: Stack) -> set[str]:
    """The addresses of the sessions holding an advisory lock: the relays' leaders."""
    rows = stack.psql(
        "SELECT DISTINCT host(a.client_addr) FROM pg_locks l JOIN pg_stat_activity a "
        "USING (pid) WHERE l.locktype = 'advisory' AND l.granted"
    )
    return {r for r in rows.split() if r}


def address(stack: Stack, container: str) -> str:
    return stack.inspect(container, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")


def consumer_lag(stack: Stack) -> dict[str, int]:
    out = stack.kafka(
        "/opt/kafka/bin/kafka-consumer-groups.sh",
        "--bootstrap-server",
        "kafka:9092",
        "--describe",
        "--all-groups",
    )
    lag: dict[str, int] = {}
    for line in out.splitlines():
        cols = line.split()
        if len(cols) >= 6 and cols[0] != "GROUP" and re.fullmatch(r"\d+", cols[5]):
            lag[f"{cols[0]}:{cols[1]}:{cols[2]}"] = int(cols[5])
    return lag


def dead_letters(stack: Stack) -> dict[str, int]:
    topics = stack.kafka(
        "/opt/kafka/bin/kafka-topics.sh", "--bootstrap-server", "kafka:9092", "--list"
    ).split()
    counts = {}
    for topic in (t for t in topics if t.endswith(".dlt")):
        out = stack.kafka(
            "/opt/kafka/bin/kafka-console-consumer.sh",
            "--bootstrap-server",
            "kafka:9092",
            "--topic",
            topic,
            "--from-beginning",
            "--timeout-ms",
            "4000",
        )
        counts[topic] = len([line for line in out.splitlines() if line.strip()])
    return counts


def test_two_replicas_and_a_killed_worker_lose_nothing_and_do_nothing_twice(stack: Stack) -> None:
    roles = [f"{s.replace('_', '-')}-{r}" for s in SERVICES for r in ("api", "worker")]
    with Phase("scale: two replicas of every API and worker"):
        # --no-deps: the gateway and the data stores stay as they are while replicas start
        scale = [a for name in roles for a in ("--scale", f"{name}=2")]
        stack.compose("up", "-d", "--no-build", "--no-recreate", "--no-deps", *scale, *roles)
        stack.wait_healthy()
    ward = random.choice(wards_of(PROVINCE))
    with client(stack) as http:
        before = [file_and_verify(stack, http, ward, n) for n in range(1, 5)]

        with Phase("kill: the relay leader's worker of each service"):
            leaders = relay_holders(stack)
            killed: list[str] = []
            for service in SERVICES:
                workers = stack.containers(f"{service.replace('_', '-')}-worker")
                assert len(workers) == 2, service
                leader = next((w for w in workers if address(stack, w) in leaders), workers[0])
                killed.append(address(stack, leader))
                run(stack.docker, "kill", leader)
        after = [file_and_verify(stack, http, ward, n) for n in range(5, 9)]

        with Phase("recover: every tip's case, lag 0, relays re-elected"):
            for tip_id in before + after:
                found = until(lambda t=tip_id: cases_of(stack, http, t), f"the case of {tip_id}")
                assert len(found) == 1, f"tip {tip_id} opened {len(found)} cases"
            until(
                lambda: (lag := consumer_lag(stack)) and all(v == 0 for v in lag.values()),
                "every consumer group at lag 0",
            )
            holders = until(
                lambda: relay_holders(stack) - set(killed) or None,
                "a surviving worker holding a relay lock",
            )
            assert holders.isdisjoint(killed)
    assert dead_letters(stack) == {t: 0 for t in dead_letters(stack)}
    time.sleep(5)  # a duplicate would arrive late: look again
    with client(stack) as http:
        for tip_id in before + after:
            assert len(cases_of(stack, http, tip_id)) == 1
