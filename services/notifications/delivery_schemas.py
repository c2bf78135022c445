"""Request and response models of the channels' administration: deliveries and the provinces'
gateways."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.common.schemas import StrictModel
from libs.common.validation import InvalidValue
from libs.common.webhooks import secret_bytes
from services.notifications.channel_rules import DeliveryChannel, DeliveryStatus


class DeliveryOut(BaseModel):
    """An e-mail or webhook delivery: what it carries (notification ids or a daily digest's
    key), never an address or a text."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    channel: DeliveryChannel
    kind: Literal["notices", "digest"] = Field(
        description="`notices` (a window's notifications) or `digest` (daily)"
    )
    recipient: str = Field(description="the person's `sub`")
    notification_ids: list[UUID]
    digest_key: str | None = None
    province_code: str | None = Field(None, description="the gateway of a webhook")
    status: DeliveryStatus
    attempts: int
    replays: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None = None
    last_code: int | None = Field(None, description="the last SMTP reply or HTTP status")
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    failed_at: datetime | None = None


class EndpointIn(StrictModel):
    url: str = Field(max_length=2000, description="https URL of the province's gateway")
    secret: str | None = Field(
        None,
        max_length=200,
        description="`whsec_<base64>` shared with the gateway; omitted: a new one is made for a "
        "new endpoint, the old one is kept otherwise",
    )
    enabled: bool = True

    @field_validator("secret")
    @classmethod
    def _a_webhook_secret(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            secret_bytes(value)
        except ValueError as exc:
            raise InvalidValue(
                "secret.format", "a webhook secret is whsec_ and the base64 of 24 bytes or more"
            ) from exc
        return value


class EndpointOut(BaseModel):
    """A gateway as administrators read it: built field by field (``of``), so that the stored
    secret can never slip into an answer."""

    province_code: str
    url: str
    enabled: bool
    disabled_reason: str | None = None
    updated_by: str
    updated_at: datetime
    secret: str | None = Field(
        None, description="the secret made by this request, shown this once; else null"
    )

    @classmethod
    def of(cls, endpoint: Any, made_secret: str | None = None) -> EndpointOut:
        return cls(
            province_code=endpoint.province_code,
            url=endpoint.url,
            enabled=endpoint.enabled,
            disabled_reason=endpoint.disabled_reason,
            updated_by=endpoint.updated_by,
            updated_at=endpoint.updated_at,
            secret=made_secret,
        )
