from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from libs.common.auth import OptionalPrincipal
from libs.common.db import DbSession
from libs.common.idempotency import IdempotencyKeyHeader
from services.intake import service
from services.intake.models import platform
from services.intake.schemas import TipCreate, TipCreated

router = APIRouter(prefix="/v1", tags=["tips"])


@router.post(
    "/tips",
    status_code=201,
    response_model=TipCreated,
    summary="File a tip (anonymously or with a token)",
)
async def create_tip(
    body: TipCreate,
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    actor = principal.sub if principal else None
    handle, replay = await platform.idempotency.begin(session, request, idempotency_key, actor)
    if replay is not None:
        return replay
    created = await service.file_tip(session, body, principal, request.app.state.blind_index)
    payload = created.model_dump(mode="json")
    await platform.idempotency.save(session, handle, 201, payload)
    return JSONResponse(payload, status_code=201, headers={"Cache-Control": "no-store"})
