"""The access matrix: who may call what, for every endpoint of every service.

One row is (service, method, route, persona, expected status). The rows run against the real apps
(in-process, lifespans running: relays, consumers, the webhook sender) on records made in setup:
a tip in ward 00256 of province 01, a case, a victim, a program of ``ngo-a``, partners, a match...
A row that expects a 2xx sends a valid body; an action that changes state gets a fresh record.

Rules checked (the public contract): no token -> 401 except on the public endpoints; wrong role
-> 403; outside the jurisdiction -> 404 for reads of a record, 403 for actions. Plus: NGOs never
read tips or cases; a ward's officer does not see another ward's tip; a supervisor gets no personal
data; a partner's signature does not open another partner's inbound path.

``test_every_route_has_rows`` reads each app's OpenAPI: an endpoint without rows fails it.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.auth import issue_dev_token
from libs.common.jurisdiction import wards_of
from libs.common.webhooks import signed_headers
from services.casework.app import create_app as casework_app
from services.casework.settings import CaseworkSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.interagency.app import create_app as interagency_app
from services.interagency.settings import InteragencySettings
from services.notifications.app import create_app as notifications_app
from services.notifications.settings import NotificationsSettings
from services.outreach.app import create_app as outreach_app
from services.outreach.settings import OutreachSettings
from services.victim_support.app import create_app as victim_support_app
from services.victim_support.settings import VictimSupportSettings
from testkit import evidence
from testkit.intake import resident_key
from tests.acl import builders as b
from tests.integration.interagency.support import forget_partner, fresh_partner_code
from tests.support import bearer, eventually, running

pytestmark = [pytest.mark.acl, pytest.mark.integration]

WARD = b.HOME_WARD  # 00256, province 01
OTHER_WARD = next(w for w in wards_of("01") if w != WARD)  # another ward of province 01
FAR_WARD = wards_of("79")[0]  # a ward of another province

# Personas -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    role: str | None
    jurisdiction: tuple[str, ...] = ()
    org: str | None = None

    @property
    def label(self) -> str:
        if self.role is None:
            return "anonymous"
        where = "+".join(self.jurisdiction) or "-"
        return f"{self.role}@{where}" + (f"/{self.org}" if self.org else "")


ANON = Persona(None)
IO = Persona("intake_officer", ("01",))
IO_WARD = Persona("intake_officer", (WARD,))  # the tip's own ward
IO_OTHER = Persona("intake_officer", (OTHER_WARD,))  # another ward of the same province
IO_FAR = Persona("intake_officer", ("79",))
INV = Persona("investigator", ("01",))
INV_OTHER = Persona("investigator", (OTHER_WARD,))
INV_FAR = Persona("investigator", ("79",))
PROS = Persona("prosecutor", ("01",))
CLERK = Persona("court_clerk", ("01",))
SUP = Persona("supervisor", ("01",))
SUP_FAR = Persona("supervisor", ("79",))
SW = Persona("social_worker", ("01",))
SW_OTHER = Persona("social_worker", (OTHER_WARD,))
SW_FAR = Persona("social_worker", ("79",))
NGO_A = Persona("ngo", ("01",), "ngo-a")
NGO_B = Persona("ngo", ("01",), "ngo-b")
ADMIN = Persona("admin", ("01",))
AUDITOR = Persona("auditor", ("01",))

# Rows ---------------------------------------------------------------------------------------------

Body = Callable[["World"], Any] | None


@dataclass(frozen=True)
class Row:
    service: str
    method: str
    route: str  # the OpenAPI path
    persona: Persona
    expected: int
    body: Body = None
    ids: dict[str, str] = field(default_factory=dict)  # path param -> World key (override)
    query: str = ""
    xfail: str | None = None

    @property
    def id(self) -> str:
        query = f"?{self.query}" if self.query else ""
        ids = "".join(f":{k}={v}" for k, v in self.ids.items())
        where = f"{self.service}:{self.method} {self.route}{query}"
        return f"{where}:{self.persona.label}:{self.expected}{ids}"


# Which World record each path parameter names by default.
DEFAULT_IDS = {
    "tip_id": "tip",
    "missing_person_id": "mp",
    "case_id": "case",
    "ring_id": "ring",
    "victim_id": "victim",
    "program_id": "program",
    "code": "partner_a",
    "partner_code": "partner_a",
    "alert_id": "alert",
    "delivery_id": "failed_delivery",
    "match_id": "match",
    "link_id": "link_proposed",
    "attachment_id": "attachment",
    "evidence_id": "evidence",
    "external_id": "delivery",
    "notification_id": "notification",
}

IN, CW, VS, IA, OR = "intake", "casework", "victim_support", "interagency", "outreach"
NF = "notifications"


def r(
    service: str,
    method: str,
    route: str,
    persona: Persona,
    expected: int,
    body: Body = None,
    **kw: Any,
) -> Row:
    return Row(service, method, route, persona, expected, body, **kw)


def fresh(kind: str) -> dict[str, str]:
    """Path ids pointing at a record made for this row alone (a state-changing action)."""
    return {"tip_id": kind} if kind.startswith("tip") else {}


@dataclass(frozen=True)
class Upload:
    """A multipart body: form fields and one file."""

    data: dict[str, str]
    name: str = "notice.pdf"


def _upload(world: World, key: str | None = None) -> Upload:
    return Upload(_receipt(world, key) if key else {})


def _receipt(world: World, key: str = "receipt") -> dict[str, Any]:
    """The receipt code travels in the body, never in the path."""
    return {"receipt_code": world.ids[key]}


ROWS: list[Row] = [
    # intake: public endpoints work without a token ------------------------------------------
    r(IN, "POST", "/v1/tips", ANON, 201, lambda w: b.tip()),
    r(IN, "POST", "/v1/tips", IO, 201, lambda w: b.tip()),
    r(IN, "POST", "/v1/tips", IO_WARD, 201, lambda w: b.tip(OTHER_WARD)),  # anyone files anywhere
    r(IN, "POST", "/v1/missing-persons", ANON, 201, lambda w: b.missing_person()),
    r(IN, "POST", "/v1/missing-persons", IO, 201, lambda w: b.missing_person()),
    r(IN, "POST", "/v1/receipts/lookup", ANON, 200, lambda w: _receipt(w)),
    r(IN, "POST", "/v1/receipts/lookup", ANON, 404, lambda w: _receipt(w, "wrong_receipt")),
    r(IN, "POST", "/v1/receipts/messages", ANON, 201, lambda w: _receipt(w) | b.message()),
    # intake: reading tips (scoped; NGOs never)
    r(IN, "GET", "/v1/tips", IO, 200),
    r(IN, "GET", "/v1/tips", INV, 200),
    r(IN, "GET", "/v1/tips", SUP, 200),
    r(IN, "GET", "/v1/tips", NGO_A, 403),
    r(IN, "GET", "/v1/tips", SW, 403),
    r(IN, "GET", "/v1/tips", ANON, 401),
    r(IN, "GET", "/v1/tips/{tip_id}", IO, 200),
    r(IN, "GET", "/v1/tips/{tip_id}", IO_WARD, 200),
    r(IN, "GET", "/v1/tips/{tip_id}", INV, 200),
    r(IN, "GET", "/v1/tips/{tip_id}", SUP, 200),
    r(IN, "GET", "/v1/tips/{tip_id}", IO_OTHER, 404),
    r(IN, "GET", "/v1/tips/{tip_id}", IO_FAR, 404),
    r(IN, "GET", "/v1/tips/{tip_id}", NGO_A, 403),
    r(IN, "GET", "/v1/tips/{tip_id}", ANON, 401),
    # intake: acting on tips
    r(IN, "POST", "/v1/tips/{tip_id}/messages", IO, 201, lambda w: b.message()),
    r(IN, "POST", "/v1/tips/{tip_id}/messages", INV, 403, lambda w: b.message()),
    r(IN, "POST", "/v1/tips/{tip_id}/messages", IO_OTHER, 403, lambda w: b.message()),
    r(IN, "POST", "/v1/tips/{tip_id}/messages", ANON, 401, lambda w: b.message()),
    r(IN, "POST", "/v1/tips/{tip_id}/classification", IO, 200, lambda w: b.classification(),
      ids=fresh("tip_fresh")),
    r(IN, "POST", "/v1/tips/{tip_id}/classification", INV, 403, lambda w: b.classification()),
    r(IN, "POST", "/v1/tips/{tip_id}/classification", SUP, 403, lambda w: b.classification()),
    r(IN, "POST", "/v1/tips/{tip_id}/classification", IO_OTHER, 403, lambda w: b.classification()),
    r(IN, "POST", "/v1/tips/{tip_id}/classification", ANON, 401, lambda w: b.classification()),
    r(IN, "POST", "/v1/tips/{tip_id}/extension", IO, 200, lambda w: b.extension(),
      ids=fresh("tip_fresh")),
    r(IN, "POST", "/v1/tips/{tip_id}/extension", INV, 403, lambda w: b.extension()),
    r(IN, "POST", "/v1/tips/{tip_id}/extension", IO_OTHER, 403, lambda w: b.extension()),
    r(IN, "POST", "/v1/tips/{tip_id}/extension", ANON, 401, lambda w: b.extension()),
    # assignment (issue 18): the tip's intake officers and supervisors; the assignee is checked
    # against the directory, after access (422 only for a caller who may assign)
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", IO, 200, lambda w: b.tip_assignment(),
      ids=fresh("tip_fresh")),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", IO_WARD, 200, lambda w: b.tip_assignment(),
      ids=fresh("tip_fresh")),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", SUP, 200, lambda w: b.tip_assignment(),
      ids=fresh("tip_fresh")),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", IO, 422,
      lambda w: b.tip_assignment("officer-lc-1"), ids=fresh("tip_fresh")),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", IO_OTHER, 403, lambda w: b.tip_assignment()),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", IO_FAR, 403, lambda w: b.tip_assignment()),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", SUP_FAR, 403, lambda w: b.tip_assignment()),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", INV, 403, lambda w: b.tip_assignment()),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", PROS, 403, lambda w: b.tip_assignment()),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", CLERK, 403, lambda w: b.tip_assignment()),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", SW, 403, lambda w: b.tip_assignment()),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", NGO_A, 403, lambda w: b.tip_assignment()),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", ADMIN, 403, lambda w: b.tip_assignment()),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", AUDITOR, 403, lambda w: b.tip_assignment()),
    r(IN, "POST", "/v1/tips/{tip_id}/assignment", ANON, 401, lambda w: b.tip_assignment()),
    r(IN, "POST", "/v1/tips/{tip_id}/verification", IO, 200, lambda w: b.verification(),
      ids=fresh("tip_triaged")),
    r(IN, "POST", "/v1/tips/{tip_id}/verification", INV, 200, lambda w: b.verification(),
      ids=fresh("tip_triaged")),
    r(IN, "POST", "/v1/tips/{tip_id}/verification", SUP, 403, lambda w: b.verification()),
    r(IN, "POST", "/v1/tips/{tip_id}/verification", NGO_A, 403, lambda w: b.verification()),
    r(IN, "POST", "/v1/tips/{tip_id}/verification", IO_OTHER, 403, lambda w: b.verification(),
      ids=fresh("tip_triaged")),
    r(IN, "POST", "/v1/tips/{tip_id}/verification", ANON, 401, lambda w: b.verification()),
    # intake: missing persons
    r(IN, "GET", "/v1/missing-persons", IO, 200),
    r(IN, "GET", "/v1/missing-persons", SUP, 200),
    r(IN, "GET", "/v1/missing-persons", NGO_A, 403),
    r(IN, "GET", "/v1/missing-persons", ANON, 401),
    r(IN, "GET", "/v1/missing-persons/{missing_person_id}", IO, 200),
    r(IN, "GET", "/v1/missing-persons/{missing_person_id}", SUP, 200),
    r(IN, "GET", "/v1/missing-persons/{missing_person_id}", IO_OTHER, 404),
    r(IN, "GET", "/v1/missing-persons/{missing_person_id}", NGO_A, 403),
    r(IN, "GET", "/v1/missing-persons/{missing_person_id}", ANON, 401),
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/messages", IO, 201,
      lambda w: b.message()),
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/messages", INV, 201,
      lambda w: b.message()),
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/messages", SUP, 403,
      lambda w: b.message()),
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/messages", IO_OTHER, 403,
      lambda w: b.message()),
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/messages", ANON, 401,
      lambda w: b.message()),
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/resolution", IO, 200,
      lambda w: b.resolution(), ids={"missing_person_id": "mp_fresh"}),
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/resolution", SUP, 403,
      lambda w: b.resolution()),
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/resolution", IO_OTHER, 403,
      lambda w: b.resolution()),
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/resolution", ANON, 401,
      lambda w: b.resolution()),
    # the review before partners are alerted (issue 13, finding 8): intake officers of the place
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/review", IO, 200,
      lambda w: {"decision": "publish"}, ids={"missing_person_id": "mp_fresh"}),
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/review", INV, 403,
      lambda w: {"decision": "publish"}),
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/review", SUP, 403,
      lambda w: {"decision": "publish"}),
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/review", IO_OTHER, 403,
      lambda w: {"decision": "publish"}),
    r(IN, "POST", "/v1/missing-persons/{missing_person_id}/review", ANON, 401,
      lambda w: {"decision": "publish"}),
    # intake: evidence files (issue 17); NGOs and supervisors never reach a file
    r(IN, "POST", "/v1/receipts/attachments", ANON, 201, lambda w: _upload(w, "receipt")),
    r(IN, "POST", "/v1/receipts/attachments", ANON, 404, lambda w: _upload(w, "wrong_receipt")),
    r(IN, "POST", "/v1/tips/{tip_id}/attachments", IO, 201, _upload),
    r(IN, "POST", "/v1/tips/{tip_id}/attachments", IO_WARD, 201, _upload),
    r(IN, "POST", "/v1/tips/{tip_id}/attachments", INV, 201, _upload),
    r(IN, "POST", "/v1/tips/{tip_id}/attachments", IO_OTHER, 403, _upload),
    r(IN, "POST", "/v1/tips/{tip_id}/attachments", IO_FAR, 403, _upload),
    r(IN, "POST", "/v1/tips/{tip_id}/attachments", PROS, 403, _upload),
    r(IN, "POST", "/v1/tips/{tip_id}/attachments", SUP, 403, _upload),
    r(IN, "POST", "/v1/tips/{tip_id}/attachments", NGO_A, 403, _upload),
    r(IN, "POST", "/v1/tips/{tip_id}/attachments", ANON, 401, _upload),
    r(IN, "GET", "/v1/tips/{tip_id}/attachments", IO, 200),
    r(IN, "GET", "/v1/tips/{tip_id}/attachments", IO_WARD, 200),
    r(IN, "GET", "/v1/tips/{tip_id}/attachments", INV, 200),
    r(IN, "GET", "/v1/tips/{tip_id}/attachments", IO_OTHER, 404),
    r(IN, "GET", "/v1/tips/{tip_id}/attachments", INV_FAR, 404),
    r(IN, "GET", "/v1/tips/{tip_id}/attachments", PROS, 403),
    r(IN, "GET", "/v1/tips/{tip_id}/attachments", SUP, 403),
    r(IN, "GET", "/v1/tips/{tip_id}/attachments", NGO_A, 403),
    r(IN, "GET", "/v1/tips/{tip_id}/attachments", ANON, 401),
    r(IN, "GET", "/v1/attachments/{attachment_id}/content", IO, 200),
    r(IN, "GET", "/v1/attachments/{attachment_id}/content", IO_WARD, 200),
    r(IN, "GET", "/v1/attachments/{attachment_id}/content", INV, 200),
    r(IN, "GET", "/v1/attachments/{attachment_id}/content", PROS, 200),
    r(IN, "GET", "/v1/attachments/{attachment_id}/content", IO_OTHER, 404),
    r(IN, "GET", "/v1/attachments/{attachment_id}/content", INV_FAR, 404),
    r(IN, "GET", "/v1/attachments/{attachment_id}/content", CLERK, 403),
    r(IN, "GET", "/v1/attachments/{attachment_id}/content", SW, 403),
    r(IN, "GET", "/v1/attachments/{attachment_id}/content", SUP, 403),
    r(IN, "GET", "/v1/attachments/{attachment_id}/content", NGO_A, 403),
    r(IN, "GET", "/v1/attachments/{attachment_id}/content", ANON, 401),
    r(IN, "GET", "/v1/kpis", IO, 200),
    r(IN, "GET", "/v1/kpis", SUP, 200),
    r(IN, "GET", "/v1/kpis", IO_OTHER, 403, query=f"ward_code={WARD}"),
    r(IN, "GET", "/v1/kpis", NGO_A, 403),
    r(IN, "GET", "/v1/kpis", ANON, 401),
    # casework -------------------------------------------------------------------------------
    r(CW, "POST", "/v1/cases", INV, 201, lambda w: b.case()),
    r(CW, "POST", "/v1/cases", INV_OTHER, 403, lambda w: b.case()),
    r(CW, "POST", "/v1/cases", PROS, 403, lambda w: b.case()),
    r(CW, "POST", "/v1/cases", NGO_A, 403, lambda w: b.case()),
    r(CW, "POST", "/v1/cases", ANON, 401, lambda w: b.case()),
    r(CW, "GET", "/v1/cases", INV, 200),
    r(CW, "GET", "/v1/cases", PROS, 200),
    r(CW, "GET", "/v1/cases", CLERK, 200),
    r(CW, "GET", "/v1/cases", SUP, 200),
    r(CW, "GET", "/v1/cases", NGO_A, 403),
    r(CW, "GET", "/v1/cases", SW, 403),
    r(CW, "GET", "/v1/cases", ANON, 401),
    r(CW, "GET", "/v1/cases/{case_id}", INV, 200),
    r(CW, "GET", "/v1/cases/{case_id}", PROS, 200),
    r(CW, "GET", "/v1/cases/{case_id}", CLERK, 200),
    r(CW, "GET", "/v1/cases/{case_id}", SUP, 200),
    r(CW, "GET", "/v1/cases/{case_id}", INV_OTHER, 404),
    r(CW, "GET", "/v1/cases/{case_id}", INV_FAR, 404),
    r(CW, "GET", "/v1/cases/{case_id}", NGO_A, 403),
    r(CW, "GET", "/v1/cases/{case_id}", ANON, 401),
    r(CW, "POST", "/v1/cases/{case_id}/transitions", INV, 200, lambda w: b.initiate(),
      ids={"case_id": "case_fresh"}),
    r(CW, "POST", "/v1/cases/{case_id}/transitions", PROS, 403, lambda w: b.initiate(),
      ids={"case_id": "case_fresh"}),
    r(CW, "POST", "/v1/cases/{case_id}/transitions", SUP, 403, lambda w: b.initiate()),
    r(CW, "POST", "/v1/cases/{case_id}/transitions", NGO_A, 403, lambda w: b.initiate()),
    r(CW, "POST", "/v1/cases/{case_id}/transitions", INV_OTHER, 403, lambda w: b.initiate(),
      ids={"case_id": "case_fresh"}),
    r(CW, "POST", "/v1/cases/{case_id}/transitions", ANON, 401, lambda w: b.initiate()),
    r(CW, "POST", "/v1/cases/{case_id}/assignment", INV, 200, lambda w: b.assignment()),
    r(CW, "POST", "/v1/cases/{case_id}/assignment", SUP, 200, lambda w: b.assignment()),
    r(CW, "POST", "/v1/cases/{case_id}/assignment", INV, 422,
      lambda w: b.assignment("officer-hn-1")),  # an intake officer takes no case
    r(CW, "POST", "/v1/cases/{case_id}/assignment", PROS, 403, lambda w: b.assignment()),
    r(CW, "POST", "/v1/cases/{case_id}/assignment", CLERK, 403, lambda w: b.assignment()),
    r(CW, "POST", "/v1/cases/{case_id}/assignment", INV_OTHER, 403, lambda w: b.assignment()),
    r(CW, "POST", "/v1/cases/{case_id}/assignment", INV_FAR, 403, lambda w: b.assignment()),
    r(CW, "POST", "/v1/cases/{case_id}/assignment", SUP_FAR, 403, lambda w: b.assignment()),
    r(CW, "POST", "/v1/cases/{case_id}/assignment", NGO_A, 403, lambda w: b.assignment()),
    r(CW, "POST", "/v1/cases/{case_id}/assignment", SW, 403, lambda w: b.assignment()),
    r(CW, "POST", "/v1/cases/{case_id}/assignment", ANON, 401, lambda w: b.assignment()),
    r(CW, "POST", "/v1/cases/{case_id}/persons", INV, 201, lambda w: b.party()),
    r(CW, "POST", "/v1/cases/{case_id}/persons", PROS, 403, lambda w: b.party()),
    r(CW, "POST", "/v1/cases/{case_id}/persons", INV_OTHER, 403, lambda w: b.party()),
    r(CW, "POST", "/v1/cases/{case_id}/persons", ANON, 401, lambda w: b.party()),
    r(CW, "GET", "/v1/cases/{case_id}/related", INV, 200),
    r(CW, "GET", "/v1/cases/{case_id}/related", PROS, 403),
    r(CW, "GET", "/v1/cases/{case_id}/related", INV_OTHER, 404),
    r(CW, "GET", "/v1/cases/{case_id}/related", ANON, 401),
    r(CW, "POST", "/v1/rings", INV, 201, lambda w: b.ring([w.ids["case"]])),
    r(CW, "POST", "/v1/rings", SUP, 403, lambda w: b.ring()),
    r(CW, "POST", "/v1/rings", ANON, 401, lambda w: b.ring()),
    r(CW, "POST", "/v1/rings/{ring_id}/cases", INV, 200,
      lambda w: {"case_ids": [w.ids["case_other"]]}),
    r(CW, "POST", "/v1/rings/{ring_id}/cases", PROS, 403,
      lambda w: {"case_ids": [w.ids["case_other"]]}),
    r(CW, "POST", "/v1/rings/{ring_id}/cases", INV_FAR, 403,
      lambda w: {"case_ids": [w.ids["case_other"]]}),
    r(CW, "POST", "/v1/rings/{ring_id}/cases", ANON, 401,
      lambda w: {"case_ids": [w.ids["case_other"]]}),
    r(CW, "GET", "/v1/rings/{ring_id}", INV, 200),
    r(CW, "GET", "/v1/rings/{ring_id}", PROS, 403),
    r(CW, "GET", "/v1/rings/{ring_id}", INV_FAR, 404),
    r(CW, "GET", "/v1/rings/{ring_id}", ANON, 401),
    r(CW, "GET", "/v1/rings/{ring_id}/graph", INV, 200),
    r(CW, "GET", "/v1/rings/{ring_id}/graph", SUP, 403),
    r(CW, "GET", "/v1/rings/{ring_id}/graph", INV_FAR, 404),
    r(CW, "GET", "/v1/rings/{ring_id}/graph", ANON, 401),
    # casework: evidence files (issue 17); investigators and prosecutors of the case's place only
    r(CW, "POST", "/v1/cases/{case_id}/evidence", INV, 201, _upload),
    r(CW, "POST", "/v1/cases/{case_id}/evidence", PROS, 201, _upload),
    r(CW, "POST", "/v1/cases/{case_id}/evidence", INV_OTHER, 403, _upload),
    r(CW, "POST", "/v1/cases/{case_id}/evidence", INV_FAR, 403, _upload),
    r(CW, "POST", "/v1/cases/{case_id}/evidence", CLERK, 403, _upload),
    r(CW, "POST", "/v1/cases/{case_id}/evidence", SUP, 403, _upload),
    r(CW, "POST", "/v1/cases/{case_id}/evidence", SW, 403, _upload),
    r(CW, "POST", "/v1/cases/{case_id}/evidence", NGO_A, 403, _upload),
    r(CW, "POST", "/v1/cases/{case_id}/evidence", IO, 403, _upload),
    r(CW, "POST", "/v1/cases/{case_id}/evidence", ADMIN, 403, _upload),
    r(CW, "POST", "/v1/cases/{case_id}/evidence", AUDITOR, 403, _upload),
    r(CW, "POST", "/v1/cases/{case_id}/evidence", ANON, 401, _upload),
    r(CW, "GET", "/v1/cases/{case_id}/evidence", INV, 200),
    r(CW, "GET", "/v1/cases/{case_id}/evidence", PROS, 200),
    r(CW, "GET", "/v1/cases/{case_id}/evidence", INV_OTHER, 404),
    r(CW, "GET", "/v1/cases/{case_id}/evidence", INV_FAR, 404),
    r(CW, "GET", "/v1/cases/{case_id}/evidence", CLERK, 403),
    r(CW, "GET", "/v1/cases/{case_id}/evidence", SUP, 403),
    r(CW, "GET", "/v1/cases/{case_id}/evidence", SW, 403),
    r(CW, "GET", "/v1/cases/{case_id}/evidence", NGO_A, 403),
    r(CW, "GET", "/v1/cases/{case_id}/evidence", IO, 403),
    r(CW, "GET", "/v1/cases/{case_id}/evidence", ADMIN, 403),
    r(CW, "GET", "/v1/cases/{case_id}/evidence", AUDITOR, 403),
    r(CW, "GET", "/v1/cases/{case_id}/evidence", ANON, 401),
    r(CW, "GET", "/v1/evidence/{evidence_id}/content", INV, 200),
    r(CW, "GET", "/v1/evidence/{evidence_id}/content", PROS, 200),
    r(CW, "GET", "/v1/evidence/{evidence_id}/content", INV_OTHER, 404),
    r(CW, "GET", "/v1/evidence/{evidence_id}/content", INV_FAR, 404),
    r(CW, "GET", "/v1/evidence/{evidence_id}/content", CLERK, 403),
    r(CW, "GET", "/v1/evidence/{evidence_id}/content", SUP, 403),
    r(CW, "GET", "/v1/evidence/{evidence_id}/content", SW, 403),
    r(CW, "GET", "/v1/evidence/{evidence_id}/content", NGO_A, 403),
    r(CW, "GET", "/v1/evidence/{evidence_id}/content", IO, 403),
    r(CW, "GET", "/v1/evidence/{evidence_id}/content", ADMIN, 403),
    r(CW, "GET", "/v1/evidence/{evidence_id}/content", AUDITOR, 403),
    r(CW, "GET", "/v1/evidence/{evidence_id}/content", ANON, 401),
    r(CW, "GET", "/v1/kpis", INV, 200),
    r(CW, "GET", "/v1/kpis", SUP, 200),
    r(CW, "GET", "/v1/kpis", INV_OTHER, 403, query=f"ward_code={WARD}"),
    r(CW, "GET", "/v1/kpis", NGO_A, 403),
    r(CW, "GET", "/v1/kpis", ANON, 401),
    # victim_support -------------------------------------------------------------------------
    r(VS, "POST", "/v1/victims", SW, 201, lambda w: b.victim()),
    r(VS, "POST", "/v1/victims", SW_FAR, 403, lambda w: b.victim()),
    r(VS, "POST", "/v1/victims", SUP, 403, lambda w: b.victim()),
    r(VS, "POST", "/v1/victims", NGO_A, 403, lambda w: b.victim()),
    r(VS, "POST", "/v1/victims", ANON, 401, lambda w: b.victim()),
    r(VS, "GET", "/v1/victims", SW, 200),
    r(VS, "GET", "/v1/victims", SUP, 200),
    r(VS, "GET", "/v1/victims", NGO_A, 403),
    r(VS, "GET", "/v1/victims", IO, 403),
    r(VS, "GET", "/v1/victims", ANON, 401),
    r(VS, "GET", "/v1/victims/{victim_id}", SW, 200),
    r(VS, "GET", "/v1/victims/{victim_id}", SUP, 200),
    r(VS, "GET", "/v1/victims/{victim_id}", SW_OTHER, 404),
    r(VS, "GET", "/v1/victims/{victim_id}", SW_FAR, 404),
    r(VS, "GET", "/v1/victims/{victim_id}", NGO_A, 403),
    r(VS, "GET", "/v1/victims/{victim_id}", ANON, 401),
    r(VS, "POST", "/v1/victims/{victim_id}/identification", SW, 200, lambda w: b.identification(),
      ids={"victim_id": "victim_fresh"}),
    r(VS, "POST", "/v1/victims/{victim_id}/identification", SUP, 403,
      lambda w: b.identification()),
    r(VS, "POST", "/v1/victims/{victim_id}/identification", SW_FAR, 403,
      lambda w: b.identification(), ids={"victim_id": "victim_fresh"}),
    r(VS, "POST", "/v1/victims/{victim_id}/identification", ANON, 401,
      lambda w: b.identification()),
    r(VS, "POST", "/v1/victims/{victim_id}/protection", SW, 200, lambda w: b.protection(),
      ids={"victim_id": "victim_fresh"}),
    r(VS, "POST", "/v1/victims/{victim_id}/protection", SUP, 403, lambda w: b.protection()),
    r(VS, "POST", "/v1/victims/{victim_id}/protection", SW_FAR, 403, lambda w: b.protection()),
    r(VS, "POST", "/v1/victims/{victim_id}/protection", ANON, 401, lambda w: b.protection()),
    r(VS, "POST", "/v1/victims/{victim_id}/consents", SW, 201, lambda w: b.consent()),
    r(VS, "POST", "/v1/victims/{victim_id}/consents", NGO_A, 403, lambda w: b.consent()),
    r(VS, "POST", "/v1/victims/{victim_id}/consents", SW_FAR, 403, lambda w: b.consent()),
    r(VS, "POST", "/v1/victims/{victim_id}/consents", ANON, 401, lambda w: b.consent()),
    r(VS, "POST", "/v1/victims/{victim_id}/supports", SW, 201, lambda w: b.support()),
    r(VS, "POST", "/v1/victims/{victim_id}/supports", NGO_A, 201,
      lambda w: b.support("ngo-a", w.ids["program"])),
    r(VS, "POST", "/v1/victims/{victim_id}/supports", NGO_B, 403,
      lambda w: b.support("ngo-a", w.ids["program"])),
    r(VS, "POST", "/v1/victims/{victim_id}/supports", SUP, 403, lambda w: b.support()),
    r(VS, "POST", "/v1/victims/{victim_id}/supports", SW_FAR, 403, lambda w: b.support()),
    r(VS, "POST", "/v1/victims/{victim_id}/supports", ANON, 401, lambda w: b.support()),
    r(VS, "POST", "/v1/victims/{victim_id}/reintegration", SW, 200, lambda w: b.reintegration(),
      ids={"victim_id": "victim_identified"}),
    r(VS, "POST", "/v1/victims/{victim_id}/reintegration", SUP, 403,
      lambda w: b.reintegration()),
    r(VS, "POST", "/v1/victims/{victim_id}/reintegration", SW_FAR, 403,
      lambda w: b.reintegration(), ids={"victim_id": "victim_identified"}),
    r(VS, "POST", "/v1/victims/{victim_id}/reintegration", ANON, 401,
      lambda w: b.reintegration()),
    r(VS, "POST", "/v1/programs", ADMIN, 201, lambda w: b.program("ngo-c")),
    r(VS, "POST", "/v1/programs", NGO_A, 201, lambda w: b.program("ngo-a")),
    r(VS, "POST", "/v1/programs", NGO_B, 403, lambda w: b.program("ngo-a")),
    r(VS, "POST", "/v1/programs", SW, 403, lambda w: b.program()),
    r(VS, "POST", "/v1/programs", ANON, 401, lambda w: b.program()),
    r(VS, "GET", "/v1/programs", ADMIN, 200),
    r(VS, "GET", "/v1/programs", NGO_A, 200),
    r(VS, "GET", "/v1/programs", SW, 403),
    r(VS, "GET", "/v1/programs", SUP, 403),
    r(VS, "GET", "/v1/programs", ANON, 401),
    r(VS, "GET", "/v1/programs/{program_id}", ADMIN, 200),
    r(VS, "GET", "/v1/programs/{program_id}", NGO_A, 200),
    r(VS, "GET", "/v1/programs/{program_id}", NGO_B, 404),
    r(VS, "GET", "/v1/programs/{program_id}", SW, 403),
    r(VS, "GET", "/v1/programs/{program_id}", ANON, 401),
    r(VS, "GET", "/v1/programs/{program_id}/report", ADMIN, 200),
    r(VS, "GET", "/v1/programs/{program_id}/report", NGO_A, 200),
    r(VS, "GET", "/v1/programs/{program_id}/report", SUP, 200),
    r(VS, "GET", "/v1/programs/{program_id}/report", NGO_B, 404),
    r(VS, "GET", "/v1/programs/{program_id}/report", SW, 403),
    r(VS, "GET", "/v1/programs/{program_id}/report", ANON, 401),
    r(VS, "POST", "/v1/programs/{program_id}/enrollments", NGO_A, 201,
      lambda w: b.enrollment(w.ids["victim_consented"])),
    r(VS, "POST", "/v1/programs/{program_id}/enrollments", NGO_B, 404,
      lambda w: b.enrollment(w.ids["victim_consented"])),
    r(VS, "POST", "/v1/programs/{program_id}/enrollments", SW, 403,
      lambda w: b.enrollment(w.ids["victim_consented"])),
    r(VS, "POST", "/v1/programs/{program_id}/enrollments", ANON, 401,
      lambda w: b.enrollment(w.ids["victim_consented"])),
    r(VS, "POST", "/v1/programs/{program_id}/deliveries:batch", NGO_A, 207,
      lambda w: b.deliveries(w.ids["victim"])),
    r(VS, "POST", "/v1/programs/{program_id}/deliveries:batch", NGO_B, 404,
      lambda w: b.deliveries(w.ids["victim"])),
    r(VS, "POST", "/v1/programs/{program_id}/deliveries:batch", SW, 403,
      lambda w: b.deliveries(w.ids["victim"])),
    r(VS, "POST", "/v1/programs/{program_id}/deliveries:batch", ANON, 401,
      lambda w: b.deliveries(w.ids["victim"])),
    r(VS, "PUT", "/v1/programs/{program_id}/deliveries/{external_id}", NGO_A, 200,
      lambda w: b.delivery_correction()),
    r(VS, "PUT", "/v1/programs/{program_id}/deliveries/{external_id}", NGO_B, 404,
      lambda w: b.delivery_correction()),
    r(VS, "PUT", "/v1/programs/{program_id}/deliveries/{external_id}", ADMIN, 403,
      lambda w: b.delivery_correction()),
    r(VS, "PUT", "/v1/programs/{program_id}/deliveries/{external_id}", SW, 403,
      lambda w: b.delivery_correction()),
    r(VS, "PUT", "/v1/programs/{program_id}/deliveries/{external_id}", ANON, 401,
      lambda w: b.delivery_correction()),
    r(VS, "GET", "/v1/kpis", SW, 200),
    r(VS, "GET", "/v1/kpis", SUP, 200),
    r(VS, "GET", "/v1/kpis", SW_OTHER, 403, query=f"ward_code={WARD}"),
    r(VS, "GET", "/v1/kpis", NGO_A, 403),
    r(VS, "GET", "/v1/kpis", ANON, 401),
    # linking two offices' records of one person (issue 13, High 2)
    r(VS, "POST", "/v1/victims/{victim_id}/links", SW, 201, lambda w: b.link_proposal(),
      ids={"victim_id": "victim_fresh"}),
    r(VS, "POST", "/v1/victims/{victim_id}/links", SW_FAR, 403, lambda w: b.link_proposal()),
    r(VS, "POST", "/v1/victims/{victim_id}/links", SUP, 403, lambda w: b.link_proposal()),
    r(VS, "POST", "/v1/victims/{victim_id}/links", NGO_A, 403, lambda w: b.link_proposal()),
    r(VS, "POST", "/v1/victims/{victim_id}/links", ANON, 401, lambda w: b.link_proposal()),
    r(VS, "POST", "/v1/victim-links/{link_id}/decision", SW, 200, lambda w: b.link_decision()),
    r(VS, "POST", "/v1/victim-links/{link_id}/decision", SW_OTHER, 404,
      lambda w: b.link_decision()),
    r(VS, "POST", "/v1/victim-links/{link_id}/decision", SW_FAR, 404, lambda w: b.link_decision()),
    r(VS, "POST", "/v1/victim-links/{link_id}/decision", SUP, 403, lambda w: b.link_decision()),
    r(VS, "POST", "/v1/victim-links/{link_id}/decision", ANON, 401, lambda w: b.link_decision()),
    r(VS, "GET", "/v1/victim-links", SW, 200),
    r(VS, "GET", "/v1/victim-links", SUP, 403),
    r(VS, "GET", "/v1/victim-links", NGO_A, 403),
    r(VS, "GET", "/v1/victim-links", ANON, 401),
    # interagency ----------------------------------------------------------------------------
    r(IA, "POST", "/v1/partners", ADMIN, 201, lambda w: b.partner(w.new_partner_code())),
    r(IA, "POST", "/v1/partners", IO, 403, lambda w: b.partner("02")),
    r(IA, "POST", "/v1/partners", ANON, 401, lambda w: b.partner("02")),
    r(IA, "GET", "/v1/partners", ADMIN, 200),
    r(IA, "GET", "/v1/partners", SUP, 403),
    r(IA, "GET", "/v1/partners", ANON, 401),
    r(IA, "GET", "/v1/partners/{code}", ADMIN, 200),
    r(IA, "GET", "/v1/partners/{code}", IO, 403),
    r(IA, "GET", "/v1/partners/{code}", ANON, 401),
    r(IA, "PATCH", "/v1/partners/{code}", ADMIN, 200, lambda w: b.partner_update()),
    r(IA, "PATCH", "/v1/partners/{code}", IO, 403, lambda w: b.partner_update()),
    r(IA, "PATCH", "/v1/partners/{code}", ANON, 401, lambda w: b.partner_update()),
    r(IA, "POST", "/v1/partners/{code}/rotate-secret", ADMIN, 200, lambda w: {},
      ids={"code": "partner_spare"}),
    r(IA, "POST", "/v1/partners/{code}/rotate-secret", IO, 403, lambda w: {}),
    r(IA, "POST", "/v1/partners/{code}/rotate-secret", ANON, 401, lambda w: {}),
    r(IA, "POST", "/v1/partners/{code}/revoke-secret", ADMIN, 200, lambda w: {},
      ids={"code": "partner_spare"}),
    r(IA, "POST", "/v1/partners/{code}/revoke-secret", IO, 403, lambda w: {}),
    r(IA, "POST", "/v1/partners/{code}/revoke-secret", ANON, 401, lambda w: {}),
    r(IA, "POST", "/v1/partners/{code}/disable", ADMIN, 200, lambda w: {},
      ids={"code": "partner_spare"}),
    r(IA, "POST", "/v1/partners/{code}/disable", IO, 403, lambda w: {}),
    r(IA, "POST", "/v1/partners/{code}/disable", ANON, 401, lambda w: {}),
    r(IA, "POST", "/v1/partners/{code}/enable", ADMIN, 200, ids={"code": "partner_spare"}),
    r(IA, "POST", "/v1/partners/{code}/enable", IO, 403),
    r(IA, "POST", "/v1/partners/{code}/enable", ANON, 401),
    # inbound: signed by the path's partner -> 202; by another partner or unsigned -> 401
    r(IA, "POST", "/v1/inbound/{partner_code}", ANON, 202, ids={"partner_code": "signed:a->a"}),
    r(IA, "POST", "/v1/inbound/{partner_code}", ANON, 401, ids={"partner_code": "signed:a->b"}),
    r(IA, "POST", "/v1/inbound/{partner_code}", ANON, 401, ids={"partner_code": "unsigned:a"}),
    r(IA, "POST", "/v1/inbound/{partner_code}", ADMIN, 401, ids={"partner_code": "unsigned:a"}),
    r(IA, "POST", "/v1/alerts", IO, 201, lambda w: b.suspect_alert(w.ids["partner_a"])),
    r(IA, "POST", "/v1/alerts", INV, 201, lambda w: b.suspect_alert(w.ids["partner_a"])),
    r(IA, "POST", "/v1/alerts", SUP, 403, lambda w: b.suspect_alert(w.ids["partner_a"])),
    r(IA, "POST", "/v1/alerts", NGO_A, 403, lambda w: b.suspect_alert(w.ids["partner_a"])),
    r(IA, "POST", "/v1/alerts", ANON, 401, lambda w: b.suspect_alert(w.ids["partner_a"])),
    r(IA, "GET", "/v1/alerts", IO, 200),
    r(IA, "GET", "/v1/alerts", SUP, 200),
    r(IA, "GET", "/v1/alerts", NGO_A, 403),
    r(IA, "GET", "/v1/alerts", ANON, 401),
    r(IA, "GET", "/v1/alerts/{alert_id}", IO, 200),
    r(IA, "GET", "/v1/alerts/{alert_id}", SUP, 200),
    r(IA, "GET", "/v1/alerts/{alert_id}", NGO_A, 403),
    r(IA, "GET", "/v1/alerts/{alert_id}", ANON, 401),
    r(IA, "GET", "/v1/alerts/{alert_id}", IO_FAR, 404, ids={"alert_id": "alert_about_mp"}),
    # an officer's own alert belongs to their office (issue 13, finding 3)
    r(IA, "GET", "/v1/alerts/{alert_id}", IO, 200, ids={"alert_id": "alert_out"}),
    r(IA, "GET", "/v1/alerts/{alert_id}", SUP, 200, ids={"alert_id": "alert_out"}),
    r(IA, "GET", "/v1/alerts/{alert_id}", IO_FAR, 404, ids={"alert_id": "alert_out"}),
    r(IA, "GET", "/v1/alerts/{alert_id}", SUP_FAR, 404, ids={"alert_id": "alert_out"}),
    r(IA, "POST", "/v1/bulletins", IO, 201, lambda w: b.bulletin(w.ids["partner_a"])),
    r(IA, "POST", "/v1/bulletins", SUP, 403, lambda w: b.bulletin(w.ids["partner_a"])),
    r(IA, "POST", "/v1/bulletins", ANON, 401, lambda w: b.bulletin(w.ids["partner_a"])),
    r(IA, "GET", "/v1/bulletins", SUP, 200),
    r(IA, "GET", "/v1/bulletins", IO, 200),
    r(IA, "GET", "/v1/bulletins", NGO_A, 403),
    r(IA, "GET", "/v1/bulletins", ANON, 401),
    r(IA, "GET", "/v1/deliveries", ADMIN, 200, query="status=failed"),
    r(IA, "GET", "/v1/deliveries", IO, 403),
    r(IA, "GET", "/v1/deliveries", ANON, 401),
    # bulk replay: a filter that takes nothing here, so the failed delivery above stays failed
    r(IA, "POST", "/v1/deliveries/replay", ADMIN, 200, lambda w: b.nothing_to_replay()),
    r(IA, "POST", "/v1/deliveries/replay", IO, 403, lambda w: b.nothing_to_replay()),
    r(IA, "POST", "/v1/deliveries/replay", SUP, 403, lambda w: b.nothing_to_replay()),
    r(IA, "POST", "/v1/deliveries/replay", NGO_A, 403, lambda w: b.nothing_to_replay()),
    r(IA, "POST", "/v1/deliveries/replay", ANON, 401, lambda w: b.nothing_to_replay()),
    r(IA, "POST", "/v1/deliveries/{delivery_id}/replay", ADMIN, 200),
    r(IA, "POST", "/v1/deliveries/{delivery_id}/replay", IO, 403),
    r(IA, "POST", "/v1/deliveries/{delivery_id}/replay", ANON, 401),
    r(IA, "GET", "/v1/matches", IO, 200),
    r(IA, "GET", "/v1/matches", INV, 403),
    r(IA, "GET", "/v1/matches", SUP, 403),
    r(IA, "GET", "/v1/matches", ANON, 401),
    r(IA, "POST", "/v1/matches/{match_id}/decision", IO_FAR, 403, lambda w: b.decision()),
    r(IA, "POST", "/v1/matches/{match_id}/decision", INV, 403, lambda w: b.decision()),
    r(IA, "POST", "/v1/matches/{match_id}/decision", ANON, 401, lambda w: b.decision()),
    r(IA, "POST", "/v1/matches/{match_id}/decision", IO, 200, lambda w: b.decision()),
    r(IA, "GET", "/v1/kpis", SUP, 200),
    r(IA, "GET", "/v1/kpis", IO, 200),
    r(IA, "GET", "/v1/kpis", NGO_A, 403),
    r(IA, "GET", "/v1/kpis", ANON, 401),
    # outreach -------------------------------------------------------------------------------
    r(OR, "POST", "/v1/campaigns", ADMIN, 201, lambda w: b.campaign()),
    r(OR, "POST", "/v1/campaigns", SW, 201, lambda w: b.campaign(WARD)),
    r(OR, "POST", "/v1/campaigns", SW_FAR, 403, lambda w: b.campaign()),
    r(OR, "POST", "/v1/campaigns", SUP, 403, lambda w: b.campaign()),
    r(OR, "POST", "/v1/campaigns", ANON, 401, lambda w: b.campaign()),
    r(OR, "GET", "/v1/campaigns", SUP, 200),
    r(OR, "GET", "/v1/campaigns", IO, 200),
    r(OR, "GET", "/v1/campaigns", AUDITOR, 200),
    r(OR, "GET", "/v1/campaigns", NGO_A, 403),
    r(OR, "GET", "/v1/campaigns", ANON, 401),
    r(OR, "POST", "/v1/activities", SW, 201, lambda w: b.activity()),
    r(OR, "POST", "/v1/activities", SW_FAR, 403, lambda w: b.activity()),
    r(OR, "POST", "/v1/activities", SUP, 403, lambda w: b.activity()),
    r(OR, "POST", "/v1/activities", ANON, 401, lambda w: b.activity()),
    r(OR, "GET", "/v1/activities", SUP, 200),
    r(OR, "GET", "/v1/activities", NGO_A, 403),
    r(OR, "GET", "/v1/activities", ANON, 401),
    r(OR, "PUT", "/v1/wards/{code}/population", SW, 200, lambda w: b.population(),
      ids={"code": "ward"}),
    r(OR, "PUT", "/v1/wards/{code}/population", SW_FAR, 403, lambda w: b.population(),
      ids={"code": "ward"}),
    r(OR, "PUT", "/v1/wards/{code}/population", SUP, 403, lambda w: b.population(),
      ids={"code": "ward"}),
    r(OR, "PUT", "/v1/wards/{code}/population", ANON, 401, lambda w: b.population(),
      ids={"code": "ward"}),
    r(OR, "POST", "/v1/commendations", SW, 201, lambda w: b.commendation()),
    r(OR, "POST", "/v1/commendations", SW_FAR, 403, lambda w: b.commendation()),
    r(OR, "POST", "/v1/commendations", SUP, 403, lambda w: b.commendation()),
    r(OR, "POST", "/v1/commendations", ANON, 401, lambda w: b.commendation()),
    r(OR, "GET", "/v1/target-groups", SUP, 200),
    r(OR, "GET", "/v1/target-groups", NGO_A, 403),
    r(OR, "GET", "/v1/target-groups", ANON, 401),
    r(OR, "PUT", "/v1/target-groups/{code}", ADMIN, 200, lambda w: b.target_group(),
      ids={"code": "target_group"}),
    r(OR, "PUT", "/v1/target-groups/{code}", SW, 403, lambda w: b.target_group(),
      ids={"code": "target_group"}),
    r(OR, "PUT", "/v1/target-groups/{code}", ANON, 401, lambda w: b.target_group(),
      ids={"code": "target_group"}),
    r(OR, "GET", "/v1/kpis", SUP, 200),
    r(OR, "GET", "/v1/kpis", SW, 200),
    r(OR, "GET", "/v1/kpis", NGO_A, 403),
    r(OR, "GET", "/v1/kpis", ANON, 401),
    r(OR, "GET", "/v1/reports/plan", SUP, 200, query="period=2026-Q3&jurisdiction=01"),
    r(OR, "GET", "/v1/reports/plan", ADMIN, 200, query="period=2026-Q3&jurisdiction=01"),
    r(OR, "GET", "/v1/reports/plan", SUP_FAR, 403, query="period=2026-Q3&jurisdiction=01"),
    r(OR, "GET", "/v1/reports/plan", SW, 403, query="period=2026-Q3&jurisdiction=01"),
    r(OR, "GET", "/v1/reports/plan", ANON, 401, query="period=2026-Q3&jurisdiction=01"),
    r(OR, "GET", "/dashboard", ANON, 200),
    r(OR, "GET", "/dashboard/config.json", ANON, 200),
    # notifications: every officer role, each only their own (every persona here is dev-user)
    r(NF, "GET", "/v1/notifications", IO, 200),
    r(NF, "GET", "/v1/notifications", INV, 200),
    r(NF, "GET", "/v1/notifications", PROS, 200),
    r(NF, "GET", "/v1/notifications", CLERK, 200),
    r(NF, "GET", "/v1/notifications", SW, 200),
    r(NF, "GET", "/v1/notifications", SUP, 200),
    r(NF, "GET", "/v1/notifications", ADMIN, 200),
    r(NF, "GET", "/v1/notifications", AUDITOR, 200),
    r(NF, "GET", "/v1/notifications", NGO_A, 403),
    r(NF, "GET", "/v1/notifications", ANON, 401),
    r(NF, "POST", "/v1/notifications/{notification_id}/read", IO, 200),
    r(NF, "POST", "/v1/notifications/{notification_id}/read", SUP, 200),
    r(NF, "POST", "/v1/notifications/{notification_id}/read", IO, 404,
      ids={"notification_id": "notification_other"}),  # someone else's
    r(NF, "POST", "/v1/notifications/{notification_id}/read", NGO_A, 403),
    r(NF, "POST", "/v1/notifications/{notification_id}/read", ANON, 401),
    r(NF, "GET", "/v1/notifications/stream", IO, 200),
    r(NF, "GET", "/v1/notifications/stream", SW, 200),
    r(NF, "GET", "/v1/notifications/stream", NGO_A, 403),
    r(NF, "GET", "/v1/notifications/stream", ANON, 401),
    r(NF, "GET", "/v1/notifications/preferences", IO, 200),
    r(NF, "GET", "/v1/notifications/preferences", AUDITOR, 200),
    r(NF, "GET", "/v1/notifications/preferences", NGO_A, 403),
    r(NF, "GET", "/v1/notifications/preferences", ANON, 401),
    r(NF, "PUT", "/v1/notifications/preferences", IO, 200, lambda w: b.preferences()),
    r(NF, "PUT", "/v1/notifications/preferences", CLERK, 200, lambda w: b.preferences()),
    r(NF, "PUT", "/v1/notifications/preferences", NGO_A, 403, lambda w: b.preferences()),
    r(NF, "PUT", "/v1/notifications/preferences", ANON, 401, lambda w: b.preferences()),
    # the channels' administration: admins only (failed deliveries, the provinces' gateways)
    *(r(NF, "GET", "/v1/notification-deliveries", p, e)
      for p, e in ((ADMIN, 200), (SUP, 403), (IO, 403), (AUDITOR, 403), (NGO_A, 403), (ANON, 401))),
    *(r(NF, "POST", "/v1/notification-deliveries/{delivery_id}/replay", p, e,
        ids={"delivery_id": "notification_failed_delivery"})
      for p, e in ((ADMIN, 200), (SUP, 403), (IO, 403), (AUDITOR, 403), (NGO_A, 403), (ANON, 401))),
    r(NF, "POST", "/v1/notification-deliveries/{delivery_id}/replay", ADMIN, 404,
      ids={"delivery_id": "notification"}),  # not a delivery's id
    *(r(NF, "GET", "/v1/notification-endpoints", p, e)
      for p, e in ((ADMIN, 200), (SUP, 403), (IO, 403), (AUDITOR, 403), (NGO_A, 403), (ANON, 401))),
    *(r(NF, "PUT", "/v1/notification-endpoints/{province_code}", p, e,
        lambda w: b.notification_endpoint(), ids={"province_code": "province"})
      for p, e in ((ADMIN, 200), (SUP, 403), (IO, 403), (AUDITOR, 403), (NGO_A, 403), (ANON, 401))),
    r(NF, "GET", "/v1/kpis", SUP, 200),
    r(NF, "GET", "/v1/kpis", IO, 200),
    r(NF, "GET", "/v1/kpis", NGO_A, 403),
    r(NF, "GET", "/v1/kpis", ANON, 401),
]  # fmt: skip
for _service in (IN, CW, VS, IA, OR, NF):
    ROWS += [r(_service, "GET", "/healthz", ANON, 200), r(_service, "GET", "/readyz", ANON, 200)]

# The endpoints the contract opens to everyone (filing, receipts) plus operations and the dashboard.
PUBLIC = {
    (IN, "POST", "/v1/tips"),
    (IN, "POST", "/v1/missing-persons"),
    (IN, "POST", "/v1/receipts/lookup"),
    (IN, "POST", "/v1/receipts/messages"),
    (IN, "POST", "/v1/receipts/attachments"),
    (IA, "POST", "/v1/inbound/{partner_code}"),  # signed, not a bearer token
    (OR, "GET", "/dashboard"),
    (OR, "GET", "/dashboard/config.json"),
    *((s, "GET", p) for s in (IN, CW, VS, IA, OR, NF) for p in ("/healthz", "/readyz")),
}

# The apps and the world -------------------------------------------------------------------------

FACTORIES: dict[str, tuple[Callable[[Any], Any], type[Any], dict[str, Any]]] = {
    IN: (intake_app, IntakeSettings, {"anonymous_filings_per_hour": 10_000}),
    CW: (casework_app, CaseworkSettings, {}),
    VS: (victim_support_app, VictimSupportSettings, {}),
    IA: (
        interagency_app,
        InteragencySettings,
        {
            "retry_schedule_seconds": [0.1],
            "retry_jitter": 0.0,
            "delivery_poll_seconds": 0.1,
            "delivery_timeout_seconds": 1.0,
        },
    ),
    OR: (outreach_app, OutreachSettings, {}),
    # A stream that ends soon: the in-process transport reads a response to its end.
    NF: (notifications_app, NotificationsSettings, {"stream_max_seconds": 0.5}),
}


class RoutingTransport(httpx.AsyncBaseTransport):
    """Outreach's plan report calls the other services' /v1/kpis: route them in-process."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.transports = {name: httpx.ASGITransport(app=app) for name, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.transports[request.url.host].handle_async_request(request)


@dataclass
class World:
    clients: dict[str, httpx.AsyncClient]
    settings: dict[str, Any]
    ids: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    partner_codes: list[str] = field(default_factory=list)

    def auth(self, persona: Persona) -> dict[str, str]:
        if persona.role is None:  # a residents' app: no token, a fresh random key on every call
            return resident_key()
        return bearer(self.settings[IN], persona.role, *persona.jurisdiction, org=persona.org)

    async def call(
        self, service: str, method: str, url: str, persona: Persona, body: Any = None
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {"headers": self.auth(persona)}
        if isinstance(body, Upload):
            kwargs["data"] = body.data
            kwargs["files"] = {"file": (body.name, evidence.pdf_with_author(), "application/pdf")}
        elif body is not None:
            kwargs["json"] = body
        return await self.clients[service].request(method, url, **kwargs)

    async def make(
        self, service: str, url: str, persona: Persona, body: Any, status: int = 201
    ) -> dict[str, Any]:
        response = await self.call(service, "POST", url, persona, body)
        assert response.status_code == status, f"setup {url}: {response.text}"
        made: dict[str, Any] = response.json()
        return made

    def new_partner_code(self) -> str:
        code = fresh_partner_code()
        self.partner_codes.append(code)
        return code

    async def partner(self) -> str:
        code = self.new_partner_code()
        created = await self.make(IA, "/v1/partners", ADMIN, b.partner(code))
        self.secrets[code] = created["inbound_secret"]
        return code

    async def signed_inbound(
        self, signer: str, target: str, *, sign: bool = True
    ) -> httpx.Response:
        raw = json.dumps(b.person_found_event(signer)).encode()
        headers = {"content-type": "application/cloudevents+json"}
        if sign:
            headers |= signed_headers(
                [self.secrets[signer]], f"msg_{uuid.uuid4().hex}", int(time.time()), raw
            )
        return await self.clients[IA].post(f"/v1/inbound/{target}", content=raw, headers=headers)

    async def link_proposed(self) -> str:
        """A link proposed by an office of province 79 to a record of WARD: a colleague of
        another sub proposes, so that the deciding persona is not the proposer."""
        mine = await self.make(VS, "/v1/victims", SW, b.victim())
        far = await self.make(VS, "/v1/victims", SW_FAR, b.victim(FAR_WARD))
        token = issue_dev_token(
            self.settings[IN], roles=["social_worker"], jurisdiction=["79"], sub="acl-proposer"
        )
        response = await self.clients[VS].post(
            f"/v1/victims/{far['id']}/links",
            headers={"Authorization": f"Bearer {token}"},
            json={"other_victim_id": mine["id"]},
        )
        assert response.status_code == 201, f"setup link: {response.text}"
        return str(response.json()["id"])

    async def fresh(self, key: str) -> str:
        """A record for one row, in the state its action needs."""
        if key.startswith("tip_"):
            tip = await self.make(IN, "/v1/tips", IO, b.tip())
            if key == "tip_triaged":
                await self.make(IN, f"/v1/tips/{tip['id']}/classification", IO,
                                b.classification(), 200)  # fmt: skip
            return str(tip["id"])
        if key == "mp_fresh":
            return str((await self.make(IN, "/v1/missing-persons", IO, b.missing_person()))["id"])
        if key == "case_fresh":
            return str((await self.make(CW, "/v1/cases", INV, b.case()))["id"])
        if key == "link_proposed":
            return await self.link_proposed()
        if key.startswith("victim_"):
            victim = await self.make(VS, "/v1/victims", SW, b.victim())
            if key == "victim_identified":
                await self.make(VS, f"/v1/victims/{victim['id']}/identification", SW,
                                b.identification(), 200)  # fmt: skip
            return str(victim["id"])
        return self.ids[key]


async def _build_world(world: World) -> None:
    ids = world.ids
    tip = await world.make(IN, "/v1/tips", IO, b.tip())
    ids["tip"], ids["receipt"] = tip["id"], tip["receipt_code"]
    ids["wrong_receipt"] = "0" * 16
    uploaded = await world.call(IN, "POST", f"/v1/tips/{tip['id']}/attachments", IO, Upload({}))
    assert uploaded.status_code == 201, f"setup attachment: {uploaded.text}"
    ids["attachment"] = uploaded.json()["id"]
    # Filed by an officer of the place, published at once: partners are alerted.
    mp = await world.make(IN, "/v1/missing-persons", IO, b.missing_person() | {"publish": True})
    ids["mp"] = mp["id"]

    ids["case"] = (await world.make(CW, "/v1/cases", INV, b.case()))["id"]
    ids["case_other"] = (await world.make(CW, "/v1/cases", INV, b.case()))["id"]
    await world.make(CW, f"/v1/cases/{ids['case']}/persons", INV, b.party())
    filed = await world.make(CW, f"/v1/cases/{ids['case']}/evidence", INV, Upload({}))
    ids["evidence"] = filed["id"]
    ids["ring"] = (await world.make(CW, "/v1/rings", INV, b.ring([ids["case"]])))["id"]

    ids["victim"] = (await world.make(VS, "/v1/victims", SW, b.victim()))["id"]
    ids["victim_consented"] = (await world.make(VS, "/v1/victims", SW, b.victim()))["id"]
    for victim in (ids["victim"], ids["victim_consented"]):
        await world.make(VS, f"/v1/victims/{victim}/consents", SW, b.consent("ngo-a"))
    ids["program"] = (await world.make(VS, "/v1/programs", NGO_A, b.program("ngo-a")))["id"]
    await world.make(
        VS, f"/v1/programs/{ids['program']}/enrollments", NGO_A, b.enrollment(ids["victim"])
    )
    delivered = await world.make(
        VS, f"/v1/programs/{ids['program']}/deliveries:batch", NGO_A, b.deliveries(ids["victim"]),
        207,
    )  # fmt: skip
    ids["delivery"] = delivered["results"][0]["external_id"]

    ids["partner_a"] = await world.partner()
    ids["partner_b"] = await world.partner()
    ids["partner_spare"] = await world.partner()
    ids["alert"] = (await world.make(IA, "/v1/bulletins", IO, b.bulletin(ids["partner_a"])))["id"]
    sent = await world.make(IA, "/v1/alerts", IO, b.suspect_alert(ids["partner_a"]))
    ids["alert_out"] = sent["id"]
    ids["ward"] = WARD
    ids["target_group"] = "acl_group"

    # The webhook sender fails fast against a closed port: a failed delivery to replay.
    async def failed() -> str | None:
        response = await world.call(IA, "GET", "/v1/deliveries?status=failed", ADMIN)
        items = response.json()["items"]
        return str(items[0]["id"]) if items else None

    ids["failed_delivery"] = await eventually(failed, timeout=30)

    # The missing person reaches interagency by event; a partner's found person matches it.
    async def match() -> str | None:
        response = await world.signed_inbound(ids["partner_a"], ids["partner_a"])
        assert response.status_code == 202, response.text  # silent on whether it matched
        listed = await world.call(IA, "GET", f"/v1/matches?missing_person_id={ids['mp']}", IO)
        items = listed.json()["items"]
        return str(items[0]["id"]) if items else None

    ids["match"] = await eventually(match, timeout=60, interval=1.0)

    async def alert_about_mp() -> str | None:
        response = await world.call(IA, "GET", f"/v1/alerts?subject_id={ids['mp']}", IO)
        items = response.json()["items"]
        return str(items[0]["id"]) if items else None

    ids["alert_about_mp"] = await eventually(alert_about_mp, timeout=30)


@pytest.fixture(scope="module")
async def world(settings_for: Callable[..., Any], database_url: str) -> AsyncIterator[World]:
    async with AsyncExitStack() as stack:
        apps: dict[str, Any] = {}
        settings: dict[str, Any] = {}
        clients: dict[str, httpx.AsyncClient] = {}
        for name, (factory, cls, overrides) in FACTORIES.items():
            settings[name] = settings_for(cls, log_level="CRITICAL", **overrides)
            apps[name] = factory(settings[name])
        apps[OR].state.report_transport = RoutingTransport({k: apps[k] for k in (IN, CW, VS)})
        for name, app in apps.items():
            clients[name] = await stack.enter_async_context(running(app))
        settings[OR].intake_url, settings[OR].casework_url = f"http://{IN}", f"http://{CW}"
        settings[OR].victim_support_url = f"http://{VS}"
        world = World(clients, settings)
        try:
            await _build_world(world)
            await _notifications_of(database_url, world)
            yield world
        finally:
            engine = create_async_engine(database_url)
            for code in world.partner_codes:
                await forget_partner(engine, code)
            await engine.dispose()


async def _notifications_of(database_url: str, world: World) -> None:
    """A notification of the personas' ``sub`` (dev-user) and one of someone else's, as the
    consumer writes them (the events that make them are another service's)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            for key, recipient in (("notification", "dev-user"), ("notification_other", "other")):
                world.ids[key] = str(uuid.uuid4())
                await conn.execute(
                    text(
                        "INSERT INTO notifications.notifications (id, recipient, kind, service,"
                        " record_type, record_id, link, source_event_id, created_at)"
                        " VALUES (:id, :recipient, 'assigned', 'intake', 'tip', :tip, :link,"
                        " :event, now())"
                    ),
                    {"id": world.ids[key], "recipient": recipient, "tip": world.ids["tip"],
                     "link": f"/intake/v1/tips/{world.ids['tip']}", "event": str(uuid.uuid4())},
                )  # fmt: skip
            # a failed e-mail of theirs, for the administrators' replay
            world.ids["notification_failed_delivery"] = str(uuid.uuid4())
            await conn.execute(
                text(
                    "INSERT INTO notifications.deliveries (id, channel, kind, recipient,"
                    " notification_ids, status, attempts, next_attempt_at, created_at, failed_at)"
                    " VALUES (:id, 'email', 'notices', 'dev-user', ARRAY[CAST(:n AS uuid)],"
                    " 'failed', 7, now(), now(), now())"
                ),
                {"id": world.ids["notification_failed_delivery"], "n": world.ids["notification"]},
            )
        world.ids["province"] = "01"
    finally:
        await engine.dispose()


# Tests --------------------------------------------------------------------------------------------


def _url(row: Row, ids: dict[str, str]) -> str:
    path = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], row.route)
    return path + (f"?{row.query}" if row.query else "")


def _params() -> list[Any]:
    params = []
    for row in ROWS:
        marks = [pytest.mark.xfail(strict=True, reason=row.xfail)] if row.xfail else []
        params.append(pytest.param(row, id=row.id, marks=marks))
    return params


async def _resolve(world: World, row: Row) -> dict[str, str]:
    names = re.findall(r"\{(\w+)\}", row.route)
    resolved = {}
    for name in names:
        key = row.ids.get(name, DEFAULT_IDS.get(name, name))
        resolved[name] = await world.fresh(key)
    return resolved


@pytest.mark.parametrize("row", _params())
async def test_access(world: World, row: Row) -> None:
    if row.route == "/v1/inbound/{partner_code}":
        kind, _, who = row.ids["partner_code"].partition(":")
        signer, _, target = who.partition("->")
        a, b_ = world.ids["partner_a"], world.ids["partner_b"]
        codes = {"a": a, "b": b_}
        response = await world.signed_inbound(
            codes[signer], codes[target or signer], sign=kind == "signed"
        )
    else:
        ids = await _resolve(world, row)
        body = row.body(world) if row.body is not None else None
        response = await world.call(row.service, row.method, _url(row, ids), row.persona, body)
    assert response.status_code == row.expected, (
        f"{row.id}: got {response.status_code} {response.text[:500]}"
    )
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")


def _routes(service: str, world: World | None = None) -> set[tuple[str, str, str]]:
    factory, cls, overrides = FACTORIES[service]
    spec = factory(cls(**overrides)).openapi()
    return {(service, m.upper(), p) for p, item in spec["paths"].items() for m in item}


def test_every_route_has_rows() -> None:
    """A new endpoint without an access row fails here: add its rows to ROWS."""
    routes = set().union(*(_routes(s) for s in FACTORIES))
    covered = {(row.service, row.method, row.route) for row in ROWS}
    assert routes - covered == set(), "endpoints without access rows"
    assert covered - routes == set(), "rows for endpoints that do not exist"


def test_every_private_route_has_a_401_row_and_an_allowed_row() -> None:
    routes = set().union(*(_routes(s) for s in FACTORIES))
    for route in sorted(routes - PUBLIC):
        rows = [row for row in ROWS if (row.service, row.method, row.route) == route]
        assert any(row.persona == ANON and row.expected == 401 for row in rows), route
        assert any(200 <= row.expected < 300 for row in rows), route


NO_TOKEN_ROUTES = sorted(set().union(*(_routes(s) for s in FACTORIES)) - PUBLIC)


@pytest.mark.parametrize(
    "route", NO_TOKEN_ROUTES, ids=[f"{s}:{m} {p}" for s, m, p in NO_TOKEN_ROUTES]
)
async def test_no_token_is_401_everywhere_private(
    world: World, route: tuple[str, str, str]
) -> None:
    """Even with a random id and an empty body: authentication comes first."""
    service, method, path = route
    url = re.sub(r"\{(\w+)\}", lambda m: str(uuid.uuid4()), path)
    response = await world.clients[service].request(method, url, json={})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 401


# Personal data: what a supervisor and an NGO may see ----------------------------------------------


async def test_supervisor_reads_a_victim_without_personal_data(world: World) -> None:
    url = f"/v1/victims/{world.ids['victim']}"
    full = (await world.call(VS, "GET", url, SW)).json()
    assert full["person"]["full_name"] and full["person"]["phone"]
    seen = await world.call(VS, "GET", url, SUP)
    assert seen.status_code == 200
    record = seen.json()
    assert record["person"] is None
    assert full["person"]["phone"] not in seen.text
    assert full["person"]["full_name"] not in seen.text


# Every field of a person in a tip or a case, given a value or not: a renamed field changes this
# set, where ``person.get(name) is None`` would keep passing.
PERSON_FIELDS = {"id", "role", "full_name", "date_of_birth", "age", "sex", "phone", "id_number"}
PERSON_FIELDS |= {"hometown_ward_code", "notes"}
NAMES_ONLY = {"id", "role", "full_name"}


def _given(person: dict[str, Any]) -> set[str]:
    return {name for name, value in person.items() if value is not None}


@pytest.mark.parametrize(
    ("persona", "given"),
    [
        # b.tip(): the victim gave an age and a phone, the suspect an ID number.
        (IO, {"victim": NAMES_ONLY | {"age", "phone"}, "suspect": NAMES_ONLY | {"id_number"}}),
        (INV, {"victim": NAMES_ONLY | {"age", "phone"}, "suspect": NAMES_ONLY | {"id_number"}}),
        (SUP, {"victim": NAMES_ONLY, "suspect": NAMES_ONLY}),
    ],
    ids=["intake officer", "investigator", "supervisor"],
)
async def test_what_each_role_sees_of_a_tips_persons(
    world: World, persona: Persona, given: dict[str, set[str]]
) -> None:
    record = (await world.call(IN, "GET", f"/v1/tips/{world.ids['tip']}", persona)).json()
    assert [set(person) for person in record["persons"]] == [PERSON_FIELDS, PERSON_FIELDS]
    assert {person["role"]: _given(person) for person in record["persons"]} == given


async def test_supervisor_reads_a_tip_with_names_only(world: World) -> None:
    url = f"/v1/tips/{world.ids['tip']}"
    full = (await world.call(IN, "GET", url, IO)).json()
    victim, suspect = sorted(full["persons"], key=lambda person: person["role"] != "victim")
    assert victim["phone"].endswith("912345678") and suspect["id_number"] == "001099012345"
    seen = await world.call(IN, "GET", url, SUP)
    assert seen.status_code == 200
    record = seen.json()
    assert record["reporter"] is None and record["description"] is None
    for number in (victim["phone"], "912345678", full["reporter"]["phone"], "001099012345"):
        assert number not in seen.text


@pytest.mark.parametrize(
    ("persona", "given"),
    [
        # b.party(): a suspect with an age and a phone.
        (INV, NAMES_ONLY | {"age", "phone"}),
        (PROS, NAMES_ONLY | {"age", "phone"}),
        (CLERK, NAMES_ONLY | {"age", "phone"}),
        (SUP, NAMES_ONLY),
    ],
    ids=["investigator", "prosecutor", "court clerk", "supervisor"],
)
async def test_what_each_role_sees_of_a_cases_persons(
    world: World, persona: Persona, given: set[str]
) -> None:
    record = (await world.call(CW, "GET", f"/v1/cases/{world.ids['case']}", persona)).json()
    # The world's party, and those the matrix's own POST .../persons rows add: all b.party().
    persons = record["persons"]
    assert len(persons) >= 1
    assert [set(person) for person in persons] == [PERSON_FIELDS | {"nationality"}] * len(persons)
    assert [_given(person) for person in persons] == [given] * len(persons)


async def test_supervisor_reads_a_case_with_names_only(world: World) -> None:
    url = f"/v1/cases/{world.ids['case']}"
    full = (await world.call(CW, "GET", url, INV)).json()
    phones = [party["phone"] for party in full["persons"]]
    assert phones and all(phone.endswith("901234567") for phone in phones)
    seen = await world.call(CW, "GET", url, SUP)
    assert seen.status_code == 200
    assert seen.json()["summary"] is None
    for phone in (*phones, "901234567"):
        assert phone not in seen.text


async def test_supervisor_reads_a_missing_person_with_names_only(world: World) -> None:
    record = (await world.call(IN, "GET", f"/v1/missing-persons/{world.ids['mp']}", SUP)).json()
    assert record["full_name"]
    assert record["circumstances"] is None and record["phone"] is None
    assert record["id_number"] is None and record["reporter"] is None


async def test_another_ngo_sees_nothing_of_a_program(world: World) -> None:
    url = f"/v1/programs/{world.ids['program']}"
    assert (await world.call(VS, "GET", url, NGO_B)).status_code == 404
    own = (await world.call(VS, "GET", url, NGO_A)).json()
    assert own["enrollments"] and own["enrollments"][0]["person"]["full_name"]


async def test_a_partner_signature_never_opens_another_partners_path(world: World) -> None:
    a, b_ = world.ids["partner_a"], world.ids["partner_b"]
    response = await world.signed_inbound(a, b_)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await world.signed_inbound(b_, b_)).status_code == 202
