"""What a residents' app sends most, as the OpenAPI documents show it: synthetic people and
places, valid bodies (tests/unit/intake/test_examples.py parses each one)."""

from __future__ import annotations

from pydantic.config import JsonDict

TIP_EXAMPLE: JsonDict = {
    "channel": "mobile",
    "description": "Một người môi giới hứa việc làm phụ bếp ở nước ngoài, lương cao, và giữ hộ "
    "chiếu của người đi làm. (Synthetic example.)",
    "incident_ward_code": "00256",
    "occurred_on": "2026-11-20",
    "exploitation_types": ["forced_labour"],
    "destination_country": "CN",
    "persons": [{"role": "victim", "full_name": "Nguyễn Thị Mẫu", "age": 17, "sex": "female"}],
    "reporter": {"name": "Trần Văn Ví Dụ", "phone": "0900000001"},
}
MISSING_PERSON_EXAMPLE: JsonDict = {
    "full_name": "Lò Văn Mẫu",
    "sex": "male",
    "age": 16,
    "last_seen_at": "2026-11-28T18:30:00+07:00",
    "last_seen_ward_code": "00256",
    "distinguishing_marks": "Nốt ruồi trên má trái. (Synthetic example.)",
    "circumstances": "Đi cùng một người quen hứa việc làm ở thành phố, rồi mất liên lạc.",
    "reporter": {"name": "Lò Thị Ví Dụ", "phone": "0900000001"},
}
RECEIPT_CODE = "4829104736251908"
RECEIPT_MESSAGE_EXAMPLE: JsonDict = {
    "receipt_code": RECEIPT_CODE,
    "body": "Tôi vừa nhớ thêm: người môi giới đi xe máy biển số 29. (Synthetic example.)",
}
