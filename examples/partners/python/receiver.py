"""Receive ctip's signed alerts, as a partner province does (docs/integrations/partners.md).

    python receiver.py --port 8080 --secret whsec_...

The secret is the ``outbound_secret`` we handed you at registration (ctip signs what it sends
you with it). Every request is verified with ``standardwebhooks.Webhook(secret).verify`` over
the raw body bytes before anything is read from it:

* 204 for a valid alert (also for a ``webhook-id`` seen before: ctip retries with the same id
  until it gets a 2xx, so a repeat must be answered 2xx and not acted on twice);
* 401 for a bad signature, a stale timestamp (more than 5 minutes off) or missing headers;
* 413 for a body over 256 KiB.

This is a sketch for a developer's machine: the ids seen are kept in memory, a real receiver
keeps them in its database (for at least 2 days: our retries span about 28 hours) and sits
behind HTTPS.
"""

from __future__ import annotations

import argparse
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

MAX_BODY = 256 * 1024


class AlertReceiver(ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], secrets: list[str]) -> None:
        super().__init__(address, AlertHandler)
        self.webhooks = [Webhook(s) for s in secrets]
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def verified(self, body: bytes, headers: dict[str, str]) -> dict[str, object] | None:
        """The event when one of the secrets verifies it (two during a rotation), else None."""
        for webhook in self.webhooks:
            try:
                event = webhook.verify(body, headers)
            except (WebhookVerificationError, ValueError):
                # ValueError: a malformed header or body (the library raises it, not its own)
                continue
            return event if isinstance(event, dict) else {}
        return None


class AlertHandler(BaseHTTPRequestHandler):
    server: AlertReceiver

    def do_POST(self) -> None:
        length = self.headers.get("content-length", "")
        if not length.isdigit():
            self.answer(411)
            return
        if int(length) > MAX_BODY:
            self.answer(413)
            return
        body = self.rfile.read(int(length))  # the exact bytes that were signed
        headers = {name.lower(): value for name, value in self.headers.items()}
        event = self.server.verified(body, headers)
        if event is None:
            self.answer(401)
            return
        webhook_id = headers["webhook-id"]
        with self.server.lock:
            repeat = webhook_id in self.server.seen
            self.server.seen.add(webhook_id)
        if not repeat:
            data = event.get("data")
            alert_type = data.get("alert_type") if isinstance(data, dict) else None
            # Hand the alert to your own system here (a queue, a table); answer fast.
            print(f"received {webhook_id} {alert_type}", flush=True)
        self.answer(204)

    def answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: never log the bodies or the headers of alerts (they name people)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--secret",
        action="append",
        required=True,
        help="your outbound_secret (whsec_...); repeat it to accept an old and a new one",
    )
    args = parser.parse_args(argv)
    server = AlertReceiver((args.host, args.port), args.secret)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
