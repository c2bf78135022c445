"""Synthetic demo data for the local stack, posted through the public API.

Every name, number and story here is invented. Each request carries a fixed Idempotency-Key, so
running this again (every `make run`) replays the first responses instead of adding duplicates.
"""

from __future__ import annotations

import sys

import httpx

INTAKE = "http://127.0.0.1:8001"

TIPS = [
    {
        "channel": "hotline",
        "description": "Người gọi (giả định) báo một nhóm tuyển lao động hứa việc làm lương cao "
        "ở nước ngoài, thu giữ giấy tờ của ba thanh niên trong phường.",
        "incident_ward_code": "00256",
        "exploitation_types": ["forced_labour"],
    },
    {
        "channel": "web",
        "description": "Synthetic report: a 17-year-old was promised a marriage across the border "
        "by an online acquaintance and has not answered her phone for four days.",
        "incident_ward_code": "00256",
        "exploitation_types": ["forced_marriage"],
    },
    {
        "channel": "walk_in",
        "description": "Synthetic walk-in: a neighbour saw young women being moved at night from a "
        "rented house near the market; no names given.",
        "exploitation_types": ["sexual_exploitation"],
    },
]


def main() -> int:
    with httpx.Client(base_url=INTAKE, timeout=10) as client:
        for n, tip in enumerate(TIPS, start=1):
            response = client.post(
                "/v1/tips", json=tip, headers={"Idempotency-Key": f"demo-tip-{n}"}
            )
            if response.status_code != 201:
                print(f"demo tip {n}: {response.status_code} {response.text}", file=sys.stderr)
                return 1
    print(f"demo data: {len(TIPS)} tips")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
