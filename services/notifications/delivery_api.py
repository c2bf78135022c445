"""Routes of the channels' administration: failed e-mail and webhook deliveries (see, replay)
and the provinces' SMS or Zalo gateways."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path

from libs.common.pagination import Cursor, Limit, Page, time_cursor, time_keyset
from services.notifications import deliveries
from services.notifications.access import Admin
from services.notifications.channel_rules import DeliveryChannel, DeliveryStatus
from services.notifications.delivery_schemas import DeliveryOut, EndpointIn, EndpointOut

router = APIRouter(prefix="/v1")

ProvinceCode = Annotated[str, Path(pattern=r"^\d{2}$", description="a province code")]


@router.get(
    "/notification-deliveries", response_model=Page[DeliveryOut], tags=["notification-deliveries"]
)
async def list_deliveries(
    ctx: Admin,
    status: DeliveryStatus | None = None,
    channel: DeliveryChannel | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DeliveryOut]:
    """E-mail and webhook deliveries, newest first; `status=failed` for those kept to replay."""
    rows = await deliveries.list_deliveries(
        ctx, status=status, channel=channel, after=time_keyset(cursor), limit=limit
    )
    return Page(items=rows, next_cursor=time_cursor(rows, "created_at", limit))


@router.post(
    "/notification-deliveries/{delivery_id}/replay",
    response_model=DeliveryOut,
    tags=["notification-deliveries"],
)
async def replay_delivery(delivery_id: UUID, ctx: Admin) -> DeliveryOut:
    """Send a failed delivery again: the same message, Message-ID or webhook-id, and a fresh
    retry schedule."""
    return await deliveries.replay(ctx, delivery_id)


@router.get(
    "/notification-endpoints", response_model=list[EndpointOut], tags=["notification-endpoints"]
)
async def list_endpoints(ctx: Admin) -> list[EndpointOut]:
    """The provinces' gateways (their secrets are never shown again)."""
    return await deliveries.list_endpoints(ctx)


@router.put(
    "/notification-endpoints/{province_code}",
    response_model=EndpointOut,
    tags=["notification-endpoints"],
)
async def set_endpoint(province_code: ProvinceCode, body: EndpointIn, ctx: Admin) -> EndpointOut:
    """Where the province's SMS or Zalo gateway receives its people's notifications, signed as
    Standard Webhooks; setting it enables it again after a 410."""
    return await deliveries.set_endpoint(ctx, province_code, body)
