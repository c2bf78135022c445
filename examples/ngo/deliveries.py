"""Send ctip an NGO's service deliveries, and fetch the donor report (docs/integrations/ngo.md).

    # a token from Keycloak (client credentials), the secret from the environment:
    NGO_CLIENT_SECRET=... python deliveries.py --base-url https://ctip.example.gov.vn \\
        --token-url https://sso.example.gov.vn/realms/ctip/protocol/openid-connect/token \\
        --client-id ngo-hoa-sen --program PROGRAM_ID deliveries.csv --report report.xlsx

    # or a token you already have (on a local stack: uv run ctip token --client ngo-hoa-sen):
    python deliveries.py --base-url http://127.0.0.1:8003 --token "$NGO" --program ID d.json

The file is CSV (a header row: external_id, person_external_id or victim_id, type, amount_vnd,
delivered_on) or JSON (a list of such objects, or ``{"items": [...]}``). Name each person by
``person_external_id``, the ``external_id`` you gave them at enrollment, or by ``victim_id``. It
goes in batches of at most 1,000 to ``POST /v1/programs/{id}/deliveries:batch``; ctip answers 207
with one result per item: ``created``, ``duplicate`` (that ``external_id`` was delivered before,
with the same content: nothing written twice), ``conflict`` (it was delivered before with other
content: the fields that differ are named) or ``rejected`` (with the reasons). A batch that got no
answer is sent again as it was: it is idempotent by ``external_id``. With ``--correct``, each
conflict is corrected to the file's content (``PUT .../deliveries/{external_id}`` with
``If-Match``), unless it names another person: a delivery's person is never changed.

Exit status: 0 if every item was created, a duplicate or corrected, 1 if any was rejected or left
in conflict, 2 if a batch or the report could not be sent at all (bad arguments, refused token,
ctip unreachable).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

BATCH_SIZE = 1000  # the most ctip takes in one batch
RETRY_STATUSES = {429, 502, 503, 504}
ATTEMPTS = 4
FIELDS = ("external_id", "person_external_id", "victim_id", "type", "amount_vnd", "delivered_on")
PERSON = ("person_external_id", "victim_id")  # one of the two names the person


class Failed(Exception):
    """A batch or the report could not be sent (exit 2)."""


def client_credentials_token(token_url: str, client_id: str, client_secret: str) -> str:
    """An access token for your NGO's client (OAuth 2.0 client credentials, RFC 6749 4.4)."""
    response = httpx.post(
        token_url,
        data={"grant_type": "client_credentials"},
        auth=(client_id, client_secret),  # client_secret_basic
        timeout=10.0,
    )
    if response.status_code != 200:
        raise Failed(f"token endpoint answered {response.status_code}: {response.text[:300]}")
    token: str = response.json()["access_token"]
    return token


def read_deliveries(path: Path) -> list[dict[str, Any]]:
    """The items of a CSV or JSON file. Amounts that are whole numbers are sent as numbers;
    anything else is sent as it is, and ctip rejects that item alone, saying why."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        loaded = json.loads(text)
        items = loaded["items"] if isinstance(loaded, dict) else loaded
        if not isinstance(items, list):
            raise Failed(f"{path}: expected a list of deliveries or {{'items': [...]}}")
        return items
    rows = list(csv.DictReader(text.splitlines()))
    items = []
    for row in rows:
        item: dict[str, Any] = {k: (row.get(k) or "").strip() for k in FIELDS}
        for key in PERSON:
            if not item[key]:
                del item[key]  # the file names the person the other way
        amount = item["amount_vnd"]
        if amount == "":
            del item["amount_vnd"]  # ctip's default: 0
        elif amount.isdigit():
            item["amount_vnd"] = int(amount)
        items.append(item)
    return items


def _send(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request, sent again (the same one) on a timeout, a lost connection or a 429/5xx."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            if attempt == ATTEMPTS:
                raise Failed(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
        else:
            if response.status_code not in RETRY_STATUSES or attempt == ATTEMPTS:
                return response
        time.sleep(min(2**attempt, 30))
    raise AssertionError("unreachable")


def send_batches(
    client: httpx.Client, program_id: str, items: list[dict[str, Any]], *, correct: bool = False
) -> dict[str, int]:
    totals = {"created": 0, "duplicate": 0, "conflict": 0, "rejected": 0, "corrected": 0}
    url = f"/v1/programs/{program_id}/deliveries:batch"
    for start in range(0, len(items), BATCH_SIZE):
        chunk = items[start : start + BATCH_SIZE]
        response = _send(client, "POST", url, json={"items": chunk})
        if response.status_code != 207:
            raise Failed(f"batch at item {start}: {response.status_code} {response.text[:500]}")
        body = response.json()
        print(
            f"HTTP 207: created {body['created']}, duplicate {body['duplicate']},"
            f" conflict {body['conflict']}, rejected {body['rejected']}"
        )
        for result in body["results"]:
            status = result["status"]
            line = f"{status:<9} item {start + result['index']:<5} {result['external_id']}"
            if status in ("rejected", "conflict"):
                reasons = "; ".join(f"{e['field']}: {e['message']}" for e in result["errors"])
                line += f"  {reasons}"
            else:
                line += f"  support {result['support_id']}"
            print(line)
            if status == "conflict" and correct:
                status = correct_delivery(client, program_id, chunk[result["index"]], result)
            totals[status] += 1
    return totals


def correct_delivery(
    client: httpx.Client, program_id: str, item: dict[str, Any], result: dict[str, Any]
) -> str:
    """Correct a delivery recorded before to the file's content, under the version the batch
    answered (``If-Match``): ``corrected``, or ``conflict`` when it cannot be."""
    fields = {e["field"] for e in result["errors"]}
    external_id = result["external_id"]
    if fields & set(PERSON):
        print(f"conflict  {external_id}: recorded for another person; not corrected")
        return "conflict"
    response = _send(
        client,
        "PUT",
        f"/v1/programs/{program_id}/deliveries/{quote(external_id, safe='')}",
        json={k: item[k] for k in ("type", "amount_vnd", "delivered_on") if k in item},
        headers={"If-Match": str(result["version"])},
    )
    if response.status_code != 200:
        refused = f"{response.status_code} {response.text[:300]}"
        print(f"conflict  {external_id}: correction refused: {refused}")
        return "conflict"
    print(f"corrected {external_id}  version {response.json()['version']}")
    return "corrected"


def fetch_report(client: httpx.Client, program_id: str, out: Path, lang: str = "vi") -> None:
    """The donor report: counts, people and amounts by support type and month, with totals; a
    spreadsheet in Vietnamese (``lang="en"`` for English)."""
    fmt = {".xlsx": "xlsx", ".csv": "csv"}.get(out.suffix.lower(), "json")
    params = {"format": fmt, "lang": lang}
    response = _send(client, "GET", f"/v1/programs/{program_id}/report", params=params)
    if response.status_code != 200:
        raise Failed(f"report: {response.status_code} {response.text[:500]}")
    out.write_bytes(response.content)
    print(f"report ({fmt}) written to {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="victim_support, e.g. the gateway")
    parser.add_argument("--program", required=True, help="the program's id")
    parser.add_argument("file", type=Path, nargs="?", help="deliveries, .csv or .json")
    parser.add_argument(
        "--report", type=Path, help="write the donor report here (.xlsx/.csv/.json)"
    )
    parser.add_argument("--lang", choices=("vi", "en"), default="vi", help="the report's labels")
    parser.add_argument(
        "--correct", action="store_true", help="correct deliveries in conflict to the file's"
    )
    auth = parser.add_argument_group("token: --token, or the client credentials grant")
    auth.add_argument("--token", default=os.environ.get("NGO_TOKEN"), help="or $NGO_TOKEN")
    auth.add_argument("--token-url", help="{issuer}/protocol/openid-connect/token")
    auth.add_argument("--client-id", help="your NGO's client id")
    auth.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    args = parser.parse_args(argv)
    if args.file is None and args.report is None:
        parser.error("give a file of deliveries, --report FILE, or both")
    try:
        token = args.token
        if token is None:
            secret = os.environ.get("NGO_CLIENT_SECRET")
            if not (args.token_url and args.client_id and secret):
                parser.error("give --token, or --token-url, --client-id and $NGO_CLIENT_SECRET")
            token = client_credentials_token(args.token_url, args.client_id, secret)
        items = read_deliveries(args.file) if args.file is not None else []
        with httpx.Client(
            base_url=args.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=args.timeout,
        ) as client:
            totals = (
                send_batches(client, args.program, items, correct=args.correct) if items else None
            )
            if args.report is not None:
                fetch_report(client, args.program, args.report, args.lang)
    except (Failed, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if totals is not None:
        print(
            f"total: created {totals['created']}, duplicate {totals['duplicate']},"
            f" corrected {totals['corrected']}, conflict {totals['conflict']},"
            f" rejected {totals['rejected']}"
        )
        return 1 if totals["rejected"] or totals["conflict"] else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
