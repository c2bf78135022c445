"""Request and response models of notifications. A notification carries its kind, the record's
type, id and link, the deadline and the place; never a name, a phone or a description."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from libs.common.figures import Figure
from libs.common.validation import InvalidValue
from services.notifications.domain import Channel, Kind


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    seq: int = Field(description="orders the caller's notifications; the stream's event id")
    kind: Kind
    service: str = Field(description="the service whose record it is")
    record_type: str = Field(description="tip, case or victim")
    record_id: UUID
    link: str = Field(description="where the record is read, through the gateway")
    deadline_kind: str | None = Field(None, description="which clock (deadline notifications)")
    due_at: datetime | None = None
    threshold_seconds: int | None = Field(
        None, description="how long before due_at an approaching notice fires; 0 when missed"
    )
    ward_code: str | None = None
    province_code: str | None = None
    created_at: datetime
    read_at: datetime | None = None
    title: str = Field(description="in the reader's language (the directory's locale)")
    body: str


class QuietHours(BaseModel):
    """Local time of Viet Nam (Asia/Ho_Chi_Minh); ``22:00``-``06:00`` passes midnight."""

    model_config = ConfigDict(extra="forbid")

    start: time
    end: time

    @field_validator("start", "end")
    @classmethod
    def _local(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise InvalidValue(
                "quiet_hours.offset", "quiet hours are local times of Viet Nam, without an offset"
            )
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise InvalidValue(
                "quiet_hours.empty", "quiet hours must start and end at different times"
            )
        return self


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[Channel] = Field(
        min_length=1,
        max_length=3,
        description="inbox, email, webhook; the inbox is always on, named or not",
    )
    quiet_hours: QuietHours | None = Field(
        None, description="no e-mail or webhook in this window (the inbox keeps everything)"
    )
    email_digest: bool = Field(description="the daily e-mail digest")

    @field_validator("channels")
    @classmethod
    def _once_each(cls, value: list[Channel]) -> list[Channel]:
        if len(set(value)) != len(value):
            raise InvalidValue("channels.duplicate", "a channel is named twice")
        return value


class PreferencesOut(BaseModel):
    channels: list[Channel]
    quiet_hours: QuietHours | None
    email_digest: bool
    updated_at: datetime | None = Field(None, description="null until the caller chose")


class KindFigures(BaseModel):
    kind: Kind
    created: int
    read: int
    read_ratio: Figure = Field(description="read / created")


class NotificationKpis(BaseModel):
    """Notifications about records of the caller's jurisdiction, created in the period."""

    period_from: date | None
    period_to: date | None
    created: int
    read: int
    by_kind: list[KindFigures]
