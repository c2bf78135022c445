"""Each alert type's data as a strict model: ``domain.ALLOWED_FIELDS`` enforced both ways (unknown
fields are 422 on the way in and cannot be built on the way out)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from libs.common.jurisdiction import is_province_code
from libs.common.schemas import (
    DOB_OR_AGE,
    Sex,
    ShortText,
    StrictModel,
    e164_phone,
    id_document,
    utc_moment,
)
from libs.common.validation import InvalidValue
from services.interagency.domain import AlertType

Age = Annotated[int, Field(ge=0, le=120)]
Need = Literal[
    "essential_needs",
    "medical",
    "interpreter",
    "legal_support",
    "legal_aid",
    "travel",
    "psychological",
    "schooling",
    "vocational_training",
    "initial_hardship_allowance",
    "loan",
]
"""Support by law (Law 53/2024/QH15, Art. 37), what the receiving province should prepare."""


def province_code(value: str | None) -> str | None:
    if value is not None and not is_province_code(value):
        raise InvalidValue("province_code.unknown", "not a province code")
    return value


def _aware(value: datetime | None) -> datetime | None:
    """Times are RFC 3339 with an offset, kept in UTC."""
    if value is None:
        return None
    return utc_moment(value)


# Alert data, one model per type (the allow-lists) ------------------------------------------------


class _AlertData(StrictModel):
    def fields_set(self) -> dict[str, Any]:
        """The data as sent: JSON values, empty fields left out."""
        return self.model_dump(mode="json", exclude_none=True)


class _OnePerson(_AlertData):
    model_config = ConfigDict(json_schema_extra=DOB_OR_AGE)

    @model_validator(mode="after")
    def _dob_or_age(self) -> Any:
        if (
            getattr(self, "date_of_birth", None) is not None
            and getattr(self, "age", None) is not None
        ):
            raise InvalidValue("date_of_birth_or_age.both", "give date_of_birth or age, not both")
        return self


class MissingPersonData(_OnePerson):
    alert_type: Literal["missing_person"] = "missing_person"
    missing_person_id: UUID
    full_name: ShortText
    sex: Sex
    date_of_birth: date | None = None
    age: Age | None = None
    last_seen_at: datetime
    last_seen_ward_code: Annotated[str, Field(pattern=r"^\d{5}$")]
    hometown_ward_code: Annotated[str, Field(pattern=r"^\d{5}$")] | None = None
    distinguishing_marks: str | None = Field(None, max_length=2000)
    id_number: str | None = Field(None, max_length=20)
    contact_agency: ShortText | None = None

    _id = field_validator("id_number")(id_document)
    _seen = field_validator("last_seen_at")(_aware)


class PersonFoundData(_OnePerson):
    alert_type: Literal["person_found"] = "person_found"
    full_name: ShortText | None = None
    sex: Sex | None = None
    date_of_birth: date | None = None
    age: Age | None = None
    found_at: datetime | None = None
    found_place: str | None = Field(None, max_length=300)
    hometown_ward_code: Annotated[str, Field(pattern=r"^\d{5}$")] | None = None
    id_number: str | None = Field(None, max_length=20)
    phone: str | None = Field(None, max_length=30)
    nationality: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1")
    contact_agency: ShortText | None = None

    _id = field_validator("id_number")(id_document)
    _phone = field_validator("phone")(e164_phone)
    _found = field_validator("found_at")(_aware)

    @model_validator(mode="after")
    def _matchable(self) -> Any:
        """A found person we cannot compare with anyone (no name, ID number or phone) would be
        stored and never matched: the partner is told now, not never. A handover stands on its
        own (the person arrives whoever they are)."""
        if self.alert_type == "person_found" and not (
            self.full_name or self.id_number or self.phone
        ):
            raise InvalidValue(
                "person_found.unmatchable", "give at least one of full_name, id_number or phone"
            )
        return self


class VictimHandoverData(PersonFoundData):
    alert_type: Literal["victim_handover"] = "victim_handover"  # type: ignore[assignment]
    handover_at: datetime
    receiving_province_code: str
    needs: list[Need] = Field(default_factory=list, max_length=11)

    _receiving = field_validator("receiving_province_code")(province_code)
    _handover = field_validator("handover_at")(_aware)


class SuspectAlertData(_OnePerson):
    alert_type: Literal["suspect_alert"] = "suspect_alert"
    full_name: ShortText | None = None
    aliases: list[ShortText] = Field(default_factory=list, max_length=20)
    date_of_birth: date | None = None
    age: Age | None = None
    phones: list[Annotated[str, Field(max_length=30)]] = Field(default_factory=list, max_length=20)
    id_number: str | None = Field(None, max_length=20)
    routes: list[ShortText] = Field(
        default_factory=list, max_length=20, description="e.g. a border gate or a road"
    )
    case_reference: ShortText | None = None
    contact_agency: ShortText | None = None

    _id = field_validator("id_number")(id_document)

    @field_validator("phones")
    @classmethod
    def _phones(cls, values: list[str]) -> list[str]:
        return [p for p in (e164_phone(v) for v in values) if p is not None]


class BulletinDocument(StrictModel):
    title: ShortText
    url: str = Field(max_length=2000, pattern=r"^https?://")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class SituationBulletinData(_AlertData):
    """The plan's exchange of experience: figures, routes and methods seen, legal documents."""

    alert_type: Literal["situation_bulletin"] = "situation_bulletin"
    title: ShortText
    summary: str = Field(min_length=1, max_length=20000)
    period: str = Field(
        min_length=4, max_length=40, description="e.g. 2026-Q3, 2026-10 or 2026-10-01/2026-10-31"
    )
    documents: list[BulletinDocument] = Field(default_factory=list, max_length=50)


AlertData = Annotated[
    MissingPersonData
    | PersonFoundData
    | VictimHandoverData
    | SuspectAlertData
    | SituationBulletinData,
    Field(discriminator="alert_type"),
]

DATA_MODELS: dict[AlertType, type[_AlertData]] = {
    AlertType.missing_person: MissingPersonData,
    AlertType.person_found: PersonFoundData,
    AlertType.victim_handover: VictimHandoverData,
    AlertType.suspect_alert: SuspectAlertData,
    AlertType.situation_bulletin: SituationBulletinData,
}


class InboundEvent(BaseModel):
    """A partner's CloudEvent (structured JSON). Extension attributes are allowed by CloudEvents;
    ``data`` is strict."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200)
    type: Literal["vn.ctip.interagency.alert.v1"]
    time: datetime | None = None
    subject: str | None = Field(None, max_length=200)
    datacontenttype: Literal["application/json"] | None = None
    data: AlertData


class OutboundEvent(InboundEvent):
    """What we send a partner: the same envelope, from our own source."""

    source: Literal["/ctip/interagency"]
