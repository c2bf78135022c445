"""Finding 1 (gateway side) and the public surface: what the nginx gateway logs and routes.

The receipt code once travelled in URLs and both gateways logged nginx's default format (client
address, request line, User-Agent) next to it. These tests read both configurations, and run
Debian's nginx on the compose configuration in front of a stub upstream to see what it really
writes and routes.
"""

from __future__ import annotations

import http.server
import json
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.deploy.support import (
    DEPLOY,
    PERSONAL_LOG_VARIABLES,
    nginx_locations,
    nginx_logging,
    nginx_route,
)

ROOT = Path(__file__).resolve().parents[2]
GATEWAYS = [DEPLOY / "gateway" / "nginx.conf", DEPLOY / "k8s" / "base" / "gateway" / "nginx.conf"]
ENSURE_NGINX = ROOT / "deploy/local/ensure-nginx.sh"
NGINX = Path("/usr/sbin/nginx")
UPSTREAMS = {
    "intake-api:8001": "intake",
    "casework-api:8002": "casework",
    "victim-support-api:8003": "victim_support",
    "interagency-api:8004": "interagency",
    "outreach-api:8005": "outreach",
    "notifications-api:8006": "notifications",
}
STREAM = "/notifications/v1/notifications/stream"
STREAM_PAUSE = 3.0  # seconds between the stub stream's first bytes and its event
RECEIPT_CODE = "4829301746582913"
USER_AGENT = "SyntheticPhone/7.1 (reporter-device-xyz)"


@pytest.mark.parametrize("path", GATEWAYS, ids=lambda p: p.parent.parent.name)
def test_access_logs_name_no_address_uri_query_or_user_agent(path: Path) -> None:
    formats, access, _ = nginx_logging(path)
    assert access, f"{path}: no access_log directive"
    for directive in access:
        if directive == "off":
            continue
        parts = directive.split()
        assert len(parts) >= 2, f"{path}: access_log {directive!r} uses nginx's default format"
        assert parts[1] in formats, f"{path}: access_log {directive!r} names no log_format here"
        text = formats[parts[1]]
        used = set(re.findall(r"\$[a-z_0-9]+", text))
        assert not used & set(PERSONAL_LOG_VARIABLES), f"{path}: {parts[1]} logs {used}"


@pytest.mark.parametrize("path", GATEWAYS, ids=lambda p: p.parent.parent.name)
def test_error_log_writes_no_request_lines(path: Path) -> None:
    """nginx's error lines carry ``client: <address>, request: "<line>"`` from level error."""
    _, _, errors = nginx_logging(path)
    assert errors, f"{path}: no error_log (nginx would log at error level to its default file)"
    for directive in errors:
        assert directive.split()[-1] in {"crit", "alert", "emerg"}, directive


@pytest.mark.parametrize("path", GATEWAYS, ids=lambda p: p.parent.parent.name)
def test_only_v1_and_the_dashboard_are_routed_to_the_services(path: Path) -> None:
    for location, body in nginx_locations(path).items():
        route = nginx_route(location, body)
        if route is None:
            continue
        where = location.removeprefix("= ")
        if where == "/dashboard":
            assert route[2] == "/dashboard", (location, route)
            continue
        # /<service>/v1/ -> /v1/, or a path under it to the same path (notifications' stream)
        public = re.fullmatch(r"/[a-z_-]+/v1/(\S*)", where)
        assert public, where
        assert route[2] == f"/v1/{public.group(1)}", (location, route)


# The live gateway ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Upstream:
    """A stand-in for every API: records the paths and bodies it was sent, answers 200."""

    port: int
    seen: list[tuple[str, str, bytes]] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None
    # each stream request as the API got it: (HTTP version, the Connection header)
    streams: list[tuple[str, str | None]] = field(default_factory=list)


def _start_upstream() -> Upstream:
    upstream = Upstream(_free_port())

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            if self.path.split("?")[0].endswith("/stream"):
                self._stream()
                return
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            upstream.seen.append((self.command, self.path, body))
            payload = b'{"ok": true}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _stream(self) -> None:
            """An SSE stream as the API writes one: its first bytes at once, an event later."""
            upstream.streams.append((self.request_version, self.headers.get("connection")))
            upstream.seen.append((self.command, self.path, b""))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.end_headers()
            self.wfile.write(b"retry: 3000\n\n")
            self.wfile.flush()
            time.sleep(STREAM_PAUSE)
            self.wfile.write(b'id: 1\nevent: assigned\ndata: {"kind": "assigned"}\n\n')
            self.wfile.flush()

        do_GET = _answer
        do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", upstream.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream.server = server
    return upstream


@pytest.fixture(scope="module")
def nginx_binary() -> Path:
    if not NGINX.exists():
        if shutil.which("apt-get") is None:
            pytest.fail(f"{NGINX} is missing: install Debian's nginx ({ENSURE_NGINX})")
        done = subprocess.run(
            [str(ENSURE_NGINX)], capture_output=True, text=True, timeout=600, check=False
        )
        if done.returncode != 0 or not NGINX.exists():
            pytest.fail(f"could not install nginx:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return NGINX


@dataclass
class Gateway:
    url: str
    upstream: Upstream
    log: Path


@pytest.fixture(scope="module")
def gateway(nginx_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """deploy/gateway/nginx.conf as ops run it, with only the addresses changed for loopback."""
    work = tmp_path_factory.mktemp("gateway")
    upstream = _start_upstream()
    port = _free_port()
    log = work / "access.log"
    conf = (DEPLOY / "gateway" / "nginx.conf").read_text(encoding="utf-8")
    for name in UPSTREAMS:
        conf = conf.replace(name, f"127.0.0.1:{upstream.port}")
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    conf = conf.replace("resolver 127.0.0.11 valid=10s ipv6=off;", "")
    conf = conf.replace("/tmp/", f"{work}/")  # noqa: S108  (the config's own paths, moved)
    conf = conf.replace("/dev/stdout", str(log)).replace("/dev/stderr", str(work / "error.log"))
    (work / "nginx.conf").write_text(conf, encoding="utf-8")
    process = subprocess.Popen(
        [str(nginx_binary), "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    out = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"nginx did not start: {out}")
                time.sleep(0.1)
        yield Gateway(f"http://127.0.0.1:{port}", upstream, log)
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert upstream.server is not None
        upstream.server.shutdown()


def test_live_gateway_logs_no_address_code_path_or_user_agent(gateway: Gateway) -> None:
    headers = {"user-agent": USER_AGENT, "x-correlation-id": "corr-gateway-1"}
    response = httpx.post(
        f"{gateway.url}/intake/v1/receipts/lookup",
        json={"receipt_code": RECEIPT_CODE},
        headers=headers,
    )
    assert response.status_code == 200
    httpx.get(f"{gateway.url}/intake/v1/tips?ward_code=00256&q=Synthetic", headers=headers)
    assert ("POST", "/v1/receipts/lookup") in {(m, p) for m, p, _ in gateway.upstream.seen}
    time.sleep(0.2)  # nginx writes the access line after the response
    lines = gateway.log.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 2
    text = "\n".join(lines)
    for leaked in (
        "127.0.0.1",
        RECEIPT_CODE,
        "receipts",
        "ward_code",
        "Synthetic",
        "SyntheticPhone",
    ):
        assert leaked not in text, f"the gateway logged {leaked!r}: {text}"
    entries = [json.loads(line) for line in lines]
    assert {e["route"] for e in entries} == {"/intake"}
    assert {e["method"] for e in entries} == {"GET", "POST"}
    assert "corr-gateway-1" in {e["correlation_id"] for e in entries}


@pytest.mark.parametrize(
    "path",
    [
        "/intake/healthz",
        "/intake/readyz",
        "/intake/metrics",
        "/intake/docs",
        "/intake/openapi.json",
        "/casework/metrics",
        "/outreach/docs",
    ],
)
def test_live_gateway_keeps_health_metrics_and_docs_internal(gateway: Gateway, path: str) -> None:
    before = len(gateway.upstream.seen)
    response = httpx.get(f"{gateway.url}{path}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert len(gateway.upstream.seen) == before, f"{path} reached a service"


def test_live_gateway_routes_every_service_v1_and_the_dashboard(gateway: Gateway) -> None:
    prefixes = (
        "intake",
        "casework",
        "victim-support",
        "victim_support",
        "interagency",
        "outreach",
        "notifications",
    )
    for prefix in prefixes:
        assert httpx.get(f"{gateway.url}/{prefix}/v1/kpis").status_code == 200, prefix
    assert httpx.get(f"{gateway.url}/dashboard").status_code == 200
    paths = [p for _, p, _ in gateway.upstream.seen]
    assert paths.count("/v1/kpis") >= len(prefixes)
    assert "/dashboard" in paths


@pytest.mark.parametrize("path", GATEWAYS, ids=lambda p: p.parent.parent.name)
def test_only_the_services_that_take_evidence_files_take_25_mib(path: Path) -> None:
    """Intake and casework stream files of up to 25 MiB to the API; every other route keeps the
    small limit, which the APIs hold to 1 MiB themselves."""
    large = {
        location
        for location, body in nginx_locations(path).items()
        if re.search(r"client_max_body_size\s+26m\s*;", body)
        and re.search(r"proxy_request_buffering\s+off\s*;", body)
    }
    assert large == {"/intake/v1/", "/casework/v1/"}
    assert re.search(r"^\s*client_max_body_size\s+2m\s*;", path.read_text(), re.M)


def test_live_gateway_streams_a_25_mib_file_and_refuses_it_elsewhere(gateway: Gateway) -> None:
    body = b"\xff\xd8\xff" + bytes(25 * 1024 * 1024 - 3)
    headers = {"content-type": "application/octet-stream"}
    sent = httpx.post(
        f"{gateway.url}/intake/v1/tips/0/attachments", content=body, headers=headers, timeout=60
    )
    assert sent.status_code == 200
    assert ("POST", "/v1/tips/0/attachments", len(body)) in {
        (m, p, len(b)) for m, p, b in gateway.upstream.seen
    }
    refused = httpx.post(
        f"{gateway.url}/victim-support/v1/victims", content=body[: 3 * 1024 * 1024], timeout=60
    )
    assert refused.status_code == 413


# Server-Sent Events (notifications' stream) ----------------------------------------------------


def _server_directives(path: Path) -> str:
    """The config without comments and without its location blocks: what locations inherit."""
    text = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
    return re.sub(r"location\s+[^{]*\{[^{}]*\}", "", text)


def _seconds(value: str) -> float:
    """An nginx time (``60s``, ``1h``, ``90m``, ``3600``) in seconds."""
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", value).groups()  # type: ignore[union-attr]
    scale = {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return int(number) * scale


@pytest.mark.parametrize("path", GATEWAYS, ids=lambda p: p.parent.parent.name)
def test_the_notification_stream_is_unbuffered_uncached_and_held_open(path: Path) -> None:
    locations = nginx_locations(path)
    body = locations[f"= {STREAM}"]
    assert nginx_route(f"= {STREAM}", body) == (
        "notifications-api",
        8006,
        "/v1/notifications/stream",
    )
    assert re.search(r"proxy_buffering\s+off\s*;", body)
    assert re.search(r"proxy_cache\s+off\s*;", body)
    (timeout,) = re.findall(r"proxy_read_timeout\s+(\S+)\s*;", body)
    assert _seconds(timeout) >= 3600, "a stream stays open between heartbeats and for its life"
    # HTTP/1.1 without `Connection: close` to the API, from the server block; a proxy_set_header
    # in the location would replace every header the server block sets
    assert "proxy_set_header" not in body and "proxy_http_version" not in body
    server = _server_directives(path)
    assert re.search(r"proxy_http_version\s+1\.1\s*;", server)
    assert re.search(r'proxy_set_header\s+Connection\s+""\s*;', server)
    # only the stream waits long on its API: any other route's API answers within a minute
    for location, other in locations.items():
        if location != f"= {STREAM}":
            assert "proxy_read_timeout" not in other and "proxy_buffering" not in other, location


def _first_bytes_and_event(url: str) -> tuple[float, float, str]:
    """(seconds to the first bytes, seconds to the event, what was read) of one stream."""
    started = time.monotonic()
    first = 0.0
    read = ""
    with httpx.stream("GET", url, headers={"accept": "text/event-stream"}, timeout=30) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        for chunk in answer.iter_text():
            if not read and chunk:
                first = time.monotonic() - started
            read += chunk
    return first, time.monotonic() - started, read


def test_live_gateway_passes_each_stream_event_on_as_the_api_writes_it(gateway: Gateway) -> None:
    first, whole, read = _first_bytes_and_event(f"{gateway.url}{STREAM}?unread=true")
    assert read.startswith("retry: 3000\n\n") and "event: assigned" in read
    assert first < STREAM_PAUSE / 2, f"the first bytes came after {first:.1f}s: buffered"
    assert whole >= STREAM_PAUSE
    assert ("GET", "/v1/notifications/stream?unread=true", b"") in gateway.upstream.seen
    assert gateway.upstream.streams[-1] == ("HTTP/1.1", None)


def test_live_gateway_would_hold_a_stream_back_on_an_ordinary_route(gateway: Gateway) -> None:
    """The control: the same stream through the buffered /notifications/v1/ route comes out
    only at its end, which is what the stream's own location prevents."""
    first, whole, _ = _first_bytes_and_event(f"{gateway.url}/notifications/v1/other/stream")
    assert first >= STREAM_PAUSE * 0.9 and whole >= STREAM_PAUSE
