"""One error hierarchy, rendered once as RFC 9457 ``application/problem+json``.

Services raise these from their service layer; routers never build error responses by hand.
Unhandled exceptions become a 500 that names nothing of the internals.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from libs.common.i18n import DEFAULT as DEFAULT_LANGUAGE
from libs.common.i18n import negotiate, translate
from libs.common.observability import (
    CORRELATION_SCOPE_KEY,
    correlation_id,
    describe_error,
    redacted_traceback,
)
from libs.common.routes import speaks_to_residents
from libs.common.validation import FALLBACK_CODE, FieldError, field_errors

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://ctip.gov.vn/problems/"
log = logging.getLogger("ctip.errors")


class Problem(Exception):
    """An error the client can act on. ``code`` becomes the problem ``type`` URI."""

    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers
        self.extra = extra


class Unauthorized(Problem):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(Problem):
    status, code, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, code, title = 409, "conflict", "Conflict"


class PreconditionFailed(Problem):
    status, code, title = 412, "precondition-failed", "The record has changed"


class PayloadTooLarge(Problem):
    status, code, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(Problem):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class Unprocessable(Problem):
    """A 422 always names what is wrong in ``errors``."""

    status, code, title = 422, "validation-error", "The request is not valid"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(
            detail,
            errors=errors or [{"field": "", "message": detail or self.title}],
            headers=headers,
            **extra,
        )


class TooManyRequests(Problem):
    status, code, title = 429, "rate-limited", "Too many requests"


class ServiceUnavailable(Problem):
    status, code, title = 503, "unavailable", "Service unavailable"


class ProblemDetail(BaseModel):
    """RFC 9457 problem details, as every error of every service is rendered."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | None = None
    correlation_id: str | None = None


def _problem_response_doc(description: str) -> dict[str, Any]:
    return {
        "model": ProblemDetail,
        "description": description,
        "content": {
            PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}},
        },
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem_response_doc("Missing or invalid token"),
    403: _problem_response_doc("Not allowed for this role or jurisdiction"),
    404: _problem_response_doc("Not found (or not visible to you)"),
    409: _problem_response_doc("Not allowed in the record's current state"),
    412: _problem_response_doc("If-Match names an older version"),
    413: _problem_response_doc("The body is larger than this endpoint accepts"),
    415: _problem_response_doc("The file's bytes are not of a type this endpoint accepts"),
    422: _problem_response_doc("The request is not valid; `errors` names each field"),
    429: _problem_response_doc("Too many requests from this client; `Retry-After` says when")
    | {
        "headers": {
            "Retry-After": {
                "description": "seconds to wait before trying again",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    },
    503: _problem_response_doc("A database or the broker is unavailable; retry later"),
}


class DependencyUnavailable(Exception):
    """A service we depend on (the identity provider's directory of officers) cannot answer
    now: like the database being down, a 503 for clients and a retry without limit for
    consumers, never a dead letter."""


_OUTAGE = (
    DependencyUnavailable,
    OperationalError,
    InterfaceError,
    ConnectionError,
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # admin/crash shutdown, cannot connect now
    # The driver's protocol out of step, which is what a restart leaves behind when a pooled
    # connection has read its backend's FATAL but not yet the end of the stream (the pool still
    # sees it open): the next statement fails with "cannot switch to state ...; another
    # operation (2) is in progress". The connection is dead, not the request at fault.
    asyncpg.exceptions.InternalClientError,
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The error, the driver's error SQLAlchemy wraps (``orig``), and the chain of causes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException):
            yield orig
        current = current.__cause__ or current.__context__


def is_database_outage(exc: BaseException) -> bool:
    """Infrastructure trouble (the database restarting or unreachable, a dependency down), not
    a fault of the request: a 503 for clients, a retry for consumers."""
    return any(
        isinstance(e, _OUTAGE) or (isinstance(e, DBAPIError) and e.connection_invalidated)
        for e in _chain(exc)
    )


def is_transaction_conflict(exc: BaseException) -> bool:
    """A deadlock or a serialization failure (SQLSTATE class 40): the transaction lost a race
    with another and would succeed if run again; nothing is wrong with the work itself."""
    return any(isinstance(e, asyncpg.exceptions.TransactionRollbackError) for e in _chain(exc))


def problem_response(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code if code != "about:blank" else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors is not None:
        errors = [{**e, "code": e.get("code") or FALLBACK_CODE} for e in errors]
        body["errors"] = errors
    cid = correlation_id.get()
    if cid:
        body["correlation_id"] = cid
    if extra:
        body.update(extra)
    language = problem_language(request)
    if language != DEFAULT_LANGUAGE:
        body["title"] = translate(title, language)
        body["detail"] = translate(detail, language)
        if errors is not None:
            body["errors"] = [{**e, "message": translate(e["message"], language)} for e in errors]
    headers = {**(headers or {}), "Content-Language": language}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def problem_language(request: Request) -> str:
    """``Accept-Language`` decides; without one, the residents' routes answer in Vietnamese (a
    resident filing a tip), the others in English (officers' tools, partners' systems)."""
    default = "vi" if speaks_to_residents(request.scope.get("route")) else DEFAULT_LANGUAGE
    return negotiate(request.headers.get("accept-language"), default)


_HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def request_log_fields(request: Request) -> dict[str, str]:
    """What a log line may say of a request: its method and the template of the route it
    matched (``/v1/tips/{tip_id}``), never the path or query the client sent."""
    route = request.scope.get("route")
    return {"method": request.method, "route": getattr(route, "path", None) or "unmatched"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request,
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            errors=exc.errors,
            headers=exc.headers,
            extra=exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(exc.errors(), exc.body)
        return problem_response(
            request,
            422,
            "validation-error",
            "The request is not valid",
            f"{len(errors)} field(s) failed validation",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title = _HTTP_TITLES.get(exc.status_code, ("about:blank", "Error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem_response(
            request, exc.status_code, code, title, detail, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        # Starlette runs this handler outside every middleware, where the correlation id of the
        # request has already been reset: it is taken back from the scope.
        cid = request.scope.get(CORRELATION_SCOPE_KEY)
        token = correlation_id.set(cid) if isinstance(cid, str) else None
        try:
            return _answer_unhandled(request, exc)
        finally:
            if token is not None:
                correlation_id.reset(token)


def _answer_unhandled(request: Request, exc: Exception) -> JSONResponse:
    where = request_log_fields(request)
    cid = correlation_id.get()
    headers = {"X-Correlation-ID": cid} if cid else {}
    if is_database_outage(exc):
        log.warning("database unavailable: %s", type(exc).__name__, extra={**where, "status": 503})
        return problem_response(
            request,
            503,
            "unavailable",
            "Service unavailable",
            "The database is not reachable right now; nothing was stored. Try again.",
            headers={"Retry-After": "5", **headers},
        )
    # Never the raw path or query (a receipt code, an id the caller typed) nor the exception's
    # message as it is (a validation error quotes its input): see ``describe_error``.
    log.error(
        "unhandled error",
        extra={
            **where,
            "status": 500,
            "error": describe_error(exc),
            "traceback": redacted_traceback(exc),
        },
    )
    return problem_response(
        request,
        500,
        "internal-error",
        "Internal error",
        "The server could not complete the request; it has been logged.",
        headers=headers or None,
    )
