"""Problems in the reader's language: Accept-Language decides, the public routes default to
Vietnamese, and the catalogue holds a Vietnamese form of every message pydantic or our code can
put in a problem (the walk below fails on a missing one)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, field_validator
from pydantic_core._pydantic_core import list_all_errors

from libs.common.auth import CurrentPrincipal
from libs.common.context import signed_by_partner
from libs.common.errors import Forbidden, Unauthorized, install_error_handlers
from libs.common.i18n import catalogue, negotiate, normalized, translate
from libs.common.schemas import e164_phone

ROOT = Path(__file__).resolve().parents[3]
VI = catalogue("vi")
PROBLEMS = {
    "Problem",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "PreconditionFailed",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "Unprocessable",
    "TooManyRequests",
    "ServiceUnavailable",
    "RuleViolation",
}


@pytest.mark.parametrize(
    ("header", "default", "chosen"),
    [
        (None, "en", "en"),
        (None, "vi", "vi"),
        ("vi", "en", "vi"),
        ("vi-VN,vi;q=0.9,en;q=0.8", "en", "vi"),
        ("en-US,en;q=0.9,vi;q=0.5", "vi", "en"),
        ("fr-FR, de;q=0.7", "vi", "vi"),
        ("fr, *;q=0.1", "en", "en"),
        ("vi;q=0, en", "vi", "en"),
        ("vi;q=abc, en;q=0.2", "vi", "en"),
        ("", "vi", "vi"),
    ],
)
def test_the_client_s_preferred_language_among_ours(
    header: str | None, default: str, chosen: str
) -> None:
    assert negotiate(header, default) == chosen


def test_a_text_with_a_value_in_it_is_translated_around_the_value() -> None:
    assert translate("String should have at most 20 characters", "vi") == "Tối đa 20 ký tự"
    assert translate("requires one of the roles: admin, supervisor", "vi") == (
        "Cần một trong các vai trò: admin, supervisor"
    )


def test_a_caught_value_that_is_itself_catalogued_is_translated() -> None:
    assert translate("Value error, not a phone number", "vi") == "Số điện thoại không hợp lệ"
    assert translate("invalid token: Signature has expired", "vi") == (
        "Mã truy cập không hợp lệ: mã đã hết hạn"
    )


def test_english_is_the_text_itself_and_an_unknown_text_stays_as_it_is() -> None:
    assert translate("Field required", "en") == "Field required"
    assert translate("a text nobody catalogued", "vi") == "a text nobody catalogued"


def test_every_pydantic_message_has_a_vietnamese_form() -> None:
    missing = {
        e["message_template_python"]
        for e in list_all_errors()
        if normalized(e["message_template_python"]) not in VI.ids
    }
    assert missing == set()


def _template(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def client_messages(*parts: str) -> Iterator[tuple[str, str]]:
    """The texts a client can read: what a problem is raised with anywhere, and what a
    validator of a request model raises (``schemas.py``)."""
    for part in parts:
        for path in sorted((ROOT / part).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                raised = name in PROBLEMS or (
                    name == "ValueError" and path.name.endswith("schemas.py")
                )
                text = _template(node.args[0]) if raised else None
                if name == "InvalidValue" and len(node.args) > 1:  # (code, message)
                    text = _template(node.args[1])
                if text:
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", text


def covered(text: str) -> bool:
    """Catalogued as it is, or caught by a catalogued shape whose every caught part is a value
    known only at run time (``{}``) or covered itself."""
    if normalized(text) in VI.ids:
        return True
    for shape in VI.shapes:
        match = shape.pattern.match(text)
        if match and all(part == "{}" or covered(part) for part in match.groups()):
            return True
    return False


@pytest.mark.reads_source
@pytest.mark.parametrize("part", ["libs", "services"])
def test_every_message_our_code_can_put_in_a_problem_has_a_vietnamese_form(part: str) -> None:
    missing = {where: text for where, text in client_messages(part) if not covered(text)}
    assert missing == {}


@pytest.mark.reads_source
def test_the_walk_finds_the_messages() -> None:
    texts = {text for _, text in client_messages("libs")}
    assert "not a phone number" in texts
    assert "requires one of the roles: {}" in texts


Signed = Annotated[Any, Depends(signed_by_partner)]


class Phone(BaseModel):
    phone: str

    _phone = field_validator("phone")(e164_phone)


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/v1/tips")
    async def public_form(body: Phone) -> dict[str, str]:
        return {"phone": body.phone}

    @app.get("/v1/cases")
    async def officers_only(principal: CurrentPrincipal) -> None:
        raise Forbidden("requires one of the roles: investigator")

    return app


def test_a_public_form_answers_a_resident_in_vietnamese() -> None:
    response = TestClient(_app()).post("/v1/tips", json={"phone": "12"})
    assert response.status_code == 422
    assert response.headers["content-language"] == "vi"
    body = response.json()
    assert body["title"] == "Thông tin gửi lên chưa hợp lệ"
    assert body["detail"] == "1 mục thông tin chưa hợp lệ"
    assert body["errors"] == [
        {"field": "phone", "message": "Số điện thoại không hợp lệ", "code": "phone.invalid"}
    ]


def test_a_public_form_answers_in_english_when_asked() -> None:
    response = TestClient(_app()).post(
        "/v1/tips", json={"phone": "12"}, headers={"Accept-Language": "en"}
    )
    assert response.headers["content-language"] == "en"
    assert response.json()["errors"][0]["message"] == "Value error, not a phone number"


def test_an_officers_route_speaks_english_unless_asked_for_vietnamese() -> None:
    client = TestClient(_app())
    plain = client.get("/v1/cases")
    assert plain.status_code == 401
    assert plain.headers["content-language"] == "en"
    assert plain.json()["detail"] == "a bearer token is required"
    asked = client.get("/v1/cases", headers={"Accept-Language": "vi-VN,vi;q=0.9"})
    assert asked.headers["content-language"] == "vi"
    assert asked.json()["title"] == "Cần đăng nhập"
    assert asked.json()["detail"] == "Cần mã truy cập (Bearer token)"


def test_a_partners_signed_webhook_speaks_english_though_it_needs_no_token() -> None:
    app = _app()

    @app.post("/v1/inbound/{code}")
    async def inbound(code: str, ctx: Signed) -> None:
        raise Unauthorized("invalid webhook signature: no matching signature")

    app.dependency_overrides[signed_by_partner] = lambda: None
    response = TestClient(app).post("/v1/inbound/02", json={})
    assert response.status_code == 401
    assert response.headers["content-language"] == "en"
    assert response.json()["detail"] == "invalid webhook signature: no matching signature"
    asked = TestClient(app).post("/v1/inbound/02", json={}, headers={"Accept-Language": "vi"})
    assert asked.json()["detail"] == "Chữ ký webhook không hợp lệ: không có chữ ký nào khớp"


def test_the_size_limit_answers_in_the_language_asked_for() -> None:
    from libs.common.app import BodyLimitMiddleware

    app = _app()
    app.add_middleware(BodyLimitMiddleware, max_bytes=10)
    response = TestClient(app).post(
        "/v1/tips", content=b"x" * 100, headers={"Accept-Language": "vi"}
    )
    assert response.status_code == 413
    assert response.headers["content-language"] == "vi"
    assert response.json()["detail"] == "Nội dung gửi lên vượt quá giới hạn cho phép"


def test_a_services_rule_is_translated_with_the_rule_it_names() -> None:
    """A refusal that quotes a rule: the frame, the rule's reason and the law it cites."""
    text = (
        "loan is not allowed: Law 53/2024/QH15 Art. 37: a presumed victim is entitled to points "
        "a-g (essential needs to psychological support) only"
    )
    assert translate(text, "vi") == (
        "Không được hỗ trợ loan: Điều 37 Luật Phòng, chống mua bán người số 53/2024/QH15: người "
        "đang trong quá trình xác định là nạn nhân chỉ được hỗ trợ theo các điểm a-g (từ nhu cầu "
        "thiết yếu đến hỗ trợ tâm lý)"
    )
