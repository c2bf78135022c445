"""Send ctip a signed alert, as a partner province does (docs/integrations/partners.md).

    python sender.py --base-url https://ctip.example.gov.vn --code 20 --secret whsec_...

The secret is the ``inbound_secret`` we handed you at registration. The alert is a CloudEvent
(structured JSON) with a synthetic ``person_found``; the request is signed per Standard Webhooks
with the ``standardwebhooks`` package, and sent with the standard library alone.

A refused or unanswered request is retried with the SAME ``webhook-id`` (a fresh timestamp and
signature each time): ctip keeps each id once, so a retry never files the alert twice.
Exit status 0 on a 2xx answer, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime

from standardwebhooks import Webhook

EVENT_TYPE = "vn.ctip.interagency.alert.v1"
RETRY_STATUSES = {429, 502, 503, 504}


def person_found_event(code: str, full_name: str) -> bytes:
    """The body: these exact bytes are signed and sent (UTF-8, never re-serialised after)."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"/partners/{code}",
        "type": EVENT_TYPE,
        "time": now,
        "datacontenttype": "application/json",
        "data": {
            "alert_type": "person_found",
            "full_name": full_name,
            "sex": "female",
            "age": 17,
            "found_at": now,
            "found_place": "Synthetic border gate",
            "nationality": "VN",
            "contact_agency": "Synthetic border guard post",
        },
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signed_request(url: str, secret: str, webhook_id: str, body: bytes) -> urllib.request.Request:
    timestamp = datetime.now(UTC).replace(microsecond=0)
    signature = Webhook(secret).sign(webhook_id, timestamp, body.decode("utf-8"))
    headers = {
        "content-type": "application/cloudevents+json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }
    # the scheme is checked in main(): http(s) only
    return urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310


def retry_after(value: str | None, default: float) -> float:
    """Seconds from a ``Retry-After`` in delta-seconds; the default for anything else."""
    try:
        return max(0.0, float(value)) if value else default
    except ValueError:
        return default


def send(url: str, secret: str, webhook_id: str, body: bytes, attempts: int) -> tuple[int, str]:
    """POST until a final answer: 2xx, or a 4xx other than 429 (fix the request, don't retry)."""
    status, text = 0, ""
    for attempt in range(1, attempts + 1):
        wait = 2.0**attempt
        try:
            request = signed_request(url, secret, webhook_id, body)
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 (http(s))
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode("utf-8", "replace")
            if status not in RETRY_STATUSES:
                return status, text
            wait = retry_after(error.headers.get("retry-after"), wait)
        except urllib.error.URLError as error:
            status, text = 0, f"no answer: {error.reason}"
        if attempt < attempts:
            time.sleep(min(wait, 60.0))
    return status, text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="e.g. https://ctip.example.gov.vn")
    parser.add_argument("--code", required=True, help="your province code, e.g. 20")
    parser.add_argument("--secret", required=True, help="your inbound_secret (whsec_...)")
    parser.add_argument(
        "--webhook-id",
        default=None,
        help="keep it to resend the same alert (default: a new msg_<uuid>)",
    )
    parser.add_argument("--full-name", default="Lò Thị Mai", help="synthetic person's name")
    parser.add_argument("--attempts", type=int, default=3, help="tries on 429/5xx/no answer")
    args = parser.parse_args(argv)
    if not args.base_url.startswith(("https://", "http://")):
        parser.error("--base-url is an http(s) URL")

    url = f"{args.base_url.rstrip('/')}/v1/inbound/{args.code}"
    webhook_id = args.webhook_id or f"msg_{uuid.uuid4().hex}"
    body = person_found_event(args.code, args.full_name)
    status, text = send(url, args.secret, webhook_id, body, max(1, args.attempts))
    print(f"{status} {text}")
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
