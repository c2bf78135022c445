"""The compose stack, live: healthy, reachable only through the gateway; the plan's story told
there as a frontend tells it (a tip becomes one case, its victim one reception, a published
missing-person report one alert at the partner province); an officer's notifications read and
streamed through the gateway as an assignment reaches them; and with two replicas of everything,
stories told while a worker of each service is killed lose and double nothing (relay leadership
moves, consumer groups rebalance to no lag, dead-letter topics empty)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import httpx
import pytest

from tests.docker.conftest import NOTES, PROJECT, Phase, Stack, run
from tests.docker.partner import Receiver
from tests.docker.story import (
    PARTNER,
    Frontend,
    Told,
    alert_ids,
    effects,
    redeliveries,
    settled,
    until,
)

pytestmark = pytest.mark.docker

SERVICES = ("intake", "casework", "victim_support", "interagency", "outreach", "notifications")
PREFIX = {
    "intake": "/intake",
    "casework": "/casework",
    "victim_support": "/victim-support",
    "interagency": "/interagency",
    "outreach": "/outreach",
    "notifications": "/notifications",
}
NOTIFICATIONS = "/notifications/v1/notifications"
STREAM = 20  # stories told while the workers are killed
KILL_AFTER = 5  # ... once this many are told


def client(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.gateway, timeout=30)


@pytest.fixture(scope="module")
def front(stack: Stack, receiver: Receiver) -> Iterator[Frontend]:
    """A frontend at the gateway, the border partner registered there by an admin."""
    with client(stack) as http:
        frontend = Frontend(stack, http)
        frontend.register_partner(receiver)
        yield frontend


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


def test_the_story_through_the_gateway_has_each_effect_once(
    front: Frontend, receiver: Receiver
) -> None:
    with Phase("story: told through the gateway, every effect seen"):
        told = front.tell(0)
        settled(front, receiver, [told], timeout=180)
    (listed,) = front.cases_of(told)
    case = front.get(f"/casework/v1/cases/{listed['id']}", "investigator")
    assert case["tip_id"] == told.tip_id
    victim = next(p for p in case["persons"] if p["role"] == "victim")
    assert victim["full_name"] == told.victim
    (received,) = front.receptions_of(case["id"])
    assert received["source"] == "case"
    (hit, *again) = receiver.alerts_of(PARTNER, told.missing_person_id)
    assert {h.webhook_id for h in again} <= {hit.webhook_id}
    assert hit.event["type"] == "vn.ctip.interagency.alert.v1"
    assert hit.event["data"]["alert_type"] == "missing_person"
    assert "reporter" not in hit.event["data"] and "circumstances" not in hit.event["data"]
    time.sleep(3)  # a second case, reception or alert would arrive by now
    assert effects(front, receiver, [told]) == {"cases": [1], "receptions": [1], "alerts": [1]}
    assert receiver.unverified() == []


def test_an_officer_is_told_of_an_assignment_on_the_stream_and_in_the_list(
    stack: Stack, front: Frontend
) -> None:
    """Through the gateway: the inbox answers, the stream's first bytes come at once, and a
    supervisor's assignment of a case (checked by casework against the directory) reaches the
    investigator on the open stream (notifications' worker asked the directory who to tell, the
    API was woken by PostgreSQL) and then in the list, and nobody else's."""
    told = front.tell(100)
    (case, *_) = until(partial(front.cases_of, told), f"the case of tip {told.tip_id}")
    case_id = str(case["id"])
    headers = front.headers("investigator")
    with client(stack) as http, Phase("notifications: an assignment told on the stream"):
        listed = http.get(NOTIFICATIONS, headers=headers)
        assert listed.status_code == 200, listed.text
        assert case_id not in {n["record_id"] for n in listed.json()["items"]}
        asked = time.monotonic()
        stream = {**headers, "Accept": "text/event-stream"}
        with http.stream("GET", f"{NOTIFICATIONS}/stream", headers=stream) as answer:
            assert answer.status_code == 200, answer.read()[:500]
            assert answer.headers["content-type"].startswith("text/event-stream")
            lines = answer.iter_lines()
            assert next(lines).startswith("retry: ")
            assert time.monotonic() - asked < 10, "the stream's first bytes were held back"
            assigned = front.post(
                f"/casework/v1/cases/{case_id}/assignment",
                {"sub": "stack-investigator"},
                "supervisor",
                200,
            )
            assert assigned["assignee"] == "stack-investigator"
            deadline = time.monotonic() + 120
            frame: list[str] = []
            for line in lines:  # heartbeats every 15 s let the deadline be looked at
                if line.startswith(("event: ", "data: ")):
                    frame.append(line)
                if line == "" and "event: assigned" in frame:
                    (data,) = [f.removeprefix("data: ") for f in frame if f.startswith("data: ")]
                    if json.loads(data)["record_id"] == case_id:
                        break
                if line == "":
                    frame = []
                if time.monotonic() > deadline:
                    pytest.fail("the assignment did not reach the stream in 120 s")
            else:
                pytest.fail("the stream ended before the assignment reached it")
        note = json.loads(data)
        assert note["link"] == f"/casework/v1/cases/{case_id}"
        assert note["kind"] == "assigned" and note["read_at"] is None
        listed = http.get(NOTIFICATIONS, headers=headers, params={"unread": "true"})
        assert note["id"] in {n["id"] for n in listed.json()["items"]}
        others = http.get(NOTIFICATIONS, headers=front.headers("intake_officer"))
        assert note["id"] not in {n["id"] for n in others.json()["items"]}


def relay_holders(stack: Stack) -> set[str]:
    """The addresses of the sessions holding an advisory lock: the relays' leaders."""
    rows = stack.psql(
        "SELECT DISTINCT host(a.client_addr) FROM pg_locks l JOIN pg_stat_activity a "
        "USING (pid) WHERE l.locktype = 'advisory' AND l.granted"
    )
    return {r for r in rows.split() if r}


def address(stack: Stack, container: str) -> str:
    """The container's address on the stack's own network (interagency's workers are on the
    partners' network too)."""
    network = f"(index .NetworkSettings.Networks {json.dumps(PROJECT + '_default')})"
    return stack.inspect(container, "{{" + network + ".IPAddress}}")


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


def kill_a_worker_of_each_service(stack: Stack) -> tuple[set[str], set[str]]:
    """``docker kill`` the worker of each service that leads its relay (else the first one);
    the addresses of the killed and of the survivors."""
    leaders = relay_holders(stack)
    killed: set[str] = set()
    survivors: set[str] = set()
    for service in SERVICES:
        workers = {address(stack, w): w for w in stack.containers(f"{dns(service)}-worker")}
        assert len(workers) == 2, service
        leader = next((a for a in workers if a in leaders), next(iter(workers)))
        run(stack.docker, "kill", workers[leader])
        killed.add(leader)
        survivors.update(set(workers) - {leader})
    return killed, survivors


def dns(service: str) -> str:
    return service.replace("_", "-")


def test_two_replicas_and_killed_workers_lose_nothing_and_do_nothing_twice(
    stack: Stack, front: Frontend, receiver: Receiver
) -> None:
    roles = [f"{dns(s)}-{r}" for s in SERVICES for r in ("api", "worker")]
    with Phase("scale: two replicas of every API and worker"):
        # --no-deps: the gateway and the data stores stay as they are while replicas start
        scale = [a for name in roles for a in ("--scale", f"{name}=2")]
        stack.compose("up", "-d", "--no-build", "--no-recreate", "--no-deps", *scale, *roles)
        stack.wait_healthy()

    told: list[Told] = []
    under_way = threading.Event()

    def stream() -> None:
        """Stories told one after another, as the public and officers keep working."""
        try:
            with client(stack) as http:
                teller = Frontend(stack, http)
                for n in range(1, STREAM + 1):
                    told.append(teller.tell(n))
                    if n == KILL_AFTER:
                        under_way.set()
        finally:
            under_way.set()

    with Phase(f"stream: {STREAM} stories, a worker of each service killed"):
        with ThreadPoolExecutor(1) as pool:
            storyteller = pool.submit(stream)
            under_way.wait(timeout=600)
            killed, survivors = kill_a_worker_of_each_service(stack)
            storyteller.result()
    assert len(told) == STREAM

    once = {effect: [1] * STREAM for effect in ("cases", "receptions", "alerts")}
    with Phase("recover: every effect once, lag 0, relays re-elected"):
        settled(front, receiver, told, timeout=240)
        assert effects(front, receiver, told) == once
        until(
            lambda: (lag := consumer_lag(stack)) and all(v == 0 for v in lag.values()),
            "every consumer group at lag 0",
        )
        # each service's relay is led by one worker: now by the one left
        holders = until(
            lambda: (found := relay_holders(stack)) >= survivors and found,
            "the surviving worker of each service leading its relay",
        )
        assert holders.isdisjoint(killed)
    assert dead_letters(stack) == {t: 0 for t in dead_letters(stack)}
    time.sleep(5)  # a duplicate would arrive late: look again
    assert effects(front, receiver, told) == once
    assert receiver.unverified() == []
    NOTES.append(
        f"partner: {sum(len(alert_ids(receiver, t)) for t in told)} webhook-ids for "
        f"{STREAM} reports, {redeliveries(receiver, told)} redeliveries of the same id"
    )
