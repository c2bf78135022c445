"""The invented country of :mod:`bench.national`: a year of every service's records, made in
PostgreSQL itself (``INSERT ... SELECT`` over ``generate_series``), straight into each service's
migrated schema.

At ``scale`` 1: 1,000,000 tips, 200,000 cases (from the substantiated tips), 100,000 victims,
over the 365 days before the day of generation, across the 34 provinces and their 3,321 wards,
with a few busy wards and a long tail (the ward is drawn as ``n * u^1.8``); and, in proportion,
20,000 missing-person reports, 50,000 interagency alerts with their deliveries and 5,000
matches, 200,000 outreach activities with every ward's population, 5,000 commendations and
300,000 notifications, plus the open legal clocks (``deadline_watches``) of every unresolved
tip, open case and presumed victim.

Nothing here is real. Encrypted columns hold bytes in the cipher's own format
(``v1.<kid>.<base64>``) that decrypt to nothing: the figures never read them. The secondary
indexes of the big tables are dropped during the load and rebuilt from their own definitions
(:func:`bench.common.indexes_dropped`), so what is measured is the migrated schema.
"""

# Every statement below is built from this module's constants (no input reaches the SQL text):
# ruff: noqa: S608

from __future__ import annotations

import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.common import indexes_dropped
from libs.common.crypto import FieldCipher
from libs.common.jurisdiction import _provinces, province_of, wards_of
from libs.common.settings import ServiceSettings
from libs.contracts.taxonomy import ExploitationType
from services.casework import models as casework_models
from services.intake import models as intake_models
from services.interagency import models as interagency_models
from services.notifications import models as notifications_models
from services.outreach import models as outreach_models
from services.victim_support import models as victim_support_models

DAYS = 365
# At scale 1: what the issue asks for (tips, cases, victims) and what a year of them brings.
SIZES = {
    "tips": 1_000_000,
    "cases": 200_000,
    "victims": 100_000,
    "missing_persons": 20_000,
    "alerts": 50_000,
    "matches": 5_000,
    "activities": 200_000,
    "commendations": 5_000,
    "notifications": 300_000,
}
PARTNERS = 20  # the first provinces (a partner is a province)
WARD_SKEW = 1.8  # ward index = n * u^skew: the first wards of the shuffled list are the busy ones


@dataclass(frozen=True)
class Country:
    """The wards in a fixed shuffled order (busy first), each with its province."""

    wards: list[str]
    provinces: list[str]

    @classmethod
    def shuffled(cls, seed: int) -> Country:
        wards = [w for p in sorted(_provinces()) for w in wards_of(p)]
        random.Random(seed).shuffle(wards)
        return cls(wards, [str(province_of(w)) for w in wards])

    def busiest(self) -> tuple[str, str]:
        """(the busiest ward, its province): where the ward and province shapes look."""
        return self.wards[0], self.provinces[0]


def sizes(scale: float) -> dict[str, int]:
    return {name: max(1, round(n * scale)) for name, n in SIZES.items()}


def _cipher_prefix() -> str:
    """``v1.<kid>``: the format of the cipher's output, with the active key's id."""
    cipher = FieldCipher.from_spec(ServiceSettings().field_keys.get_secret_value())
    return cipher.encrypt("x").rsplit(".", 1)[0]


def _array(values: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::varchar[]"


# A row's ward (and province): the skewed draw, from the $1 (wards) and $2 (provinces) arrays.
_WARD_INDEX = f"(1 + floor(cardinality($1::text[]) * power(random(), {WARD_SKEW})))::int"
_CIPHERTEXT = (
    "$4 || '.' || encode(decode(md5(random()::text) || md5(random()::text), 'hex'), 'base64')"
)
_TYPES = _array([t.value for t in ExploitationType])
_COUNTRIES = "(ARRAY['CN', 'LA', 'KH', 'TH', 'MY', 'KR', 'JP', NULL, NULL, NULL])"


def _pick(array: str, draw: str = "random()") -> str:
    return f"({array})[1 + floor({draw} * cardinality({array}))::int]"


def _one_of(*values: str) -> str:
    return _pick("ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]")


_CHANNEL = _one_of("hotline", "web", "mobile", "walk_in", "police", "partner")
_SEX = _one_of("female", "male")
_SOURCE = _one_of(
    "self_report", "rescued", "border_handover", "repatriated", "partner_province", "case"
)
_ALERT_TYPE = _one_of(
    "missing_person", "person_found", "victim_handover", "suspect_alert", "situation_bulletin"
)
_ACTIVITY_KIND = _one_of(
    "meeting",
    "school_session",
    "household_visit",
    "leaflet",
    "broadcast",
    "loudspeaker",
    "social_media",
    "other",
)
_RECIPIENT_KIND = _one_of("person", "organisation")
_LEVEL = _one_of("ward", "province", "ministry", "national")
_NOTIFICATION_KIND = _one_of(
    "deadline.approaching", "deadline.approaching", "deadline.missed", "assigned"
)


def _types(draw: str) -> str:
    """One exploitation type, or two when the draw is high."""
    first = _pick(_TYPES, draw)
    return (
        f"CASE WHEN {draw} > 0.8 THEN ARRAY[{first}, {_pick(_TYPES)}]::varchar[] "
        f"ELSE ARRAY[{first}]::varchar[] END"
    )


TIPS = f"""
INSERT INTO intake.tips (
    id, channel, status, description, incident_ward_code, province_code, occurred_on,
    exploitation_types, filed_by, received_at, resolution_due_at, version, destination_country,
    anonymous, trafficking_related, priority, classified_at, classified_by, verification_outcome,
    verified_at, verified_by, resolved_at, extensions, updated_at, assignee)
SELECT gen_random_uuid(), channel,
       CASE WHEN resolved THEN 'closed' WHEN verified THEN 'verified'
            WHEN classified THEN 'triaged' ELSE 'received' END,
       {_CIPHERTEXT}, ward, province, (received_at - interval '3 days')::date,
       types, 'bench-officer', received_at, received_at + interval '20 days', 1, country,
       r_anon < 0.3, CASE WHEN classified THEN 'yes' END, CASE WHEN classified THEN 'normal' END,
       CASE WHEN classified THEN classified_at END, CASE WHEN classified THEN 'bench-officer' END,
       CASE WHEN verified THEN outcome END, CASE WHEN verified THEN verified_at END,
       CASE WHEN verified THEN 'bench-officer' END, CASE WHEN resolved THEN resolved_at END,
       '{{}}', received_at, CASE WHEN r_anon > 0.5 THEN 'bench-officer' END
FROM (
    SELECT *, classified_at < $6 AND r_class < 0.92 AS classified,
           classified_at < $6 AND r_class < 0.92 AND verified_at < $6 AND r_ver < 0.75
               AS verified,
           classified_at < $6 AND r_class < 0.92 AND verified_at < $6 AND r_ver < 0.75
               AND resolved_at < $6 AND r_res < 0.9 AS resolved
    FROM (
        SELECT received_at,
               received_at + random() * interval '2 days' AS classified_at,
               received_at + interval '2 days' + random() * interval '12 days' AS verified_at,
               received_at + interval '8 days' + random() * interval '16 days' AS resolved_at,
               CASE WHEN r_place < 0.05 THEN NULL ELSE ($1::text[])[w] END AS ward,
               CASE WHEN r_place < 0.05 THEN NULL ELSE ($2::text[])[w] END AS province,
               r_class, r_ver, r_res, r_anon, channel, types, country,
               CASE WHEN r_out < 0.35 THEN 'substantiated' WHEN r_out < 0.85 THEN 'unsubstantiated'
                    WHEN r_out < 0.95 THEN 'referred' ELSE 'duplicate' END AS outcome
        FROM (
            SELECT $5::timestamptz + random() * interval '{DAYS} days' AS received_at,
                   {_WARD_INDEX} AS w, random() AS r_place, random() AS r_class,
                   random() AS r_ver, random() AS r_res, random() AS r_anon, random() AS r_out,
                   {_CHANNEL}
                       AS channel,
                   {_types("random()")} AS types, {_pick(_COUNTRIES)} AS country
            FROM generate_series(1, $3::int) AS g OFFSET 0
        ) AS draws OFFSET 0
    ) AS times
) AS tips
"""

MISSING_PERSONS = f"""
INSERT INTO intake.missing_persons (
    id, status, full_name, sex, age, last_seen_at, last_seen_ward_code, province_code,
    reported_at, version, publication, filed_by, outcome, resolved_at)
SELECT gen_random_uuid(), CASE WHEN resolved THEN 'resolved' ELSE 'open' END, {_CIPHERTEXT},
       {_SEX}, 14 + (random() * 30)::int,
       reported_at - interval '2 days', ($1::text[])[w], ($2::text[])[w], reported_at, 1,
       'pending', 'bench-officer', CASE WHEN resolved THEN 'found' END,
       CASE WHEN resolved THEN reported_at + interval '10 days' END
FROM (
    SELECT $5::timestamptz + random() * interval '{DAYS} days' AS reported_at,
           {_WARD_INDEX} AS w, random() < 0.4 AS resolved
    FROM generate_series(1, $3::int) AS g OFFSET 0
) AS draws
"""

# casework's copy of every verified tip, and its cases: the first substantiated tips placed in
# a ward, each opened some days after its verification.
TIP_REFS = """
INSERT INTO casework.tip_refs (
    tip_id, status, channel, incident_ward_code, received_at, updated_at, province_code, outcome,
    verified_at)
SELECT id, status, channel, incident_ward_code, received_at, updated_at, province_code,
       verification_outcome, verified_at
FROM intake.tips WHERE verified_at IS NOT NULL
"""

CASES = """
INSERT INTO casework.cases (
    id, tip_id, title, status, ward_code, province_code, exploitation_types, destination_country,
    opened_at, opened_by, stage_entered_at, stage_due_at, penal_code_article,
    initiation_decision, initiated_on, initiated_at, indictment_number, indicted_at, defendants,
    trial_type, trial_scheduled_for, verdict_outcome, adjudicated_at, sentences, closed_at,
    version, updated_at)
SELECT gen_random_uuid(), tip_id, 'Vụ việc ' || left(tip_id::text, 8), status, ward, province,
       types, country, opened_at, 'bench-investigator', entered,
       CASE WHEN status <> 'closed' THEN entered + interval '60 days' END,
       CASE WHEN initiated THEN 150 END,
       CASE WHEN initiated THEN 'QĐ-' || left(tip_id::text, 6) END,
       CASE WHEN initiated THEN initiated_at::date END, CASE WHEN initiated THEN initiated_at END,
       CASE WHEN indicted THEN 'CT-' || left(tip_id::text, 6) END,
       CASE WHEN indicted THEN indicted_at END, '[]',
       CASE WHEN scheduled THEN CASE WHEN r_type < 0.8 THEN 'standard'
                                     WHEN r_type < 0.95 THEN 'mobile' ELSE 'model' END END,
       CASE WHEN scheduled THEN trial_at END,
       CASE WHEN adjudicated THEN CASE WHEN r_verdict < 0.9 THEN 'convicted'
                                       WHEN r_verdict < 0.95 THEN 'acquitted'
                                       ELSE 'returned_for_investigation' END END,
       CASE WHEN adjudicated THEN trial_at END, '[]',
       CASE WHEN status = 'closed' THEN entered END, 1, entered
FROM (
    SELECT *, CASE WHEN adjudicated AND r_close < 0.5 THEN 'closed'
                   WHEN adjudicated THEN 'adjudicated' WHEN scheduled THEN 'trial_scheduled'
                   WHEN indicted THEN 'indicted' WHEN initiated THEN 'investigating'
                   ELSE 'open' END AS status,
              CASE WHEN adjudicated THEN trial_at WHEN indicted THEN indicted_at
                   WHEN initiated THEN initiated_at ELSE opened_at END AS entered
    FROM (
        SELECT *, r_init < 0.85 AND initiated_at < end_at AS initiated,
               r_init < 0.85 AND initiated_at < end_at AND r_ind < 0.6 AND indicted_at < end_at
                   AS indicted,
               r_init < 0.85 AND initiated_at < end_at AND r_ind < 0.6 AND indicted_at < end_at
                   AND r_trial < 0.8 AS scheduled,
               r_init < 0.85 AND initiated_at < end_at AND r_ind < 0.6 AND indicted_at < end_at
                   AND r_trial < 0.8 AND trial_at < end_at AS adjudicated
        FROM (
            SELECT *, opened_at + d_init * interval '30 days' AS initiated_at,
                   opened_at + d_init * interval '30 days' + interval '10 days'
                       + d_ind * interval '50 days' AS indicted_at,
                   opened_at + d_init * interval '30 days' + interval '25 days'
                       + d_ind * interval '50 days' + d_trial * interval '30 days' AS trial_at
            FROM (
                SELECT id AS tip_id, incident_ward_code AS ward, province_code AS province,
                       exploitation_types AS types, destination_country AS country,
                       LEAST(verified_at + random() * interval '5 days',
                             $2::timestamptz - interval '1 minute') AS opened_at,
                       random() AS r_init, random() AS r_ind, random() AS r_trial,
                       random() AS r_close, random() AS r_type, random() AS r_verdict,
                       random() AS d_init, random() AS d_ind, random() AS d_trial,
                       $2::timestamptz AS end_at
                FROM intake.tips
                WHERE verification_outcome = 'substantiated' AND incident_ward_code IS NOT NULL
                LIMIT $1::int OFFSET 0
            ) AS opened
        ) AS times
    ) AS steps
) AS cases
"""

_NEEDS = "ARRAY['shelter', 'medical', 'psychological', 'legal', 'vocational', 'financial']"
VICTIMS = f"""
INSERT INTO victim_support.victims (
    id, status, source, ward_code, province_code, received_at, verification_due_at, nationality,
    needs, exploitation_types, case_ids, identification_outcome, deciding_agency, identified_at,
    first_protected_at, first_supported_at, closed_at, created_by, version, updated_at)
SELECT gen_random_uuid(),
       CASE WHEN NOT decided THEN CASE WHEN r_stage < 0.5 THEN 'received'
                                       ELSE 'under_verification' END
            WHEN NOT identified THEN 'not_a_victim'
            WHEN r_stage < 0.15 THEN 'closed' WHEN r_stage < 0.35 THEN 'reintegrating'
            WHEN supported THEN 'supported' WHEN protected THEN 'protected'
            ELSE 'identified' END,
       source, ($1::text[])[w], ($2::text[])[w], received_at, received_at + interval '3 days',
       {_CIPHERTEXT}, needs, types, '{{}}', CASE WHEN decided THEN outcome END,
       CASE WHEN decided THEN 'police' END, CASE WHEN decided THEN decided_at END,
       CASE WHEN protected THEN decided_at + interval '1 day' END,
       CASE WHEN supported THEN decided_at + interval '3 days' END,
       CASE WHEN identified AND r_stage < 0.15 THEN decided_at + interval '60 days' END,
       'bench-social-worker', 1, received_at
FROM (
    SELECT *, decided AND outcome = 'identified' AS identified,
           decided AND outcome = 'identified' AND r_prot < 0.7 AS protected,
           decided AND outcome = 'identified' AND cardinality(needs) > 0 AND r_sup < 0.8
               AND decided_at + interval '3 days' < $6 AS supported
    FROM (
        SELECT *, r_dec < 0.85 AND decided_at < $6 AS decided
        FROM (
            SELECT $5::timestamptz + random() * interval '{DAYS} days' AS received_at,
                   {_WARD_INDEX} AS w, random() AS r_dec, random() AS r_prot,
                   random() AS r_sup, random() AS r_stage,
                   CASE WHEN random() < 0.8 THEN 'identified' ELSE 'not_a_victim' END AS outcome,
                   {_SOURCE} AS source,
                   (SELECT coalesce(array_agg(n), '{{}}')::varchar[]
                    FROM unnest({_NEEDS}) AS n WHERE random() < 0.3 AND g > 0) AS needs,
                   {_types("random()")} AS types
            FROM generate_series(1, $3::int) AS g OFFSET 0
        ) AS draws,
        LATERAL (SELECT received_at + random() * interval '5 days' AS decided_at) AS d
        OFFSET 0
    ) AS decisions
) AS victims
"""

# One watch per open record, as the services' deadline worker keeps them (DESIGN §11).
WATCHES = {
    "intake": """
        INSERT INTO intake.deadline_watches (record_type, record_id, deadline_kind, due_at,
            armed_at, ward_code, province_code)
        SELECT 'tip', id, 'resolution', resolution_due_at, received_at, incident_ward_code,
               province_code
        FROM intake.tips WHERE resolved_at IS NULL""",
    "casework": """
        INSERT INTO casework.deadline_watches (record_type, record_id, deadline_kind, due_at,
            armed_at, ward_code, province_code)
        SELECT 'case', id, 'stage', stage_due_at, stage_entered_at, ward_code, province_code
        FROM casework.cases WHERE status <> 'closed' AND stage_due_at IS NOT NULL""",
    "victim_support": """
        INSERT INTO victim_support.deadline_watches (record_type, record_id, deadline_kind,
            due_at, armed_at, ward_code, province_code)
        SELECT 'victim', id, 'verification', verification_due_at, received_at, ward_code,
               province_code
        FROM victim_support.victims WHERE status IN ('received', 'under_verification')""",
}

PARTNERS_SQL = """
INSERT INTO interagency.partners (
    id, code, name, webhook_url, alert_types, border_countries, status, outbound_secret,
    inbound_secret, created_by, created_at, updated_at, version)
SELECT gen_random_uuid(), code, 'Bench partner ' || code,
       'https://partner-' || code || '.invalid/hook',
       ARRAY['missing_person', 'person_found', 'victim_handover', 'suspect_alert',
             'situation_bulletin']::varchar[],
       ARRAY[(ARRAY['CN', 'LA', 'KH'])[1 + g % 3]]::varchar[], 'enabled',
       $2 || '.' || md5(g::text), $2 || '.' || md5((g * 7)::text), 'bench-admin', $3, $3, 1
FROM unnest($1::text[]) WITH ORDINALITY AS p(code, g)
"""

ALERTS = f"""
INSERT INTO interagency.alerts (
    id, direction, alert_type, partner_code, subject_id, event_id, data, created_by, created_at,
    owner_ward_code, owner_province_code)
SELECT gen_random_uuid(), direction,
       {_ALERT_TYPE},
       CASE WHEN direction = 'in' THEN ($7::text[])[1 + p] END,
       gen_random_uuid(), NULL, {_CIPHERTEXT}, 'bench-officer', created_at,
       CASE WHEN direction = 'out' THEN ($1::text[])[w] END,
       CASE WHEN direction = 'out' THEN ($2::text[])[w] END
FROM (
    SELECT CASE WHEN random() < 0.6 THEN 'out' ELSE 'in' END AS direction,
           LEAST($5::timestamptz + random() * interval '{DAYS} days',
                 $6::timestamptz - interval '1 hour') AS created_at,
           {_WARD_INDEX} AS w, floor(random() * {PARTNERS})::int AS p
    FROM generate_series(1, $3::int) AS g OFFSET 0
) AS draws
"""

# Every outbound alert to 1-3 partners; most delivered, a few failed or still pending.
DELIVERIES = f"""
INSERT INTO interagency.deliveries (
    id, alert_id, partner_code, status, attempts, next_attempt_at, last_status_code, replays,
    created_at, delivered_at, failed_at)
SELECT gen_random_uuid(), a.id, ($1::text[])[1 + (p + k) % {PARTNERS}],
       status, CASE WHEN status = 'failed' THEN 8 ELSE 1 END, a.created_at,
       CASE WHEN status = 'delivered' THEN 200 WHEN status = 'failed' THEN 503 END, 0,
       a.created_at, CASE WHEN status = 'delivered' THEN a.created_at + interval '2 seconds' END,
       CASE WHEN status = 'failed' THEN a.created_at + interval '1 day' END
FROM (
    SELECT id, created_at, floor(random() * {PARTNERS})::int AS p,
           1 + floor(random() * 3)::int AS n
    FROM interagency.alerts WHERE direction = 'out' OFFSET 0
) AS a,
LATERAL (
    SELECT k, CASE WHEN r < 0.92 THEN 'delivered' WHEN r < 0.97 THEN 'failed'
                   ELSE 'pending' END AS status
    FROM (SELECT k, random() + 0 * a.n AS r FROM generate_series(0, a.n - 1) AS k) AS each
) AS d
"""

MATCHES = """
INSERT INTO interagency.matches (
    id, missing_person_id, alert_id, partner_code, score, reasons, status, decided_by, decided_at,
    created_at, version)
SELECT gen_random_uuid(), gen_random_uuid(), id, partner_code, 0.5 + random() / 2, '{}',
       status, CASE WHEN status <> 'candidate' THEN 'bench-officer' END,
       CASE WHEN status <> 'candidate' THEN created_at + interval '1 day' END, created_at, 1
FROM (
    SELECT id, partner_code, created_at, CASE WHEN r < 0.5 THEN 'confirmed'
                                              WHEN r < 0.8 THEN 'rejected'
                                              ELSE 'candidate' END AS status
    FROM (
        SELECT id, partner_code, created_at + interval '1 minute' AS created_at, random() AS r
        FROM interagency.alerts WHERE direction = 'in' ORDER BY random() LIMIT $1::int
    ) AS picked
) AS found
"""

POPULATIONS = """
INSERT INTO outreach.ward_populations (
    ward_code, year, province_code, population, source, updated_at, updated_by)
SELECT ward, year, province, 3000 + floor(random() * 40000)::int, 'census', $3, 'bench-admin'
FROM unnest($1::text[], $2::text[]) AS w(ward, province),
     (VALUES (extract(year FROM $3::timestamptz)::int - 1),
             (extract(year FROM $3::timestamptz)::int)) AS y(year)
"""

_GROUPS = "ARRAY['students', 'migrant_workers', 'women', 'ethnic_minorities', 'parents']"
ACTIVITIES = f"""
INSERT INTO outreach.activities (
    id, ward_code, province_code, kind, held_on, people_reached, materials_distributed,
    target_groups, created_at, created_by)
SELECT gen_random_uuid(), ($1::text[])[w], ($2::text[])[w], kind, held_at::date,
       CASE WHEN kind IN ('broadcast', 'loudspeaker', 'social_media')
            THEN 200 + floor(random() * 3000)::int ELSE 10 + floor(random() * 300)::int END,
       floor(random() * 200)::int,
       ARRAY[{_pick(_GROUPS)}, {_pick(_GROUPS)}]::varchar[], held_at, 'bench-officer'
FROM (
    SELECT $5::timestamptz + random() * interval '{DAYS} days' AS held_at, {_WARD_INDEX} AS w,
           {_ACTIVITY_KIND} AS kind
    FROM generate_series(1, $3::int) AS g OFFSET 0
) AS draws
"""

COMMENDATIONS = f"""
INSERT INTO outreach.commendations (
    id, recipient_kind, recipient_name, ward_code, province_code, reason, awarded_on, level,
    created_at, created_by)
SELECT gen_random_uuid(), {_RECIPIENT_KIND}, {_CIPHERTEXT},
       ($1::text[])[w], ($2::text[])[w], 'outreach', awarded_at::date,
       {_LEVEL}, awarded_at, 'bench-admin'
FROM (
    SELECT $5::timestamptz + random() * interval '{DAYS} days' AS awarded_at, {_WARD_INDEX} AS w
    FROM generate_series(1, $3::int) AS g OFFSET 0
) AS draws
"""

NOTIFICATIONS = f"""
INSERT INTO notifications.notifications (
    id, recipient, kind, service, record_type, record_id, deadline_kind, due_at,
    threshold_seconds, ward_code, province_code, link, source_event_id, created_at, read_at,
    delivery_planned)
SELECT gen_random_uuid(), 'bench-user-' || (g % 5000), kind, service, record_type,
       gen_random_uuid(), CASE WHEN kind <> 'assigned' THEN clock END,
       CASE WHEN kind <> 'assigned' THEN created_at + interval '5 days' END,
       CASE WHEN kind = 'deadline.approaching' THEN 432000 END, ($1::text[])[w], ($2::text[])[w],
       '/' || record_type || 's/', gen_random_uuid(), created_at,
       CASE WHEN r_read < 0.6 THEN created_at + interval '3 hours' END, true
FROM (
    SELECT g, $5::timestamptz + random() * interval '{DAYS} days' AS created_at,
           {_WARD_INDEX} AS w, random() AS r_read,
           {_NOTIFICATION_KIND} AS kind, s.*
    FROM generate_series(1, $3::int) AS g,
         LATERAL (SELECT * FROM (VALUES ('intake', 'tip', 'resolution'),
                                        ('casework', 'case', 'stage'),
                                        ('victim_support', 'victim', 'verification'))
                      AS v(service, record_type, clock)
                  ORDER BY random() + 0 * g LIMIT 1) AS s
    OFFSET 0
) AS draws
"""


# The generated tables share one list of parameters, each using some: their types, declared once.
_TYPED = (
    "WITH parameters AS (SELECT $1::text[], $2::text[], $3::int, $4::text, $5::timestamptz, "
    "$6::timestamptz, $7::text[])"
)


async def _timed(
    conn: asyncpg.Connection, figures: dict[str, float], label: str, sql: str, *args: object
) -> None:
    used = max((int(n) for n in re.findall(r"\$(\d+)", sql)), default=0)
    started = time.perf_counter()
    try:
        await conn.execute(sql, *args[:used])
    except asyncpg.PostgresError as exc:
        raise RuntimeError(f"generating {label}: {exc}") from exc
    figures[label] = round(time.perf_counter() - started, 1)


async def generate(
    conn: asyncpg.Connection, *, scale: float, seed: int, end: datetime
) -> dict[str, object]:
    """Fill the migrated, empty schemas; returns the row counts and the seconds each took."""
    country = Country.shuffled(seed)
    n = sizes(scale)
    start = end - timedelta(days=DAYS)
    prefix = _cipher_prefix()
    common = (country.wards, country.provinces)
    partners = sorted(_provinces())[:PARTNERS]
    seconds: dict[str, float] = {}
    await conn.execute("SET maintenance_work_mem = '256MB'")
    await conn.execute("SELECT setseed($1)", (seed % 1000) / 1000)
    for table, sql, size in (
        ("intake.tips", TIPS, n["tips"]),
        ("intake.missing_persons", MISSING_PERSONS, n["missing_persons"]),
        ("victim_support.victims", VICTIMS, n["victims"]),
        ("interagency.alerts", ALERTS, n["alerts"]),
        ("outreach.activities", ACTIVITIES, n["activities"]),
        ("outreach.commendations", COMMENDATIONS, n["commendations"]),
        ("notifications.notifications", NOTIFICATIONS, n["notifications"]),
    ):
        async with indexes_dropped(conn, table):
            await _timed(
                conn, seconds, table, _TYPED + sql, *common, size, prefix, start, end, partners
            )
    async with indexes_dropped(conn, "casework.tip_refs"):
        await _timed(conn, seconds, "casework.tip_refs", TIP_REFS)
    async with indexes_dropped(conn, "casework.cases"):
        await _timed(conn, seconds, "casework.cases", CASES, n["cases"], end)
    for service, sql in WATCHES.items():
        async with indexes_dropped(conn, f"{service}.deadline_watches"):
            await _timed(conn, seconds, f"{service}.deadline_watches", sql)
    await _timed(conn, seconds, "interagency.partners", PARTNERS_SQL, partners, prefix, start)
    async with indexes_dropped(conn, "interagency.deliveries"):
        await _timed(conn, seconds, "interagency.deliveries", DELIVERIES, partners)
    async with indexes_dropped(conn, "interagency.matches"):
        await _timed(conn, seconds, "interagency.matches", MATCHES, n["matches"])
    await _timed(conn, seconds, "outreach.ward_populations", POPULATIONS, *common, end)
    for rollup in (
        *intake_models.ROLLUPS,
        *casework_models.ROLLUPS,
        *victim_support_models.ROLLUPS,
        *interagency_models.ROLLUPS,
        *notifications_models.ROLLUPS,
        *outreach_models.ROLLUPS,
    ):
        # the triggers kept them as pending rows; rebuilt folded, as the migration fills them
        started = time.perf_counter()
        async with conn.transaction():
            for statement in rollup.backfill_sql():
                await conn.execute(statement)
        seconds[rollup.qualified] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    await conn.execute("VACUUM ANALYZE")
    seconds["vacuum_analyze"] = round(time.perf_counter() - started, 1)
    counts = {}
    for table in [*seconds][:-1]:
        counts[table] = int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    return {
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "rows": counts,
        "seconds": seconds,
    }


def period_end(now: datetime | None = None) -> datetime:
    """The data's year ends at the start of today (UTC): every record is in the past."""
    moment = now or datetime.now(UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
